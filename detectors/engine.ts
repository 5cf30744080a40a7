// Runs pure detectors over a stream of AuthEvents, keeping one compact state per (detector, slot),
// evicting slots whose event time has passed, and turning findings into Detections with ids that do
// not change when the same history is replayed.
import { createHash } from 'node:crypto'
import type { AuthEvent, Detection } from '../schemas/model.js'
import type { Detector } from './types.js'

export interface EngineConfig {
  /** Events this far behind the newest event time still count; eviction waits for them. */
  latenessMs: number
  /** Slots are swept at most this often, in event time. */
  sweepEveryMs: number
}

interface Slot {
  state: unknown
  expiry: number
  /** The wheel bucket the key is filed under. */
  bucket: number
}

export interface StateEntry {
  key: string
  state: unknown | undefined
}

export interface DetectionEngine {
  /** Feeds one event; `detectedTs` is the detection time to stamp (event time offline, wall time live). */
  process(event: AuthEvent, detectedTs?: number): Detection[]
  /** Slots changed since the last call (undefined state = forgotten), for checkpointing. */
  takeChanges(): StateEntry[]
  restore(entries: Iterable<StateEntry>): void
  readonly size: number
  readonly watermark: number
}

export function createDetectionEngine(detectors: Detector<unknown>[], config: EngineConfig): DetectionEngine {
  const slots = new Map<string, Slot>()
  const changed = new Set<string>()
  // Expiry wheel: slot keys filed under the sweep bucket of their expiry. A key whose expiry moved is filed
  // again and its old entry is skipped when swept, so a sweep touches only slots that may be due, not all.
  const wheel = new Map<number, string[]>()
  const bucketOf = (t: number) => Math.floor(t / config.sweepEveryMs)
  let maxTs = 0
  let sweptBucket = Number.NEGATIVE_INFINITY

  function file(key: string, slot: Slot) {
    const bucket = bucketOf(slot.expiry)
    if (slot.bucket === bucket) return
    slot.bucket = bucket
    const list = wheel.get(bucket)
    if (list) list.push(key)
    else wheel.set(bucket, [key])
  }

  function put(key: string, state: unknown, detector: Detector<unknown>) {
    const existing = slots.get(key)
    const slot: Slot = { state, expiry: detector.expiry(state), bucket: existing?.bucket ?? Number.NaN }
    slots.set(key, slot)
    file(key, slot)
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
      const keys = wheel.get(bucket)
      if (!keys) continue
      wheel.delete(bucket)
      for (const key of keys) {
        const slot = slots.get(key)
        if (!slot || slot.bucket !== bucket) continue
        if (slot.expiry < horizon) {
          slots.delete(key)
          changed.add(key)
        } else {
          slot.bucket = Number.NaN
          file(key, slot)
        }
      }
    }
    sweptBucket = Math.max(sweptBucket, last)
  }

  return {
    get size() {
      return slots.size
    },
    get watermark() {
      return maxTs - config.latenessMs
    },
    process(event, detectedTs) {
      if (event.ts > maxTs) {
        maxTs = event.ts
        if (bucketOf(maxTs - config.latenessMs) - 1 > sweptBucket) sweep(maxTs)
      }
      const detections: Detection[] = []
      for (const detector of detectors) {
        for (const slotName of detector.slots(event)) {
          const key = detector.name + '|' + slotName
          const slot = slots.get(key)
          const { state, findings } = detector.step(slot?.state, event, slotName)
          if (state !== undefined) {
            put(key, state, detector)
            changed.add(key)
          } else if (slot) {
            // Only a slot that existed needs a deletion in the checkpoint.
            slots.delete(key)
            changed.add(key)
          }
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
            })
          }
        }
      }
      return detections
    },
    takeChanges() {
      const out: StateEntry[] = []
      for (const key of changed) out.push({ key, state: slots.get(key)?.state })
      changed.clear()
      return out
    },
    restore(entries) {
      const byName = new Map(detectors.map((d) => [d.name, d]))
      for (const { key, state } of entries) {
        const detector = byName.get(key.slice(0, key.indexOf('|')))
        if (!detector) continue
        if (state === undefined) slots.delete(key)
        else put(key, state, detector)
      }
    },
  }
}

/** detector + subject + token or session + incident window start: a replay never pages twice. */
export function detectionId(detector: string, subject: string | null | undefined, slot: string, incidentTs: number): string {
  return 'det_' + createHash('sha256').update([detector, subject ?? '', slot, String(incidentTs)].join('\u0000')).digest('hex').slice(0, 32)
}
