import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AuthEvent, Detection } from '../schemas/model.js'
import { createDetectionEngine } from './engine.js'
import { createMultiNetworkDetector, DEFAULT_MULTI_NETWORK } from './multi-network.js'

const MIN = 60_000
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
let n = 0

function event(over: Partial<AuthEvent>): AuthEvent {
  return {
    event_id: `e${++n}`, kind: 'VALIDATE', action: 'request', ts: 0, ingest_ts: 0, source: { system: 'test' },
    subject: 'u1', session_id: 's1', token_fp: 'tfp_1', scopes: [], amr: [], net_flags: [], claims_unverified: false,
    ip: '73.14.1.10', ip_prefix: '73.14.1.0/24', asn: 7922, country: 'US', city: 'Denver',
    user_agent: CHROME, ua_family: 'Chrome', os_family: 'Windows', device_type: 'desktop', device_id: 'd1', result: 'OK',
    ...over,
  }
}

const attacker = { ip: '167.99.1.2', ip_prefix: '167.99.1.0/24', asn: 14061, country: 'NL', city: 'Amsterdam', user_agent: 'python-requests/2.32', ua_family: 'python-requests', os_family: undefined, device_type: 'automation', device_id: undefined }

function run(events: AuthEvent[]): Detection[] {
  const engine = createDetectionEngine([createMultiNetworkDetector() as never], { latenessMs: 5 * MIN, sweepEveryMs: MIN })
  return events.flatMap((e) => engine.process(e))
}

test('a session used from one network raises nothing', () => {
  assert.deepEqual(run([event({ ts: 0 }), event({ ts: MIN }), event({ ts: 2 * MIN, ip: '73.14.1.99' })]), [])
})

test('a stolen cookie replayed from another network with another client pages, confirmed', () => {
  const ds = run([event({ ts: 0, kind: 'ISSUE', action: 'login' }), event({ ts: MIN }), event({ ts: 5 * MIN, ...attacker })])
  assert.equal(ds.length, 1)
  const d = ds[0]!
  assert.equal(d.severity, 'page')
  assert.equal(d.confirmed, true)
  assert.equal(d.session_id, 's1')
  assert.equal(d.first_malicious_ts, 5 * MIN)
  assert.deepEqual(d.evidence.asns, [7922, 14061])
  assert.ok(d.evidence.reasons.includes('different client (browser, OS or device type)'))
})

test('the same client and device moving to another provider (a handover) is only recorded, never paged', () => {
  const ds = run([event({ ts: 0 }), event({ ts: 10 * MIN, ip: '71.167.2.3', ip_prefix: '71.167.2.0/24', asn: 701 })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'info')
  assert.equal(ds[0]!.confirmed, false)
})

test('addresses changing inside one provider are one network', () => {
  assert.deepEqual(run([event({ ts: 0 }), event({ ts: MIN, ip: '73.99.5.5', ip_prefix: '73.99.5.0/24' })]), [])
})

test('IPv6 privacy addresses rotating inside one /48 are one network when no ASN is known', () => {
  const v6 = (ts: number, prefix: string) => event({ ts, asn: null, ip: prefix.replace('::/64', '::1'), ip_prefix: prefix })
  assert.deepEqual(run([v6(0, '2001:db8:1:a::/64'), v6(MIN, '2001:db8:1:b::/64')]), [])
  assert.equal(run([v6(0, '2001:db8:1:a::/64'), v6(MIN, '2001:db9:7:b::/64')]).length, 1)
})

test('uses further apart than the window are not compared', () => {
  const late = DEFAULT_MULTI_NETWORK.windowMs + MIN
  assert.deepEqual(run([event({ ts: 0 }), event({ ts: late, ...attacker })]), [])
})

test('alternating between two networks scores above a single switch', () => {
  const single = run([event({ ts: 0 }), event({ ts: MIN, ...attacker, ua_family: 'Chrome', os_family: 'Windows', device_type: 'desktop', user_agent: CHROME, device_id: 'd1', country: 'US' })])
  const alternating = run([
    event({ ts: 0 }),
    event({ ts: MIN, ...attacker, ua_family: 'Chrome', os_family: 'Windows', device_type: 'desktop', user_agent: CHROME, device_id: 'd1', country: 'US' }),
    event({ ts: MIN + 10_000 }),
    event({ ts: MIN + 20_000, ...attacker, ua_family: 'Chrome', os_family: 'Windows', device_type: 'desktop', user_agent: CHROME, device_id: 'd1', country: 'US' }),
  ])
  assert.ok(alternating.at(-1)!.score > single[0]!.score)
  assert.ok(alternating.at(-1)!.evidence.reasons.some((r) => r.includes('concurrent')))
})

test('rejected presentations and revocations are not counted as use', () => {
  assert.deepEqual(run([event({ ts: 0 }), event({ ts: MIN, ...attacker, result: 'REVOKED' }), event({ ts: 2 * MIN, ...attacker, kind: 'REVOKE' })]), [])
})

test('a replay of the same history yields the same detection ids, once per incident', () => {
  const history = [event({ ts: 0 }), event({ ts: 5 * MIN, ...attacker }), event({ ts: 6 * MIN, ...attacker })]
  const first = run(history)
  const second = run(history)
  assert.deepEqual(first.map((d) => d.detection_id), second.map((d) => d.detection_id))
  assert.equal(new Set(first.map((d) => d.detection_id)).size, 1)
})
