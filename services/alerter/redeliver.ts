// Sending auth.alerts.dlq records again (`sessionwatch dlq replay alerts`): each record names the endpoint it failed
// at and the notice's idempotency key; the notice is rebuilt as it was (same key, so a receiver that did act on
// it drops the repeat) and delivered with the same queue, breaker and retries as in the alerter. Every try is a
// row of the delivery log; a record that fails again goes back to auth.alerts.dlq with the new reason.
import type { Producer } from 'kafkajs'
import type { Detection, Severity } from '../../schemas/model.js'
import type { Codecs } from '../shared/avro.js'
import { requireSecret, type Config } from '../shared/config.js'
import { SessionwatchError } from '../shared/errors.js'
import { sendAll, type TopicNames } from '../shared/kafka.js'
import type { Logger } from '../shared/log.js'
import { commandDeadLetter, deliveryRow, detectionDeadLetter, DLQ_HEADERS, type DeadLetterNotice } from './alerter.js'
import { createChannels } from './channels.js'
import { parseIncidentCommand, type IncidentCommand } from './commands.js'
import { createDeliverer, type Attempt, type Endpoint, type HttpRequest, type InspectResponse } from './delivery.js'
import { incidentId } from './incident.js'
import type { IncidentState, Notice } from './incident-book.js'
import type { AlertAction } from './policy.js'
import { createResponseActions, revokeEvent } from './response.js'

type Headers = Record<string, string | undefined>

export interface AlertDeadLetter {
  value: Buffer | null
  headers: Headers
}

export type RedeliveryOutcome =
  | { outcome: 'delivered'; endpoint: string; key: string; attempts: number }
  | { outcome: 'failed'; endpoint: string; key: string; reason: string }

/** What a dead-lettered record is, read from its headers (older records without the notice headers: from the key). */
export function describeDeadLetter(record: AlertDeadLetter) {
  const h = record.headers
  return {
    endpoint: h[DLQ_HEADERS.endpoint] ?? '',
    key: h[DLQ_HEADERS.key] ?? '',
    error: h[DLQ_HEADERS.error] ?? '',
    record: h[DLQ_HEADERS.record] ?? 'detection',
    kind: h[DLQ_HEADERS.kind],
  }
}

const FROM_SEVERITY: Record<Severity, AlertAction> = { page: 'page', ticket: 'ticket', info: 'log' }

/** The notice a dead-lettered detection was, from the record's headers, else from its idempotency key. */
function noticeOf(d: Detection, h: Headers, key: string, incident: IncidentState): { notice: Notice; privileged: boolean } {
  const seqFromKey = /:(\d+)$/.exec(key)
  const seq = h[DLQ_HEADERS.seq] !== undefined ? Number(h[DLQ_HEADERS.seq]) : seqFromKey ? Number(seqFromKey[1]) : 0
  const kind = h[DLQ_HEADERS.kind] === 'update' || (h[DLQ_HEADERS.kind] === undefined && seqFromKey) ? 'update' : 'trigger'
  const action = (h[DLQ_HEADERS.action] as AlertAction | undefined) ?? FROM_SEVERITY[d.severity]
  return {
    notice: { kind, incident, seq, idempotencyKey: key, action, escalated: h[DLQ_HEADERS.escalated] === 'true' },
    privileged: h[DLQ_HEADERS.privileged] === 'true',
  }
}

export interface RedelivererDeps {
  config: Config['alerter']
  codecs: Codecs
  topics: TopicNames
  producer: Producer
  /** Latest incident states (auth.alerts.incidents): Slack threads and what each incident is about. */
  incidents: ReadonlyMap<string, IncidentState | null>
  log: Logger
  now: () => number
}

export function createRedeliverer(deps: RedelivererDeps) {
  const policy = deps.config.policy
  const secret = deps.config.webhookUrl ? requireSecret(deps.config.webhookSecret, 'SW_WEBHOOK_SECRET') : ''
  const channels = new Map(createChannels(deps.config, policy, secret, deps.now).channels.map((c) => [c.endpoint.name, c]))
  const actions = new Map(createResponseActions(policy.response, { ssfSigningKeyPem: deps.config.ssfSigningKeyPem, now: deps.now }).map((a) => [a.endpoint.name, a]))
  const deliverer = createDeliverer({
    concurrency: deps.config.concurrency, tries: deps.config.tries, backoffMs: deps.config.backoffMs, timeoutMs: deps.config.timeoutMs,
    breaker: policy.delivery.breaker, now: deps.now, log: deps.log,
  })
  const pending: Promise<void>[] = []

  function record(row: Parameters<typeof deliveryRow>) {
    const value = deps.codecs.alertDelivery.encode(deliveryRow(...row))
    pending.push(sendAll(deps.producer, [{ topic: deps.topics.alertDeliveries, messages: [{ key: row[1] || row[0].detection_id, value }] }]))
  }

  function incidentFor(id: string, about: { subject?: string | null; session_id?: string | null; token_fp?: string | null }): IncidentState {
    const known = deps.incidents.get(id)
    if (known) return { ...known, notified: [...known.notified] }
    return { id, subject: about.subject ?? null, session_id: about.session_id ?? null, token_fp: about.token_fp ?? null, opened_ts: 0, last_ts: 0, seq: 0, seen: [], action: 'page', responded: true, notified: [] }
  }

  async function send(endpoint: Endpoint, build: (attempt: number) => HttpRequest, inspect: InspectResponse | undefined, about: Parameters<typeof deliveryRow>[0], incident: string, key: string, kind: string, action: string) {
    const onAttempt = async (a: Attempt) => record([about, incident, key, endpoint, kind, action, a.attempt, a.outcome, a, deps.now()])
    const result = await deliverer.deliver(endpoint, build, onAttempt, inspect)
    if (!result.ok) record([about, incident, key, endpoint, kind, action, result.attempts, 'dead_lettered', { error: result.error.message }, deps.now()])
    return result
  }

  async function redeliverCommand(command: IncidentCommand, endpointName: string, key: string): Promise<RedeliveryOutcome> {
    const channel = channels.get(endpointName)
    const failed = async (reason: string): Promise<RedeliveryOutcome> => {
      await sendAll(deps.producer, [{ topic: deps.topics.alertsDlq, messages: [commandDeadLetter(command, endpointName, key, reason)] }])
      return { outcome: 'failed', endpoint: endpointName, key, reason }
    }
    if (!channel) return failed(`endpoint ${endpointName} is not configured any more`)
    const incident = incidentFor(command.incident_id, {})
    const about = { detection_id: '', detector: '', subject: incident.subject }
    const result = await send(channel.endpoint, channel.prepareCommand(incident, command, key), channel.inspect, about, incident.id, key, command.action, command.action)
    return result.ok ? { outcome: 'delivered', endpoint: endpointName, key, attempts: result.attempts } : failed(result.error.message)
  }

  async function redeliverDetection(d: Detection, h: Headers, endpointName: string, key: string): Promise<RedeliveryOutcome> {
    const id = h[DLQ_HEADERS.incident] ?? key.split(':')[0] ?? incidentId(d)
    const incident = incidentFor(id, d)
    const { notice, privileged } = noticeOf(d, h, key, incident)
    const meta: DeadLetterNotice = { incidentId: id, kind: notice.kind, seq: notice.seq, action: notice.action, escalated: notice.escalated, privileged }
    const failed = async (reason: string): Promise<RedeliveryOutcome> => {
      await sendAll(deps.producer, [{ topic: deps.topics.alertsDlq, messages: [detectionDeadLetter(deps.codecs, d, endpointName, key, reason, meta)] }])
      return { outcome: 'failed', endpoint: endpointName, key, reason }
    }
    const channel = channels.get(endpointName)
    if (channel) {
      const build = channel.prepare(d, notice, { action: notice.action, rule: 'dlq-replay', privileged })
      const result = await send(channel.endpoint, build, channel.inspect, d, id, key, notice.kind, notice.action)
      return result.ok ? { outcome: 'delivered', endpoint: endpointName, key, attempts: result.attempts } : failed(result.error.message)
    }
    const action = actions.get(endpointName)
    if (action) {
      if (policy.response.mode !== 'enforce') return failed('response is in monitor mode: not called')
      const result = await send(action.endpoint, () => action.request(d, notice), undefined, d, id, key, 'response', notice.action)
      if (!result.ok) return failed(result.error.message)
      if (action.revokes) {
        const event = revokeEvent(d, id, action.endpoint.name, deps.now())
        await sendAll(deps.producer, [{ topic: deps.topics.revoke, messages: [{ key: event.subject ?? '', value: deps.codecs.authEvent.encode(event) }] }])
      }
      return { outcome: 'delivered', endpoint: endpointName, key, attempts: result.attempts }
    }
    return failed(`endpoint ${endpointName} is not configured any more`)
  }

  return {
    /** Sends one dead-lettered record again; resolves once it was delivered or went back to the DLQ. */
    async redeliver(r: AlertDeadLetter): Promise<RedeliveryOutcome> {
      const { endpoint, key, record: type } = describeDeadLetter(r)
      if (!r.value || !endpoint || !key) throw new SessionwatchError('INPUT_UNREADABLE', 'not an alerts dlq record: no value, sw-endpoint or sw-idempotency-key')
      if (type === 'command') {
        const parsed = parseIncidentCommand(r.value)
        if (!parsed.ok) throw new SessionwatchError('INPUT_UNREADABLE', `unreadable command in the dlq: ${parsed.reason}`)
        return redeliverCommand(parsed.command, endpoint, key)
      }
      let d: Detection
      try {
        d = deps.codecs.detection.decode(r.value)
      } catch (error) {
        throw new SessionwatchError('INPUT_UNREADABLE', `undecodable detection in the dlq: ${(error as Error).message}`, { cause: error })
      }
      return redeliverDetection(d, r.headers, endpoint, key)
    },
    /** Waits for every delivery-log record to be acknowledged. */
    async flush() {
      while (pending.length > 0) await Promise.all(pending.splice(0))
    },
  }
}
