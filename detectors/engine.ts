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
  let maxTs = 0
  let lastSweep = 0

  function sweep(now: number) {
    const horizon = now - config.latenessMs
    for (const [key, slot] of slots) {
      if (slot.expiry < horizon) {
        slots.delete(key)
        changed.add(key)
      }
    }
    lastSweep = now
  }

  return {
    get size() {
      return slots.size
    },
    get watermark() {
      return maxTs - config.latenessMs
    },
    process(event, detectedTs) {
      if (event.ts > maxTs) maxTs = event.ts
      if (maxTs - lastSweep >= config.sweepEveryMs) sweep(maxTs)
      const detections: Detection[] = []
      for (const detector of detectors) {
        for (const slotName of detector.slots(event)) {
          const key = detector.name + '|' + slotName
          const slot = slots.get(key)
          const { state, findings } = detector.step(slot?.state, event, slotName)
          changed.add(key)
          if (state === undefined) slots.delete(key)
          else slots.set(key, { state, expiry: detector.expiry(state) })
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
        else slots.set(key, { state, expiry: detector.expiry(state) })
      }
    },
  }
}

/** detector + subject + token or session + incident window start: a replay never pages twice. */
export function detectionId(detector: string, subject: string | null | undefined, slot: string, incidentTs: number): string {
  return 'det_' + createHash('sha256').update([detector, subject ?? '', slot, String(incidentTs)].join('\u0000')).digest('hex').slice(0, 32)
}
