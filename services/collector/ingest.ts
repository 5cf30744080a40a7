import type { Producer } from 'kafkajs'
import type { AuthEvent, DlqRecord } from '../../schemas/model.js'
import type { Codecs } from '../shared/avro.js'
import { sendAll, type TopicNames } from '../shared/kafka.js'
import type { FormatRegistry } from './formats/index.js'
import type { Line } from './lines.js'
import { createLineProcessor, createRouter, type Normalize } from './pipeline.js'
import { UsageError } from '../shared/errors.js'

export interface IngestCounts {
  lines: number
  issue: number
  revoke: number
  validate: number
  dlq: number
  skipped: number
}

export function emptyCounts(): IngestCounts {
  return { lines: 0, issue: 0, revoke: 0, validate: 0, dlq: 0, skipped: 0 }
}

export function addCounts(into: IngestCounts, more: IngestCounts): void {
  for (const k of Object.keys(into) as (keyof IngestCounts)[]) into[k] += more[k]
}

export interface IngestorDeps {
  formats: FormatRegistry
  normalize: Normalize
  codecs: Codecs
  topics: TopicNames
  producer: Producer
  now: () => number
}

/** Lines in, acknowledged Kafka records out: every line ends as events, a DLQ record, or a skip. */
export function createIngestor(deps: IngestorDeps) {
  const route = createRouter(deps.codecs, deps.topics)
  const processors = new Map<string, ReturnType<typeof createLineProcessor>>()
  function processorFor(name: string) {
    let p = processors.get(name)
    if (!p) {
      const format = deps.formats.get(name)
      if (!format) throw new UsageError(`unknown format '${name}' (known: ${[...deps.formats.keys()].join(', ')})`)
      p = createLineProcessor(format, { normalize: deps.normalize, now: deps.now })
      processors.set(name, p)
    }
    return p
  }
  return {
    processorFor,
    async ingest(formatName: string, lines: { line: Line; origin: string }[]): Promise<IngestCounts> {
      const processLine = processorFor(formatName)
      const events: AuthEvent[] = []
      const rejects: DlqRecord[] = []
      let skipped = 0
      for (const { line, origin } of lines) {
        const outcome = processLine(line, origin)
        if (outcome.reject) rejects.push(outcome.reject)
        else if (outcome.events.length === 0) skipped++
        else events.push(...outcome.events)
      }
      const routed = route(events, rejects)
      await sendAll(deps.producer, routed.batches)
      return { lines: lines.length, skipped, ...routed.counts }
    },
  }
}

export type Ingestor = ReturnType<typeof createIngestor>
