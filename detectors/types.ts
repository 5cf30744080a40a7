import type { AuthEvent, Evidence, Severity } from '../schemas/model.js'
import type { Use } from './signals.js'

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
   * `context` is the engine's record of the event's credential (optional to use: detectors written before it
   * ignore it, and tests may leave it out). `peek` reads this detector's state of another slot (a user's or the
   * tenant's learned baseline) without touching it: read-only, and valid only during the call. A step that needs
   * a baseline names the slots that learn it in `slots` for the events that teach it, and peeks at them from the
   * slot that judges.
   */
  step(state: S | undefined, event: AuthEvent, slot: string, context?: CredentialContext, peek?: Peek<S>): StepResult<S>
  /** Event time after which the slot can be forgotten. Called after every step: keep it O(1). */
  expiry(state: S): number
}

/**
 * What the engine knows about the credential an event presents — its session, else its token
 * (`credentialKey`) — from that credential's earlier uses: issuances and presentations that were not refused
 * (`isUse` in credential-book.ts). The engine keeps one compact record per credential for all detectors, so a
 * detector need not copy the issuance context into its own state: it can keep nothing for a credential that
 * behaves like its first use, and build state only when it deviates.
 *
 * It describes the history *before* the event being stepped (the engine records the event after every
 * detector has stepped it), whatever slot the detector keys the event by. It is a view valid during the step
 * only: read values from it, never keep the object. `first()` and `last()` build a fresh Use on each call.
 * With no earlier use, `uses` is 0 and `first()`/`last()` return null. Token identity: a token's `jti` key
 * when it has one, else 't:' + its fingerprint (`tokenKeyOf`).
 */
export interface CredentialContext {
  /** 's:<session_id>' or 't:<token_fp>'; '' when the event names neither. */
  readonly key: string
  readonly subject: string | null
  /** Whether `subject` is the record's subject (null: it has none), compared in place. */
  hasSubject(subject: string | null | undefined): boolean
  /** The first token fingerprint seen for the credential. */
  readonly tokenFp: string | null
  /** The first token identity seen (`tokenKeyOf`: jti, else fingerprint). */
  readonly token: string | null
  /** Whether `tokenKeyOf(event)` is `token`, compared without building either key. */
  isFirstToken(event: AuthEvent): boolean
  /** token_kind and client_id of the first event seen: with the token, the lineage of the first credential. */
  readonly tokenKind: string | null
  readonly clientId: string | null
  /** Uses so far: issuances and accepted presentations. */
  readonly uses: number
  /** CHANGED_* bits (credential-book.ts): what some later use changed against the first. */
  readonly changed: number
  /** An issuance (ISSUE) of the credential was seen. */
  readonly issued: boolean
  readonly firstTs: number
  /** Time of the latest accepted presentation (NaN: none yet). */
  readonly lastTs: number
  /** Time of the latest use of any kind. */
  readonly seenTs: number
  /**
   * Time of the latest locatable use at the first use's coordinates (NaN: none); while `changed` lacks
   * CHANGED_LOCATION, every locatable use was there.
   */
  readonly stayedUntil: number
  /** Parts of first() read without building the use (NaN: unknown coordinate; flags 0 with no record). */
  readonly firstNetwork: string | null
  readonly firstClient: string | null
  readonly firstFlags: number
  readonly firstLat: number
  readonly firstLon: number
  /** The earliest use by event time: an issuance or an accepted presentation (the issuance context when seen). */
  first(): RecordedUse | null
  /** The latest accepted presentation (VALIDATE) by event time; null when none yet. */
  last(): RecordedUse | null
  /**
   * What the latest accepted presentation (`last()`) presented, to whom, and how it was judged; null when there
   * is none yet. A fresh object on each call.
   */
  lastPresentation(): Presentation | null
  /**
   * Whether `event`, a presentation, is like the latest accepted one in all a Presentation says and in its
   * network (signals.ts name): compared in place. False when there is none.
   */
  likeLastPresentation(event: AuthEvent): boolean
  /**
   * The record of another credential (by credentialKey), read-only, or null when there is none. The view is
   * valid until the next call of `other` (of any view) and during the step only; it has no event facts.
   */
  other(key: string): CredentialContext | null
  /**
   * The current event's network, client, place (signals.ts names), user agent and address prefix, computed once
   * per event for all, each as one instance shared by every holder of the same value: a detector keeping one
   * keeps no copy (UseReader.useOf with the context builds its Use of them).
   */
  readonly eventNetwork: string | null
  readonly eventClient: string | null
  readonly eventPlace: string | null
  readonly eventUserAgent: string | null
  readonly eventPrefix: string | null
}

/** The facts of an accepted presentation the credential record keeps beside its use (CredentialContext.last). */
export interface Presentation {
  validator: string | null
  token_fp: string | null
  jti: string | null
  token_kind: string | null
  client_id: string | null
  issued_at: number | null
  /** result was 'OK' (the record also counts presentations with no result as accepted). */
  ok: boolean
  /** action was 'introspect': the validator asked the IdP. */
  introspected: boolean
  /** The presentation named its subject. */
  named: boolean
}

/** A use as the credential record keeps it: a signals.ts Use and what detectors judge addresses by. */
export interface RecordedUse extends Use {
  ja4: string | null
  lat: number | null
  lon: number | null
  accuracy_km: number | null
  /** USE_* bits (credential-book.ts): issuance, anonymised, hosting, mobile, corporate, locatable, automation, prefixed. */
  flags: number
}

export function emptyEvidence(): Evidence {
  return { event_ids: [], ips: [], prefixes: [], asns: [], places: [], user_agents: [], times: [], reasons: [] }
}

export function severityFor(score: number, thresholds: { page: number; ticket: number }): Severity {
  return score >= thresholds.page ? 'page' : score >= thresholds.ticket ? 'ticket' : 'info'
}
