// The alert policy: what becomes a page, a ticket or only a log line, what is suppressed, how incidents are
// grouped, which channels and response actions exist. Parsed once, from the JSON or YAML file named by
// SW_ALERT_POLICY (read by policy-file.ts for services/shared/config.ts); every field has a default, so no file means the
// behaviour of the plain webhook (severity decides). Documented in docs/alerting.md.
import { z } from 'zod'
import type { Detection, Severity } from '../../schemas/model.js'
import { createCidrMatcher, type CidrMatcher } from './cidr.js'

export const ACTIONS = ['page', 'ticket', 'log'] as const
export type AlertAction = (typeof ACTIONS)[number]

const action = z.enum(ACTIONS)
const isoTime = z.string().refine((s) => Number.isFinite(Date.parse(s)), 'an ISO 8601 time').transform((s) => Date.parse(s))
const glob = z.string().min(1).max(512)
const httpUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http(s) URL')

const ruleSchema = z.object({
  name: z.string().min(1),
  when: z.object({
    detectors: z.array(z.string()).optional(),
    severities: z.array(z.enum(['info', 'ticket', 'page'])).optional(),
    min_score: z.number().min(0).max(1).optional(),
    confirmed: z.boolean().optional(),
    privileged: z.boolean().optional(),
  }).strict().default({}),
  action,
}).strict()

const suppressionSchema = z.object({
  id: z.string().min(1),
  reason: z.string().default(''),
  detectors: z.array(z.string()).optional(),
  subjects: z.array(glob).optional(),
  cidrs: z.array(z.string()).optional(),
  asns: z.array(z.number().int().nonnegative()).optional(),
  /** any: one evidence address or ASN in the list is enough; all: every one must be. */
  evidence_match: z.enum(['any', 'all']).default('any'),
  from: isoTime.optional(),
  /** Required: a suppression that never ends is a detector you should tune instead. */
  until: isoTime,
}).strict()

const rateLimitSchema = z.object({ per_minute: z.number().positive(), burst: z.number().int().positive().optional() }).strict()

const channelBase = { actions: z.array(action).optional(), name: z.string().regex(/^[a-z0-9_-]+$/).optional(), updates: z.boolean().optional() }

const policySchema = z.object({
  version: z.literal(1).default(1),
  routing: z.object({
    /** First matching rule wins; no match: `default`. */
    rules: z.array(ruleSchema).default([]),
    default: z.union([action, z.literal('by_severity')]).default('by_severity'),
  }).strict().default({ rules: [], default: 'by_severity' }),
  privileged: z.object({
    subjects: z.array(glob).default([]),
    /**
     * Matched against the detection's `route`; for a detection without one (produced before detections carried
     * routes, or by a detector whose trigger had none) against the words of its evidence reasons. docs/alerting.md.
     */
    routes: z.array(glob).default([]),
  }).strict().default({ subjects: [], routes: [] }),
  links: z.object({
    /** Runbook links become <base>/docs/runbooks/<detector>.md (e.g. your git host's view of this repository). */
    runbook_base_url: httpUrl.optional(),
  }).strict().default({}),
  incidents: z.object({
    group_by: z.enum(['session', 'user']).default('session'),
    /** With group_by user: a new session of the same user joins the open incident within this time. */
    user_window_minutes: z.number().positive().default(60),
    /** Incident state older than this (since its last detection) is forgotten. */
    ttl_days: z.number().positive().default(7),
  }).strict().default({ group_by: 'session', user_window_minutes: 60, ttl_days: 7 }),
  suppressions: z.array(suppressionSchema).default([]),
  rate_limits: z.record(z.string(), rateLimitSchema).default({}),
  delivery: z.object({
    breaker: z.object({
      failure_threshold: z.number().int().min(1).default(5),
      cool_down_seconds: z.number().positive().default(30),
      when_open: z.enum(['dlq', 'wait']).default('dlq'),
    }).strict().default({ failure_threshold: 5, cool_down_seconds: 30, when_open: 'dlq' }),
  }).strict().default({ breaker: { failure_threshold: 5, cool_down_seconds: 30, when_open: 'dlq' } }),
  channels: z.object({
    webhook: z.object({ ...channelBase }).strict().optional(),
    pagerduty: z.object({
      ...channelBase,
      routing_key: z.string().min(1),
      url: httpUrl.default('https://events.pagerduty.com/v2/enqueue'),
      source: z.string().min(1).default('sessionwatch'),
    }).strict().optional(),
    /**
     * An incoming webhook (`webhook_url`), or the Web API (`bot_token` with `channel`): chat.postMessage answers
     * with the message's ts, so updates, acknowledgements and resolutions become replies in the incident's thread.
     */
    slack: z.object({
      ...channelBase,
      webhook_url: httpUrl.optional(),
      bot_token: z.string().min(1).optional(),
      channel: z.string().min(1).optional(),
      api_url: httpUrl.default('https://slack.com/api/chat.postMessage'),
    }).strict()
      .refine((s) => (s.webhook_url === undefined) !== (s.bot_token === undefined), { message: 'give webhook_url or bot_token, not both' })
      .refine((s) => s.bot_token === undefined || s.channel !== undefined, { message: 'bot_token needs the channel (id) to post to', path: ['channel'] })
      .optional(),
  }).strict().default({}),
  response: z.object({
    mode: z.enum(['monitor', 'enforce']).default('monitor'),
    /**
     * After a successful containment in enforce mode (a revoking action answered 2xx), the incident is
     * acknowledged on every channel it reached (an alerts.commands record by `sessionwatch`).
     */
    acknowledge_on_containment: z.boolean().default(true),
    when: z.object({
      actions: z.array(action).default(['page']),
      confirmed: z.boolean().default(true),
      min_score: z.number().min(0).max(1).default(0),
    }).strict().default({ actions: ['page'], confirmed: true, min_score: 0 }),
    revocation: z.object({
      url: httpUrl,
      client_id: z.string().min(1),
      client_secret: z.string().min(1),
      /** sessionwatch never holds raw tokens: which identifier it sends as `token` (RFC 7009 §2.1). */
      token: z.enum(['session_id', 'token_fp']).default('session_id'),
      token_type_hint: z.string().optional(),
    }).strict().optional(),
    http_actions: z.array(z.object({
      name: z.string().regex(/^[a-z0-9_-]+$/),
      method: z.enum(['POST', 'PUT', 'DELETE', 'PATCH']).default('POST'),
      url: z.string().min(1),
      headers: z.record(z.string(), z.string()).default({}),
      body: z.string().optional(),
      /** A successful call revokes the session: fed back as a REVOKE event to auth.revoke. */
      revokes: z.boolean().default(true),
    }).strict()).default([]),
    ssf: z.object({
      issuer: z.string().min(1),
      receivers: z.array(z.object({
        name: z.string().regex(/^[a-z0-9_-]+$/),
        url: httpUrl,
        audience: z.string().min(1),
        authorization: z.string().optional(),
      }).strict()).default([]),
    }).strict().optional(),
  }).strict().default({ mode: 'monitor', acknowledge_on_containment: true, when: { actions: ['page'], confirmed: true, min_score: 0 }, http_actions: [] }),
}).strict()

export type AlertPolicy = z.infer<typeof policySchema>
export type SuppressionRule = AlertPolicy['suppressions'][number]

export interface PolicyIssue {
  path: (string | number)[]
  message: string
}

export type PolicyParse = { ok: true; policy: AlertPolicy } | { ok: false; problems: string[]; issues: PolicyIssue[] }

/** Validates a parsed JSON or YAML document; problems name the path in the document. */
export function parsePolicy(document: unknown): PolicyParse {
  const result = policySchema.safeParse(document)
  let issues: PolicyIssue[]
  if (result.success) {
    issues = result.data.suppressions.flatMap((s, i) => (s.cidrs ?? []).flatMap((c, j) => (createCidrMatcher([c]).valid ? [] : [{ path: ['suppressions', i, 'cidrs', j], message: `'${c}' (suppression ${s.id}) is not a CIDR range` }])))
    if (issues.length === 0) return { ok: true, policy: result.data }
  } else {
    issues = result.error.issues.map((i) => ({ path: i.path.filter((p): p is string | number => typeof p !== 'symbol'), message: i.message }))
  }
  return { ok: false, issues, problems: issues.map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`) }
}

export const DEFAULT_POLICY: AlertPolicy = (() => {
  const parsed = parsePolicy({})
  if (!parsed.ok) throw new Error('the default policy does not parse')
  return parsed.policy
})()

export interface Decision {
  action: AlertAction
  /** The routing rule that decided, or 'default'. */
  rule: string
  privileged: boolean
  /** Set when a suppression rule matched: the detection is recorded, nobody is notified. */
  suppressedBy?: string
}

const BY_SEVERITY: Record<Severity, AlertAction> = { page: 'page', ticket: 'ticket', info: 'log' }

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${escaped}$`, 'i')
}

/**
 * Builds the decision function once (globs and CIDR tables compiled at start-up, so the hot path only
 * compares). Suppression windows and expiries are read against the detection's detected_ts: event time
 * drives every window (DESIGN.md), and a replayed history is decided the same way it was live.
 */
export function createPolicyEngine(policy: AlertPolicy) {
  const privilegedSubjects = policy.privileged.subjects.map(globToRegExp)
  const privilegedRoutes = policy.privileged.routes.map(globToRegExp)
  const rules = policy.routing.rules.map((r) => ({ ...r, detectors: r.when.detectors ? new Set(r.when.detectors) : undefined }))
  const suppressions = policy.suppressions.map((s) => ({
    ...s,
    detectorSet: s.detectors ? new Set(s.detectors) : undefined,
    subjectRes: s.subjects?.map(globToRegExp),
    cidr: s.cidrs ? createCidrMatcher(s.cidrs) : undefined,
    asnSet: s.asns ? new Set(s.asns) : undefined,
  }))

  function isPrivileged(d: Detection): boolean {
    if (d.subject && privilegedSubjects.some((re) => re.test(d.subject!))) return true
    if (privilegedRoutes.length === 0) return false
    if (d.route != null) return privilegedRoutes.some((re) => re.test(d.route!))
    return d.evidence.reasons.some((reason) => reason.split(/\s+/).some((word) => privilegedRoutes.some((re) => re.test(word))))
  }

  function suppressedBy(d: Detection): string | undefined {
    const at = d.detected_ts
    for (const s of suppressions) {
      if (at >= s.until || (s.from !== undefined && at < s.from)) continue
      if (s.detectorSet && !s.detectorSet.has(d.detector)) continue
      if (s.subjectRes && !(d.subject && s.subjectRes.some((re) => re.test(d.subject!)))) continue
      if (s.cidr || s.asnSet) {
        const hits = [
          ...(s.cidr ? d.evidence.ips.map((ip) => s.cidr!.contains(ip)) : []),
          ...(s.asnSet ? d.evidence.asns.map((asn) => s.asnSet!.has(Number(asn))) : []),
        ]
        const matched = s.evidence_match === 'all' ? hits.length > 0 && hits.every(Boolean) : hits.some(Boolean)
        if (!matched) continue
      }
      return s.id
    }
    return undefined
  }

  return {
    /** Suppression rules that have already expired at `nowMs`, to warn about at start-up. */
    expiredSuppressions(nowMs: number): string[] {
      return suppressions.filter((s) => s.until <= nowMs).map((s) => s.id)
    },
    decide(d: Detection): Decision {
      const privileged = isPrivileged(d)
      let action: AlertAction | undefined
      let rule = 'default'
      for (const r of rules) {
        const w = r.when
        if (r.detectors && !r.detectors.has(d.detector)) continue
        if (w.severities && !w.severities.includes(d.severity)) continue
        if (w.min_score !== undefined && d.score < w.min_score) continue
        if (w.confirmed !== undefined && d.confirmed !== w.confirmed) continue
        if (w.privileged !== undefined && privileged !== w.privileged) continue
        action = r.action
        rule = r.name
        break
      }
      action ??= policy.routing.default === 'by_severity' ? BY_SEVERITY[d.severity] : policy.routing.default
      const suppressed = suppressedBy(d)
      return suppressed ? { action, rule, privileged, suppressedBy: suppressed } : { action, rule, privileged }
    },
  }
}

export type PolicyEngine = ReturnType<typeof createPolicyEngine>
export type { CidrMatcher }
