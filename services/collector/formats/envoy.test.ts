import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fixturePath } from '../../../test/support/paths.js'
import { createEnvoyFormat } from './envoy.js'
import type { DraftEvent, ParseResult } from './types.js'

const lines = (file: string) => readFileSync(fixturePath('formats', 'envoy', file), 'utf8').split('\n').filter(Boolean)
const json = lines('istio-json.ndjson')
const JWT_A = JSON.parse(json[0]!).authorization.slice('Bearer '.length) as string

function only(result: ParseResult): DraftEvent {
  assert.ok(result.ok, result.ok ? '' : `${result.code}: ${result.reason}`)
  assert.equal(result.events.length, 1)
  return result.events[0]!
}

test('an Istio-style JSON line with a bearer token becomes a VALIDATE request event carrying the raw token', () => {
  const event = only(createEnvoyFormat().parse(json[0]!))
  assert.equal(event.kind, 'VALIDATE')
  assert.equal(event.action, 'request')
  assert.equal(event.ts, Date.parse('2026-11-20T10:15:02.120Z'))
  assert.equal(event.token, JWT_A)
  assert.equal(event.token_kind, 'access')
  assert.equal(event.method, 'GET')
  assert.equal(event.route, '/api/inbox/{id}')
  assert.equal(event.status, 200)
  assert.equal(event.result, 'OK')
  assert.equal(event.ip, '203.0.113.7')
  assert.equal(event.validator, 'outbound|8080||inbox.prod.svc.cluster.local')
  assert.equal(event.event_id, 'envoy:7c3e1b7a-2f4d-4c0e-9a51-3d8f6b2e1c90')
  assert.match(event.user_agent!, /^Mozilla\/5\.0 \(Macintosh/)
  assert.deepEqual(event.source, { system: 'envoy', format: 'envoy' })
})

test('a request without any credential is accepted and skipped', () => {
  assert.deepEqual(createEnvoyFormat().parse(json[1]!), { ok: true, events: [] })
})

test('a 401 whose response details say the JWT expired is EXPIRED, not merely INVALID', () => {
  const event = only(createEnvoyFormat().parse(json[2]!))
  assert.equal(event.status, 401)
  assert.equal(event.result, 'EXPIRED')
  assert.equal(event.route, '/api/orders/{id}')
  assert.equal(event.ip, '198.51.100.23')
  assert.equal(event.validator, 'envoy', 'no upstream cluster on a local reply: the format name stands in')
})

test('a DPoP-bound token answered with 403 is DENIED', () => {
  const event = only(createEnvoyFormat().parse(json[3]!))
  assert.equal(event.token, JWT_A)
  assert.equal(event.token_kind, 'access')
  assert.equal(event.method, 'DELETE')
  assert.equal(event.route, '/api/admin/users/{id}')
  assert.equal(event.result, 'DENIED')
})

test('a token in the query string is taken as the credential and never reaches the route', () => {
  const event = only(createEnvoyFormat().parse(json[4]!))
  assert.equal(event.token, JWT_A)
  assert.equal(event.route, '/api/export')
  for (const [key, value] of Object.entries(event)) {
    if (key !== 'token') assert.ok(!JSON.stringify(value ?? '').includes(JWT_A.slice(0, 40)), `${key} leaks the token`)
  }
})

test('Basic authentication alone is not a session credential and is skipped', () => {
  assert.deepEqual(createEnvoyFormat().parse(json[5]!), { ok: true, events: [] })
})

test('a session cookie among other cookies is the credential, with the device id header and an IPv6 peer without port', () => {
  const event = only(createEnvoyFormat().parse(json[6]!))
  assert.equal(event.token, 's%3Aq8Zt1VhYcN2pR7wLx0aB.4Jk9mQeTf3uGvW6yHs1zD8cXoPn5rLbA')
  assert.equal(event.token_kind, 'session_cookie')
  assert.equal(event.device_id, 'd-5e0a')
  assert.equal(event.ip, '2001:db8:4::17')
  assert.equal(event.route, '/account/settings')
})

test('configured session cookies replace the default list, and a value too short to be a secret is not one', () => {
  const event = only(createEnvoyFormat({ sessionCookies: ['_ga'] }).parse(json[6]!))
  assert.equal(event.token, 'GA1.2.1234567890.1795169000')
  assert.equal(event.token_kind, 'session_cookie')
  assert.deepEqual(createEnvoyFormat({ sessionCookies: ['theme'] }).parse(json[6]!), { ok: true, events: [] })
})

test('the client address follows the configured trust: the peer, or the hop before N trusted proxies', () => {
  assert.equal(only(createEnvoyFormat({ clientAddress: 'remote' }).parse(json[0]!)).ip, '10.1.0.4')
  assert.equal(only(createEnvoyFormat({ clientAddress: { trustedHops: 1 } }).parse(json[0]!)).ip, '10.1.0.4')
  assert.equal(only(createEnvoyFormat({ clientAddress: { trustedHops: 2 } }).parse(json[0]!)).ip, '203.0.113.7')
})

test('a JA4 fingerprint the operator logged is carried when it has the JA4 shape, and dropped otherwise', () => {
  const line = JSON.parse(json[0]!)
  line.tls_ja4_fingerprint = 't13d1516h2_8daaf6152771_b186095e22b6'
  assert.equal(only(createEnvoyFormat().parse(JSON.stringify(line))).ja4, 't13d1516h2_8daaf6152771_b186095e22b6')
  line.tls_ja4_fingerprint = 'Bearer ' + JWT_A
  assert.equal(only(createEnvoyFormat().parse(JSON.stringify(line))).ja4, undefined)
})

test('a configured validator name wins over the upstream cluster', () => {
  assert.equal(only(createEnvoyFormat({ validator: 'edge-2' }).parse(json[0]!)).validator, 'edge-2')
})

test('a CRI-O/containerd line is unwrapped, and a partial (P) line is rejected instead of misread', () => {
  const [full, partial] = lines('containerd.txt')
  const event = only(createEnvoyFormat().parse(full!))
  assert.equal(event.token, JWT_A)
  assert.equal(event.ts, Date.parse('2026-11-20T10:15:02.120Z'), 'the record time, not the runtime time')
  const rejected = createEnvoyFormat().parse(partial!)
  assert.equal(rejected.ok, false)
  assert.equal(!rejected.ok && rejected.code, 'UNPARSEABLE')
})

test('a Docker json-file entry is unwrapped, and a split (no trailing newline) entry is rejected', () => {
  const [full, partial] = lines('docker-json-file.ndjson')
  assert.equal(only(createEnvoyFormat().parse(full!)).route, '/api/inbox/{id}')
  const rejected = createEnvoyFormat().parse(partial!)
  assert.equal(!rejected.ok && rejected.code, 'UNPARSEABLE')
})

test('the default text format with an appended Authorization field yields the same event as JSON', () => {
  const format = createEnvoyFormat({ extraFields: ['%REQ(AUTHORIZATION)%', '%RESP(WWW-AUTHENTICATE)%'] })
  const [ok, probe, expired] = lines('default-text.txt')
  const event = only(format.parse(ok!))
  assert.equal(event.token, JWT_A)
  assert.equal(event.ts, Date.parse('2026-11-20T10:15:02.120Z'))
  assert.equal(event.route, '/api/inbox/{id}')
  assert.equal(event.status, 200)
  assert.equal(event.ip, '203.0.113.7')
  assert.equal(event.event_id, 'envoy:7c3e1b7a-2f4d-4c0e-9a51-3d8f6b2e1c90')
  assert.deepEqual(format.parse(probe!), { ok: true, events: [] })
  const late = only(format.parse(expired!))
  assert.equal(late.result, 'EXPIRED', 'RFC 6750 error="invalid_token" with an "expired" description')
  assert.equal(late.method, 'POST')
})

test('the default text format without extra fields carries no credential, so every line is skipped', () => {
  assert.deepEqual(createEnvoyFormat().parse(lines('default-text.txt')[0]!), { ok: true, events: [] })
})

test('malformed lines are rejected with their reason: bad JSON, missing start_time, unreadable time, not an object', () => {
  const [truncated, noTime, badTime, array] = lines('rejects.txt')
  const format = createEnvoyFormat()
  const codes = [truncated, noTime, badTime, array].map((l) => format.parse(l!))
  assert.deepEqual(
    codes.map((r) => (r.ok ? 'ok' : r.code)),
    ['BAD_JSON', 'MISSING_FIELD', 'BAD_FIELD', 'NOT_AN_OBJECT'],
  )
  assert.match(!codes[1]!.ok ? codes[1]!.reason : '', /start_time/)
})

test('a line longer than the limit is rejected before parsing', () => {
  const result = createEnvoyFormat({ maxLineLength: 1024 }).parse(json[0]! + ' '.repeat(1024))
  assert.equal(!result.ok && result.code, 'LINE_TOO_LONG')
})

test('unknown options are a configuration error at factory time', () => {
  assert.throws(() => createEnvoyFormat({ sessionCookie: ['x'] } as never), /envoy format options/)
  assert.throws(() => createEnvoyFormat({ apiKeyHeaders: ['bad header'] }), /apiKeyHeaders/)
})

test('lines of many json_format dictionaries, interleaved, each read by their own key spellings', () => {
  const envoy = createEnvoyFormat()
  // Twelve dictionaries (more than the parser keeps worked out at once), each spelling the path its own way.
  const spellings = ['path', ':path', 'PATH', 'x-envoy-original-path', '%REQ(:PATH)%', 'request_path']
  const dictionaries = spellings.flatMap((pathKey, i) => [
    { start_time: '2026-11-20T10:15:02.120Z', method: 'GET', [pathKey]: `/d${i}/a`, response_code: 200, authorization: 'Bearer tok-abcdefgh' },
    { authorization: 'Bearer tok-abcdefgh', [pathKey]: `/d${i}/b`, start_time: '2026-11-20T10:15:02.120Z', response_code: 401 },
  ])
  for (let round = 0; round < 3; round++) {
    for (const [i, d] of dictionaries.entries()) {
      const event = only(envoy.parse(JSON.stringify(d)))
      assert.equal(event.route, `/d${i >> 1}/${i % 2 ? 'b' : 'a'}`)
      assert.equal(event.status, i % 2 ? 401 : 200)
    }
  }
})

test('when two keys of a line fold to one name, the later one is read', () => {
  const envoy = createEnvoyFormat()
  const event = only(envoy.parse(JSON.stringify({ start_time: '2026-11-20T10:15:02.120Z', ':path': '/first', PATH: '/second', authorization: 'Bearer tok-abcdefgh' })))
  assert.equal(event.route, '/second')
  const extraKey = only(envoy.parse(JSON.stringify({ start_time: '2026-11-20T10:15:02.120Z', ':path': '/first', PATH: '/second', authorization: 'Bearer tok-abcdefgh', 'x-path': '/x' })))
  assert.equal(extraKey.route, '/second')
  const fewerKeys = only(envoy.parse(JSON.stringify({ start_time: '2026-11-20T10:15:02.120Z', ':path': '/first', authorization: 'Bearer tok-abcdefgh' })))
  assert.equal(fewerKeys.route, '/first')
})
