// A revoked token, session or user still accepted by a validator after the revocation had time to propagate.
// Each validator's propagation latency (its first rejection after the revoke) goes into the evidence.
//
// Slots: a revocation lives in the slot of what it revokes — 't:'+token_fp, 's:'+session_id or 'u:'+subject
// (user- and client-wide revocations) — and every presentation is recorded in all the slots it can be matched
// in, so a user-wide revoke reaches all of the user's sessions and a revoke is matched in exactly one slot
// (one finding per revocation and credential). Presentations are kept as compact per-validator buckets for a
// while, because a revocation can arrive after the validation it invalidates (IdP logs lag gateway logs).
import type { AuthEvent, RevokeScope } from '../schemas/model.js'
import { clientOf, credentialKey, evidenceOf, networkOf, roundScore, useOf, type Use } from './signals.js'
import { severityFor, type Detector, type Finding, type StepResult } from './types.js'

export interface RevokedAcceptedConfig {
  /** Time a revocation may take to reach validators (caches, JWKS/introspection caches, edge replication). */
  allowanceMs: number
  /** Per-validator allowances, for validators with a known longer cache. */
  validatorAllowanceMs: Readonly<Record<string, number>>
  /** How long a revocation is remembered (a stolen cookie may be replayed hours after logout). */
  rememberMs: number
  /** How long presentations are kept for a revocation that arrives late. */
  lateRevokeMs: number
  /**
   * Whether session and user revocations cover self-contained access/ID tokens. Off by default: RFC 9068 JWT
   * access tokens are validated without asking the IdP and stay valid until they expire after a logout, by
   * design. Introspected presentations (action 'introspect') are always covered.
   */
  sessionRevokesAccessTokens: boolean
  maxRevocations: number
  maxBuckets: number
  maxNetworks: number
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_REVOKED_ACCEPTED: RevokedAcceptedConfig = {
  allowanceMs: 30_000,
  validatorAllowanceMs: {},
  rememberMs: 24 * 3600_000,
  lateRevokeMs: 15 * 60_000,
  sessionRevokesAccessTokens: false,
  maxRevocations: 4,
  maxBuckets: 12,
  maxNetworks: 8,
  thresholds: { page: 0.8, ticket: 0.5 },
}

interface Revocation {
  id: string
  ts: number
  scope: RevokeScope
  /** Set when this copy sits in a token slot only to reach presentations that name no session. */
  tokenOnly: boolean
  client_id: string | null
  use: Use
  /** A login re-established this session id after the revocation (some servers keep the id). */
  reissued: number | null
  /** validator -> ms from the revocation to its first rejection. */
  latency: Record<string, number>
  /** credential -> highest score reported for it. */
  hits: Record<string, number>
}

/** Presentations of one credential to one validator from one network with one outcome, summarised. */
interface Bucket {
  cred: string
  session_id: string | null
  token_fp: string | null
  validator: string
  ok: boolean
  net: string | null
  client: string | null
  stateless: boolean
  issued_at: number | null
  client_id: string | null
  first: number
  first_id: string
  last: number
  use: Use
}

export interface RevokedAcceptedState {
  subject: string | null
  revocations: Revocation[]
  buckets: Bucket[]
  /** network -> first time this credential (or user) was seen on it. */
  nets: Record<string, number>
  /** client -> first time seen. */
  clients: Record<string, number>
  /**
   * credential -> when it came to be (user slots: which credentials existed before a user-wide revoke); a
   * login on the same session id after a revocation makes it new again.
   */
  creds: Record<string, number>
  last: number
}

interface Violation {
  rev: Revocation
  bucket: Bucket
  /** The accepted presentation blamed: its time and event id. */
  at: number
  atId: string
}

export function createRevokedAcceptedDetector(config: RevokedAcceptedConfig = DEFAULT_REVOKED_ACCEPTED): Detector<RevokedAcceptedState> {
  const allowanceFor = (validator: string) => config.validatorAllowanceMs[validator] ?? config.allowanceMs

  function covers(rev: Revocation, b: Bucket, s: RevokedAcceptedState): boolean {
    if (rev.tokenOnly && b.session_id !== null) return false
    if (rev.scope === 'token') return true
    if (b.stateless && !config.sessionRevokesAccessTokens) return false
    if (rev.scope === 'session') return true
    // User- and client-wide: only credentials that existed before the revocation; a login after it is new.
    const born = b.issued_at ?? s.creds[b.cred]
    if (born === undefined || born >= rev.ts) return false
    return rev.scope === 'user' || (rev.client_id !== null && rev.client_id === b.client_id)
  }

  /**
   * Matches presentations against one revocation: rejections give the validator's propagation latency,
   * acceptances past the allowance are violations. `at` names the presentation just seen; without it (a
   * revocation arriving late) a bucket's first and last presentations are the candidates.
   */
  function match(rev: Revocation, buckets: Bucket[], s: RevokedAcceptedState, at?: { ts: number; id: string }): Violation[] {
    const out: Violation[] = []
    for (const b of buckets) {
      if (b.last < rev.ts || !covers(rev, b, s)) continue
      const candidates = at ? [at] : [{ ts: b.first, id: b.first_id }, { ts: b.last, id: b.use.id }]
      if (!b.ok) {
        const first = candidates.find((c) => c.ts >= rev.ts)
        if (first && (rev.latency[b.validator] === undefined || first.ts - rev.ts < rev.latency[b.validator]!)) rev.latency[b.validator] = first.ts - rev.ts
        continue
      }
      const deadline = rev.ts + allowanceFor(b.validator)
      const late = candidates.find((c) => c.ts > deadline && (rev.reissued === null || c.ts < rev.reissued))
      if (late) out.push({ rev, bucket: b, at: late.ts, atId: late.id })
    }
    return out
  }

  function judge(v: Violation, s: RevokedAcceptedState): { score: number; reasons: string[]; confirmed: boolean } {
    const { rev, bucket } = v
    const allowance = allowanceFor(bucket.validator)
    const reasons = [
      `${rev.scope} revocation at ${new Date(rev.ts).toISOString()} still accepted by ${bucket.validator} ${Math.round((v.at - rev.ts) / 1000)} s later (allowance ${Math.round(allowance / 1000)} s)`,
    ]
    let score = 0.6
    // Networks and clients this credential (or user) had used up to the revocation: the owner's.
    const knownNets = Object.entries(s.nets).filter(([, first]) => first <= rev.ts).map(([net]) => net)
    const knownClients = Object.entries(s.clients).filter(([, first]) => first <= rev.ts).map(([c]) => c)
    const newNetwork = knownNets.length > 0 && bucket.net !== null && !knownNets.includes(bucket.net)
    const newClient = knownClients.length > 0 && bucket.client !== null && !knownClients.includes(bucket.client)
    if (newNetwork) { score += 0.3; reasons.push(`accepted from a network not used before the revocation (${bucket.net})`) }
    if (newClient) { score += 0.2; reasons.push(`accepted from a client not used before the revocation (${bucket.client})`) }
    if (!newNetwork && !newClient) reasons.push('same network and client as before the revocation: a propagation failure, not yet an intrusion')
    for (const [validator, ms] of Object.entries(rev.latency)) reasons.push(`${validator} first rejected it ${Math.round(ms / 100) / 10} s after the revocation`)
    score = roundScore(score)
    // Decisive: a credential its owner gave up is used by someone else and a validator let them in.
    return { score, reasons, confirmed: newNetwork || newClient }
  }

  return {
    name: 'revoked_accepted',
    slots(event) {
      if (event.kind === 'REVOKE') return revocationSlots(event)
      const out: string[] = []
      if (event.token_fp) out.push('t:' + event.token_fp)
      if (event.session_id) out.push('s:' + event.session_id)
      if (event.subject) out.push('u:' + event.subject)
      if (event.kind === 'ISSUE') return out.filter((x) => !x.startsWith('t:'))
      return event.validator || event.kind === 'VALIDATE' ? out : []
    },
    step: function revokedAccepted(state, event, slot): StepResult<RevokedAcceptedState> {
      const s: RevokedAcceptedState = state
        ? {
            ...state,
            revocations: state.revocations.map((r) => ({ ...r, latency: { ...r.latency }, hits: { ...r.hits } })),
            buckets: state.buckets.map((b) => ({ ...b })),
            nets: { ...state.nets }, clients: { ...state.clients }, creds: { ...state.creds },
          }
        : { subject: null, revocations: [], buckets: [], nets: {}, clients: {}, creds: {}, last: 0 }
      s.subject ??= event.subject ?? null
      s.last = Math.max(s.last, event.ts)
      const net = networkOf(event)
      const client = clientOf(event)
      let violations: Violation[] = []

      if (event.kind === 'REVOKE') {
        if (s.revocations.some((r) => r.id === event.event_id)) return { state: s, findings: [] }
        const rev: Revocation = {
          id: event.event_id, ts: event.ts, scope: scopeOf(event)!, tokenOnly: slot.startsWith('t:') && scopeOf(event) !== 'token',
          client_id: event.client_id ?? null, use: useOf(event), reissued: null, latency: {}, hits: {},
        }
        s.revocations.push(rev)
        s.revocations.sort((a, b) => a.ts - b.ts)
        if (s.revocations.length > config.maxRevocations) s.revocations.splice(0, s.revocations.length - config.maxRevocations)
        // The owner asked for the revocation from here: this network and client are theirs.
        remember(s.nets, net, event.ts, config.maxNetworks)
        remember(s.clients, client, event.ts, config.maxNetworks)
        violations = match(rev, s.buckets, s)
      } else if (event.kind === 'ISSUE') {
        const cred = credentialKey(event)
        const login = event.action === 'login'
        if (cred && slot.startsWith('u:')) {
          // A fresh login after a user-wide revocation is a new credential even when the server kept the id.
          const reborn = login && s.revocations.some((r) => r.ts < event.ts && (s.creds[cred] ?? Infinity) < r.ts)
          if (reborn) s.creds[cred] = event.ts
          else remember(s.creds, cred, event.ts, 2 * config.maxBuckets)
        }
        if (login && slot.startsWith('s:')) {
          for (const r of s.revocations) if (r.scope === 'session' && event.ts > r.ts && (r.reissued === null || event.ts < r.reissued)) r.reissued = event.ts
        }
        remember(s.nets, net, event.ts, config.maxNetworks)
        remember(s.clients, client, event.ts, config.maxNetworks)
      } else {
        const cred = credentialKey(event)
        if (!cred) return { state, findings: [] }
        if (slot.startsWith('u:')) remember(s.creds, cred, event.ts, 2 * config.maxBuckets)
        if (event.result === 'OK') {
          remember(s.nets, net, event.ts, config.maxNetworks)
          remember(s.clients, client, event.ts, config.maxNetworks)
        }
        const b = record(s, event, cred, net, client, config)
        for (const rev of s.revocations) violations.push(...match(rev, [b], s, { ts: event.ts, id: event.event_id }))
      }

      const findings: Finding[] = []
      for (const v of violations) {
        const { score, reasons, confirmed } = judge(v, s)
        if (score <= (v.rev.hits[v.bucket.cred] ?? 0)) continue
        v.rev.hits[v.bucket.cred] = score
        findings.push(toFinding(s, v, score, reasons, confirmed, config))
      }
      return { state: dropStale(s, config), findings }
    },
    expiry: (state) => Math.max(state.last + config.lateRevokeMs, ...state.revocations.map((r) => r.ts + config.rememberMs)),
  }
}

function scopeOf(event: AuthEvent): RevokeScope | null {
  if (event.revoke_scope) return event.revoke_scope
  // A logout without a scope ends its session; a bare token revocation (RFC 7009) ends the token.
  if (event.session_id) return 'session'
  if (event.token_fp) return 'token'
  return event.subject ? 'user' : null
}

function revocationSlots(event: AuthEvent): string[] {
  switch (scopeOf(event)) {
    case 'token': return event.token_fp ? ['t:' + event.token_fp] : []
    // The token copy reaches presentations that name only the cookie, not the session.
    case 'session': return event.session_id ? ['s:' + event.session_id, ...(event.token_fp ? ['t:' + event.token_fp] : [])] : event.token_fp ? ['t:' + event.token_fp] : []
    case 'user': case 'client': return event.subject ? ['u:' + event.subject] : []
    default: return []
  }
}

function record(s: RevokedAcceptedState, event: AuthEvent, cred: string, net: string | null, client: string | null, config: RevokedAcceptedConfig): Bucket {
  const validator = event.validator ?? event.source.system
  const ok = event.result === 'OK'
  let b = s.buckets.find((x) => x.cred === cred && x.validator === validator && x.ok === ok && x.net === net)
  if (b) {
    if (event.ts < b.first) { b.first = event.ts; b.first_id = event.event_id }
    if (event.ts >= b.last) { b.last = event.ts; b.use = useOf(event) }
    return b
  }
  b = {
    cred, session_id: event.session_id ?? null, token_fp: event.token_fp ?? null, validator, ok, net, client,
    stateless: (event.token_kind === 'access' || event.token_kind === 'id') && event.action !== 'introspect',
    issued_at: event.issued_at ?? null, client_id: event.client_id ?? null,
    first: event.ts, first_id: event.event_id, last: event.ts, use: useOf(event),
  }
  s.buckets.push(b)
  if (s.buckets.length > config.maxBuckets) {
    s.buckets.sort((x, y) => y.last - x.last)
    s.buckets.length = config.maxBuckets
  }
  return b
}

/** Keeps the earliest time per key in a bounded map, forgetting the most recently first-seen keys first. */
function remember(map: Record<string, number>, key: string | null, ts: number, max: number): void {
  if (key === null) return
  const known = map[key]
  if (known === undefined || ts < known) map[key] = ts
  const keys = Object.keys(map)
  if (keys.length > max) {
    keys.sort((a, b) => map[a]! - map[b]!)
    for (const k of keys.slice(max)) delete map[k]
  }
}

function dropStale(s: RevokedAcceptedState, config: RevokedAcceptedConfig): RevokedAcceptedState {
  s.buckets = s.buckets.filter((b) => b.last >= s.last - config.lateRevokeMs)
  s.revocations = s.revocations.filter((r) => r.ts >= s.last - config.rememberMs)
  return s
}

function toFinding(s: RevokedAcceptedState, v: Violation, score: number, reasons: string[], confirmed: boolean, config: RevokedAcceptedConfig): Finding {
  const b = v.bucket
  const accepted: Use = { ...b.use, id: v.atId, ts: v.at }
  const evidence = evidenceOf([v.rev.use, accepted], reasons)
  return {
    detector: 'revoked_accepted',
    // One detection per revocation and credential, whichever slot matched it.
    key: b.cred,
    incident_ts: v.rev.ts,
    severity: severityFor(score, config.thresholds),
    score,
    confirmed,
    subject: s.subject,
    session_id: b.session_id,
    token_fp: b.token_fp,
    summary: `${b.cred.startsWith('s:') ? 'session' : 'token'} accepted by ${b.validator} ${Math.round((v.at - v.rev.ts) / 1000)} s after its ${v.rev.scope} revocation`,
    evidence,
    first_malicious_ts: v.at,
  }
}
