import type { Detection } from '../../schemas/model.js'
import { incidentId } from './incident.js'

/** The generic webhook body (documented in README "Receiving alerts"). */
export function webhookPayload(d: Detection, timelineBaseUrl: string) {
  const timeline = d.session_id
    ? `${timelineBaseUrl}/v1/timeline/session/${encodeURIComponent(d.session_id)}`
    : d.token_fp
      ? `${timelineBaseUrl}/v1/timeline/token/${encodeURIComponent(d.token_fp)}`
      : `${timelineBaseUrl}/v1/timeline/user/${encodeURIComponent(d.subject ?? '')}`
  return {
    version: 1,
    incident_id: incidentId(d),
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
    timeline_url: timeline,
    runbook_url: `docs/runbooks/${d.detector}.md`,
  }
}
