import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { SessionwatchError } from '../shared/errors.js'
import { addCounts, emptyCounts, type IngestCounts, type Ingestor } from './ingest.js'
import { followLines } from './follow.js'
import { openInput, readLines, type Line } from './lines.js'

export interface ReplayOptions {
  format: string
  maxLineBytes: number
  batchLines: number
  onProgress?: (counts: IngestCounts, file: string) => void
}

/** Expands directories (sorted, one level deep) into their files, so a log folder replays in name order. */
export function expandInputs(paths: string[]): string[] {
  return paths.flatMap((p) => {
    let stat
    try {
      stat = statSync(p)
    } catch (error) {
      throw new SessionwatchError('INPUT_UNREADABLE', `cannot read ${p}: ${(error as Error).message}`, { cause: error })
    }
    if (!stat.isDirectory()) return [p]
    return readdirSync(p).sort().map((f) => join(p, f)).filter((f) => statSync(f).isFile())
  })
}

/** Sends files through the collector pipeline to Kafka, batch by batch, each batch acknowledged before the next. */
export async function replayFiles(ingestor: Ingestor, files: string[], options: ReplayOptions): Promise<IngestCounts> {
  ingestor.processorFor(options.format)
  const total = emptyCounts()
  for (const file of expandInputs(files)) {
    let batch: { line: Line; origin: string }[] = []
    const flush = async () => {
      addCounts(total, await ingestor.ingest(options.format, batch))
      batch = []
      options.onProgress?.(total, file)
    }
    for await (const line of readLines(openInput(file), options.maxLineBytes)) {
      batch.push({ line, origin: `${file}:${line.number}` })
      if (batch.length >= options.batchLines) await flush()
    }
    if (batch.length > 0) await flush()
  }
  return total
}

export interface FollowReplayOptions extends ReplayOptions {
  signal: AbortSignal
  fromEnd: boolean
  /** A partial batch is sent after this long, so a quiet log still arrives within a second or so. */
  flushMs: number
}

/** Sends a growing file through the collector until the signal fires (`sessionwatch replay --follow`). */
export async function followFile(ingestor: Ingestor, file: string, options: FollowReplayOptions): Promise<IngestCounts> {
  ingestor.processorFor(options.format)
  const total = emptyCounts()
  const lines = followLines(file, { maxLineBytes: options.maxLineBytes, pollMs: 250, signal: options.signal, fromEnd: options.fromEnd })
  let batch: { line: Line; origin: string }[] = []
  let next = lines.next()
  for (;;) {
    const timer = new Promise<'flush'>((resolve) => setTimeout(() => resolve('flush'), options.flushMs).unref())
    const result = await Promise.race([next, timer])
    if (result !== 'flush') {
      if (result.done) break
      batch.push({ line: result.value, origin: `${file}:${result.value.number}` })
      next = lines.next()
    }
    if (batch.length > 0 && (result === 'flush' || batch.length >= options.batchLines)) {
      addCounts(total, await ingestor.ingest(options.format, batch))
      batch = []
      options.onProgress?.(total, file)
    }
  }
  if (batch.length > 0) addCounts(total, await ingestor.ingest(options.format, batch))
  return total
}
