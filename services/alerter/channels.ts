// The notification channels the policy and the environment configure: the signed generic webhook, PagerDuty
// Events API v2 and Slack incoming webhooks. Each knows which actions it takes and builds one request per try.
import type { Detection, Severity } from '../../schemas/model.js'
import type { Config } from '../shared/config.js'
import type { Endpoint, HttpRequest } from './delivery.js'
import type { Notice } from './incident-book.js'
import { ACTIONS, type AlertAction, type AlertPolicy, type Decision } from './policy.js'
import { webhookPayload } from './payload.js'
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signBody } from './signature.js'
import { pagerDutyFollowUp, pagerDutyTrigger, slackMessage, type Links } from './vendors.js'

export interface Channel {
  endpoint: Endpoint
  accepts: ReadonlySet<AlertAction>
  /** Whether later detections of an incident are sent as updates, or only its trigger. */
  updates: boolean
  /** Built once per notice; `attempt` gives the per-try request (fresh timestamp and signature). */
  prepare(d: Detection, notice: Notice, decision: Decision): (attempt: number) => HttpRequest
}

const FROM_SEVERITY: Record<Severity, AlertAction[]> = { page: ['page'], ticket: ['ticket', 'page'], info: [...ACTIONS] }

export interface ChannelSet {
  channels: Channel[]
  /** PagerDuty acknowledge after containment, when configured. */
  acknowledge?: { endpoint: Endpoint; request(incidentId: string): HttpRequest }
}

export function createChannels(config: Config['alerter'], policy: AlertPolicy, webhookSecret: string, now: () => number): ChannelSet {
  const links: Links = { timelineBaseUrl: config.timelineBaseUrl, runbookBaseUrl: policy.links.runbook_base_url }
  const channels: Channel[] = []
  if (config.webhookUrl) {
    const url = config.webhookUrl
    const name = policy.channels.webhook?.name ?? 'webhook'
    channels.push({
      endpoint: { name, channel: 'webhook', secrets: [url, webhookSecret] },
      accepts: new Set(policy.channels.webhook?.actions ?? FROM_SEVERITY[config.minSeverity]),
      // Off unless the policy asks: a receiver written for "one request per incident" keeps getting that.
      updates: policy.channels.webhook?.updates ?? false,
      prepare(d, notice, decision) {
        const body = JSON.stringify(webhookPayload(d, config.timelineBaseUrl, notice, decision.privileged))
        return (attempt) => {
          const timestamp = Math.floor(now() / 1000)
          return {
            method: 'POST', url, body,
            headers: {
              'content-type': 'application/json',
              [TIMESTAMP_HEADER]: String(timestamp),
              [SIGNATURE_HEADER]: signBody(webhookSecret, timestamp, body),
              [IDEMPOTENCY_HEADER]: notice.idempotencyKey,
              'x-sessionwatch-event': notice.kind,
              'x-sessionwatch-attempt': String(attempt),
            },
          }
        }
      },
    })
  }
  const pd = policy.channels.pagerduty
  let acknowledge: ChannelSet['acknowledge']
  if (pd) {
    const endpoint: Endpoint = { name: pd.name ?? 'pagerduty', channel: 'pagerduty', secrets: [pd.routing_key] }
    channels.push({
      endpoint,
      accepts: new Set(pd.actions ?? ['page']),
      updates: pd.updates ?? true,
      prepare(d, notice) {
        const body = JSON.stringify(pagerDutyTrigger(d, notice, { routingKey: pd.routing_key, source: pd.source, ...links }))
        return () => ({ method: 'POST', url: pd.url, body, headers: { 'content-type': 'application/json' } })
      },
    })
    if (pd.acknowledge_on_containment) {
      acknowledge = {
        endpoint,
        request: (incidentId) => ({ method: 'POST', url: pd.url, body: JSON.stringify(pagerDutyFollowUp(incidentId, 'acknowledge', pd.routing_key)), headers: { 'content-type': 'application/json' } }),
      }
    }
  }
  const slack = policy.channels.slack
  if (slack) {
    channels.push({
      endpoint: { name: slack.name ?? 'slack', channel: 'slack', secrets: [slack.webhook_url] },
      accepts: new Set(slack.actions ?? ['page', 'ticket']),
      updates: slack.updates ?? true,
      prepare(d, notice) {
        const body = JSON.stringify(slackMessage(d, notice, links))
        return () => ({ method: 'POST', url: slack.webhook_url, body, headers: { 'content-type': 'application/json' } })
      },
    })
  }
  const names = channels.map((c) => c.endpoint.name)
  if (new Set(names).size !== names.length) throw new Error(`channel names must be unique: ${names.join(', ')}`)
  return { channels, acknowledge }
}
