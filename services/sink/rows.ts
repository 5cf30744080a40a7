import { createHash } from 'node:crypto'
import type { AlertDelivery, AuthEvent, Detection, DetectionFeedback, DlqRecord } from '../../schemas/model.js'
import { chTime } from '../shared/clickhouse.js'

const s = (v: string | null | undefined) => v ?? ''
const t = (v: number | null | undefined) => (v == null ? null : chTime(v))

export function authEventRow(e: AuthEvent) {
  return {
    event_id: e.event_id, kind: e.kind, action: e.action, ts: chTime(e.ts), ingest_ts: chTime(e.ingest_ts),
    source_system: e.source.system, source_tenant: s(e.source.tenant), source_format: s(e.source.format),
    subject: s(e.subject), session_id: s(e.session_id), token_fp: s(e.token_fp), token_kind: s(e.token_kind),
    parent_token_fp: s(e.parent_token_fp), jti: s(e.jti), client_id: s(e.client_id), scopes: e.scopes, amr: e.amr,
    acr: s(e.acr), issued_at: t(e.issued_at), expires_at: t(e.expires_at), revoke_scope: s(e.revoke_scope),
    claims_unverified: e.claims_unverified, ip: s(e.ip), ip_prefix: s(e.ip_prefix), asn: e.asn ?? null,
    asn_org: s(e.asn_org), country: s(e.country), city: s(e.city), lat: e.lat ?? null, lon: e.lon ?? null,
    geo_accuracy_km: e.geo_accuracy_km ?? null, net_flags: e.net_flags, user_agent: s(e.user_agent),
    ua_family: s(e.ua_family), os_family: s(e.os_family), device_type: s(e.device_type), device_id: s(e.device_id),
    ja4: s(e.ja4), dpop_jkt: s(e.dpop_jkt), validator: s(e.validator), method: s(e.method), route: s(e.route),
    status: e.status ?? null, result: s(e.result),
  }
}

export function detectionRow(d: Detection) {
  return {
    detection_id: d.detection_id, detector: d.detector, severity: d.severity, score: d.score, confirmed: d.confirmed,
    subject: s(d.subject), session_id: s(d.session_id), token_fp: s(d.token_fp), route: s(d.route), summary: d.summary,
    event_ids: d.evidence.event_ids, evidence: JSON.stringify(d.evidence),
    first_malicious_ts: chTime(d.first_malicious_ts), detected_ts: chTime(d.detected_ts),
  }
}

export function dlqRow(r: DlqRecord) {
  return {
    dlq_id: createHash('sha256').update(r.origin).update('\n').update(r.code).update('\n').update(r.input).digest('hex').slice(0, 32),
    code: r.code, reason: r.reason, origin: r.origin, format: s(r.format), input: r.input, input_bytes: r.input_bytes, ts: chTime(r.ts),
  }
}

export function alertDeliveryRow(r: AlertDelivery) {
  return {
    delivery_id: r.delivery_id, incident_id: r.incident_id, idempotency_key: r.idempotency_key, detection_id: r.detection_id,
    detector: r.detector, subject: s(r.subject), channel: r.channel, endpoint: r.endpoint, kind: r.kind, action: r.action,
    attempt: r.attempt, outcome: r.outcome, status: r.status ?? null, error: s(r.error), duration_ms: Math.max(0, Math.round(r.duration_ms)), ts: chTime(r.ts),
  }
}

export function feedbackRow(f: DetectionFeedback) {
  return {
    feedback_id: f.feedback_id, detection_id: f.detection_id, verdict: f.verdict, scope: f.scope, analyst: s(f.analyst), note: s(f.note),
    detector: f.detector, detectors: f.detectors, subject: s(f.subject), session_id: s(f.session_id), token_fp: s(f.token_fp),
    detection_score: f.score, detection_severity: f.severity, asns: f.evidence.uses.asns, prefixes: f.evidence.uses.prefixes,
    countries: f.evidence.uses.countries, clients: f.evidence.uses.clients, evidence: JSON.stringify(f.evidence), ts: chTime(f.ts),
  }
}
