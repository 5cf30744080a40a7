// Refresh-token reuse after rotation (OAuth 2.0 Security BCP, RFC 9700 §4.14.2): each refresh hands out a
// new refresh token and retires the one presented (its ISSUE names it as parent_token_fp). A retired token
// presented again means two parties hold it. Several tabs refreshing at once present the same token within
// a moment of each other, so uses inside a short grace window after the rotation are honest races.
// IdPs that detect reuse themselves (Okta, Auth0, Keycloak: action 'refresh_reuse') are believed outright.
import type { AuthEvent } from '../schemas/model.js'
import { agrees, clientsDiffer, createUseReader, differs, evidenceOf, roundScore, type Use } from './signals.js'
import { NO_FINDINGS, NO_SLOTS, severityFor, type Detector, type Finding, type StepResult } from './types.js'

export interface RefreshReuseConfig {
  /** Uses this close after the rotation are concurrent refreshes (tabs, retries), not reuse. */
  graceMs: number
  /** How long a rotated-out token is remembered. */
  rememberMs: number
  maxUses: number
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_REFRESH_REUSE: RefreshReuseConfig = {
  graceMs: 10_000,
  rememberMs: 24 * 3600_000,
  maxUses: 6,
  thresholds: { page: 0.8, ticket: 0.5 },
}

interface TokenUse {
  use: Use
  /** The IdP exchanged the token for new ones (an ISSUE naming it as parent), rather than just seeing it. */
  exchanged: boolean
  child: string | null
}

export interface RefreshReuseState {
  subject: string | null
  session_id: string | null
  token_fp: string
  /** Uses of the token, earliest first; the earliest exchange is its rotation. */
  uses: TokenUse[]
  idp_reported: boolean
  incident_ts: number | null
  reported_score: number
  last: number
}

export function createRefreshReuseDetector(config: RefreshReuseConfig = DEFAULT_REFRESH_REUSE): Detector<RefreshReuseState> {
  const read = createUseReader()
  // The one slot an event touches, reused: the engine reads it before the next call.
  const one = ['']
  return {
    name: 'refresh_reuse',
    slots(event) {
      if (event.kind === 'ISSUE') {
        if (!event.parent_token_fp) return NO_SLOTS
        one[0] = 'r:' + event.parent_token_fp
        return one
      }
      if (event.kind !== 'VALIDATE' || !event.token_fp) return NO_SLOTS
      const refresh = event.action === 'refresh_reuse' || event.action === 'refresh' || event.token_kind === 'refresh'
      if (!refresh) return NO_SLOTS
      one[0] = 'r:' + event.token_fp
      return one
    },
    step: function refreshReuse(state, event, slot, context): StepResult<RefreshReuseState> {
      const s: RefreshReuseState = state ?? {
        subject: null, session_id: null, token_fp: slot.slice(2), uses: [], idp_reported: false,
        incident_ts: null, reported_score: 0, last: event.ts,
      }
      s.subject ??= event.subject ?? null
      s.session_id ??= event.session_id ?? null
      s.last = Math.max(s.last, event.ts)

      if (event.action === 'refresh_reuse') return idpReported(s, event, read.useOf(event, context), slot, config)
      // Replays of the same event (at-least-once delivery) are one use.
      if (s.uses.some((u) => u.use.id === event.event_id)) return { state: s, findings: NO_FINDINGS }
      const exchanged = event.kind === 'ISSUE'
      s.uses.push({ use: read.useOf(event, context), exchanged, child: exchanged ? (event.token_fp ?? null) : null })
      s.uses.sort((a, b) => a.use.ts - b.use.ts)
      const rotation = s.uses.find((u) => u.exchanged)
      if (s.uses.length > config.maxUses) {
        // Keep the rotation and the latest uses.
        const rest = s.uses.filter((u) => u !== rotation).slice(-(config.maxUses - 1))
        s.uses = rotation ? [rotation, ...rest].sort((a, b) => a.use.ts - b.use.ts) : rest
      }
      if (!rotation) return { state: s, findings: NO_FINDINGS }

      let best: { reuse: TokenUse; score: number; reasons: string[]; confirmed: boolean } | null = null
      for (const u of s.uses) {
        if (u === rotation || u.use.ts - rotation.use.ts <= config.graceMs) continue
        const judged = judge(rotation, u, config)
        if (!best || judged.score > best.score) best = { reuse: u, ...judged }
      }
      if (!best || best.score <= s.reported_score) return { state: s, findings: NO_FINDINGS }
      s.incident_ts ??= best.reuse.use.ts
      s.reported_score = best.score
      return { state: s, findings: [toFinding(s, slot, [rotation.use, best.reuse.use], best.score, best.reasons, best.confirmed, best.reuse.use.ts, config)] }
    },
    expiry: (state) => state.last + config.rememberMs,
  }
}

/** The IdP says the token was reused: decisive, reported once per token. */
function idpReported(s: RefreshReuseState, event: AuthEvent, use: Use, slot: string, config: RefreshReuseConfig): StepResult<RefreshReuseState> {
  if (s.idp_reported) return { state: s, findings: NO_FINDINGS }
  s.idp_reported = true
  const score = Math.max(0.95, s.reported_score)
  s.incident_ts ??= event.ts
  s.reported_score = score
  const uses = [...s.uses.map((u) => u.use).slice(0, 1), use]
  const reasons = [`${event.source.system} reported reuse of a rotated refresh token (${event.result ?? 'no result'})`]
  return { state: s, findings: [toFinding(s, slot, uses, score, reasons, true, event.ts, config)] }
}

function judge(rotation: TokenUse, reuse: TokenUse, config: RefreshReuseConfig): { score: number; reasons: string[]; confirmed: boolean } {
  const a = rotation.use
  const b = reuse.use
  const reasons = [`refresh token rotated at ${new Date(a.ts).toISOString()} used again ${Math.round((b.ts - a.ts) / 1000)} s later (grace ${Math.round(config.graceMs / 1000)} s)`]
  let score = 0.6
  const otherNetwork = differs(a.net, b.net)
  const otherClient = clientsDiffer(a.client, b.client)
  const sameDevice = agrees(a.device, b.device)
  if (otherNetwork) { score += 0.25; reasons.push('from another network than the rotation') }
  if (otherClient) { score += 0.3; reasons.push('from another client than the rotation') }
  if (sameDevice && !otherClient) {
    // The same device retrying a refresh whose response it lost (a network drop) is the classic honest reuse.
    score -= 0.15
    reasons.push('same device id as the rotation: possibly a lost response retried')
  }
  if (reuse.exchanged && reuse.child !== rotation.child) { score += 0.1; reasons.push('the IdP exchanged the retired token again (new tokens minted)') }
  score = roundScore(score)
  return { score, reasons, confirmed: (otherNetwork || otherClient) && !(sameDevice && !otherClient) }
}

function toFinding(s: RefreshReuseState, slot: string, uses: Use[], score: number, reasons: string[], confirmed: boolean, blamed: number, config: RefreshReuseConfig): Finding {
  return {
    detector: 'refresh_reuse',
    key: slot,
    incident_ts: s.incident_ts!,
    severity: severityFor(score, config.thresholds),
    score,
    confirmed,
    subject: s.subject,
    session_id: s.session_id,
    token_fp: s.token_fp,
    summary: `rotated-out refresh token used again${confirmed ? ' by another party' : ''}`,
    evidence: evidenceOf(uses, reasons),
    first_malicious_ts: blamed,
  }
}
