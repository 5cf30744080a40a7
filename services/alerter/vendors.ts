// Payloads of the vendor channels, built from a notice. Their shape is checked in unit tests against the JSON
// schemas of the vendors' documented formats under schemas/vendors/.
import type { Detection } from '../../schemas/model.js'
import type { IncidentCommand } from './commands.js'
import type { IncidentState, Notice } from './incident-book.js'
import type { AlertAction } from './policy.js'
import { runbookUrl, timelineUrl } from './payload.js'

const PD_SEVERITY: Record<AlertAction, 'critical' | 'warning' | 'info'> = { page: 'critical', ticket: 'warning', log: 'info' }

const clip = (text: string, max: number) => ([...text].length <= max ? text : [...text].slice(0, max - 1).join('') + '…')

export interface Links {
  timelineBaseUrl: string
  /** Base for runbook links (e.g. the repository's docs on your git host); relative paths when unset. */
  runbookBaseUrl?: string
}

function links(d: Detection, l: Links) {
  const runbook = l.runbookBaseUrl ? `${l.runbookBaseUrl.replace(/\/$/, '')}/${runbookUrl(d)}` : runbookUrl(d)
  return { timeline: timelineUrl(d, l.timelineBaseUrl), runbook }
}

/**
 * PagerDuty Events API v2. dedup_key is the incident id for the trigger and for every update: PagerDuty
 * folds a trigger with the dedup_key of an open alert into that alert (its log), so updates never page again.
 */
export function pagerDutyTrigger(d: Detection, notice: Notice, options: { routingKey: string; source: string } & Links) {
  const l = links(d, options)
  const prefix = notice.kind === 'update' ? `[update ${notice.seq}] ` : ''
  return {
    routing_key: options.routingKey,
    event_action: 'trigger' as const,
    dedup_key: notice.incident.id,
    client: 'sessionwatch',
    client_url: l.timeline,
    payload: {
      summary: clip(`${prefix}${d.detector}: ${d.summary} (${d.subject ?? 'unknown user'})`, 1024),
      source: options.source,
      severity: PD_SEVERITY[notice.action],
      timestamp: new Date(d.detected_ts).toISOString(),
      component: d.detector,
      group: 'session-hijacking',
      class: d.confirmed ? 'confirmed_hijack' : 'suspected_hijack',
      custom_details: {
        incident_id: notice.incident.id, update_seq: notice.seq, detection_id: d.detection_id, score: d.score, confirmed: d.confirmed,
        subject: d.subject ?? null, session_id: d.session_id ?? null, token_fp: d.token_fp ?? null,
        ips: d.evidence.ips, asns: d.evidence.asns, places: d.evidence.places, user_agents: d.evidence.user_agents, reasons: d.evidence.reasons,
        first_malicious_ts: new Date(d.first_malicious_ts).toISOString(),
      },
    },
    links: [{ href: l.timeline, text: 'Timeline' }, { href: l.runbook, text: 'Runbook' }],
  }
}

export function pagerDutyFollowUp(incidentId: string, action: 'acknowledge' | 'resolve', routingKey: string) {
  return { routing_key: routingKey, event_action: action, dedup_key: incidentId }
}

/** Slack's mrkdwn treats &, < and > as markup (<!channel> pings everyone): escape everything we did not write. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function list(values: readonly (string | number)[], max = 6): string {
  if (values.length === 0) return '—'
  const shown = values.slice(0, max).map((v) => `\`${esc(String(v))}\``).join(', ')
  return values.length > max ? `${shown} +${values.length - max}` : shown
}

/** A Slack incoming-webhook message: a header, the facts as fields, the evidence, and the links. */
export function slackMessage(d: Detection, notice: Notice, options: Links) {
  const l = links(d, options)
  const icon = notice.action === 'page' ? ':rotating_light:' : notice.action === 'ticket' ? ':warning:' : ':information_source:'
  const title = notice.kind === 'trigger' ? `${notice.action === 'page' ? 'Session hijack' : 'Suspicious session'}: ${d.subject ?? 'unknown user'}` : `Update ${notice.seq}: ${d.subject ?? 'unknown user'}`
  const header = clip(`${notice.kind === 'trigger' ? '' : '↻ '}${title}`, 150)
  return {
    text: clip(`${icon} ${esc(header)} — ${esc(d.summary)}`, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(`${icon} *${esc(d.detector)}* — ${esc(d.summary)}`, 3000) } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Score*\n${d.score.toFixed(2)}${d.confirmed ? ' (confirmed)' : ''}` },
          { type: 'mrkdwn', text: `*Action*\n${notice.action}${notice.escalated ? ' (escalated)' : ''}` },
          { type: 'mrkdwn', text: clip(`*User*\n${esc(d.subject ?? '—')}`, 2000) },
          { type: 'mrkdwn', text: clip(`*Session*\n${esc(d.session_id ?? d.token_fp ?? '—')}`, 2000) },
        ],
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: clip([
            `*Addresses* ${list(d.evidence.ips)}`,
            `*Networks* ${list(d.evidence.asns.map((a) => `AS${a}`))}`,
            `*Places* ${list(d.evidence.places)}`,
            `*User agents* ${list(d.evidence.user_agents, 3)}`,
            `*Why* ${d.evidence.reasons.length ? esc(d.evidence.reasons.slice(0, 5).join('; ')) : '—'}`,
            `*First malicious event* ${new Date(d.first_malicious_ts).toISOString()}`,
          ].join('\n'), 3000),
        },
      },
      { type: 'section', text: { type: 'mrkdwn', text: clip(`<${l.timeline}|Timeline> · <${l.runbook}|Runbook>`, 3000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(`incident \`${notice.incident.id}\` · detection \`${esc(d.detection_id)}\` · update ${notice.seq}`, 3000) }] },
    ],
    unfurl_links: false,
  }
}

const COMMAND_WORDING: Record<IncidentCommand['action'], { icon: string; done: string }> = {
  acknowledge: { icon: ':eyes:', done: 'Acknowledged' },
  resolve: { icon: ':white_check_mark:', done: 'Resolved' },
}

/** The Slack message of an acknowledge or resolve: a reply in the incident's thread when the Web API is used. */
export function slackCommandMessage(incident: IncidentState, command: IncidentCommand, options: Links) {
  const { icon, done } = COMMAND_WORDING[command.action]
  const timeline = timelineUrl({ subject: incident.subject, session_id: incident.session_id, token_fp: incident.token_fp }, options.timelineBaseUrl)
  const line = `${icon} *${done}* by ${esc(command.by)}${command.reason ? ` — ${esc(command.reason)}` : ''}`
  return {
    text: clip(`${icon} ${done} by ${esc(command.by)}: ${esc(incident.subject ?? 'unknown user')}${command.reason ? ` — ${esc(command.reason)}` : ''}`, 3000),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(`${line}\n*User* ${esc(incident.subject ?? '—')} · <${timeline}|Timeline>`, 3000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(`incident \`${incident.id}\` · ${command.action} at ${new Date(command.ts).toISOString()}`, 3000) }] },
    ],
    unfurl_links: false,
  }
}

/**
 * A message for the Web API method chat.postMessage: the incoming-webhook message plus the channel and, for
 * replies, the parent's `thread_ts` (Slack: "Provide another message's ts value to make this message a reply").
 */
export function slackPostMessage<M extends object>(message: M, channel: string, threadTs?: string): M & { channel: string; thread_ts?: string } {
  return threadTs ? { channel, ...message, thread_ts: threadTs } : { channel, ...message }
}

/** Slack Web API errors worth another try; every other `error` (invalid_auth, channel_not_found, …) will not change. */
const SLACK_RETRIABLE = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'])

export interface SlackPosted {
  channel: string
  ts: string
}

/**
 * chat.postMessage answers HTTP 200 for failures too, with `{"ok": false, "error": "…"}`; success is
 * `{"ok": true, "channel": "C…", "ts": "1503435956.000247", "message": {…}}`, and `ts` names the message for
 * thread replies.
 */
export function inspectSlackApi(_status: number, body: string): { ok: true; value: SlackPosted } | { ok: false; error: string; retriable: boolean } {
  let answer: { ok?: unknown; error?: unknown; channel?: unknown; ts?: unknown }
  try {
    answer = JSON.parse(body)
  } catch {
    return { ok: false, error: 'answer is not JSON', retriable: true }
  }
  if (answer.ok !== true) {
    const error = typeof answer.error === 'string' ? answer.error : 'ok is not true'
    return { ok: false, error: `slack ${error}`, retriable: SLACK_RETRIABLE.has(error) }
  }
  if (typeof answer.ts !== 'string' || typeof answer.channel !== 'string') return { ok: false, error: 'answer has no channel and ts', retriable: false }
  return { ok: true, value: { channel: answer.channel, ts: answer.ts } }
}
