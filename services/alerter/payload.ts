import type { Detection } from '../../schemas/model.js'
import { incidentId } from './incident.js'
import type { IncidentCommand } from './commands.js'
import type { IncidentState, Notice } from './incident-book.js'

/** Where the api serves the timeline of what a detection (or an incident) is about. */
export function timelineUrl(d: { subject?: string | null; session_id?: string | null; token_fp?: string | null }, timelineBaseUrl: string): string {
  return d.session_id
    ? `${timelineBaseUrl}/v1/timeline/session/${encodeURIComponent(d.session_id)}`
    : d.token_fp
      ? `${timelineBaseUrl}/v1/timeline/token/${encodeURIComponent(d.token_fp)}`
      : `${timelineBaseUrl}/v1/timeline/user/${encodeURIComponent(d.subject ?? '')}`
}

export function runbookUrl(d: Detection): string {
  return `docs/runbooks/${d.detector}.md`
}

/**
 * The generic webhook body (documented in README "Receiving alerts" and docs/alerting.md). Version 1 fields
 * are unchanged; `event`, `update_seq`, `action`, `privileged` and `escalated` were added with incident
 * updates (receivers that ignore unknown fields keep working).
 */
export function webhookPayload(d: Detection, timelineBaseUrl: string, notice?: Notice, privileged = false) {
  return {
    version: 1,
    incident_id: notice?.incident.id ?? incidentId(d),
    event: notice?.kind ?? 'trigger',
    update_seq: notice?.seq ?? 0,
    action: notice?.action ?? (d.severity === 'info' ? 'log' : d.severity),
    escalated: notice?.escalated ?? false,
    privileged,
    detection_id: d.detection_id,
    detector: d.detector,
    severity: d.severity,
    score: d.score,
    confirmed: d.confirmed,
    subject: d.subject ?? null,
    session_id: d.session_id ?? null,
    token_fp: d.token_fp ?? null,
    summary: d.summary,
    evidence: {
      ...d.evidence,
      times: d.evidence.times.map((t) => new Date(t).toISOString()),
    },
    first_malicious_ts: new Date(d.first_malicious_ts).toISOString(),
    detected_ts: new Date(d.detected_ts).toISOString(),
    timeline_url: timelineUrl(d, timelineBaseUrl),
    runbook_url: runbookUrl(d),
  }
}

/**
 * The generic webhook body of an acknowledge or resolve (docs/alerting.md): no detection, the incident and who
 * did what. Idempotency key `<incident id>:<action>`.
 */
export function webhookCommandPayload(incident: IncidentState, command: IncidentCommand, timelineBaseUrl: string) {
  return {
    version: 1,
    incident_id: incident.id,
    event: command.action,
    by: command.by,
    reason: command.reason,
    ts: new Date(command.ts).toISOString(),
    subject: incident.subject,
    session_id: incident.session_id ?? null,
    token_fp: incident.token_fp ?? null,
    timeline_url: timelineUrl({ subject: incident.subject, session_id: incident.session_id, token_fp: incident.token_fp }, timelineBaseUrl),
  }
}
