import type { AuthEvent, Evidence, Severity } from '../schemas/model.js'

/** What one detector concluded about one state slot; the engine turns it into a Detection. */
export interface Finding {
  detector: string
  /** The state slot (token or session) the finding is about; part of the deterministic detection id. */
  key: string
  /** Start of the incident window; part of the deterministic detection id. */
  incident_ts: number
  severity: Severity
  score: number
  confirmed: boolean
  subject?: string | null
  session_id?: string | null
  token_fp?: string | null
  summary: string
  evidence: Evidence
  first_malicious_ts: number
}

export interface StepResult<S> {
  /** undefined drops the slot. */
  state: S | undefined
  findings: Finding[]
}

/**
 * A detector is pure: the same (state, event) always gives the same result, and time comes only from
 * event times. It names the state slots an event touches; the engine keeps one state per slot.
 */
export interface Detector<S> {
  readonly name: string
  slots(event: AuthEvent): string[]
  step(state: S | undefined, event: AuthEvent, slot: string): StepResult<S>
  /** Event time after which the slot can be forgotten. */
  expiry(state: S): number
}

export function emptyEvidence(): Evidence {
  return { event_ids: [], ips: [], prefixes: [], asns: [], places: [], user_agents: [], times: [], reasons: [] }
}

export function severityFor(score: number, thresholds: { page: number; ticket: number }): Severity {
  return score >= thresholds.page ? 'page' : score >= thresholds.ticket ? 'ticket' : 'info'
}
