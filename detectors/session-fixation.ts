// Session fixation (OWASP: "Session fixation"; CWE-384): a session identifier that existed before login —
// presented anonymously, with no subject — is kept by the login instead of being replaced, and is then used
// by a client or network other than the one that logged in. The attacker who planted the identifier, and
// used it before the victim logged in, comes back to use it after: that return is decisive.
//
// The slot is the session identifier (or the cookie's fingerprint), never the subject: the events that
// matter here have none.
import { clientsDiffer, createUseReader, credentialKey, differs, evidenceOf, roundScore, type Use } from './signals.js'
import { NO_FINDINGS, NO_SLOTS, severityFor, type Detector, type Finding, type StepResult } from './types.js'

export interface SessionFixationConfig {
  /** A session is forgotten this long after its last event. */
  idleMs: number
  maxActors: number
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_SESSION_FIXATION: SessionFixationConfig = {
  idleMs: 12 * 3600_000,
  maxActors: 6,
  thresholds: { page: 0.8, ticket: 0.5 },
}

/** One network and client pair using the identifier: its first and its latest use. */
interface Actor {
  key: string
  first: Use
  last: Use
}

export interface SessionFixationState {
  subject: string | null
  session_id: string | null
  token_fp: string | null
  actors: Actor[]
  login: Use | null
  incident_ts: number | null
  reported_score: number
  last: number
}

export function createSessionFixationDetector(config: SessionFixationConfig = DEFAULT_SESSION_FIXATION): Detector<SessionFixationState> {
  const read = createUseReader()
  // The one slot an event touches, reused: the engine reads it before the next call.
  const one = ['']
  return {
    name: 'session_fixation',
    slots(event) {
      if (event.kind === 'REVOKE' || (event.kind === 'VALIDATE' && event.result !== 'OK')) return NO_SLOTS
      if (event.kind === 'ISSUE' && event.action !== 'login') return NO_SLOTS
      const key = credentialKey(event)
      if (!key) return NO_SLOTS
      one[0] = key
      return one
    },
    step: function sessionFixation(state, event, slot, context): StepResult<SessionFixationState> {
      const anonymous = !event.subject
      // Only identifiers seen before any login need watching: keep no state for the rest.
      if (!state && !anonymous) return { state: undefined, findings: NO_FINDINGS }
      const s: SessionFixationState = state ?? { subject: null, session_id: null, token_fp: null, actors: [], login: null, incident_ts: null, reported_score: 0, last: event.ts }
      s.subject ??= event.subject ?? null
      s.session_id ??= event.session_id ?? null
      s.token_fp ??= event.token_fp ?? null
      s.last = Math.max(s.last, event.ts)
      const use = read.useOf(event, context)
      if (event.kind === 'ISSUE') {
        if (!s.login || event.ts < s.login.ts) s.login = use
      } else {
        const key = `${use.net ?? '?'}|${use.client ?? '?'}`
        const actor = s.actors.find((a) => a.key === key)
        if (actor) {
          if (event.ts < actor.first.ts) actor.first = use
          if (event.ts >= actor.last.ts) actor.last = use
        } else {
          s.actors.push({ key, first: use, last: use })
          if (s.actors.length > config.maxActors) {
            // Keep the earliest actors (who held the identifier first) and the newest one.
            s.actors.sort((a, b) => a.first.ts - b.first.ts)
            s.actors.splice(config.maxActors - 1, s.actors.length - config.maxActors)
          }
        }
      }
      const judged = s.login ? judge(s, s.login, config) : null
      if (!judged || judged.score <= s.reported_score) return { state: s, findings: NO_FINDINGS }
      s.incident_ts ??= judged.blamed
      s.reported_score = judged.score
      return { state: s, findings: [toFinding(s, slot, judged, config)] }
    },
    expiry: (state) => state.last + config.idleMs,
  }
}

interface Judged {
  intruder: Actor
  /** The intruder held the identifier before the login too: it planted it. */
  fixer: boolean
  blamed: number
  score: number
  reasons: string[]
  confirmed: boolean
}

function judge(s: SessionFixationState, login: Use, config: SessionFixationConfig): Judged | null {
  if (!s.actors.some((a) => a.first.ts < login.ts)) return null
  let best: Judged | null = null
  for (const a of s.actors) {
    if (a.last.ts <= login.ts) continue
    const otherClient = clientsDiffer(a.last.client, login.client)
    const otherNetwork = differs(a.last.net, login.net)
    if (!otherClient && !otherNetwork) continue
    const reasons = ['session identifier used before login survived the login (not rotated)']
    let score: number
    if (otherClient) {
      score = 0.7
      reasons.push('used after login by another client than the one that logged in')
      if (otherNetwork) { score += 0.05; reasons.push('from another network than the login') }
    } else {
      // Same browser on another network after login: a handover, unless the fixer below explains it.
      score = 0.4
      reasons.push('used after login from another network (same client)')
    }
    // The party that held the identifier before the victim logged in (and is not the victim) uses it after.
    const fixer = a.first.ts < login.ts
    if (fixer) { score += 0.3; reasons.push('the same party used the identifier before the login: planted and collected') }
    score = roundScore(score)
    // A fixer is blamed from its planting use; anyone else from its first use, which came after the login.
    const blamed = a.first.ts
    const judged = { intruder: a, fixer, blamed, score, reasons, confirmed: fixer && score >= config.thresholds.page }
    if (!best || judged.score > best.score) best = judged
  }
  return best
}

function toFinding(s: SessionFixationState, slot: string, j: Judged, config: SessionFixationConfig): Finding {
  const uses = j.fixer ? [j.intruder.first, s.login!, j.intruder.last] : [s.login!, j.intruder.first, j.intruder.last]
  return {
    detector: 'session_fixation',
    key: slot,
    incident_ts: s.incident_ts!,
    severity: severityFor(j.score, config.thresholds),
    score: j.score,
    confirmed: j.confirmed,
    subject: s.subject,
    session_id: s.session_id,
    token_fp: s.token_fp,
    summary: `session identifier from before login kept by the login and used by another ${j.fixer ? 'party that held it before' : 'client or network'}`,
    evidence: evidenceOf(uses, j.reasons),
    first_malicious_ts: s.incident_ts!,
  }
}
