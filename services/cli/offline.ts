// The offline half of sessionwatch: the same parsers, normaliser and detectors as the pipeline, over files,
// with no Kafka and no ClickHouse (shared/DESIGN.md "Offline use of the same code").
import type { AuthEvent, Detection, DetectionFeedback } from '../../schemas/model.js'
import { withCorroboration } from '../../detectors/corroboration.js'
import { createDetectionEngine } from '../../detectors/engine.js'
import { createFeedbackBook, withFeedback } from '../../detectors/feedback.js'
import { createDetectors } from '../../detectors/index.js'
import type { FormatRegistry } from '../collector/formats/index.js'
import { openInput, readLines } from '../collector/lines.js'
import type { Normalize } from '../collector/pipeline.js'
import { createLineProcessor } from '../collector/pipeline.js'
import { expandInputs } from '../collector/replay.js'
import { ensureFrozenDir, type Config } from '../shared/config.js'
import { UsageError } from '../shared/errors.js'
import { parseFeedbackJson } from '../shared/feedback-json.js'
import type { Readable } from 'node:stream'

export interface OfflineDeps {
  formats: FormatRegistry
  normalize: Normalize
  now: () => number
  maxLineBytes: number
}

export interface ParseStats {
  lines: number
  events: number
  rejected: number
  skipped: number
  rejectsByCode: Record<string, number>
}

/** Streams events out of files (or stdin when none are given), counting what could not be read. */
export async function parseInputs(deps: OfflineDeps, format: string, files: string[], stdin: Readable, onEvent: (e: AuthEvent) => void, onReject?: (code: string, reason: string, origin: string) => void): Promise<ParseStats> {
  const spec = deps.formats.get(format)
  if (!spec) throw new UsageError(`unknown format '${format}' (known: ${[...deps.formats.keys()].join(', ')})`)
  const processLine = createLineProcessor(spec, { normalize: deps.normalize, now: deps.now })
  const stats: ParseStats = { lines: 0, events: 0, rejected: 0, skipped: 0, rejectsByCode: {} }
  const inputs: { name: string; stream: () => Readable }[] = files.length === 0
    ? [{ name: 'stdin', stream: () => stdin }]
    : expandInputs(files).map((f) => ({ name: f, stream: () => openInput(f) }))
  for (const input of inputs) {
    for await (const line of readLines(input.stream(), deps.maxLineBytes)) {
      stats.lines++
      const origin = `${input.name}:${line.number}`
      const outcome = processLine(line, origin)
      if (outcome.reject) {
        stats.rejected++
        stats.rejectsByCode[outcome.reject.code] = (stats.rejectsByCode[outcome.reject.code] ?? 0) + 1
        onReject?.(outcome.reject.code, outcome.reject.reason, origin)
      } else if (outcome.events.length === 0) stats.skipped++
      for (const event of outcome.events) {
        stats.events++
        onEvent(event)
      }
    }
  }
  return stats
}

/**
 * Runs the detectors over events in event-time order. detected_ts is the event time of the event that
 * triggered each detection, so time-to-detect can be read off history. With analyst verdicts (`feedback`), the
 * benign patterns they teach lower detections as in the pipeline — over all of history, also before a verdict
 * was given, so an analyst sees what it would have changed — until each pattern's expiry.
 */
export function runBacktest(events: AuthEvent[], config: Config['detector'], onDetection: (d: Detection) => void, feedback: readonly DetectionFeedback[] = [], onLowered?: (d: Detection) => void): number {
  // Stable sort: events with equal times keep their input order.
  events.sort((a, b) => a.ts - b.ts)
  ensureFrozenDir(config)
  const book = createFeedbackBook(config.feedback)
  for (const record of feedback) book.add(record)
  // No checkpoints offline: the engine need not record which slots changed. Feedback is judged on both sides of
  // the corroboration, as in the detector service.
  const engine = withFeedback(withCorroboration(withFeedback(
    createDetectionEngine(createDetectors({ windowMs: config.windowMs, ...config.detectors }), { latenessMs: config.latenessMs, sweepEveryMs: 60_000, trackChanges: false, hotGroups: config.hotGroups, frozenDir: config.frozenDir }),
    book, onLowered)), book, onLowered)
  let count = 0
  try {
    for (const event of events) {
      for (const detection of engine.process(event)) {
        count++
        onDetection(detection)
      }
    }
  } finally {
    engine.close()
  }
  return count
}

/** Analyst verdicts from an NDJSON file in the api's JSON form (GET /v1/feedback); a bad line is a usage error naming it. */
export async function readFeedbackFile(file: string): Promise<DetectionFeedback[]> {
  const records: DetectionFeedback[] = []
  try {
    for await (const line of readLines(openInput(file), 1024 * 1024)) {
      const origin = `${file}:${line.number}`
      if (line.truncated) throw new UsageError(`--feedback ${origin}: line longer than 1 MiB`)
      if (line.text.trim() === '') continue
      let value: unknown
      try {
        value = JSON.parse(line.text)
      } catch (error) {
        throw new UsageError(`--feedback ${origin}: not JSON: ${(error as Error).message}`)
      }
      const parsed = parseFeedbackJson(value)
      if (!parsed.ok) throw new UsageError(`--feedback ${origin}: ${parsed.problem}`)
      records.push(parsed.record)
    }
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`--feedback: cannot read ${file}: ${(error as Error).message}`)
  }
  return records
}
