// Runs deterministic detectors over a stream of AuthEvents, keeping one compact state per (detector, slot),
// evicting slots whose event time has passed, and turning findings into Detections with ids that do
// not change when the same history is replayed.
import { createHash } from 'node:crypto'
import type { AuthEvent, Detection } from '../schemas/model.js'
import type { Detector, Peek } from './types.js'

export interface EngineConfig {
  /** Events this far behind the newest event time still count; eviction waits for them. */
  latenessMs: number
  /** Slots are swept at most this often, in event time. */
  sweepEveryMs: number
  /** Record changed slots for takeChanges (default true); the backtest, which never checkpoints, turns it off. */
  trackChanges?: boolean
}

export interface StateEntry {
  key: string
  state: unknown | undefined
}

export interface DetectionEngine {
  /** Feeds one event; `detectedTs` is the detection time to stamp (event time offline, wall time live). */
  process(event: AuthEvent, detectedTs?: number): readonly Detection[]
  /** Slots changed since the last call (undefined state = forgotten), for checkpointing. */
  takeChanges(): StateEntry[]
  restore(entries: Iterable<StateEntry>): void
  readonly size: number
  readonly watermark: number
}

/** What process returns for the (usual) event that detects nothing: shared, so a quiet event allocates no list. */
const NO_DETECTIONS: readonly Detection[] = Object.freeze([])

/**
 * Every detector's state for one slot name ('s:<session>', 'u:<subject>', …), by detector index. Most
 * detectors key an event by the same session, so one map lookup per distinct name serves them all, and their
 * states sit side by side: a lookup by a freshly built string and each object first touched are cache misses,
 * and they are most of the cost per event.
 */
interface Group {
  name: string
  /** undefined where that detector keeps no state for the name. */
  states: unknown[]
  expiry: number[]
  /** The wheel bucket each state is filed under (NaN: not filed). */
  bucket: number[]
  live: number
  /** Detectors whose state changed since takeChanges, as bits (the group is in the change log when non-zero). */
  dirty: number
}

export function createDetectionEngine(detectors: Detector<unknown>[], config: EngineConfig): DetectionEngine {
  if (detectors.length > 30) throw new RangeError('at most 30 detectors (change bits are a 32-bit mask)')
  const groups = new Map<string, Group>()
  let size = 0
  const track = config.trackChanges ?? true
  // Groups with changed states since takeChanges, in the order they first changed.
  let changed: Group[] = []
  // Expiry wheel: (group, detector) pairs filed under the sweep bucket of their expiry. A state whose expiry
  // moved is filed again and its old entry is skipped when swept, so a sweep touches only states that may be
  // due, not all.
  const wheel = new Map<number, { groups: Group[]; detectors: number[] }>()
  // One read-only view per detector of its states in other slots (Detector.step's `peek`).
  const peekers: Peek<unknown>[] = detectors.map((_, d) => (name: string) => groups.get(name)?.states[d] as Readonly<unknown> | undefined)
  const bucketOf = (t: number) => Math.floor(t / config.sweepEveryMs)
  let maxTs = 0
  let sweptBucket = Number.NEGATIVE_INFINITY
  // The groups looked up for the current event, by name: detectors name the same slots.
  const seenNames: string[] = []
  const seenGroups: (Group | undefined)[] = []
  let seen = 0

  function file(group: Group, d: number) {
    const bucket = bucketOf(group.expiry[d]!)
    if (group.bucket[d] === bucket) return
    group.bucket[d] = bucket
    const due = wheel.get(bucket)
    if (due) {
      due.groups.push(group)
      due.detectors.push(d)
    } else {
      wheel.set(bucket, { groups: [group], detectors: [d] })
    }
  }

  function mark(group: Group, d: number) {
    if (group.dirty === 0) changed.push(group)
    group.dirty |= 1 << d
  }

  /**
   * Stores a state, creating the group as needed; returns the group (for the per-event lookup). `marked`
   * records the change for takeChanges (a restore writes nothing back).
   */
  function put(group: Group | undefined, name: string, d: number, state: unknown, marked: boolean): Group {
    if (!group) {
      const n = detectors.length
      group = { name, states: new Array<unknown>(n).fill(undefined), expiry: new Array<number>(n).fill(0), bucket: new Array<number>(n).fill(Number.NaN), live: 0, dirty: 0 }
      groups.set(name, group)
    }
    if (group.states[d] === undefined) {
      group.live++
      size++
    }
    group.states[d] = state
    group.expiry[d] = detectors[d]!.expiry(state)
    file(group, d)
    if (marked) mark(group, d)
    return group
  }

  /** Forgets a state; returns the group, or undefined when that was its last state. */
  function drop(group: Group, d: number, marked: boolean): Group | undefined {
    group.states[d] = undefined
    group.bucket[d] = Number.NaN
    size--
    if (marked) mark(group, d)
    if (--group.live > 0) return group
    groups.delete(group.name)
    return undefined
  }

  function sweep(now: number) {
    const horizon = now - config.latenessMs
    const last = bucketOf(horizon) - 1
    if (!Number.isFinite(sweptBucket)) {
      let first = last + 1
      for (const bucket of wheel.keys()) first = Math.min(first, bucket)
      sweptBucket = first - 1
    }
    for (let bucket = sweptBucket + 1; bucket <= last; bucket++) {
      const due = wheel.get(bucket)
      if (!due) continue
      wheel.delete(bucket)
      for (let i = 0; i < due.groups.length; i++) {
        const group = due.groups[i]!
        const d = due.detectors[i]!
        // Filed again elsewhere, or forgotten (a forgotten state is unfiled).
        if (group.bucket[d] !== bucket) continue
        if (group.expiry[d]! < horizon) {
          drop(group, d, track)
        } else {
          group.bucket[d] = Number.NaN
          file(group, d)
        }
      }
    }
    sweptBucket = Math.max(sweptBucket, last)
  }

  return {
    get size() {
      return size
    },
    get watermark() {
      return maxTs - config.latenessMs
    },
    process(event, detectedTs) {
      if (event.ts > maxTs) {
        maxTs = event.ts
        if (bucketOf(maxTs - config.latenessMs) - 1 > sweptBucket) sweep(maxTs)
      }
      let detections = NO_DETECTIONS as Detection[]
      seen = 0
      for (let d = 0; d < detectors.length; d++) {
        const detector = detectors[d]!
        const names = detector.slots(event)
        for (let i = 0; i < names.length; i++) {
          const slotName = names[i]!
          let at = 0
          while (at < seen && seenNames[at] !== slotName) at++
          let group: Group | undefined
          if (at < seen) group = seenGroups[at]
          else {
            group = groups.get(slotName)
            seenNames[at] = slotName
            seen++
          }
          const before = group?.states[d]
          const { state, findings } = detector.step(before, event, slotName, peekers[d]!)
          if (state !== undefined) group = put(group, slotName, d, state, track)
          // Only a slot that existed needs a deletion in the checkpoint.
          else if (before !== undefined) group = drop(group!, d, track)
          seenGroups[at] = group
          if (findings.length === 0) continue
          if (detections === NO_DETECTIONS) detections = []
          for (const f of findings) {
            detections.push({
              detection_id: detectionId(f.detector, f.subject, f.key, f.incident_ts),
              detector: f.detector,
              severity: f.severity,
              score: f.score,
              confirmed: f.confirmed,
              subject: f.subject ?? null,
              session_id: f.session_id ?? null,
              token_fp: f.token_fp ?? null,
              summary: f.summary,
              evidence: f.evidence,
              first_malicious_ts: f.first_malicious_ts,
              detected_ts: detectedTs ?? event.ts,
              // What the triggering request asked for: the alert policy's privileged routes match it.
              route: event.route ?? null,
            })
          }
        }
      }
      return detections
    },
    takeChanges() {
      // One entry per key with its latest state; a slot forgotten and made again since the last call (a new
      // group of the same name) appears once.
      const out = new Map<string, StateEntry>()
      for (const group of changed) {
        const current = groups.get(group.name)
        for (let d = 0; d < detectors.length; d++) {
          if ((group.dirty & (1 << d)) === 0) continue
          const key = detectors[d]!.name + '|' + group.name
          const state = current?.states[d]
          const entry = out.get(key)
          if (!entry) out.set(key, { key, state })
          else entry.state = state
        }
        group.dirty = 0
      }
      changed = []
      return [...out.values()]
    },
    restore(entries) {
      const byName = new Map(detectors.map((d, i) => [d.name, i]))
      for (const { key, state } of entries) {
        const bar = key.indexOf('|')
        const d = byName.get(key.slice(0, bar))
        if (d === undefined) continue
        const name = key.slice(bar + 1)
        const group = groups.get(name)
        if (state !== undefined) put(group, name, d, state, false)
        else if (group && group.states[d] !== undefined) drop(group, d, false)
      }
    },
  }
}

/** detector + subject + token or session + incident window start: a replay never pages twice. */
export function detectionId(detector: string, subject: string | null | undefined, slot: string, incidentTs: number): string {
  return 'det_' + createHash('sha256').update([detector, subject ?? '', slot, String(incidentTs)].join('\u0000')).digest('hex').slice(0, 32)
}
