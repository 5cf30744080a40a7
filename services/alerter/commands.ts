// Incident commands: acknowledge or resolve an incident from outside the alerter. They travel on the topic
// alerts.commands (key: incident id, value: JSON), produced by `sessionwatch incident ack|resolve`, by the alerter
// itself after a successful containment, and by any tool that calls publishIncidentCommand (the api, when an
// analyst marks a detection a false positive). The alerter consumes them and tells every channel the incident
// reached: PagerDuty (acknowledge/resolve with the incident's dedup_key), the webhook and Slack (an update).
import type { Producer } from 'kafkajs'
import { z } from 'zod'
import { SessionwatchError } from '../shared/errors.js'
import { sendAll, type TopicNames } from '../shared/kafka.js'

export const INCIDENT_ACTIONS = ['acknowledge', 'resolve'] as const
export type IncidentAction = (typeof INCIDENT_ACTIONS)[number]

/** Incident ids are `inc_` and 32 hex digits (incident.ts). */
export const INCIDENT_ID = /^inc_[0-9a-f]{32}$/

const commandSchema = z.object({
  incident_id: z.string().regex(INCIDENT_ID, 'an incident id: inc_ and 32 hex digits'),
  action: z.enum(INCIDENT_ACTIONS),
  reason: z.string().max(1000).default(''),
  /** Who: a person's name or login, or `sessionwatch` for the alerter's own acknowledgements. */
  by: z.string().min(1).max(200),
  /** Epoch milliseconds. */
  ts: z.number().int().nonnegative(),
}).strict()

export type IncidentCommand = z.infer<typeof commandSchema>

export type CommandParse = { ok: true; command: IncidentCommand } | { ok: false; reason: string }

/** A record of alerts.commands, or why it is not one (bad input: a DLQ record, never an exception). */
export function parseIncidentCommand(value: Buffer | string | null): CommandParse {
  if (value == null) return { ok: false, reason: 'empty record' }
  let document: unknown
  try {
    document = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'))
  } catch {
    return { ok: false, reason: 'not JSON' }
  }
  return checkIncidentCommand(document)
}

export function checkIncidentCommand(document: unknown): CommandParse {
  const result = commandSchema.safeParse(document)
  if (result.success) return { ok: true, command: result.data }
  return { ok: false, reason: result.error.issues.map((i) => `${i.path.join('.') || '(command)'}: ${i.message}`).join('; ') }
}

/**
 * Publishes one command and waits for the broker's acknowledgement. The command is validated first: a malformed
 * one is a USAGE error for the caller, never a record for the alerter to reject. Returns the command as sent.
 */
export async function publishIncidentCommand(producer: Producer, topics: Pick<TopicNames, 'alertCommands'>, command: { incident_id: string; action: IncidentAction; reason?: string; by: string; ts: number }): Promise<IncidentCommand> {
  const checked = checkIncidentCommand(command)
  if (!checked.ok) throw new SessionwatchError('USAGE', `not an incident command: ${checked.reason}`)
  await sendAll(producer, [{ topic: topics.alertCommands, messages: [{ key: checked.command.incident_id, value: JSON.stringify(checked.command), headers: { 'content-type': 'application/json' } }] }])
  return checked.command
}
