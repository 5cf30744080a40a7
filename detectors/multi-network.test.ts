import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AuthEvent, Detection } from '../schemas/model.js'
import { createDetectionEngine } from './engine.js'
import { runAcrossRestart } from './fixtures.js'
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

test('the issuance network is remembered for the session\'s life, other networks only for the window', () => {
  const late = DEFAULT_MULTI_NETWORK.windowMs + 60 * MIN
  const replayed = run([event({ ts: 0, kind: 'ISSUE', action: 'login' }), event({ ts: late, ...attacker })])
  assert.equal(replayed.at(-1)!.severity, 'page', 'a cookie replayed an hour after the victim went quiet')
  // Past the lifetime and the engine's lateness allowance (5 min here).
  const idle = DEFAULT_MULTI_NETWORK.sessionIdleMs + 10 * MIN
  assert.deepEqual(run([event({ ts: 0 }), event({ ts: idle, ...attacker })]), [], 'a session idle past its lifetime is forgotten')
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

const vpn = { ip: '185.159.157.9', ip_prefix: '185.159.157.0/24', asn: 209103, asn_org: 'Proton AG', country: 'CH', city: 'Zurich', net_flags: ['vpn', 'hosting'] }
const phoneOnCarrier = { ip: '172.58.10.4', ip_prefix: '172.58.10.0/24', asn: 21928, asn_org: 'T-Mobile USA, Inc.', country: 'US', city: 'Salt Lake City' }

test('a commercial VPN switched on mid-session, same browser and device, is recorded only', () => {
  const ds = run([event({ ts: 0 }), event({ ts: MIN, ...vpn }), event({ ts: 2 * MIN, ...vpn })])
  assert.ok(ds.length <= 1)
  assert.ok(ds.every((d) => d.severity === 'info'))
})

test('another browser arriving through a VPN exit still pages', () => {
  const ds = run([event({ ts: 0 }), event({ ts: 5 * MIN, ...vpn, user_agent: 'Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0', ua_family: 'Firefox', device_id: undefined })])
  assert.equal(ds.at(-1)!.severity, 'page')
})

test('a phone flapping between Wi-Fi and its carrier is recorded only, even when the networks alternate', () => {
  const phone = { ua_family: 'Mobile Safari', os_family: 'iOS', device_type: 'mobile', device_id: 'p1' }
  const ds = run([event({ ts: 0, ...phone }), event({ ts: 20_000, ...phone, ...phoneOnCarrier }), event({ ts: 40_000, ...phone }), event({ ts: 60_000, ...phone, ...phoneOnCarrier })])
  assert.ok(ds.every((d) => d.severity === 'info'))
})

test('a dual-stack client alternating its IPv4 and IPv6 prefixes with no ASN known raises nothing', () => {
  const v4 = { asn: null, ip: '73.14.1.10', ip_prefix: '73.14.1.0/24' }
  const v6 = { asn: null, ip: '2601:281:8300:1::5', ip_prefix: '2601:281:8300:1::/64' }
  assert.deepEqual(run([event({ ts: 0, ...v4 }), event({ ts: 10_000, ...v6 }), event({ ts: 20_000, ...v4 }), event({ ts: 30_000, ...v6 })]), [])
})

test('one operator announcing several ASNs (a secure web gateway) is one network', () => {
  const zscaler = (asn: number, third: number) => ({ asn, asn_org: 'ZSCALER, INC.', ip: `165.225.${third}.1`, ip_prefix: `165.225.${third}.0/24` })
  assert.deepEqual(run([event({ ts: 0, ...zscaler(22616, 1) }), event({ ts: 10_000, ...zscaler(53813, 2) }), event({ ts: 20_000, ...zscaler(62044, 3) })]), [])
})

test("the tenant's corporate egress, configured or flagged by the collector, is not an intruder for the same client", () => {
  const office = { ip: '198.51.100.7', ip_prefix: '198.51.100.0/24', asn: 64500, asn_org: 'Acme Corp', country: 'US', city: 'Chicago' }
  const configured = createMultiNetworkDetector({ ...DEFAULT_MULTI_NETWORK, knownNetworks: ['AS64500'] })
  const engine = createDetectionEngine([configured as never], { latenessMs: 5 * MIN, sweepEveryMs: MIN })
  const alternating = [event({ ts: 0 }), event({ ts: 10_000, ...office }), event({ ts: 20_000 }), event({ ts: 30_000, ...office })]
  assert.deepEqual(alternating.flatMap((e) => engine.process(e)), [])
  assert.deepEqual(run(alternating.map((e) => (e.asn === 64500 ? { ...e, net_flags: ['corporate'] } : e))), [])
})

test('service accounts and CI runners calling from many cloud addresses are not judged', () => {
  const ci = (ts: number, asn: number) => event({ ts, ...attacker, subject: 'ci-deploy', token_kind: 'api_key', asn, asn_org: null, ip: `34.1.${asn % 200}.1`, ip_prefix: `34.1.${asn % 200}.0/24`, net_flags: ['hosting'] })
  const history = [ci(0, 16509), ci(10_000, 15169), ci(20_000, 8075)]
  assert.deepEqual(run(history), [])
  assert.ok(run(history.map((e) => ({ ...e, subject: 'u1', token_kind: 'session_cookie' as const }))).length > 0, 'the same traffic on a person is judged')
})

test('a residential proxy copying the user agent and device id, interleaved with the victim on a fixed line, pages', () => {
  const proxy = { ip: '24.8.9.10', ip_prefix: '24.8.9.0/24', asn: 7018, asn_org: 'AT&T Services, Inc.', country: 'US', city: 'Dallas' }
  const interleaved = (ja4: string | undefined) => run([
    event({ ts: 0, ja4: 't13d1516h2_8daaf6152771_b0da82dd1658' }), event({ ts: 20_000, ...proxy, ja4 }),
    event({ ts: 40_000, ja4: 't13d1516h2_8daaf6152771_b0da82dd1658' }), event({ ts: 60_000, ...proxy, ja4 }),
  ])
  const copied = interleaved(undefined).at(-1)!
  assert.equal(copied.severity, 'page')
  assert.ok(copied.evidence.reasons.some((r) => r.includes('fixed lines of different operators')))
  assert.equal(interleaved('t13d1715h2_5b57614c22b0_3d5424432f57').at(-1)!.severity, 'page')
})

test('a phone alternating between home Wi-Fi and its carrier is not taken for a copy', () => {
  const phone = { user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1', ua_family: 'Mobile Safari', os_family: 'iOS', device_type: 'mobile' }
  const carrier = { ip: '172.56.1.2', ip_prefix: '172.56.1.0/24', asn: 21928, asn_org: 'T-Mobile USA, Inc.', country: 'US', city: 'Aurora' }
  const flapping = run([
    event({ ts: 0, ...phone }), event({ ts: 20_000, ...phone, ...carrier }),
    event({ ts: 40_000, ...phone }), event({ ts: 60_000, ...phone, ...carrier }),
  ])
  assert.ok(flapping.every((d) => d.severity !== 'page'))
})

// Places with coordinates, for the moves judged by where a person can be.
const denver = { lat: 39.74, lon: -104.99, geo_accuracy_km: 20 }
const vps = { ip: '167.99.1.2', ip_prefix: '167.99.1.0/24', asn: 14061, asn_org: 'DigitalOcean, LLC', country: 'US', city: 'New York', lat: 40.71, lon: -74.0, net_flags: ['hosting'] }
const moscowDsl = { ip: '95.24.7.8', ip_prefix: '95.24.7.0/24', asn: 12389, asn_org: 'PJSC Rostelecom', country: 'RU', city: 'Moscow', lat: 55.75, lon: 37.62, geo_accuracy_km: 20 }
const login = (over: Partial<AuthEvent> = {}) => event({ kind: 'ISSUE', action: 'login', ...denver, ...over })

test('the same browser and device moving onto a data-centre address that is no VPN pages: a copied session', () => {
  const ds = run([login({ ts: 0 }), event({ ts: 5 * MIN, ...denver }), event({ ts: 40 * MIN, ...vps })])
  const d = ds.at(-1)!
  assert.equal(d.severity, 'page')
  assert.ok(d.evidence.reasons.some((r) => r.includes('data-centre address that is no VPN')))
  assert.equal(d.first_malicious_ts, 40 * MIN)
})

test('a data-centre block many of the tenant\'s users sign in from is learned and excuses the same client', () => {
  const gateway = (i: number) => ({ ...vps, ip: `167.99.1.${10 + i}` })
  // Five colleagues sign in through the gateway block; then our user starts at home and connects it.
  const colleagues = [0, 1, 2, 3, 4].map((i) => login({ ts: i * MIN, subject: `colleague${i}`, session_id: `c${i}`, ...gateway(i) }))
  const ours = [login({ ts: 10 * MIN }), event({ ts: 20 * MIN, ...gateway(9) })]
  assert.deepEqual(run([...colleagues, ...ours]).filter((d) => d.session_id === 's1'), [])
  // Four are not enough to call it the tenant's.
  assert.equal(run([...colleagues.slice(1), ...ours]).filter((d) => d.session_id === 's1').at(-1)!.severity, 'page')
})

test('a network the user signed in from before is learned as theirs, for the same client only', () => {
  const earlier = login({ ts: 0, session_id: 'old', ...vps })
  const today = [login({ ts: 24 * 60 * MIN }), event({ ts: 24 * 60 * MIN + 10 * MIN, ...vps })]
  assert.deepEqual(run([earlier, ...today]).filter((d) => d.session_id === 's1'), [])
  const otherClient = { user_agent: 'python-requests/2.32', ua_family: 'python-requests', os_family: undefined, device_type: 'automation', device_id: undefined }
  const stolen = run([earlier, today[0]!, event({ ts: 24 * 60 * MIN + 10 * MIN, ...vps, ...otherClient })])
  assert.equal(stolen.filter((d) => d.session_id === 's1').at(-1)!.severity, 'page')
})

test('the same client on another country\'s fixed line sooner than a flight asks for a ticket; with time to fly, nothing', () => {
  const jump = run([login({ ts: 0 }), event({ ts: 20 * MIN, ...moscowDsl })]).at(-1)!
  assert.equal(jump.severity, 'ticket')
  assert.ok(jump.evidence.reasons.some((r) => r.includes('sooner than anyone could travel')))
  const flown = run([login({ ts: 0 }), event({ ts: 11 * 60 * MIN, ...moscowDsl })]).at(-1)!
  assert.equal(flown.severity, 'info')
})

test('a desktop browser alternating between a fixed line and a carrier-named operator is a copy, not radio flapping', () => {
  const fixedWireless = { ip: '89.204.9.10', ip_prefix: '89.204.9.0/24', asn: 6805, asn_org: 'Telefonica Germany', country: 'US', city: 'Denver' }
  const ds = run([event({ ts: 0 }), event({ ts: 20_000, ...fixedWireless }), event({ ts: 40_000 }), event({ ts: 60_000, ...fixedWireless })])
  assert.equal(ds.at(-1)!.severity, 'page')
})

test('an anonymous use before the login is judged against the login, not taken for the origin', () => {
  const planted = event({ ts: 0, subject: undefined, ...vps, user_agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', ua_family: 'Firefox', os_family: 'Linux', device_id: undefined })
  const ds = run([planted, login({ ts: 5 * MIN }), event({ ts: 6 * MIN, ...denver })])
  const d = ds.at(-1)!
  assert.equal(d.evidence.prefixes[0], '73.14.1.0/24', 'the login is the origin')
  assert.equal(d.first_malicious_ts, 0)
})

test('learned networks survive a checkpoint and restore', () => {
  const gateway = (i: number) => ({ ...vps, ip: `167.99.1.${10 + i}` })
  const history = [
    ...[0, 1, 2, 3, 4].map((i) => login({ ts: i * MIN, subject: `colleague${i}`, session_id: `c${i}`, ...gateway(i) })),
    login({ ts: 10 * MIN }), event({ ts: 20 * MIN, ...gateway(9) }), event({ ts: 30 * MIN, ...attacker }),
  ]
  const { straight, restarted } = runAcrossRestart(() => createMultiNetworkDetector() as never, history, 5)
  assert.deepEqual(restarted, straight)
  assert.equal(straight.length, 1, 'only the replay with another client, not the gateway')
})
