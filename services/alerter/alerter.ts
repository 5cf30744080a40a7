import PQueue from 'p-queue'
import type { Consumer, Kafka, Producer } from 'kafkajs'
import type { Detection } from '../../schemas/model.js'
import { SEVERITIES } from '../../schemas/model.js'
import type { Codecs } from '../shared/avro.js'
import { requireSecret, type Config } from '../shared/config.js'
import { SessionwatchError } from '../shared/errors.js'
import { createConsumer, createProducer, sendAll, type TopicNames } from '../shared/kafka.js'
import type { Logger } from '../shared/log.js'
import type { Metrics } from '../shared/metrics.js'
import { retry } from '../shared/retry.js'
import { incidentId } from './incident.js'
import { webhookPayload } from './payload.js'
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signBody } from './signature.js'

export interface AlerterDeps {
  config: Config['alerter']
  kafka: Kafka
  topics: TopicNames
  codecs: Codecs
  log: Logger
  metrics: Metrics
  now: () => number
  groupId: string
}

/**
 * Detections at or above the configured severity become signed webhook calls. Each batch's offsets are
 * committed only once every delivery in it has succeeded or gone to auth.alerts.dlq after its last try.
 * Pages are per incident (one per stolen session, see incident.ts), and the incident id is the idempotency key,
 * so neither a replay nor a redelivery pages twice.
 */
export function createAlerter(deps: AlerterDeps) {
  const log = deps.log.child({ component: 'alerter' })
  const minRank = SEVERITIES.indexOf(deps.config.minSeverity)
  const secret = deps.config.webhookUrl ? requireSecret(deps.config.webhookSecret, 'SW_WEBHOOK_SECRET') : ''
  const queue = new PQueue({ concurrency: deps.config.concurrency })
  const delivered = new Set<string>()
  let consumer: Consumer | undefined
  let producer: Producer | undefined
  const stats = { delivered: 0, failed: 0, skipped: 0 }

  async function post(d: Detection): Promise<void> {
    const url = deps.config.webhookUrl!
    const body = JSON.stringify(webhookPayload(d, deps.config.timelineBaseUrl))
    await retry(async (attempt) => {
      const timestamp = Math.floor(deps.now() / 1000)
      let response: Response
      try {
        response = await fetch(url, {
          method: 'POST',
          body,
          signal: AbortSignal.timeout(deps.config.timeoutMs),
          headers: {
            'content-type': 'application/json',
            [TIMESTAMP_HEADER]: String(timestamp),
            [SIGNATURE_HEADER]: signBody(secret, timestamp, body),
            [IDEMPOTENCY_HEADER]: incidentId(d),
            'x-sessionwatch-attempt': String(attempt),
          },
        })
      } catch (error) {
        deps.metrics.deliveries.inc({ outcome: 'network_error' })
        // undici reports network failures as `TypeError: fetch failed` with the real error as its cause;
        // keep only that cause, or the chain would read as a programmer error and never be retried.
        const cause = error instanceof TypeError && error.cause ? error.cause : error
        throw new SessionwatchError('WEBHOOK_UNAVAILABLE', `webhook unreachable: ${(cause as Error).message}`, { retriable: true, cause })
      }
      await response.arrayBuffer().catch(() => undefined)
      if (response.ok) return
      deps.metrics.deliveries.inc({ outcome: `http_${response.status}` })
      // 408, 429 and 5xx are worth another try; any other answer will not change by retrying.
      const retriable = response.status === 408 || response.status === 429 || response.status >= 500
      throw new SessionwatchError('WEBHOOK_REJECTED', `webhook answered ${response.status}`, { retriable })
    }, {
      tries: deps.config.tries,
      initialMs: deps.config.backoffMs,
      maxMs: 30_000,
      onRetry: (error, attempt, delayMs) => log.warn({ detection_id: d.detection_id, attempt, delayMs, err: error }, 'webhook delivery failed, retrying'),
    })
  }

  async function deliver(d: Detection): Promise<void> {
    try {
      await post(d)
      delivered.add(incidentId(d))
      if (delivered.size > 100_000) delivered.delete(delivered.values().next().value!)
      stats.delivered++
      deps.metrics.deliveries.inc({ outcome: 'delivered' })
      log.info({ detection_id: d.detection_id, subject: d.subject, severity: d.severity }, 'alert delivered')
    } catch (error) {
      stats.failed++
      deps.metrics.deliveries.inc({ outcome: 'dead_lettered' })
      log.error({ detection_id: d.detection_id, err: error }, 'alert sent to dlq after the last try')
      await sendAll(producer!, [{
        topic: deps.topics.alertsDlq,
        messages: [{ key: d.detection_id, value: deps.codecs.detection.encode(d), headers: { 'sw-error': (error as Error).message.slice(0, 500) } }],
      }])
    }
  }

  function wanted(d: Detection): boolean {
    return SEVERITIES.indexOf(d.severity) >= minRank && !delivered.has(incidentId(d))
  }

  return {
    stats,
    async start() {
      if (!deps.config.webhookUrl) log.warn('SW_WEBHOOK_URL is not set: detections are recorded but nobody is paged')
      producer = createProducer(deps.kafka)
      await producer.connect()
      consumer = createConsumer(deps.kafka, deps.groupId)
      await consumer.connect()
      await consumer.subscribe({ topics: [deps.topics.detections], fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          const detections = batch.messages.flatMap((m) => (m.value ? [deps.codecs.detection.decode(m.value)] : []))
          // One delivery per incident even when a batch repeats it (replays, redeliveries): the last version wins.
          const due = deps.config.webhookUrl ? [...new Map(detections.filter(wanted).map((d) => [incidentId(d), d])).values()] : []
          stats.skipped += detections.length - due.length
          await Promise.all(due.map((d) => queue.add(() => deliver(d))))
          const last = batch.messages.at(-1)
          if (last) await consumer!.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }])
          await heartbeat()
        },
      })
    },
    async stop() {
      await consumer?.disconnect()
      await queue.onIdle()
      await producer?.disconnect()
    },
  }
}
