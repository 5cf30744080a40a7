import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { UseFacts } from '../../detectors/feedback.js'
import { buildFeedback, feedbackRequest, MAX_NOTE_CHARS, type DetectionRow } from './feedback.js'

const evidence = {
  event_ids: ['e-home', 'e-jump'], ips: ['73.14.86.31', '167.99.1.2'], prefixes: ['73.14.86.0/24', '167.99.1.0/24'], asns: [7922, 14061],
  places: ['Denver, US', 'Amsterdam, NL'], user_agents: ['Chrome/131', 'Firefox/133'], times: [1000, 2000], reasons: ['r'],
}
const row: DetectionRow = {
  detection_id: `det_${'a'.repeat(32)}`, detector: 'multi_network', severity: 'page', score: 0.95, subject: 'u1', session_id: 's1', token_fp: '',
  evidence: JSON.stringify(evidence),
}
const uses = new Map<string, UseFacts>([
  ['e-home', { asn: 7922, ip_prefix: '73.14.86.0/24', country: 'US', ua_family: 'Chrome', os_family: 'Windows', device_type: 'desktop', user_agent: 'Chrome/131' }],
  ['e-jump', { asn: 14061, ip_prefix: '167.99.1.0/24', country: 'NL', ua_family: 'Firefox', os_family: 'Linux', device_type: 'desktop', user_agent: 'Firefox/133' }],
])
const request = (over: Record<string, unknown> = {}) => feedbackRequest.parse({ verdict: 'false_positive', ...over })

test('the record carries the detection and its pattern: every use, and the blamed ones apart', () => {
  const built = buildFeedback(row, uses, request({ analyst: 'alice', note: 'jump host' }), 'fb-1', 5000)
  assert.ok(built.ok)
  const r = built.record
  assert.deepEqual([r.detection_id, r.verdict, r.scope, r.analyst, r.note, r.ts, r.subject, r.token_fp], [row.detection_id, 'false_positive', 'user', 'alice', 'jump host', 5000, 'u1', null])
  assert.deepEqual(r.evidence.uses.clients, ['Chrome/Windows/desktop', 'Firefox/Linux/desktop'])
  assert.deepEqual(r.evidence.uses.countries, ['US', 'NL'])
  assert.deepEqual(r.evidence.suspicious, { asns: [14061], prefixes: ['167.99.1.0/24'], countries: ['NL'], clients: ['Firefox/Linux/desktop'], user_agents: ['Firefox/133'] })
})

test('a user-scope verdict on a detection without a subject, and a tenant-wide one without the blamed uses, are refused with the reason', () => {
  const anonymous = buildFeedback({ ...row, subject: '' }, uses, request(), 'fb', 0)
  assert.deepEqual(anonymous.ok ? undefined : [anonymous.status, /no subject/.test(anonymous.error)], [422, true])
  const aged = buildFeedback(row, new Map(), request({ scope: 'tenant' }), 'fb', 0)
  assert.deepEqual(aged.ok ? undefined : [aged.status, /tenant-wide/.test(aged.error)], [422, true])
  assert.ok(buildFeedback(row, new Map(), request({ scope: 'user' }), 'fb', 0).ok, 'a user-scope verdict needs only the detection')
})

test('the request admits only the documented fields, bounded', () => {
  assert.equal(feedbackRequest.safeParse({ verdict: 'benign' }).success, false)
  assert.equal(feedbackRequest.safeParse({ verdict: 'true_positive', admin: true }).success, false)
  assert.equal(feedbackRequest.safeParse({ verdict: 'true_positive', note: 'x'.repeat(MAX_NOTE_CHARS + 1) }).success, false)
  assert.equal(feedbackRequest.safeParse({ verdict: 'true_positive', analyst: 'eve\nforged log line' }).success, false)
  assert.deepEqual(feedbackRequest.parse({ verdict: 'true_positive' }), { verdict: 'true_positive', scope: 'user' })
})
