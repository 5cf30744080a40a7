import { createHash } from 'node:crypto'
import type { Consumer, Kafka, Producer } from 'kafkajs'
import type { AlertDelivery, AuthEvent, Detection } from '../../schemas/model.js'
import type { Codecs } from '../shared/avro.js'
import { requireSecret, type Config } from '../shared/config.js'
import { readToEnd } from '../shared/consume.js'
import { SessionwatchError } from '../shared/errors.js'
import { createConsumer, createProducer, sendAll, type TopicNames } from '../shared/kafka.js'
import type { Logger } from '../shared/log.js'
import type { Metrics } from '../shared/metrics.js'
import { retry } from '../shared/retry.js'
import { createRateLimiter } from './breaker.js'
import { createChannels, type Channel, type ChannelSet } from './channels.js'
import { createDeliverer, type Attempt, type Deliverer, type Endpoint, type HttpRequest } from './delivery.js'
import { createIncidentBook, type IncidentBook, type IncidentState, type Notice } from './incident-book.js'
import { createPolicyEngine, type AlertPolicy, type Decision } from './policy.js'
import { createResponseActions, revokeEvent, wantsResponse, type ResponseAction } from './response.js'

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

/** Where the alert router's side effects go; the Kafka service wires them to topics, the benchmark to no-ops. */
export interface RouterOutputs {
  /** One row of the delivery log (auth.alerts.deliveries). Must not throw: failures surface at `settle`. */
  record(row: AlertDelivery): void
  deadLetter(d: Detection, endpoint: string, idempotencyKey: string, reason: string): Promise<void>
  revoked(event: AuthEvent): Promise<void>
}

export interface RouterDeps {
  policy: AlertPolicy
  channels: ChannelSet
  actions: ResponseAction[]
  deliverer: Deliverer
  book: IncidentBook
  outputs: RouterOutputs
  metrics?: Metrics
  log: Logger
  now: () => number
}

export function deliveryRow(d: Detection, incidentId: string, key: string, endpoint: Pick<Endpoint, 'name' | 'channel'>, kind: string, action: string, attempt: number, outcome: string, extra: { status?: number; error?: string; durationMs?: number }, nowMs: number): AlertDelivery {
  return {
    delivery_id: createHash('sha256').update(`${key}\u0000${endpoint.name}\u0000${attempt}\u0000${outcome}\u0000${nowMs}`).digest('hex').slice(0, 32),
    incident_id: incidentId, idempotency_key: key, detection_id: d.detection_id, detector: d.detector, subject: d.subject ?? null,
    channel: endpoint.channel, endpoint: endpoint.name, kind, action, attempt, outcome,
    status: extra.status ?? null, error: extra.error ?? null, duration_ms: extra.durationMs ?? 0, ts: nowMs,
  }
}

const POLICY_ENDPOINT = { name: 'policy', channel: 'policy' }

/**
 * Decision and enqueue, per detection, in offset order: the policy decides page / ticket / log or suppresses,
 * the incident book makes it a trigger or an update, each channel that takes the action gets a delivery in its
 * endpoint's queue, and the first qualifying notice of an incident starts the response actions. Returns the
 * deliveries' promises; they never reject for an endpoint's failure (those end in the DLQ).
 */
export function createAlertRouter(deps: RouterDeps) {
  const engine = createPolicyEngine(deps.policy)
  const limiters = new Map(deps.channels.channels.flatMap((c) => {
    const limit = deps.policy.rate_limits[c.endpoint.name] ?? deps.policy.rate_limits[c.endpoint.channel]
    return limit ? [[c.endpoint.name, createRateLimiter({ perMinute: limit.per_minute, burst: limit.burst, now: deps.now })] as const] : []
  }))
  // Notices of one incident reach one endpoint in order (the trigger before its updates).
  const tails = new Map<string, Promise<unknown>>()
  const stats = { detections: 0, triggers: 0, updates: 0, repeats: 0, suppressed: 0, rateLimited: 0, delivered: 0, failed: 0, logged: 0, responses: 0 }
  const enforce = deps.policy.response.mode === 'enforce'

  function recorder(d: Detection, notice: Notice, endpoint: Endpoint, kind: string) {
    return async (a: Attempt) => {
      deps.metrics?.deliveries.inc({ outcome: a.outcome === 'http_error' ? `http_${a.status}` : a.outcome })
      deps.outputs.record(deliveryRow(d, notice.incident.id, notice.idempotencyKey, endpoint, kind, notice.action, a.attempt, a.outcome, a, deps.now()))
    }
  }

  async function finish(d: Detection, notice: Notice, endpoint: Endpoint, kind: string, result: Awaited<ReturnType<Deliverer['deliver']>>): Promise<boolean> {
    if (result.ok) {
      stats.delivered++
      deps.log.info({ endpoint: endpoint.name, incident_id: notice.incident.id, key: notice.idempotencyKey, kind, attempts: result.attempts }, 'alert delivered')
      return true
    }
    stats.failed++
    deps.metrics?.deliveries.inc({ outcome: 'dead_lettered' })
    deps.outputs.record(deliveryRow(d, notice.incident.id, notice.idempotencyKey, endpoint, kind, notice.action, result.attempts, 'dead_lettered', { error: result.error.message }, deps.now()))
    deps.log.error({ endpoint: endpoint.name, incident_id: notice.incident.id, key: notice.idempotencyKey, code: result.error.code, reason: result.error.message }, 'alert sent to dlq after the last try')
    await deps.outputs.deadLetter(d, endpoint.name, notice.idempotencyKey, result.error.message)
    return false
  }

  function inOrder<T>(key: string, task: () => Promise<T>): Promise<T> {
    const run = (tails.get(key) ?? Promise.resolve()).then(task)
    tails.set(key, run.catch(() => undefined))
    return run
  }

  function notify(d: Detection, incidentNotice: Notice, decision: Decision, channel: Channel): Promise<unknown> {
    if (incidentNotice.kind === 'update' && !channel.updates && incidentNotice.incident.notified.includes(channel.endpoint.name)) return Promise.resolve()
    const notice = deps.book.forChannel(incidentNotice, channel.endpoint.name)
    const limiter = limiters.get(channel.endpoint.name)
    if (limiter && !limiter.take()) {
      // Over the channel's rate: not sent, but never dropped silently — logged, recorded and dead-lettered.
      stats.rateLimited++
      deps.outputs.record(deliveryRow(d, notice.incident.id, notice.idempotencyKey, channel.endpoint, notice.kind, notice.action, 0, 'rate_limited', {}, deps.now()))
      deps.log.warn({ endpoint: channel.endpoint.name, incident_id: notice.incident.id, key: notice.idempotencyKey }, 'rate limited: sent to dlq')
      return deps.outputs.deadLetter(d, channel.endpoint.name, notice.idempotencyKey, 'rate_limited')
    }
    const build = channel.prepare(d, notice, decision)
    return inOrder(`${notice.incident.id}|${channel.endpoint.name}`, () =>
      deps.deliverer.deliver(channel.endpoint, build, recorder(d, notice, channel.endpoint, notice.kind)).then((r) => finish(d, notice, channel.endpoint, notice.kind, r)))
  }

  function respond(d: Detection, notice: Notice): Promise<unknown>[] {
    stats.responses++
    deps.book.markResponded(notice.incident.id)
    const tasks: Promise<unknown>[] = []
    const revocations: Promise<boolean>[] = []
    for (const action of deps.actions) {
      const responseNotice = { ...notice, idempotencyKey: `${notice.incident.id}:${action.endpoint.name}` }
      if (!enforce) {
        deps.outputs.record(deliveryRow(d, notice.incident.id, responseNotice.idempotencyKey, action.endpoint, 'response', notice.action, 0, 'monitor', {}, deps.now()))
        deps.log.info({ endpoint: action.endpoint.name, incident_id: notice.incident.id }, 'monitor mode: response action recorded, not called')
        continue
      }
      const request: HttpRequest = action.request(d, notice)
      const done = deps.deliverer.deliver(action.endpoint, () => request, recorder(d, responseNotice, action.endpoint, 'response'))
        .then((r) => finish(d, responseNotice, action.endpoint, 'response', r))
        .then(async (ok) => {
          if (ok && action.revokes) await deps.outputs.revoked(revokeEvent(d, notice.incident.id, action.endpoint.name, deps.now()))
          return ok && action.revokes
        })
      tasks.push(done)
      revocations.push(done)
    }
    const ack = deps.channels.acknowledge
    if (ack && revocations.length > 0) {
      tasks.push(Promise.all(revocations).then((results) => {
        if (!results.some(Boolean)) return
        const ackNotice = { ...notice, idempotencyKey: `${notice.incident.id}:acknowledge` }
        return inOrder(`${notice.incident.id}|${ack.endpoint.name}`, () =>
          deps.deliverer.deliver(ack.endpoint, () => ack.request(notice.incident.id), recorder(d, ackNotice, ack.endpoint, 'acknowledge'))
            .then((r) => finish(d, ackNotice, ack.endpoint, 'acknowledge', r)))
      }))
    }
    return tasks
  }

  return {
    stats,
    handle(d: Detection): Promise<unknown>[] {
      stats.detections++
      const decision = engine.decide(d)
      if (decision.suppressedBy) {
        stats.suppressed++
        deps.outputs.record(deliveryRow(d, '', `suppressed:${d.detection_id}`, POLICY_ENDPOINT, 'suppressed', decision.action, 0, 'suppressed', { error: `suppression ${decision.suppressedBy}` }, deps.now()))
        deps.log.info({ detection_id: d.detection_id, detector: d.detector, suppression: decision.suppressedBy }, 'detection suppressed')
        return []
      }
      const notice = deps.book.apply(d, decision.action)
      if (!notice) {
        stats.repeats++
        return []
      }
      if (notice.kind === 'trigger') stats.triggers++
      else stats.updates++
      const tasks: Promise<unknown>[] = []
      for (const channel of deps.channels.channels) if (channel.accepts.has(notice.action)) tasks.push(notify(d, notice, decision, channel))
      if (tasks.length === 0) {
        stats.logged++
        deps.log.info({ detection_id: d.detection_id, incident_id: notice.incident.id, action: notice.action, rule: decision.rule }, 'detection logged')
      }
      if (wantsResponse(deps.policy.response, d, notice)) tasks.push(...respond(d, notice))
      return tasks
    },
    /** Forget the per-batch ordering chains once a batch has settled. */
    settled() {
      tails.clear()
    },
    engine,
  }
}

/**
 * Detections become incidents, notices on the configured channels and, when the policy says so, response
 * actions. A batch's offsets are committed only once every delivery in it succeeded or went to
 * auth.alerts.dlq, every delivery-log record is acknowledged, and the incident book is written to the
 * compacted auth.alerts.incidents. A restarted alerter reads that topic first, so it knows which incidents
 * were paged; what it did between the last write and a crash is done again with the same idempotency keys.
 */
export function createAlerter(deps: AlerterDeps) {
  const log = deps.log.child({ component: 'alerter' })
  const policy = deps.config.policy
  const secret = deps.config.webhookUrl ? requireSecret(deps.config.webhookSecret, 'SW_WEBHOOK_SECRET') : ''
  const channels = createChannels(deps.config, policy, secret, deps.now)
  const actions = createResponseActions(policy.response, { ssfSigningKeyPem: deps.config.ssfSigningKeyPem, now: deps.now })
  const deliverer = createDeliverer({
    concurrency: deps.config.concurrency, tries: deps.config.tries, backoffMs: deps.config.backoffMs, timeoutMs: deps.config.timeoutMs,
    breaker: policy.delivery.breaker, now: deps.now, log,
  })
  const book = createIncidentBook(policy.incidents)
  let consumer: Consumer | undefined
  let producer: Producer | undefined
  const inflight = new Set<Promise<void>>()
  const failures: unknown[] = []

  function track(p: Promise<void>) {
    const tracked = p.catch((error) => void failures.push(error)).finally(() => inflight.delete(tracked))
    inflight.add(tracked)
  }

  const router = createAlertRouter({
    policy, channels, actions, deliverer, book, log, metrics: deps.metrics, now: deps.now,
    outputs: {
      record(row) {
        track(sendAll(producer!, [{ topic: deps.topics.alertDeliveries, messages: [{ key: row.incident_id || row.detection_id, value: deps.codecs.alertDelivery.encode(row) }] }]))
      },
      deadLetter(d, endpoint, key, reason) {
        return sendAll(producer!, [{
          topic: deps.topics.alertsDlq,
          messages: [{ key: d.detection_id, value: deps.codecs.detection.encode(d), headers: { 'sw-error': reason.slice(0, 500), 'sw-endpoint': endpoint, 'sw-idempotency-key': key } }],
        }])
      },
      revoked(event) {
        const problem = deps.codecs.authEvent.check(event)
        if (problem) return Promise.reject(new SessionwatchError('KAFKA_PRODUCE_FAILED', `revoke event does not encode: ${problem}`))
        log.info({ incident_event: event.event_id, subject: event.subject, session_id: event.session_id }, 'revocation fed back to auth.revoke')
        return sendAll(producer!, [{ topic: deps.topics.revoke, messages: [{ key: event.subject ?? '', value: deps.codecs.authEvent.encode(event) }] }])
      },
    },
  })

  async function restore(): Promise<number> {
    // A topic created a moment ago may not have a leader yet (NOT_LEADER_FOR_PARTITION): worth a few tries.
    return retry(async () => {
      const states = new Map<string, IncidentState | null>()
      try {
        await readToEnd(deps.kafka, deps.topics.alertIncidents, (key, value) => {
          if (!key) return
          if (!value) return void states.set(key.toString(), null)
          try {
            states.set(key.toString(), JSON.parse(value.toString('utf8')) as IncidentState)
          } catch (error) {
            log.warn({ key: key?.toString(), err: error }, 'unreadable incident state skipped')
          }
        })
      } catch (error) {
        throw new SessionwatchError('STATE_RESTORE_FAILED', `cannot read ${deps.topics.alertIncidents}: ${(error as Error).message}`, { retriable: true, cause: error })
      }
      // Latest record per incident wins (the topic is compacted, but not necessarily yet).
      for (const state of states.values()) if (state) book.restore(state)
      return states.size
    }, { tries: 8, initialMs: 300, maxMs: 3000, onRetry: (error, attempt) => log.warn({ attempt, reason: (error as Error).message }, 'incident book restore failed, retrying') })
  }

  async function persistBook(): Promise<void> {
    const changed = book.takeDirty()
    const gone = book.expire(deps.now())
    const messages = [
      ...changed.map((s) => ({ key: s.id, value: JSON.stringify(s) })),
      ...gone.map((id) => ({ key: id, value: null })),
    ]
    await sendAll(producer!, [{ topic: deps.topics.alertIncidents, messages }])
  }

  async function settle(): Promise<void> {
    while (inflight.size > 0) await Promise.all([...inflight])
    if (failures.length > 0) {
      const first = failures[0]
      failures.length = 0
      throw first
    }
  }

  return {
    stats: router.stats,
    book,
    async start() {
      if (channels.channels.length === 0) log.warn('no alert channel is configured (SW_WEBHOOK_URL or the policy file): detections are recorded but nobody is paged')
      const expired = router.engine.expiredSuppressions(deps.now())
      if (expired.length > 0) log.warn({ suppressions: expired }, 'expired suppression rules in the policy are ignored')
      log.info({ channels: channels.channels.map((c) => c.endpoint.name), response: policy.response.mode, actions: actions.map((a) => a.endpoint.name), policy: deps.config.policyFile ?? '(defaults)' }, 'alerter configured')
      producer = createProducer(deps.kafka)
      await producer.connect()
      const restored = await restore()
      log.info({ records: restored, incidents: book.incidents.size }, 'incident book restored')
      consumer = createConsumer(deps.kafka, deps.groupId)
      await consumer.connect()
      await consumer.subscribe({ topics: [deps.topics.detections], fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          book.begin()
          try {
            await handleBatch(batch.messages, batch.topic, batch.partition)
          } catch (error) {
            // The batch will be fetched again: forget what it did to the book, or its detections would be
            // skipped as repeats the second time.
            book.rollback()
            router.settled()
            throw error
          }
          const last = batch.messages.at(-1)
          if (last) await consumer!.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }])
          await heartbeat()
        },
      })
    },
    async stop() {
      await consumer?.disconnect()
      await deliverer.onIdle()
      await settle().catch((error) => log.error({ err: error }, 'delivery log records lost at stop'))
      await producer?.disconnect()
    },
  }

  async function handleBatch(messages: { value: Buffer | null; offset: string }[], topic: string, partition: number): Promise<void> {
    const tasks: Promise<unknown>[] = []
    for (const m of messages) {
      if (!m.value) continue
      let d: Detection
      try {
        d = deps.codecs.detection.decode(m.value)
      } catch (error) {
        log.error({ topic, partition, offset: m.offset, err: error }, 'undecodable detection skipped')
        continue
      }
      tasks.push(...router.handle(d))
    }
    await Promise.all(tasks)
    router.settled()
    await settle()
    await persistBook()
  }
}
