import type { Message } from 'kafkajs'
import type { AuthEvent, DlqRecord } from '../../schemas/model.js'
import type { Codecs } from '../shared/avro.js'
import type { TopicNames } from '../shared/kafka.js'
import type { LogFormat, RejectCode } from './formats/types.js'
import type { Line } from './lines.js'
import { dlqExcerpt, scrubSecrets } from './scrub.js'
import type { createNormalizer } from './normalize.js'

export type Normalize = ReturnType<typeof createNormalizer>

export interface LineOutcome {
  events: AuthEvent[]
  reject?: DlqRecord
}

export interface PipelineDeps {
  normalize: Normalize
  now: () => number
}

/** Parse → normalise for one line. Bad input becomes a DLQ record, never an exception. */
export function createLineProcessor(format: LogFormat, deps: PipelineDeps) {
  return function processLine(line: Line, origin: string): LineOutcome {
    const rejectWith = (code: RejectCode, reason: string): LineOutcome => ({
      events: [],
      reject: { code, reason: scrubSecrets(reason), origin, format: format.name, input: dlqExcerpt(line.text), input_bytes: line.bytes, ts: deps.now() },
    })
    if (line.truncated) return rejectWith('LINE_TOO_LONG', `line of ${line.bytes} bytes exceeds the limit`)
    if (line.text.trim() === '') return { events: [] }
    if (line.text.includes('\uFFFD')) return rejectWith('BAD_ENCODING', 'line is not valid UTF-8')
    const parsed = format.parse(line.text)
    if (!parsed.ok) return rejectWith(parsed.code, parsed.reason)
    return { events: parsed.events.map((draft, i) => deps.normalize(draft, line.text, i)) }
  }
}

export interface RoutedBatch {
  batches: { topic: string; messages: Message[] }[]
  counts: { issue: number; revoke: number; validate: number; dlq: number }
}

/**
 * Encodes events to their topic by kind, keyed by subject (so one detector owns a user's events); an
 * event that does not fit the Avro contract becomes a DLQ record instead of failing the batch.
 */
export function createRouter(codecs: Codecs, topics: TopicNames) {
  return function route(events: AuthEvent[], rejects: DlqRecord[]): RoutedBatch {
    const byKind = { ISSUE: [] as Message[], REVOKE: [] as Message[], VALIDATE: [] as Message[] }
    const dlq: Message[] = []
    const headers = { 'sw-schema': 'auth-event/1' }
    for (const event of events) {
      let value: Buffer
      try {
        value = codecs.authEvent.encode(event)
      } catch {
        rejects.push({
          code: 'BAD_FIELD', reason: codecs.authEvent.check(event) ?? 'does not fit the AuthEvent schema', origin: event.event_id,
          format: event.source?.format ?? null, input: dlqExcerpt(JSON.stringify(event)), input_bytes: 0, ts: event.ingest_ts,
        })
        continue
      }
      // No record timestamp of the event's time: the topics keep the broker's (kafka.ts topicSpecs).
      byKind[event.kind].push({ key: partitionKey(event), value, headers })
    }
    for (const record of rejects) dlq.push({ key: null, value: codecs.dlq.encode(record), headers: { 'sw-schema': 'dlq-record/1' } })
    return {
      batches: [
        { topic: topics.revoke, messages: byKind.REVOKE },
        { topic: topics.issue, messages: byKind.ISSUE },
        { topic: topics.validate, messages: byKind.VALIDATE },
        { topic: topics.dlq, messages: dlq },
      ],
      counts: { issue: byKind.ISSUE.length, revoke: byKind.REVOKE.length, validate: byKind.VALIDATE.length, dlq: dlq.length },
    }
  }
}

export function partitionKey(event: AuthEvent): string {
  return event.subject || event.session_id || event.token_fp || event.event_id
}
