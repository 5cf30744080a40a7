import type { Consumer, Kafka } from 'kafkajs'
import { createConsumer } from './kafka.js'
import { retry } from './retry.js'

/**
 * Reads a topic from the beginning up to its current end and returns the number of records read (used to
 * restore compacted state before the live consumer starts). A throwaway group that never commits. With
 * `partitions`, only those partitions are read: a worker restores the state of the partitions it owns.
 */
export async function readToEnd(
  kafka: Kafka, topic: string, onRecord: (key: Buffer | null, value: Buffer | null, partition: number, timestamp: number) => void,
  partitions?: ReadonlySet<number>,
): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  let ends: Map<number, bigint>
  try {
    // Right after the topics are created the broker may not yet know itself as the partitions' leader.
    const offsets = await retry(() => admin.fetchTopicOffsets(topic), {
      tries: 8, initialMs: 200, maxMs: 3000, retriable: (error) => (error as { retriable?: unknown }).retriable === true,
    })
    ends = new Map(offsets
      .filter((o) => BigInt(o.high) > BigInt(o.low) && (!partitions || partitions.has(o.partition)))
      .map((o) => [o.partition, BigInt(o.high)]))
  } finally {
    await admin.disconnect()
  }
  if (ends.size === 0) return 0
  const consumer: Consumer = createConsumer(kafka, `restore-${topic}-${process.pid}-${Date.now()}`)
  let count = 0
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      const remaining = new Set(ends.keys())
      consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (!ends.has(batch.partition)) {
            // Not wanted (or empty): stop fetching it.
            consumer.pause([{ topic, partitions: [batch.partition] }])
            return
          }
          for (const m of batch.messages) {
            onRecord(m.key, m.value, batch.partition, Number(m.timestamp))
            count++
          }
          const end = ends.get(batch.partition)
          const last = batch.messages.at(-1)
          if (end !== undefined && last && BigInt(last.offset) + 1n >= end) remaining.delete(batch.partition)
          if (remaining.size === 0) resolve()
        },
      }).catch(reject)
    })
  } finally {
    await consumer.disconnect()
  }
  return count
}

/** True once a consumer group has committed up to the end of every partition of the topics. */
export async function groupCaughtUp(kafka: Kafka, groupId: string, topics: string[]): Promise<boolean> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const committed = await admin.fetchOffsets({ groupId, topics })
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic)
      const mine = committed.find((c) => c.topic === topic)
      for (const end of ends) {
        const at = mine?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1'
        const position = at === '-1' ? BigInt(end.low) : BigInt(at)
        if (position < BigInt(end.high)) return false
      }
    }
    return true
  } finally {
    await admin.disconnect()
  }
}
