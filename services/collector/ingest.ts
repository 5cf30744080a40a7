import type { Producer } from 'kafkajs'
import type { AuthEvent, DlqRecord } from '../../schemas/model.js'
import type { Codecs } from '../shared/avro.js'
import { sendAll, type TopicNames } from '../shared/kafka.js'
import type { FormatRegistry } from './formats/index.js'
import type { Line } from './lines.js'
import { createLineProcessor, createRouter, type Normalize } from './pipeline.js'
import { UsageError } from '../shared/errors.js'
import { reject } from './formats/types.js'

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
  const known = () => [...deps.formats.keys()].join(', ')
  /**
   * A user naming an unknown format gets an error at once; records that name one (a raw topic's sw-format
   * header) go to the DLQ with UNKNOWN_FORMAT instead, so one bad header neither stops the collector nor is lost.
   */
  function processorFor(name: string, unknown: 'throw' | 'dlq' = 'throw') {
    let p = processors.get(name)
    if (!p) {
      let format = deps.formats.get(name)
      if (!format && unknown === 'throw') throw new UsageError(`unknown format '${name}' (known: ${known()})`)
      format ??= { name, description: 'unknown', parse: () => reject('UNKNOWN_FORMAT', `unknown format '${name.slice(0, 64)}' (known: ${known()})`) }
      p = createLineProcessor(format, { normalize: deps.normalize, now: deps.now })
      if (deps.formats.has(name)) processors.set(name, p)
    }
    return p
  }
  return {
    processorFor,
    async ingest(formatName: string, lines: { line: Line; origin: string }[], unknown: 'throw' | 'dlq' = 'throw'): Promise<IngestCounts> {
      const processLine = processorFor(formatName, unknown)
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
