// A validator accepted a token (or session) after its expiry, beyond the clock skew validators are allowed
// (RFC 7519 §4.1.4 lets them allow "a few minutes" of leeway). The expiry comes from the presentation itself
// (the exp claim) or from the token's ISSUE. Accepted from a network or client the credential had not used
// before the token expired, it is decisive: someone kept a dead token and a validator let them in.
//
// What the credential did before is the engine's record of it (CredentialContext: its first use and its latest
// accepted presentation), so the state of a token is only what the record cannot say: the expiry an event
// told, and once reported, the incident. An OIDC session's access tokens cost a few bytes each, not a copy of
// their uses.
import { createUseReader, evidenceOf, plainUse, roundScore, tokenKeyOf, sessionSlot, type Use } from './signals.js'
import { NO_FINDINGS, NO_SLOTS, severityFor, type CredentialContext, type Detector, type Finding, type StepResult } from './types.js'

export interface ExpiredAcceptedConfig {
  /** Clock skew a validator may allow past `exp`. */
  skewMs: number
  /** Acceptance this long past expiry is not a skew problem at all. */
  longPastMs: number
  /** How long a token is remembered after it expired or was last used. */
  retainMs: number
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_EXPIRED_ACCEPTED: ExpiredAcceptedConfig = {
  skewMs: 60_000,
  longPastMs: 3600_000,
  retainMs: 6 * 3600_000,
  thresholds: { page: 0.8, ticket: 0.5 },
}

export interface ExpiredAcceptedState {
  /** The latest expiry an event carried (a re-issued cookie carries its new one). */
  expires_at: number
  last: number
  /** The first late acceptance reported, and the best score reported since: a replay pages once. */
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
    step: function expiredAccepted(before, event, slot, context): StepResult<ExpiredAcceptedState> {
      const state = before === undefined || !('origin' in before) ? before : upgraded(before)
      const expiresAt = event.expires_at ?? state?.expires_at
      // Nothing to judge or remember until an expiry is known: keep no state for tokens without one.
      if (expiresAt == null) return { state, findings: NO_FINDINGS }
      const s: ExpiredAcceptedState = state ?? { expires_at: expiresAt, last: event.ts, incident_ts: null, reported_score: 0 }
      // The token's own claim wins over what its issuance said.
      if (event.expires_at != null) s.expires_at = event.expires_at
      if (event.ts > s.last) s.last = event.ts
      const late = event.ts - (s.expires_at + config.skewMs)
      if (event.kind !== 'VALIDATE' || late <= 0) return { state: s, findings: NO_FINDINGS }
      const use = read.useOf(event, context)
      const { score, reasons, confirmed } = judge(s.expires_at, use, context, late, config)
      if (score <= s.reported_score) return { state: s, findings: NO_FINDINGS }
      s.incident_ts ??= event.ts
      s.reported_score = score
      return { state: s, findings: [toFinding(s, slot, event, use, context, score, reasons, confirmed, event.validator ?? event.source.system, config)] }
    },
    expiry: (state) => Math.max(state.expires_at, state.last) + config.retainMs,
  }
}

/** A state checkpointed before the record held the token's history: what it still needs. */
function upgraded(old: ExpiredAcceptedState): ExpiredAcceptedState {
  return { expires_at: old.expires_at, last: old.last, incident_ts: old.incident_ts, reported_score: old.reported_score }
}

/**
 * The networks and clients the credential was known on before the token expired, from its record: its first
 * use and its latest accepted presentation, each when it came before the expiry (a later one may be the
 * owner's next token, or the replay itself).
 */
function knownBefore(context: CredentialContext | undefined, expiresAt: number): { nets: string[]; clients: string[] } {
  const nets: string[] = []
  const clients: string[] = []
  const add = (net: string | null, client: string | null) => {
    if (net !== null) nets.push(net)
    if (client !== null) clients.push(client)
  }
  if (!context || context.uses === 0) return { nets, clients }
  if (context.firstTs <= expiresAt) add(context.firstNetwork, context.firstClient)
  if (context.lastTs <= expiresAt) {
    const last = context.last()!
    add(last.net, last.client)
  }
  return { nets, clients }
}

function judge(expiresAt: number, use: Use, context: CredentialContext | undefined, lateMs: number, config: ExpiredAcceptedConfig): { score: number; reasons: string[]; confirmed: boolean } {
  const reasons = [`accepted ${Math.round((lateMs + config.skewMs) / 1000)} s after it expired at ${new Date(expiresAt).toISOString()} (skew allowance ${Math.round(config.skewMs / 1000)} s)`]
  let score = 0.6
  if (lateMs > config.longPastMs) { score += 0.1; reasons.push('long past its expiry: not a clock skew') }
  const { nets, clients } = knownBefore(context, expiresAt)
  const newNetwork = nets.length > 0 && use.net !== null && !nets.includes(use.net)
  const newClient = clients.length > 0 && use.client !== null && !clients.includes(use.client)
  if (newNetwork) { score += 0.3; reasons.push(`from a network the credential had not used before the token expired (${use.net})`) }
  if (newClient) { score += 0.2; reasons.push(`from a client the credential had not used before the token expired (${use.client})`) }
  score = roundScore(score)
  return { score, reasons, confirmed: newNetwork || newClient }
}

function toFinding(
  s: ExpiredAcceptedState, slot: string, event: { subject?: string | null; session_id?: string | null; token_fp?: string | null }, use: Use,
  context: CredentialContext | undefined, score: number, reasons: string[], confirmed: boolean, validator: string, config: ExpiredAcceptedConfig,
): Finding {
  // The reference use: the credential's first (its issuance when seen).
  const first = context && context.uses > 0 ? context.first() : null
  return {
    detector: 'expired_accepted',
    // The alerter's incident is the session when there is one; the detection is about the token.
    key: slot,
    incident_ts: s.incident_ts!,
    severity: severityFor(score, config.thresholds),
    score,
    confirmed,
    subject: event.subject ?? context?.subject ?? null,
    session_id: event.session_id ?? null,
    token_fp: event.token_fp ?? null,
    summary: `expired ${slot.startsWith('s:') ? 'session' : 'token'} accepted by ${validator}`,
    evidence: evidenceOf(first && first.id !== use.id ? [plainUse(first), use] : [use], reasons),
    first_malicious_ts: s.incident_ts!,
  }
}
