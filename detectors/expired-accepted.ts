// A validator accepted a token (or session) after its expiry, beyond the clock skew validators are allowed
// (RFC 7519 §4.1.4 lets them allow "a few minutes" of leeway). The expiry comes from the presentation itself
// (the exp claim) or from the token's ISSUE. Accepted from a network or client the token had not used
// before it expired, it is decisive: someone kept a dead token and a validator let them in.
import {
  clientOf, createUseReader, evidenceOf, rememberFirst, roundScore, tokenKeyOf, sessionSlot, useOf, type Use,
} from './signals.js'
import { NO_FINDINGS, NO_SLOTS, severityFor, type Detector, type Finding, type StepResult } from './types.js'

export interface ExpiredAcceptedConfig {
  /** Clock skew a validator may allow past `exp`. */
  skewMs: number
  /** Acceptance this long past expiry is not a skew problem at all. */
  longPastMs: number
  /** How long a token is remembered after it expired or was last used. */
  retainMs: number
  maxNetworks: number
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_EXPIRED_ACCEPTED: ExpiredAcceptedConfig = {
  skewMs: 60_000,
  longPastMs: 3600_000,
  retainMs: 6 * 3600_000,
  maxNetworks: 4,
  thresholds: { page: 0.8, ticket: 0.5 },
}

export interface ExpiredAcceptedState {
  subject: string | null
  session_id: string | null
  token_fp: string | null
  expires_at: number
  /** First use (or issuance): the evidence's reference. */
  origin: Use | null
  /** network -> first use; client -> first use. */
  nets: Record<string, number>
  clients: Record<string, number>
  last: number
  incident_ts: number | null
  reported_score: number
}

export function createExpiredAcceptedDetector(config: ExpiredAcceptedConfig = DEFAULT_EXPIRED_ACCEPTED): Detector<ExpiredAcceptedState> {
  const read = createUseReader()
  // The one slot an event touches, reused: the engine reads it before the next call.
  const one = ['']
  return {
    name: 'expired_accepted',
    slots(event) {
      if (event.kind === 'REVOKE') return NO_SLOTS
      if (event.kind === 'VALIDATE' && event.result !== 'OK') return NO_SLOTS
      // Each token expires on its own: the token is the slot (its jti when it has one, so the IdP's ISSUE and
      // the gateway's presentations meet), the session only when no token is named.
      const token = tokenKeyOf(event)
      if (token) one[0] = token
      else if (event.session_id) one[0] = sessionSlot(event)!
      else return NO_SLOTS
      return one
    },
    step: function expiredAccepted(state, event, slot): StepResult<ExpiredAcceptedState> {
      const expiresAt = event.expires_at ?? state?.expires_at
      // Nothing to judge or remember until an expiry is known: keep no state for tokens without one.
      if (expiresAt == null) return { state, findings: NO_FINDINGS }
      const s: ExpiredAcceptedState = state ?? {
        subject: null, session_id: null, token_fp: null, expires_at: expiresAt, origin: null, nets: {}, clients: {},
        last: event.ts, incident_ts: null, reported_score: 0,
      }
      s.subject ??= event.subject ?? null
      s.session_id ??= event.session_id ?? null
      s.token_fp ??= event.token_fp ?? null
      // The token's own claim wins over what its issuance said (a re-issued cookie carries its new expiry).
      if (event.expires_at != null) s.expires_at = event.expires_at
      if (event.ts > s.last) s.last = event.ts
      const net = read.networkOf(event)
      let use: Use | null = null
      if (!s.origin || event.ts < s.origin.ts) s.origin = use = useOf(event, net)
      rememberFirst(s.nets, net, event.ts, config.maxNetworks)
      rememberFirst(s.clients, clientOf(event), event.ts, config.maxNetworks)

      const late = event.ts - (s.expires_at + config.skewMs)
      if (event.kind !== 'VALIDATE' || late <= 0) return { state: s, findings: NO_FINDINGS }
      use ??= useOf(event, net)
      const { score, reasons, confirmed } = judge(s, use, late, config)
      if (score <= s.reported_score) return { state: s, findings: NO_FINDINGS }
      s.incident_ts ??= event.ts
      s.reported_score = score
      return { state: s, findings: [toFinding(s, slot, use, score, reasons, confirmed, event.validator ?? event.source.system, config)] }
    },
    expiry: (state) => Math.max(state.expires_at, state.last) + config.retainMs,
  }
}

function judge(s: ExpiredAcceptedState, use: Use, lateMs: number, config: ExpiredAcceptedConfig): { score: number; reasons: string[]; confirmed: boolean } {
  const reasons = [`accepted ${Math.round((lateMs + config.skewMs) / 1000)} s after it expired at ${new Date(s.expires_at).toISOString()} (skew allowance ${Math.round(config.skewMs / 1000)} s)`]
  let score = 0.6
  if (lateMs > config.longPastMs) { score += 0.1; reasons.push('long past its expiry: not a clock skew') }
  const before = (map: Record<string, number>) => Object.entries(map).filter(([, first]) => first <= s.expires_at).map(([k]) => k)
  const nets = before(s.nets)
  const clients = before(s.clients)
  const newNetwork = nets.length > 0 && use.net !== null && !nets.includes(use.net)
  const newClient = clients.length > 0 && use.client !== null && !clients.includes(use.client)
  if (newNetwork) { score += 0.3; reasons.push(`from a network the token had not used before it expired (${use.net})`) }
  if (newClient) { score += 0.2; reasons.push(`from a client the token had not used before it expired (${use.client})`) }
  score = roundScore(score)
  return { score, reasons, confirmed: newNetwork || newClient }
}

function toFinding(s: ExpiredAcceptedState, slot: string, use: Use, score: number, reasons: string[], confirmed: boolean, validator: string, config: ExpiredAcceptedConfig): Finding {
  return {
    detector: 'expired_accepted',
    // The alerter's incident is the session when there is one; the detection is about the token.
    key: slot,
    incident_ts: s.incident_ts!,
    severity: severityFor(score, config.thresholds),
    score,
    confirmed,
    subject: s.subject,
    session_id: s.session_id,
    token_fp: s.token_fp,
    summary: `expired ${slot.startsWith('s:') ? 'session' : 'token'} accepted by ${validator}`,
    evidence: evidenceOf(s.origin && s.origin.id !== use.id ? [s.origin, use] : [use], reasons),
    first_malicious_ts: s.incident_ts!,
  }
}
