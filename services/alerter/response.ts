// Automated response to an incident, once per incident: RFC 7009 token revocation, IdP HTTP actions from
// templates, and SSF/CAEP session-revoked events pushed per RFC 8935. In monitor mode nothing is called: the
// alerter records what it would have done. Every successful revocation is fed back as a REVOKE AuthEvent.
import { createHash } from 'node:crypto'
import type { AuthEvent, Detection } from '../../schemas/model.js'
import type { Endpoint, HttpRequest } from './delivery.js'
import type { Notice } from './incident-book.js'
import type { AlertPolicy } from './policy.js'
import { createSetSigner, SET_CONTENT_TYPE } from './ssf.js'

type Response = AlertPolicy['response']

export interface ResponseAction {
  endpoint: Endpoint
  /** A successful call revokes the session or token (fed back to auth.revoke). */
  revokes: boolean
  request(d: Detection, notice: Notice): HttpRequest
}

const TEMPLATE_FIELDS = ['subject', 'session_id', 'token_fp', 'incident_id', 'detection_id'] as const

function values(d: Detection, notice: Notice): Record<(typeof TEMPLATE_FIELDS)[number], string> {
  return { subject: d.subject ?? '', session_id: d.session_id ?? '', token_fp: d.token_fp ?? '', incident_id: notice.incident.id, detection_id: d.detection_id }
}

/**
 * `{subject}`, `{session_id}`, `{token_fp}`, `{incident_id}`, `{detection_id}`: percent-encoded in URLs,
 * JSON-string-escaped in bodies, so a crafted subject can neither change the path nor the JSON structure.
 */
export function fillTemplate(template: string, vars: Record<string, string>, escape: (v: string) => string): string {
  return template.replace(/\{(subject|session_id|token_fp|incident_id|detection_id)\}/g, (_m, name: string) => escape(vars[name] ?? ''))
}

const jsonEscape = (v: string) => JSON.stringify(v).slice(1, -1)

export function createResponseActions(response: Response, options: { ssfSigningKeyPem?: string; now: () => number }): ResponseAction[] {
  const actions: ResponseAction[] = []
  const r = response.revocation
  if (r) {
    const basic = 'Basic ' + Buffer.from(`${encodeURIComponent(r.client_id)}:${encodeURIComponent(r.client_secret)}`).toString('base64')
    actions.push({
      endpoint: { name: 'rfc7009', channel: 'rfc7009', secrets: [r.client_secret, basic] },
      revokes: true,
      // RFC 7009 §2.1: application/x-www-form-urlencoded `token` and optional `token_type_hint`, with client
      // authentication (here HTTP Basic, RFC 6749 §2.3.1). A 200 means revoked or already invalid (§2.2).
      request(d, notice) {
        const form = new URLSearchParams({ token: (r.token === 'token_fp' ? d.token_fp : d.session_id) ?? d.session_id ?? d.token_fp ?? '' })
        if (r.token_type_hint) form.set('token_type_hint', r.token_type_hint)
        return { method: 'POST', url: r.url, body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic, 'idempotency-key': `${notice.incident.id}:rfc7009` } }
      },
    })
  }
  for (const a of response.http_actions) {
    actions.push({
      endpoint: { name: a.name, channel: 'http_action', secrets: Object.values(a.headers).filter((v) => v.length >= 8) },
      revokes: a.revokes,
      request(d, notice) {
        const vars = values(d, notice)
        const headers: Record<string, string> = { 'idempotency-key': `${notice.incident.id}:${a.name}`, ...a.headers }
        if (a.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
        return { method: a.method, url: fillTemplate(a.url, vars, encodeURIComponent), headers, body: a.body === undefined ? undefined : fillTemplate(a.body, vars, jsonEscape) }
      },
    })
  }
  const ssf = response.ssf
  if (ssf && ssf.receivers.length > 0) {
    if (!options.ssfSigningKeyPem) throw new Error('response.ssf needs a signing key: set SW_SSF_SIGNING_KEY_FILE')
    const signer = createSetSigner({ pem: options.ssfSigningKeyPem, issuer: ssf.issuer, now: options.now })
    for (const receiver of ssf.receivers) {
      actions.push({
        endpoint: { name: `ssf-${receiver.name}`, channel: 'ssf', secrets: receiver.authorization ? [receiver.authorization] : [] },
        revokes: false,
        request(d, notice) {
          const set = signer.sessionRevoked({
            // Deterministic per incident and receiver: a redelivered SET has the same jti (RFC 8935 §2: the
            // receiver uses jti to drop duplicates).
            jti: createHash('sha256').update(`${notice.incident.id}\u0000${receiver.name}`).digest('hex').slice(0, 32),
            audience: receiver.audience, subject: d.subject ?? null, sessionId: d.session_id ?? null,
            eventTimestampMs: d.detected_ts, reason: `${d.detector}: ${d.summary}`,
          })
          const headers: Record<string, string> = { 'content-type': SET_CONTENT_TYPE, accept: 'application/json' }
          if (receiver.authorization) headers.authorization = receiver.authorization
          return { method: 'POST', url: receiver.url, headers, body: set }
        },
      })
    }
  }
  return actions
}

/** Whether an incident's notice calls for the response actions. */
export function wantsResponse(response: Response, d: Detection, notice: Notice): boolean {
  const w = response.when
  return !notice.incident.responded && w.actions.includes(notice.action) && (!w.confirmed || d.confirmed) && d.score >= w.min_score
}

/**
 * The REVOKE event a successful automated revocation is fed back as. Its id is deterministic per incident and
 * action, so a revocation repeated after a restart is one event in ClickHouse.
 */
export function revokeEvent(d: Detection, incidentId: string, actionName: string, nowMs: number): AuthEvent {
  return {
    event_id: 'sw_revoke_' + createHash('sha256').update(`${incidentId}\u0000${actionName}`).digest('hex').slice(0, 32),
    kind: 'REVOKE', action: 'auto_revoke', ts: nowMs, ingest_ts: nowMs,
    source: { system: 'sessionwatch', tenant: null, format: `alerter:${actionName}` },
    subject: d.subject ?? null, session_id: d.session_id ?? null, token_fp: d.token_fp ?? null,
    revoke_scope: d.session_id ? 'session' : d.token_fp ? 'token' : 'user',
    scopes: [], amr: [], claims_unverified: false, net_flags: [],
  }
}
