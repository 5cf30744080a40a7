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

/** Another slot's state of the same detector, read-only (see Detector.step). */
export type Peek<S> = (slot: string) => Readonly<S> | undefined

export interface StepResult<S> {
  /** undefined drops the slot. */
  state: S | undefined
  /** Read by the engine before the next step; may be the shared NO_FINDINGS. */
  findings: readonly Finding[]
}

/** The findings of almost every step: one shared empty list, so a quiet step allocates none. */
export const NO_FINDINGS: readonly Finding[] = Object.freeze([])

/** The slots of an event a detector does not use: shared, never written. */
export const NO_SLOTS: readonly string[] = Object.freeze([])

/**
 * A detector is deterministic: the same (state, event, slot) always gives the same result, time comes only
 * from event times, and a step does no I/O. It names the state slots an event touches; the engine keeps one
 * state per slot. State is plain JSON data (it is checkpointed as JSON for restarts).
 *
 * Ownership: step may mutate and return the state it is given; the engine never shares a state object between
 * slots and serialises it only between events. A step therefore updates in place rather than copying, which
 * is what keeps the per-event cost and the garbage low (issue 4: 80 000 events/s on one core). A step must
 * still not keep references into its state outside it, nor put one object into two slots' states.
 */
export interface Detector<S> {
  readonly name: string
  /**
   * The slots an event touches. The engine reads the list at once and keeps no reference to it, so a detector
   * may return a shared constant (NO_SLOTS) or a list it reuses on the next call.
   */
  slots(event: AuthEvent): readonly string[]
  /**
   * `peek` reads this detector's state of another slot (a user's or the tenant's learned baseline) without
   * touching it: read-only, and valid only during the call. A step that needs a baseline names the slots that
   * learn it in `slots` for the events that teach it, and peeks at them from the slot that judges.
   */
  step(state: S | undefined, event: AuthEvent, slot: string, peek?: Peek<S>): StepResult<S>
  /** Event time after which the slot can be forgotten. Called after every step: keep it O(1). */
  expiry(state: S): number
}

export function emptyEvidence(): Evidence {
  return { event_ids: [], ips: [], prefixes: [], asns: [], places: [], user_agents: [], times: [], reasons: [] }
}

export function severityFor(score: number, thresholds: { page: number; ticket: number }): Severity {
  return score >= thresholds.page ? 'page' : score >= thresholds.ticket ? 'ticket' : 'info'
}
