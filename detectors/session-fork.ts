// A session's credential lineage forks: an older credential (access token, cookie) keeps being used after a
// newer one of the same lineage was issued, by another client or from another network. The owner moves on
// to the new token when it refreshes; whoever copied the old one keeps replaying it until it expires.
// A lineage is one session, one token kind and one OAuth client: several apps in one SSO session each hold
// their own tokens, and that is not a fork.
import { createInterner } from './compact.js'
import { clientsDiffer, createUseReader, differs, evidenceOf, plainUse, roundScore, sessionSlot, tokenKeyOf, type Use } from './signals.js'
import { NO_FINDINGS, NO_SLOTS, severityFor, type CredentialContext, type Detector, type Finding, type StepResult } from './types.js'

export interface SessionForkConfig {
  /** An old credential used this soon after its successor's issuance is an in-flight request, not a fork. */
  graceMs: number
  /** Both generations used within this span of each other: two parties at once. */
  concurrentMs: number
  /** A session is forgotten this long after its last event. */
  idleMs: number
  maxCredentials: number
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_SESSION_FORK: SessionForkConfig = {
  graceMs: 2 * 60_000,
  concurrentMs: 10 * 60_000,
  idleMs: 12 * 3600_000,
  maxCredentials: 8,
  thresholds: { page: 0.8, ticket: 0.5 },
}

interface Credential {
  /** The token's identity (jti when known, so IdP and gateway records of one token are one credential). */
  id: string
  fp: string
  lineage: string
  /** Issuance time, or first presentation when its ISSUE was not seen. */
  born: number
  /** Where it was issued or first used: the owner of this generation. */
  origin: Use
  /** Latest accepted presentation. */
  last: Use | null
}

export interface SessionForkState {
  subject: string | null
  session_id: string
  creds: Credential[]
  incident_ts: number | null
  reported_score: number
  last: number
}

export function createSessionForkDetector(config: SessionForkConfig = DEFAULT_SESSION_FORK): Detector<SessionForkState> {
  const read = createUseReader()
  // Lineages are few (token kinds times clients): every credential of one shares its name, not a copy per event.
  const lineageOf = createInterner(4096)
  // The one slot an event touches, reused: the engine reads it before the next call.
  const one = ['']
  return {
    name: 'session_fork',
    slots(event) {
      if (!event.session_id || !event.token_fp || event.kind === 'REVOKE') return NO_SLOTS
      if (event.kind === 'VALIDATE' && event.result !== 'OK') return NO_SLOTS
      one[0] = sessionSlot(event)!
      return one
    },
    step: function sessionFork(state, event, slot, context): StepResult<SessionForkState> {
      const id = tokenKeyOf(event)!
      // A session presenting one credential cannot fork: the engine's record of the session holds all this
      // detector would remember of it, so state is built only when a second credential shows up.
      if (!state && context?.key === slot && (context.uses === 0 || context.isFirstToken(event))) return { state, findings: NO_FINDINGS }
      const s: SessionForkState = state ?? fromContext(event, context, lineageOf) ?? { subject: null, session_id: event.session_id!, creds: [], incident_ts: null, reported_score: 0, last: event.ts }
      s.subject ??= event.subject ?? null
      if (event.ts > s.last) s.last = event.ts
      const use = read.useOf(event, context)
      const fp = event.token_fp!
      let cred = s.creds.find((c) => c.id === id)
      if (!cred) {
        cred = { id, fp, lineage: lineageOf(`${event.token_kind ?? '?'}|${event.client_id ?? '?'}`)!, born: event.ts, origin: use, last: null }
        s.creds.push(cred)
      } else if (event.kind === 'ISSUE' || event.ts < cred.born) {
        // The ISSUE (possibly arriving after the first presentations) fixes when and to whom it was issued.
        if (event.kind === 'ISSUE' || cred.origin.ts > event.ts) { cred.born = Math.min(cred.born, event.ts); cred.origin = use }
      }
      if (event.kind === 'VALIDATE' && (!cred.last || event.ts >= cred.last.ts)) cred.last = use
      if (s.creds.length > config.maxCredentials) {
        s.creds.sort((a, b) => b.born - a.born)
        s.creds.length = config.maxCredentials
      }

      let best: { older: Credential; newer: Credential; score: number; reasons: string[]; confirmed: boolean } | null = null
      for (const older of s.creds) {
        if (!older.last) continue
        for (const newer of s.creds) {
          if (newer === older || newer.lineage !== older.lineage || newer.born <= older.born) continue
          if (older.last.ts - newer.born <= config.graceMs) continue
          const judged = judge(older, newer, config)
          if (judged && (!best || judged.score > best.score)) best = { older, newer, ...judged }
        }
      }
      if (!best || best.score <= s.reported_score) return { state: s, findings: NO_FINDINGS }
      s.incident_ts ??= best.older.last!.ts
      s.reported_score = best.score
      return { state: s, findings: [toFinding(s, slot, best.older, best.newer, best.score, best.reasons, best.confirmed, config)] }
    },
    expiry: (state) => state.last + config.idleMs,
  }
}

/** The session's first credential as the engine's record has it, when a second one appears. */
function fromContext(event: { session_id?: string | null }, context: CredentialContext | undefined, lineageOf: (s: string) => string | null): SessionForkState | null {
  if (!context || context.uses === 0 || context.token === null) return null
  // The record's uses carry more than a Use (place coordinates, flags): only the Use is kept.
  const last = context.last()
  const first: Credential = {
    id: context.token, fp: context.tokenFp ?? context.token.slice(2), lineage: lineageOf(`${context.tokenKind ?? '?'}|${context.clientId ?? '?'}`)!,
    born: context.firstTs, origin: plainUse(context.first()!), last: last && plainUse(last),
  }
  return { subject: context.subject, session_id: event.session_id!, creds: [first], incident_ts: null, reported_score: 0, last: context.seenTs }
}

function judge(older: Credential, newer: Credential, config: SessionForkConfig): { score: number; reasons: string[]; confirmed: boolean } | null {
  const stale = older.last!
  // The newer generation's owner: where it is being used, else where it was issued.
  const owner = newer.last ?? newer.origin
  const otherClient = clientsDiffer(stale.client, owner.client)
  const otherNetwork = differs(stale.net, owner.net)
  if (!otherClient && !otherNetwork) return null
  const reasons = [`older credential used ${Math.round((stale.ts - newer.born) / 1000)} s after its successor was issued`]
  let score: number
  if (otherClient) {
    score = 0.7
    reasons.push('by another client than the successor\'s')
    if (otherNetwork) { score += 0.15; reasons.push('from another network than the successor\'s') }
  } else {
    // Network alone: a phone between Wi-Fi and cellular does this with a request in flight.
    score = 0.45
    reasons.push('from another network than the successor\'s (same client)')
  }
  if (differs(stale.device, owner.device)) { score += 0.1; reasons.push('different device id') }
  const bothActive = newer.last !== null && Math.abs(newer.last.ts - stale.ts) <= config.concurrentMs
  if (bothActive) { score += 0.1; reasons.push('both generations in use at the same time') }
  score = roundScore(score)
  return { score, reasons, confirmed: score >= config.thresholds.page && otherClient && (otherNetwork || bothActive) }
}

function toFinding(s: SessionForkState, slot: string, older: Credential, newer: Credential, score: number, reasons: string[], confirmed: boolean, config: SessionForkConfig): Finding {
  const uses = [older.origin, newer.origin, ...(newer.last ? [newer.last] : []), older.last!]
  return {
    detector: 'session_fork',
    key: slot,
    incident_ts: s.incident_ts!,
    severity: severityFor(score, config.thresholds),
    score,
    confirmed,
    subject: s.subject,
    session_id: s.session_id,
    token_fp: older.fp,
    summary: `session lineage forked: a superseded ${older.lineage.split('|')[0]} token is still used elsewhere`,
    evidence: evidenceOf(uses, reasons),
    // The first stale use this incident blamed (later ones only raise the score).
    first_malicious_ts: s.incident_ts!,
  }
}
