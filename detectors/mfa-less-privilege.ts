// A privileged action — a route or an OAuth scope the tenant lists as privileged — performed with a token or
// session whose authentication had no second factor. The methods come from the presentation's own `amr`
// (RFC 8176 values) when it carries them, else from the ISSUE of its session or token, upgraded by a later
// step-up (an ISSUE or an 'mfa' validation with a second factor). With no method known at all it stays quiet:
// absence of evidence is not a bypass.
import type { AuthEvent } from '../schemas/model.js'
import {
  clientsDiffer, createMachineIdentityTest, DEFAULT_MACHINE_SUBJECTS, differs, evidenceOf, hasSecondFactor,
  createUseReader, roundScore, sessionSlot, tokenKeyOf, type Use,
} from './signals.js'
import { NO_FINDINGS, NO_SLOTS, severityFor, type Detector, type Finding, type StepResult } from './types.js'

export interface MfaLessPrivilegeConfig {
  /**
   * Route prefixes, compared segment by segment; `{name}` or `*` matches any one segment, so
   * '/api/users/{id}/roles' covers '/api/users/{id}/roles' and '/api/users/42/roles/admin'.
   */
  privilegedRoutes: readonly string[]
  /** Scope patterns; `*` matches any run of characters ('*.write' covers 'files.write'). */
  privilegedScopes: readonly string[]
  /** A session is forgotten this long after its last event. */
  idleMs: number
  machineSubjects: readonly string[]
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_MFA_LESS_PRIVILEGE: MfaLessPrivilegeConfig = {
  privilegedRoutes: ['/admin', '/api/admin', '/api/export', '/api/users/{id}/roles', '/api/users/{id}/mfa', '/api/keys', '/api/tokens'],
  privilegedScopes: ['admin', 'admin:*', '*:admin', '*.admin', '*.write', 'write:*', 'offline_access.admin'],
  idleMs: 12 * 3600_000,
  machineSubjects: DEFAULT_MACHINE_SUBJECTS,
  thresholds: { page: 0.8, ticket: 0.5 },
}

// acr values that assert multi-factor assurance: NIST SP 800-63 AAL2/3, OpenID PAPE multi-factor, Entra/Okta "mfa".
const MFA_ACR = /(^|[^a-z])(mfa|multi-?factor|aal[23]|phrh?|loa[34])([^a-z]|$)/i
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export interface MfaLessPrivilegeState {
  subject: string | null
  session_id: string | null
  token_fp: string | null
  /** Methods the credential was issued with. */
  amr: string[]
  /** When a second factor was first proven for it, if ever. */
  mfa_at: number | null
  origin: Use | null
  incident_ts: number | null
  reported_score: number
  last: number
}

export function createMfaLessPrivilegeDetector(config: MfaLessPrivilegeConfig = DEFAULT_MFA_LESS_PRIVILEGE): Detector<MfaLessPrivilegeState> {
  const read = createUseReader()
  const isMachine = createMachineIdentityTest(config.machineSubjects)
  const routes = config.privilegedRoutes.map((pattern) => ({ pattern, segments: segmentsOf(pattern) }))
  const scopes = config.privilegedScopes.map((p) => new RegExp('^' + p.split('*').map(escape).join('.*') + '$', 'i'))
  // slots() and step() both ask about the same event: the answer for the latest event is kept.
  let privilegeEvent: AuthEvent | null = null
  let privilegeAnswer: string | null = null
  const privilegeOf = (event: AuthEvent): string | null => {
    if (event !== privilegeEvent) {
      privilegeAnswer = findPrivilege(event)
      privilegeEvent = event
    }
    return privilegeAnswer
  }
  // Pre-checks that answer "no privilege" with one regex each (the usual answer); a match is confirmed below.
  const anyRoute = routes.length === 0 ? null : new RegExp(routes.map((r) => routePattern(r.segments)).join('|'))
  const anyScope = scopes.length === 0 ? null : new RegExp(scopes.map((p) => `(?:${p.source})`).join('|'), 'i')
  const findPrivilege = (event: AuthEvent): string | null => {
    if (event.route && anyRoute) {
      const q = event.route.indexOf('?')
      const lower = (q < 0 ? event.route : event.route.slice(0, q)).toLowerCase()
      if (anyRoute.test(lower)) {
        const path = segmentsOf(lower)
        const matched = routes.find((r) => routeMatches(r.segments, path))
        if (matched) return `route ${event.route} (privileged: ${matched.pattern})`
      }
    }
    if (anyScope === null || event.scopes.length === 0) return null
    const scope = event.scopes.find((x) => anyScope.test(x))
    return scope ? `scope ${scope}` : null
  }
  const strongAuth = (event: AuthEvent) => hasSecondFactor(event.amr) || (!!event.acr && MFA_ACR.test(event.acr))

  // The one slot a presentation touches, reused: the engine reads it before the next call.
  const one = ['']
  return {
    name: 'mfa_less_privilege',
    slots(event) {
      if (event.kind === 'REVOKE' || isMachine(event)) return NO_SLOTS
      // An ISSUE records its methods for both its session and its token; a presentation is judged in one slot.
      // Only what can matter is stepped: issuances that name their methods, step-ups, privileged calls.
      if (event.kind === 'ISSUE') {
        if (event.amr.length === 0 && !event.acr) return NO_SLOTS
        const token = tokenKeyOf(event)
        return [...(event.session_id ? [sessionSlot(event)!] : []), ...(token ? [token] : [])]
      }
      if (event.result !== 'OK' || (event.action !== 'mfa' && !privilegeOf(event))) return NO_SLOTS
      if (event.session_id) one[0] = sessionSlot(event)!
      else {
        const token = tokenKeyOf(event)
        if (!token) return NO_SLOTS
        one[0] = token
      }
      return one
    },
    step: function mfaLessPrivilege(state, event, slot, context): StepResult<MfaLessPrivilegeState> {
      const stepUp = event.kind === 'ISSUE' || event.action === 'mfa'
      const strong = strongAuth(event)
      const privilege = event.kind === 'VALIDATE' ? privilegeOf(event) : null
      // A credential issued with a second factor needs no watching: keep state only for weak ones.
      if (!state && (strong || (event.kind === 'VALIDATE' && (!privilege || event.amr.length === 0)))) return { state, findings: NO_FINDINGS }
      const s: MfaLessPrivilegeState = state ?? { subject: null, session_id: null, token_fp: null, amr: [], mfa_at: null, origin: null, incident_ts: null, reported_score: 0, last: event.ts }
      s.subject ??= event.subject ?? null
      s.session_id ??= event.session_id ?? null
      s.token_fp ??= event.token_fp ?? null
      s.last = Math.max(s.last, event.ts)
      if (stepUp) {
        if (event.kind === 'ISSUE') {
          s.amr = [...new Set([...s.amr, ...event.amr])].slice(0, 8)
          if (!s.origin || event.ts < s.origin.ts) s.origin = read.useOf(event, context)
        }
        if (strong && (s.mfa_at === null || event.ts < s.mfa_at)) s.mfa_at = event.ts
      }
      if (!privilege) return { state: s, findings: NO_FINDINGS }

      // The presentation's own methods are the most direct evidence; else what the credential was issued with.
      const amr = event.amr.length > 0 ? event.amr : s.amr
      const proven = strong || (s.mfa_at !== null && s.mfa_at <= event.ts)
      if (proven || amr.length === 0) return { state: s, findings: NO_FINDINGS }
      const use = read.useOf(event, context)
      const { score, reasons, confirmed } = judge(event, use, s, amr, privilege, config)
      if (score <= s.reported_score) return { state: s, findings: NO_FINDINGS }
      s.incident_ts ??= event.ts
      s.reported_score = score
      const evidence = evidenceOf(s.origin ? [s.origin, use] : [use], reasons)
      return {
        state: s,
        findings: [{
          detector: 'mfa_less_privilege', key: slot, incident_ts: s.incident_ts, severity: severityFor(score, config.thresholds),
          score, confirmed, subject: s.subject, session_id: s.session_id, token_fp: s.token_fp,
          summary: `privileged ${privilege.split(' (')[0]} used without a second factor`,
          evidence, first_malicious_ts: s.incident_ts,
        } satisfies Finding],
      }
    },
    expiry: (state) => state.last + config.idleMs,
  }
}

function judge(event: AuthEvent, use: Use, s: MfaLessPrivilegeState, amr: string[], privilege: string, config: MfaLessPrivilegeConfig): { score: number; reasons: string[]; confirmed: boolean } {
  const reasons = [`${privilege} used by a credential authenticated with ${amr.join('+')} only (no second factor)`]
  let score = 0.6
  if (event.method && WRITE_METHODS.has(event.method.toUpperCase())) { score += 0.1; reasons.push(`a write (${event.method.toUpperCase()})`) }
  const otherNetwork = differs(s.origin?.net, use.net)
  const otherClient = clientsDiffer(s.origin?.client ?? null, use.client)
  if (otherNetwork) { score += 0.15; reasons.push('from another network than the login') }
  if (otherClient) { score += 0.15; reasons.push('by another client than the login') }
  score = roundScore(score)
  // Decisive only when an independent fact agrees: the privileged call does not come from where the login did.
  return { score, reasons, confirmed: score >= config.thresholds.page && (otherNetwork || otherClient) }
}

function escape(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
}

function segmentsOf(path: string): string[] {
  return path.toLowerCase().split('/').filter(Boolean)
}

/**
 * routeMatches as one regex over the lowercased path: empty segments skipped, a wildcard is any one
 * segment, and the prefix ends at a segment boundary.
 */
function routePattern(pattern: string[]): string {
  if (pattern.length === 0) return '(?:)'
  const segments = pattern.map((w) => (w === '*' || (w.startsWith('{') && w.endsWith('}')) ? '[^/]+' : w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
  return `(?:^/*${segments.join('/+')}(?:/|$))`
}

/** Prefix match by segment; '*' and '{name}' in the pattern match any one segment. */
function routeMatches(pattern: string[], path: string[]): boolean {
  if (path.length < pattern.length) return false
  for (let i = 0; i < pattern.length; i++) {
    const w = pattern[i]!
    if (w !== '*' && !(w.startsWith('{') && w.endsWith('}')) && w !== path[i]) return false
  }
  return true
}
