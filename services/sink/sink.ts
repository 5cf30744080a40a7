import PQueue from 'p-queue'
import type { Consumer, Kafka } from 'kafkajs'
import type { Codecs } from '../shared/avro.js'
import type { ClickHouseClient } from '../shared/clickhouse.js'
import type { Config } from '../shared/config.js'
import { SessionwatchError } from '../shared/errors.js'
import { createConsumer, type TopicNames } from '../shared/kafka.js'
import type { Logger } from '../shared/log.js'
import type { Metrics } from '../shared/metrics.js'
import { retry } from '../shared/retry.js'
import { alertDeliveryRow, authEventRow, detectionRow, dlqRow, feedbackRow } from './rows.js'

export interface SinkDeps {
  config: Config['sink']
  database: string
  kafka: Kafka
  clickhouse: ClickHouseClient
  topics: TopicNames
  codecs: Codecs
  log: Logger
  metrics: Metrics
  groupId: string
}

type Row = Record<string, unknown>

/**
 * Kafka → ClickHouse. Rows are buffered per table and flushed on size or interval; the offsets of a
 * flushed buffer are committed only after ClickHouse acknowledged the insert. Failed inserts are retried
 * and the consumer stops (to resume from the last commit) rather than dropping rows.
 */
export function createSink(deps: SinkDeps) {
  const log = deps.log.child({ component: 'sink' })
  const topics = [deps.topics.issue, deps.topics.revoke, deps.topics.validate, deps.topics.detections, deps.topics.dlq, deps.topics.alertDeliveries, deps.topics.feedback]
  const tables = new Map<string, { table: string; toRow: (value: Buffer) => Row }>([
    [deps.topics.issue, { table: 'auth_events', toRow: (v) => authEventRow(deps.codecs.authEvent.decode(v)) }],
    [deps.topics.revoke, { table: 'auth_events', toRow: (v) => authEventRow(deps.codecs.authEvent.decode(v)) }],
    [deps.topics.validate, { table: 'auth_events', toRow: (v) => authEventRow(deps.codecs.authEvent.decode(v)) }],
    [deps.topics.detections, { table: 'detections', toRow: (v) => detectionRow(deps.codecs.detection.decode(v)) }],
    [deps.topics.dlq, { table: 'dlq', toRow: (v) => dlqRow(deps.codecs.dlq.decode(v)) }],
    [deps.topics.alertDeliveries, { table: 'alert_deliveries', toRow: (v) => alertDeliveryRow(deps.codecs.alertDelivery.decode(v)) }],
    [deps.topics.feedback, { table: 'detection_feedback', toRow: (v) => feedbackRow(deps.codecs.feedback.decode(v)) }],
  ])
  const buffers = new Map<string, Row[]>()
  let buffered = 0
  let offsets = new Map<string, string>()
  let consumer: Consumer | undefined
  let timer: NodeJS.Timeout | undefined
  const serial = new PQueue({ concurrency: 1 })
  const totals: Record<string, number> = {}

  async function flush() {
    for (const [table, rows] of buffers) {
      if (rows.length === 0) continue
      const started = process.hrtime.bigint()
      await retry(async () => {
        try {
          await deps.clickhouse.insert({ table: `${deps.database}.${table}`, values: rows, format: 'JSONEachRow' })
        } catch (error) {
          throw new SessionwatchError('CLICKHOUSE_QUERY_FAILED', `insert into ${table} failed: ${(error as Error).message}`, { retriable: true, cause: error })
        }
      }, { tries: 5, initialMs: 300, maxMs: 5000, onRetry: (error, attempt) => log.warn({ table, attempt, err: error }, 'insert failed, retrying') })
      deps.metrics.sinkRows.inc({ table }, rows.length)
      deps.metrics.sinkFlushSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9)
      totals[table] = (totals[table] ?? 0) + rows.length
    }
    buffers.clear()
    buffered = 0
    const commits = [...offsets].map(([tp, offset]) => {
      const i = tp.lastIndexOf('|')
      return { topic: tp.slice(0, i), partition: Number(tp.slice(i + 1)), offset }
    })
    offsets = new Map()
    if (commits.length > 0) await consumer!.commitOffsets(commits)
  }

  return {
    totals,
    async start() {
      consumer = createConsumer(deps.kafka, deps.groupId)
      await consumer.connect()
      await consumer.subscribe({ topics, fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        eachBatch: ({ batch, heartbeat }) => serial.add(async () => {
          const target = tables.get(batch.topic)!
          const rows = buffers.get(target.table) ?? []
          for (const m of batch.messages) {
            if (!m.value) continue
            try {
              rows.push(target.toRow(m.value))
            } catch (error) {
              // Our own topics hold Avro we wrote; a record that does not decode is logged, not retried forever.
              log.error({ topic: batch.topic, partition: batch.partition, offset: m.offset, err: error }, 'undecodable record skipped')
            }
          }
          buffers.set(target.table, rows)
          buffered += batch.messages.length
          const last = batch.messages.at(-1)
          if (last) offsets.set(`${batch.topic}|${batch.partition}`, (BigInt(last.offset) + 1n).toString())
          if (buffered >= deps.config.batchRows) await flush()
          await heartbeat()
        }),
      })
      timer = setInterval(() => {
        if (buffered > 0 && serial.size === 0) serial.add(flush).catch((error) => log.error({ err: error }, 'flush failed'))
      }, deps.config.flushIntervalMs)
    },
    async stop() {
      clearInterval(timer)
      if (consumer) {
        consumer.pause(topics.map((topic) => ({ topic })))
        await serial.add(flush).catch((error) => log.error({ err: error }, 'final flush failed'))
        await consumer.disconnect()
      }
      log.info({ totals }, 'sink stopped')
    },
  }
}
