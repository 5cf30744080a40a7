import { createHash } from 'node:crypto'
import type { Consumer, Kafka, Producer } from 'kafkajs'
import PQueue from 'p-queue'
import type { AlertDelivery, AuthEvent, Detection, DlqRecord } from '../../schemas/model.js'
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
import { parseIncidentCommand, publishIncidentCommand, type IncidentCommand } from './commands.js'
import { createDeliverer, type Attempt, type Deliverer, type DeliveryResult, type Endpoint, type HttpRequest } from './delivery.js'
import { createIncidentBook, type IncidentBook, type IncidentState, type Notice } from './incident-book.js'
import { createPolicyEngine, type AlertPolicy, type Decision } from './policy.js'
import { createResponseActions, revokeEvent, wantsResponse, type ResponseAction } from './response.js'
import type { SlackPosted } from './vendors.js'

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
  deadLetter(d: Detection, endpoint: string, idempotencyKey: string, reason: string, notice?: DeadLetterNotice): Promise<void>
  revoked(event: AuthEvent): Promise<void>
  /** An acknowledge or resolve notice that failed on its last try (auth.alerts.dlq, the command as JSON). */
  deadLetterCommand?(command: IncidentCommand, endpoint: string, idempotencyKey: string, reason: string): Promise<void>
  /** Publishes an incident command (alerts.commands): the acknowledge after a successful containment. */
  command?(command: IncidentCommand): Promise<void>
}

/** What `sessionwatch dlq replay` needs to send a dead-lettered notice again as it was (auth.alerts.dlq headers). */
export interface DeadLetterNotice {
  incidentId: string
  kind: string
  seq: number
  action: string
  escalated: boolean
  privileged: boolean
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

/** What a delivery-log row is about: a detection, or (for acknowledge and resolve) the incident's subject only. */
type About = Pick<Detection, 'detection_id' | 'detector' | 'subject'>

export function deliveryRow(d: About, incidentId: string, key: string, endpoint: Pick<Endpoint, 'name' | 'channel'>, kind: string, action: string, attempt: number, outcome: string, extra: { status?: number; error?: string; durationMs?: number }, nowMs: number): AlertDelivery {
  return {
    delivery_id: createHash('sha256').update(`${key}\u0000${endpoint.name}\u0000${attempt}\u0000${outcome}\u0000${nowMs}`).digest('hex').slice(0, 32),
    incident_id: incidentId, idempotency_key: key, detection_id: d.detection_id, detector: d.detector, subject: d.subject ?? null,
    channel: endpoint.channel, endpoint: endpoint.name, kind, action, attempt, outcome,
    status: extra.status ?? null, error: extra.error ?? null, duration_ms: extra.durationMs ?? 0, ts: nowMs,
  }
}

const POLICY_ENDPOINT = { name: 'policy', channel: 'policy' }
const COMMAND_ENDPOINT = { name: 'command', channel: 'command' }

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
  const stats = { detections: 0, triggers: 0, updates: 0, repeats: 0, suppressed: 0, rateLimited: 0, delivered: 0, failed: 0, logged: 0, responses: 0, commands: 0 }
  const enforce = deps.policy.response.mode === 'enforce'

  function recorder(d: About, notice: Pick<Notice, 'incident' | 'idempotencyKey' | 'action'> | { incident: { id: string }; idempotencyKey: string; action: string }, endpoint: Endpoint, kind: string) {
    return async (a: Attempt) => {
      deps.metrics?.deliveries.inc({ outcome: a.outcome === 'http_error' ? `http_${a.status}` : a.outcome })
      deps.outputs.record(deliveryRow(d, notice.incident.id, notice.idempotencyKey, endpoint, kind, notice.action, a.attempt, a.outcome, a, deps.now()))
    }
  }

  async function finish(d: Detection, notice: Notice, endpoint: Endpoint, kind: string, result: Awaited<ReturnType<Deliverer['deliver']>>, privileged = false): Promise<boolean> {
    if (result.ok) {
      stats.delivered++
      deps.log.info({ endpoint: endpoint.name, incident_id: notice.incident.id, key: notice.idempotencyKey, kind, attempts: result.attempts }, 'alert delivered')
      return true
    }
    stats.failed++
    deps.metrics?.deliveries.inc({ outcome: 'dead_lettered' })
    deps.outputs.record(deliveryRow(d, notice.incident.id, notice.idempotencyKey, endpoint, kind, notice.action, result.attempts, 'dead_lettered', { error: result.error.message }, deps.now()))
    deps.log.error({ endpoint: endpoint.name, incident_id: notice.incident.id, key: notice.idempotencyKey, code: result.error.code, reason: result.error.message }, 'alert sent to dlq after the last try')
    await deps.outputs.deadLetter(d, endpoint.name, notice.idempotencyKey, result.error.message, {
      incidentId: notice.incident.id, kind, seq: notice.seq, action: notice.action, escalated: notice.escalated, privileged,
    })
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
      return deps.outputs.deadLetter(d, channel.endpoint.name, notice.idempotencyKey, 'rate_limited', {
        incidentId: notice.incident.id, kind: notice.kind, seq: notice.seq, action: notice.action, escalated: notice.escalated, privileged: decision.privileged,
      })
    }
    const build = channel.prepare(d, notice, decision)
    return inOrder(`${notice.incident.id}|${channel.endpoint.name}`, () =>
      deps.deliverer.deliver(channel.endpoint, build, recorder(d, notice, channel.endpoint, notice.kind), channel.inspect).then((r) => {
        if (r.ok && r.value && channel.inspect) deps.book.setThread(notice.incident.id, channel.endpoint.name, r.value as SlackPosted)
        return finish(d, notice, channel.endpoint, notice.kind, r, decision.privileged)
      }))
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
    // Contained: acknowledged on every channel the incident reached, through the same command path as a person's
    // `sessionwatch incident ack`, so it is recorded, idempotent and replayable the same way.
    const publish = deps.outputs.command
    if (enforce && publish && deps.policy.response.acknowledge_on_containment && revocations.length > 0) {
      const revoking = deps.actions.filter((a) => a.revokes).map((a) => a.endpoint.name)
      tasks.push(Promise.all(revocations).then((results) => {
        const contained = revoking.filter((_name, i) => results[i])
        if (contained.length === 0) return
        deps.log.info({ incident_id: notice.incident.id, actions: contained }, 'contained: acknowledging the incident')
        return publish({ incident_id: notice.incident.id, action: 'acknowledge', reason: `contained automatically: ${contained.join(', ')} succeeded`, by: 'sessionwatch', ts: deps.now() })
      }))
    }
    return tasks
  }

  async function finishCommand(command: IncidentCommand, about: About, key: string, endpoint: Endpoint, result: DeliveryResult): Promise<boolean> {
    if (result.ok) {
      stats.delivered++
      deps.log.info({ endpoint: endpoint.name, incident_id: command.incident_id, key, kind: command.action, attempts: result.attempts }, 'incident command delivered')
      return true
    }
    stats.failed++
    deps.metrics?.deliveries.inc({ outcome: 'dead_lettered' })
    deps.outputs.record(deliveryRow(about, command.incident_id, key, endpoint, command.action, command.action, result.attempts, 'dead_lettered', { error: result.error.message }, deps.now()))
    deps.log.error({ endpoint: endpoint.name, incident_id: command.incident_id, key, code: result.error.code, reason: result.error.message }, 'incident command sent to dlq after the last try')
    if (deps.outputs.deadLetterCommand) await deps.outputs.deadLetterCommand(command, endpoint.name, key, result.error.message)
    return false
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
    /**
     * An acknowledge or resolve of an incident in the book: once per (incident, action), to every channel that was
     * sent the incident's trigger (the webhook and Slack only when they take updates), key `<incident id>:<action>`.
     */
    command(command: IncidentCommand): Promise<unknown>[] {
      const incident = deps.book.incidents.get(command.incident_id)
      if (!incident) throw new Error(`incident ${command.incident_id} is not in the book`)
      const key = `${incident.id}:${command.action}`
      const about: About = { detection_id: '', detector: '', subject: incident.subject }
      if (!deps.book.markCommand(command)) {
        const why = incident.commands?.[command.action] ? `already ${command.action}d by ${incident.commands[command.action]!.by}` : 'already resolved'
        deps.outputs.record(deliveryRow(about, incident.id, key, COMMAND_ENDPOINT, command.action, command.action, 0, 'duplicate', { error: why }, deps.now()))
        deps.log.info({ incident_id: incident.id, action: command.action, by: command.by, why }, 'incident command repeats an earlier one: nothing sent')
        return []
      }
      stats.commands++
      const tasks: Promise<unknown>[] = []
      for (const channel of deps.channels.channels) {
        if (!incident.notified.includes(channel.endpoint.name)) continue
        if (channel.endpoint.channel !== 'pagerduty' && !channel.updates) continue
        const build = channel.prepareCommand(incident, command, key)
        const notice = { incident, idempotencyKey: key, action: command.action }
        tasks.push(inOrder(`${incident.id}|${channel.endpoint.name}`, () =>
          deps.deliverer.deliver(channel.endpoint, build, recorder(about, notice, channel.endpoint, command.action), channel.inspect)
            .then((r) => finishCommand(command, about, key, channel.endpoint, r))))
      }
      if (tasks.length === 0) {
        deps.outputs.record(deliveryRow(about, incident.id, key, COMMAND_ENDPOINT, command.action, command.action, 0, 'recorded', { error: 'no channel takes it: none was sent this incident, or they take no updates' }, deps.now()))
      }
      deps.log.info({ incident_id: incident.id, action: command.action, by: command.by, channels: tasks.length }, 'incident command carried out')
      return tasks
    },
    /** Forget the per-batch ordering chains once a batch has settled. */
    settled() {
      tails.clear()
    },
    engine,
  }
}

/** Headers of an auth.alerts.dlq record: why and where it failed, and what `sessionwatch dlq replay` rebuilds it from. */
export const DLQ_HEADERS = {
  error: 'sw-error', endpoint: 'sw-endpoint', key: 'sw-idempotency-key', record: 'sw-record',
  incident: 'sw-incident-id', kind: 'sw-kind', seq: 'sw-seq', action: 'sw-action', escalated: 'sw-escalated', privileged: 'sw-privileged',
} as const

/** The auth.alerts.dlq record of a notice that failed on its last try (value: the Avro Detection). */
export function detectionDeadLetter(codecs: Codecs, d: Detection, endpoint: string, key: string, reason: string, notice?: DeadLetterNotice) {
  const headers: Record<string, string> = { [DLQ_HEADERS.error]: reason.slice(0, 500), [DLQ_HEADERS.endpoint]: endpoint, [DLQ_HEADERS.key]: key, [DLQ_HEADERS.record]: 'detection' }
  if (notice) {
    Object.assign(headers, {
      [DLQ_HEADERS.incident]: notice.incidentId, [DLQ_HEADERS.kind]: notice.kind, [DLQ_HEADERS.seq]: String(notice.seq),
      [DLQ_HEADERS.action]: notice.action, [DLQ_HEADERS.escalated]: String(notice.escalated), [DLQ_HEADERS.privileged]: String(notice.privileged),
    })
  }
  // Keyed by incident: one incident's failed notices share a partition, so a replay sends them in their order.
  return { key: notice?.incidentId ?? d.detection_id, value: codecs.detection.encode(d), headers }
}

/** The auth.alerts.dlq record of an acknowledge or resolve that failed on its last try (value: the command, JSON). */
export function commandDeadLetter(command: IncidentCommand, endpoint: string, key: string, reason: string) {
  return {
    key: command.incident_id, value: JSON.stringify(command),
    headers: { [DLQ_HEADERS.error]: reason.slice(0, 500), [DLQ_HEADERS.endpoint]: endpoint, [DLQ_HEADERS.key]: key, [DLQ_HEADERS.record]: 'command', [DLQ_HEADERS.incident]: command.incident_id, [DLQ_HEADERS.kind]: command.action },
  }
}

/**
 * Latest state per incident in auth.alerts.incidents (null: tombstoned), or of one incident only. Read at start,
 * for a command about an incident another process paged, and by `sessionwatch dlq replay`.
 */
export async function readIncidentStates(kafka: Kafka, topic: string, log: Logger, only?: string): Promise<Map<string, IncidentState | null>> {
  // A topic created a moment ago may not have a leader yet (NOT_LEADER_FOR_PARTITION): worth a few tries.
  return retry(async () => {
    const states = new Map<string, IncidentState | null>()
    try {
      await readToEnd(kafka, topic, (key, value) => {
        if (!key || (only && key.toString() !== only)) return
        if (!value) return void states.set(key.toString(), null)
        try {
          states.set(key.toString(), JSON.parse(value.toString('utf8')) as IncidentState)
        } catch (error) {
          log.warn({ key: key?.toString(), err: error }, 'unreadable incident state skipped')
        }
      })
    } catch (error) {
      throw new SessionwatchError('STATE_RESTORE_FAILED', `cannot read ${topic}: ${(error as Error).message}`, { retriable: true, cause: error })
    }
    return states
  }, { tries: 8, initialMs: 300, maxMs: 3000, onRetry: (error, attempt) => log.warn({ attempt, reason: (error as Error).message }, 'incident book read failed, retrying') })
}

/**
 * Detections become incidents, notices on the configured channels and, when the policy says so, response
 * actions. A batch's offsets are committed only once every delivery in it succeeded or went to
 * auth.alerts.dlq, every delivery-log record is acknowledged, and the incident book is written to the
 * compacted auth.alerts.incidents. A restarted alerter reads that topic first, so it knows which incidents
 * were paged; what it did between the last write and a crash is done again with the same idempotency keys.
 * Incident commands (alerts.commands) are consumed by a second consumer in the same process; both handlers run
 * one at a time, so a command never interleaves with a batch that changes the same incident.
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
  let commandConsumer: Consumer | undefined
  let producer: Producer | undefined
  const inflight = new Set<Promise<void>>()
  const failures: unknown[] = []
  const serial = new PQueue({ concurrency: 1 })

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
      deadLetter(d, endpoint, key, reason, notice) {
        return sendAll(producer!, [{ topic: deps.topics.alertsDlq, messages: [detectionDeadLetter(deps.codecs, d, endpoint, key, reason, notice)] }])
      },
      deadLetterCommand(command, endpoint, key, reason) {
        return sendAll(producer!, [{ topic: deps.topics.alertsDlq, messages: [commandDeadLetter(command, endpoint, key, reason)] }])
      },
      async command(command) {
        await publishIncidentCommand(producer!, deps.topics, command)
      },
      revoked(event) {
        const problem = deps.codecs.authEvent.check(event)
        if (problem) return Promise.reject(new SessionwatchError('KAFKA_PRODUCE_FAILED', `revoke event does not encode: ${problem}`))
        log.info({ incident_event: event.event_id, subject: event.subject, session_id: event.session_id }, 'revocation fed back to auth.revoke')
        return sendAll(producer!, [{ topic: deps.topics.revoke, messages: [{ key: event.subject ?? '', value: deps.codecs.authEvent.encode(event) }] }])
      },
    },
  })

  const readBook = (only?: string) => readIncidentStates(deps.kafka, deps.topics.alertIncidents, log, only)

  async function restore(): Promise<number> {
    const states = await readBook()
    // Latest record per incident wins (the topic is compacted, but not necessarily yet).
    for (const state of states.values()) if (state) book.restore(state)
    return states.size
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

  /** Runs one batch's handler with the book's undo on failure; the batch is then fetched again. */
  async function inBatch(handle: () => Promise<void>): Promise<void> {
    book.begin()
    try {
      await handle()
    } catch (error) {
      // Forget what the batch did to the book, or its records would be skipped as repeats the second time.
      book.rollback()
      router.settled()
      throw error
    }
  }

  /** A command the alerter cannot carry out is rejected input: an auth.dlq record with its reason. */
  function rejectCommand(value: Buffer | null, origin: string, code: string, reason: string) {
    const input = (value?.toString('utf8') ?? '').slice(0, 4096)
    const record: DlqRecord = { reason, code, origin, format: COMMAND_FORMAT, input, input_bytes: value?.length ?? 0, ts: deps.now() }
    log.warn({ origin, code, reason }, 'incident command sent to dlq')
    return sendAll(producer!, [{ topic: deps.topics.dlq, messages: [{ key: null, value: deps.codecs.dlq.encode(record) }] }])
  }

  async function handleCommands(messages: { value: Buffer | null; offset: string }[], topic: string, partition: number): Promise<void> {
    const tasks: Promise<unknown>[] = []
    for (const m of messages) {
      const origin = `${topic}/${partition}/${m.offset}`
      const parsed = parseIncidentCommand(m.value)
      if (!parsed.ok) {
        await rejectCommand(m.value, origin, 'BAD_COMMAND', parsed.reason)
        continue
      }
      const { command } = parsed
      if (!book.incidents.has(command.incident_id)) {
        // Another alerter process may own the incident's detections: its latest written state is in the book topic.
        const found = (await readBook(command.incident_id)).get(command.incident_id)
        if (found) book.restore(found)
      }
      if (!book.incidents.has(command.incident_id)) {
        await rejectCommand(m.value, origin, 'UNKNOWN_INCIDENT', `no incident ${command.incident_id} is open (never paged, or forgotten after incidents.ttl_days)`)
        continue
      }
      tasks.push(...router.command(command))
    }
    await Promise.all(tasks)
    router.settled()
    await settle()
    await persistBook()
  }

  function consume(c: Consumer, handle: (messages: { value: Buffer | null; offset: string }[], topic: string, partition: number) => Promise<void>) {
    return c.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        await serial.add(() => inBatch(() => handle(batch.messages, batch.topic, batch.partition)))
        const last = batch.messages.at(-1)
        if (last) await c.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }])
        await heartbeat()
      },
    })
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
      await consume(consumer, handleBatch)
      commandConsumer = createConsumer(deps.kafka, `${deps.groupId}-commands`)
      await commandConsumer.connect()
      await commandConsumer.subscribe({ topics: [deps.topics.alertCommands], fromBeginning: true })
      await consume(commandConsumer, handleCommands)
    },
    async stop() {
      await commandConsumer?.disconnect()
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

/** The `format` of auth.dlq records holding a rejected incident command; `dlq replay` sends them back to alerts.commands. */
export const COMMAND_FORMAT = 'sessionwatch-command'
