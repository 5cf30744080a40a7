import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { SessionwatchError } from '../shared/errors.js'
import { addCounts, emptyCounts, type IngestCounts, type Ingestor } from './ingest.js'
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
