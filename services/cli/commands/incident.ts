import { userInfo } from 'node:os'
import { INCIDENT_ID, publishIncidentCommand, type IncidentAction } from '../../alerter/commands.js'
import { UsageError } from '../../shared/errors.js'
import { createKafka, createProducer, ensureTopics, topicNames, topicSpecs } from '../../shared/kafka.js'
import type { Command } from '../command.js'

const ACTIONS: Record<string, IncidentAction> = { ack: 'acknowledge', acknowledge: 'acknowledge', resolve: 'resolve' }

function whoami(): string {
  try {
    return userInfo().username || 'cli'
  } catch {
    return 'cli'
  }
}

export const incidentCommand: Command = {
  name: 'incident',
  summary: 'acknowledge or resolve an incident on every channel it reached (PagerDuty, webhook, Slack)',
  usage: [
    'sessionwatch incident ack <incident-id> [--reason <text>] [--by <name>]',
    '       sessionwatch incident resolve <incident-id> [--reason <text>] [--by <name>]',
    '',
    'Publishes the command to the alerts.commands topic; the running alerter sends PagerDuty an acknowledge or',
    'resolve with the incident\'s dedup_key, and the webhook and Slack an update (a reply in the incident\'s thread',
    'with a Slack bot token). Each action happens once per incident: repeating it sends nothing. Every try is in',
    'alert_deliveries (kind acknowledge or resolve). The incident id (inc_…) is in every page and update.',
  ].join('\n'),
  options: {
    reason: { type: 'string' },
    by: { type: 'string' },
  },
  async run(values, positionals, ctx) {
    const [verb, id, ...extra] = positionals
    const action = verb ? ACTIONS[verb] : undefined
    if (!action) throw new UsageError('incident what? ack or resolve')
    if (!id) throw new UsageError(`name the incident to ${action} (inc_ and 32 hex digits, as in the page)`)
    if (extra.length > 0) throw new UsageError(`one incident at a time (got also: ${extra.join(' ')})`)
    if (!INCIDENT_ID.test(id)) throw new UsageError(`'${id.slice(0, 80)}' is not an incident id: inc_ and 32 hex digits, as in the page`)
    const reason = String(values.reason ?? '')
    if (reason.length > 1000) throw new UsageError('--reason is at most 1000 characters')
    const by = typeof values.by === 'string' && values.by.trim() ? values.by.trim() : whoami()
    const config = ctx.config()
    const kafka = createKafka(config.kafka, ctx.log())
    const topics = topicNames(config.kafka.topicPrefix)
    await ensureTopics(kafka, topicSpecs(config.kafka, topics))
    const producer = createProducer(kafka)
    await producer.connect()
    try {
      const sent = await publishIncidentCommand(producer, topics, { incident_id: id, action, reason, by, ts: Date.now() })
      ctx.stdout.write(JSON.stringify(sent) + '\n')
      ctx.stderr.write(`${action} of ${id} sent to ${topics.alertCommands}; the alerter carries it out (see alert_deliveries)\n`)
      return 0
    } finally {
      await producer.disconnect()
    }
  },
}
