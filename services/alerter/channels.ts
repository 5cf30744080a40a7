// The notification channels the policy and the environment configure: the signed generic webhook, PagerDuty
// Events API v2 and Slack (incoming webhook or Web API). Each knows which actions it takes and builds one request
// per try, for detections and for incident commands (acknowledge, resolve).
import type { Detection, Severity } from '../../schemas/model.js'
import type { Config } from '../shared/config.js'
import type { IncidentCommand } from './commands.js'
import type { Endpoint, HttpRequest, InspectResponse } from './delivery.js'
import type { IncidentState, Notice } from './incident-book.js'
import { ACTIONS, type AlertAction, type AlertPolicy, type Decision } from './policy.js'
import { webhookCommandPayload, webhookPayload } from './payload.js'
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signBody } from './signature.js'
import { inspectSlackApi, pagerDutyFollowUp, pagerDutyTrigger, slackCommandMessage, slackMessage, slackPostMessage, type Links } from './vendors.js'

export interface Channel {
  endpoint: Endpoint
  accepts: ReadonlySet<AlertAction>
  /** Whether later detections of an incident (and its acknowledge and resolve) are sent, or only its trigger. */
  updates: boolean
  /** Built once per notice; `attempt` gives the per-try request (fresh timestamp and signature). */
  prepare(d: Detection, notice: Notice, decision: Decision): (attempt: number) => HttpRequest
  /** For APIs that answer failures with a 2xx (Slack's Web API); its value is kept as the incident's thread. */
  inspect?: InspectResponse
  /** The notice of an acknowledge or resolve to an incident this channel was sent. */
  prepareCommand(incident: IncidentState, command: IncidentCommand, idempotencyKey: string): (attempt: number) => HttpRequest
}

const FROM_SEVERITY: Record<Severity, AlertAction[]> = { page: ['page'], ticket: ['ticket', 'page'], info: [...ACTIONS] }

export interface ChannelSet {
  channels: Channel[]
}

export function createChannels(config: Config['alerter'], policy: AlertPolicy, webhookSecret: string, now: () => number): ChannelSet {
  const links: Links = { timelineBaseUrl: config.timelineBaseUrl, runbookBaseUrl: policy.links.runbook_base_url }
  const channels: Channel[] = []
  const json = { 'content-type': 'application/json' }
  if (config.webhookUrl) {
    const url = config.webhookUrl
    const name = policy.channels.webhook?.name ?? 'webhook'
    const signed = (body: string, key: string, event: string) => (attempt: number): HttpRequest => {
      const timestamp = Math.floor(now() / 1000)
      return {
        method: 'POST', url, body,
        headers: {
          ...json,
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signBody(webhookSecret, timestamp, body),
          [IDEMPOTENCY_HEADER]: key,
          'x-sessionwatch-event': event,
          'x-sessionwatch-attempt': String(attempt),
        },
      }
    }
    channels.push({
      endpoint: { name, channel: 'webhook', secrets: [url, webhookSecret] },
      accepts: new Set(policy.channels.webhook?.actions ?? FROM_SEVERITY[config.minSeverity]),
      // Off unless the policy asks: a receiver written for "one request per incident" keeps getting that.
      updates: policy.channels.webhook?.updates ?? false,
      prepare(d, notice, decision) {
        return signed(JSON.stringify(webhookPayload(d, config.timelineBaseUrl, notice, decision.privileged)), notice.idempotencyKey, notice.kind)
      },
      prepareCommand(incident, command, key) {
        return signed(JSON.stringify(webhookCommandPayload(incident, command, config.timelineBaseUrl)), key, command.action)
      },
    })
  }
  const pd = policy.channels.pagerduty
  if (pd) {
    const endpoint: Endpoint = { name: pd.name ?? 'pagerduty', channel: 'pagerduty', secrets: [pd.routing_key] }
    channels.push({
      endpoint,
      accepts: new Set(pd.actions ?? ['page']),
      updates: pd.updates ?? true,
      prepare(d, notice) {
        const body = JSON.stringify(pagerDutyTrigger(d, notice, { routingKey: pd.routing_key, source: pd.source, ...links }))
        return () => ({ method: 'POST', url: pd.url, body, headers: json })
      },
      // Events API v2: acknowledge and resolve name the alert by the dedup_key of its trigger, the incident id.
      prepareCommand(incident, command) {
        const body = JSON.stringify(pagerDutyFollowUp(incident.id, command.action, pd.routing_key))
        return () => ({ method: 'POST', url: pd.url, body, headers: json })
      },
    })
  }
  const slack = policy.channels.slack
  if (slack) {
    const name = slack.name ?? 'slack'
    const common = { accepts: new Set(slack.actions ?? (['page', 'ticket'] as AlertAction[])), updates: slack.updates ?? true }
    if (slack.bot_token) {
      // Web API: every notice of an incident after the first is a reply in the first one's thread.
      const auth = `Bearer ${slack.bot_token}`
      const post = (incident: IncidentState, message: object) => () => {
        const body = JSON.stringify(slackPostMessage(message, slack.channel!, incident.threads?.[name]?.ts))
        return { method: 'POST', url: slack.api_url, body, headers: { 'content-type': 'application/json; charset=utf-8', authorization: auth } }
      }
      channels.push({
        endpoint: { name, channel: 'slack', secrets: [slack.bot_token, auth] },
        ...common,
        inspect: inspectSlackApi,
        prepare: (d, notice) => post(notice.incident, slackMessage(d, notice, links)),
        prepareCommand: (incident, command) => post(incident, slackCommandMessage(incident, command, links)),
      })
    } else {
      // Incoming webhooks answer a bare "ok", never the posted message's ts: nothing to thread under, so every
      // notice is a message of its own.
      const url = slack.webhook_url!
      channels.push({
        endpoint: { name, channel: 'slack', secrets: [url] },
        ...common,
        prepare(d, notice) {
          const body = JSON.stringify(slackMessage(d, notice, links))
          return () => ({ method: 'POST', url, body, headers: json })
        },
        prepareCommand(incident, command) {
          const body = JSON.stringify(slackCommandMessage(incident, command, links))
          return () => ({ method: 'POST', url, body, headers: json })
        },
      })
    }
  }
  const names = channels.map((c) => c.endpoint.name)
  if (new Set(names).size !== names.length) throw new Error(`channel names must be unique: ${names.join(', ')}`)
  return { channels }
}
