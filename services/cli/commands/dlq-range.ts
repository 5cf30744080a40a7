// Reading a dead-letter topic between offsets, for `sessionwatch dlq`. Which records were already replayed is the
// committed position of a replay consumer group that never has members: it is set with the admin API after each
// acknowledged step, so an interrupted replay resumes where it stopped, and records a replay sends back to the DLQ
// (appended after the end it started from) wait for the next replay instead of looping.
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs'
import { createConsumer } from '../../shared/kafka.js'

export interface DlqRecordRead {
  partition: number
  offset: bigint
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, string | undefined>
}

export interface Span {
  partition: number
  start: bigint
  end: bigint
}

function headersOf(headers: IHeaders | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value
    out[name] = first === undefined ? undefined : first.toString()
  }
  return out
}

/**
 * Where to read: from the replay group's position (or the start of the log when it has none), or from the first
 * record at or after `sinceMs`; up to the end as it is now.
 */
export async function planSpans(kafka: Kafka, topic: string, groupId: string, sinceMs?: number): Promise<{ spans: Span[]; position: Map<number, bigint> }> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const ends = await admin.fetchTopicOffsets(topic)
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] })
    const position = new Map<number, bigint>()
    for (const p of committed[0]?.partitions ?? []) if (p.offset !== '-1') position.set(p.partition, BigInt(p.offset))
    const byTime = sinceMs === undefined ? undefined : new Map((await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs)).map((p) => [p.partition, BigInt(p.offset)]))
    const spans = ends.map((e) => {
      const low = BigInt(e.low)
      const end = BigInt(e.high)
      // An offset of -1 from the time lookup: no record at or after that time.
      const fromTime = byTime?.get(e.partition)
      const start = fromTime !== undefined ? (fromTime < 0n ? end : fromTime) : (position.get(e.partition) ?? low)
      return { partition: e.partition, start: start < low ? low : start, end }
    })
    return { spans: spans.filter((s) => s.start < s.end), position }
  } finally {
    await admin.disconnect()
  }
}

/**
 * Hands the records of the spans to `onBatch`, one partition batch at a time and in offset order; `onBatch`
 * returns how many of the records it consumed (fewer stops the read: a limit was reached).
 */
export async function readSpans(kafka: Kafka, topic: string, all: Span[], onBatch: (records: DlqRecordRead[]) => Promise<number>): Promise<void> {
  // An empty span gets no batch to end it: leave it out.
  const spans = all.filter((s) => s.start < s.end)
  if (spans.length === 0) return
  const consumer = createConsumer(kafka, `dlq-read-${topic}-${process.pid}-${Date.now()}`)
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      const wanted = new Map(spans.map((s) => [s.partition, s]))
      let stopped = false
      consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const span = wanted.get(batch.partition)
          if (!span || stopped) return
          const records = batch.messages
            .filter((m: KafkaMessage) => BigInt(m.offset) >= span.start && BigInt(m.offset) < span.end)
            .map((m) => ({ partition: batch.partition, offset: BigInt(m.offset), timestamp: Number(m.timestamp), key: m.key, value: m.value, headers: headersOf(m.headers) }))
          const used = records.length > 0 ? await onBatch(records) : 0
          const last = batch.messages.at(-1)
          if (used < records.length) stopped = true
          else if (last && BigInt(last.offset) + 1n >= span.end) wanted.delete(batch.partition)
          if (stopped || wanted.size === 0) resolve()
        },
      }).catch(reject)
      for (const s of spans) consumer.seek({ topic, partition: s.partition, offset: s.start.toString() })
    })
  } finally {
    await consumer.disconnect()
  }
}

/** Moves the replay group's position (it has no members, so the admin API may set it). */
export async function savePosition(kafka: Kafka, topic: string, groupId: string, offsets: Map<number, bigint>): Promise<void> {
  if (offsets.size === 0) return
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.setOffsets({ groupId, topic, partitions: [...offsets].map(([partition, offset]) => ({ partition, offset: offset.toString() })) })
  } finally {
    await admin.disconnect()
  }
}

/** `2026-11-20T10:00:00Z`, or a duration back from now: `90s`, `30m`, `12h`, `7d`. */
export function parseSince(text: string, nowMs: number): number | undefined {
  const relative = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim())
  if (relative) return nowMs - Number(relative[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd']
  const at = Date.parse(text)
  return Number.isFinite(at) ? at : undefined
}
