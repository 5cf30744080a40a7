import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fixturePath } from '../../../test/support/paths.js'
import { createGatewayFormats, GATEWAY_FORMAT_NAMES } from './gateway.js'
import {
  clientAddress,
  parseClfTime,
  parseTimestamp,
  readCookies,
  readCredential,
  readJsonLine,
  resolveGatewayOptions,
  resultFromStatus,
  splitLogFields,
  templateRoute,
  unwrapContainerLine,
} from './gateway-common.js'
import { TOKEN_KINDS, VALIDATE_RESULTS } from '../../../schemas/model.js'
import { REJECT_CODES, type LogFormat } from './types.js'

const defaults = resolveGatewayOptions('test', {}, {}).common
const headers = (h: Record<string, string>) => (name: string) => h[name]

test('routes are templated: ids collapse to {id}, queries, fragments, authorities and ;params go', () => {
  const cases: [string, string | undefined][] = [
    ['/api/inbox/48213?view=full', '/api/inbox/{id}'],
    ['/api/orders/9f1c2e4a-5b6d-4e7f-8a9b-0c1d2e3f4a5b/items/3', '/api/orders/{id}/items/{id}'],
    ['/blobs/5f3a9c2e1b4d5f6a8b0c1d2e', '/blobs/{id}'],
    ['/users/alice@example.com/profile', '/users/{id}/profile'],
    ['/reset/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln', '/reset/{id}'],
    ['/files/01JD8X7ZK9Q4V3N2M1P0R5S6T7', '/files/{id}'],
    ['/shop/cart;jsessionid=7F3A9C2E1B4D5F6A#top', '/shop/cart'],
    ['https://api.acme.example:8443/v1/me?access_token=abc', '/v1/me'],
    ['http://user:pass@host', '/'],
    ['/v2/reports/2026-11', '/v2/reports/2026-11'],
    ['/static/app.css', '/static/app.css'],
    ['*', '*'],
    ['\u0016\u0003\u0001', undefined],
    ['', undefined],
  ]
  for (const [target, route] of cases) assert.equal(templateRoute(target), route, target)
})

test('Common Log Format times honour their UTC offset', () => {
  assert.equal(parseClfTime('10/Oct/2000:13:55:36 -0700'), Date.parse('2000-10-10T20:55:36Z'))
  assert.equal(parseClfTime('20/Nov/2026:11:15:02 +0100'), Date.parse('2026-11-20T10:15:02Z'))
  assert.equal(parseClfTime('20/Nov/2026:11:15:02.250 +0530'), Date.parse('2026-11-20T05:45:02.250Z'))
  assert.equal(parseClfTime('20/Foo/2026:11:15:02 +0100'), undefined)
})

test('epoch times are read in seconds, ms, µs or ns by magnitude; RFC 3339 with nanoseconds too', () => {
  const ms = Date.parse('2026-11-20T10:15:02.120Z')
  for (const value of [ms / 1000, ms, ms * 1000, ms * 1e6, String(ms / 1000), '2026-11-20T10:15:02.120123456Z', '2026-11-20T11:15:02.12+01:00']) {
    assert.equal(parseTimestamp(value), ms, String(value))
  }
  for (const value of ['0001-01-01T00:00:00Z', 'yesterday', '1', -5, Number.NaN, {}, null]) assert.equal(parseTimestamp(value), undefined, String(value))
})

test('cookies: wanted names only, case-sensitive, first occurrence wins, quotes removed', () => {
  const found = readCookies('a=1; SID=upper; sid="q8Zt1VhY"; sid=second; JSESSIONID=abc=def', new Set(['sid', 'JSESSIONID']))
  assert.deepEqual(found && Object.fromEntries(found), { sid: 'q8Zt1VhY', JSESSIONID: 'abc=def' })
  assert.equal(readCookies('theme=dark', new Set(['sid'])), undefined)
})

test('client address: first X-Forwarded-For hop, the peer, or the hop before N trusted proxies', () => {
  const xff = '203.0.113.7:4711, 198.51.100.2, 10.0.0.4'
  assert.equal(clientAddress(xff, '10.0.0.9:5555', 'xff-first'), '203.0.113.7')
  assert.equal(clientAddress(xff, '10.0.0.9:5555', 'remote'), '10.0.0.9')
  assert.equal(clientAddress(xff, '10.0.0.9:5555', { trustedHops: 0 }), '10.0.0.9')
  assert.equal(clientAddress(xff, '10.0.0.9:5555', { trustedHops: 2 }), '198.51.100.2')
  assert.equal(clientAddress(xff, '10.0.0.9', { trustedHops: 9 }), '203.0.113.7')
  assert.equal(clientAddress('unknown, garbage', '[2001:db8::1]:443', 'xff-first'), '2001:db8::1')
  assert.equal(clientAddress(undefined, 'unix:///var/run/envoy.sock', 'xff-first'), undefined)
})

test('status tells the result: 2xx/3xx OK, 401 INVALID or EXPIRED, 403 DENIED, others unknown', () => {
  assert.equal(resultFromStatus(204), 'OK')
  assert.equal(resultFromStatus(302), 'OK')
  assert.equal(resultFromStatus(401), 'INVALID')
  assert.equal(resultFromStatus(401, { wwwAuthenticate: 'Bearer realm="api", error="invalid_token", error_description="The access token expired"' }), 'EXPIRED')
  assert.equal(resultFromStatus(401, { wwwAuthenticate: 'Bearer error="invalid_token", error_description="signature mismatch"' }), 'INVALID')
  assert.equal(resultFromStatus(401, { detail: 'jwt_authn_access_denied{Jwt_is_expired}' }), 'EXPIRED')
  assert.equal(resultFromStatus(403), 'DENIED')
  assert.equal(resultFromStatus(440), 'EXPIRED')
  assert.equal(resultFromStatus(404), undefined)
  assert.equal(resultFromStatus(502), undefined)
  assert.equal(resultFromStatus(undefined), undefined)
})

test('credential priority: Authorization, then session cookie, then API key header, then query string', () => {
  const both = readCredential({ header: headers({ authorization: 'Bearer at-0123456789', cookie: 'sid=ck-0123456789', 'x-api-key': 'ak-0123456789' }) }, defaults)
  assert.deepEqual(both, { token: 'at-0123456789', token_kind: 'access' })
  const basic = readCredential({ header: headers({ authorization: 'Basic YWxpY2U6d29uZGVy', cookie: 'sid=ck-0123456789' }) }, defaults)
  assert.deepEqual(basic, { token: 'ck-0123456789', token_kind: 'session_cookie' })
  const redacted = readCredential({ header: headers({ authorization: 'REDACTED', 'x-api-key': 'ak-0123456789' }) }, defaults)
  assert.deepEqual(redacted, { token: 'ak-0123456789', token_kind: 'api_key' })
  const query = readCredential({ header: headers({}), target: '/x?format=csv&access_token=at%2B0123456789' }, defaults)
  assert.deepEqual(query, { token: 'at+0123456789', token_kind: 'access' })
  assert.equal(readCredential({ header: headers({ authorization: 'Basic YWxpY2U6d29uZGVy' }), target: '/x?q=1' }, defaults), undefined)
  assert.equal(readCredential({ header: headers({ authorization: 'Bearer' }) }, defaults), undefined, 'a scheme without a token')
})

test('a configured session-id header and the device header ride along, but only with a credential', () => {
  const o = resolveGatewayOptions('test', { sessionIdHeaders: ['x-session-id'], deviceIdHeader: 'x-client-device' }, {}).common
  const credential = readCredential({ header: headers({ authorization: 'DPoP at-0123456789', 'x-session-id': 's-9c1e', 'x-client-device': 'd-5e0a' }) }, o)
  assert.deepEqual(credential, { token: 'at-0123456789', token_kind: 'access', session_id: 's-9c1e', device_id: 'd-5e0a' })
})

test('log fields split into words, [brackets] and "quotes" that close only before a space', () => {
  assert.deepEqual(splitLogFields('1.2.3.4 - - [20/Nov/2026:10:15:02 +0000] "GET / HTTP/1.1" 200 "Bearer error="invalid_token", error_description="expired"" "\\x22x\\x22"'), [
    '1.2.3.4',
    '-',
    '-',
    '20/Nov/2026:10:15:02 +0000',
    'GET / HTTP/1.1',
    '200',
    'Bearer error="invalid_token", error_description="expired"',
    '"x"',
  ])
  assert.equal(splitLogFields('"unterminated'), undefined)
})

test('container envelopes: CRI full lines unwrap, CRI partials and Docker fragments are rejected', () => {
  assert.equal(unwrapContainerLine('2026-11-20T10:15:02.131204117Z stderr F {"a":1}', 1000), '{"a":1}')
  assert.equal(unwrapContainerLine('{"log":"{\\"a\\":1}\\n","stream":"stdout","time":"2026-11-20T10:15:02Z"}', 1000), '{"a":1}')
  const partial = unwrapContainerLine('2026-11-20T10:15:02Z stdout P {"a":', 1000)
  assert.equal(typeof partial !== 'string' && partial.code, 'UNPARSEABLE')
  assert.equal(unwrapContainerLine('{"log_level":"info"}', 1000), '{"log_level":"info"}')
})

test('a BAD_JSON reason says where the JSON broke but never quotes the line, which may hold a secret', () => {
  const result = readJsonLine('{"cookie":sessionid=k2Jd8sLq0Wm3Xn7Vb5Zc1Aa9}', 1000)
  assert.equal(!result.ok && result.code, 'BAD_JSON')
  assert.ok(!result.ok && !result.reason.includes('sessionid'), !result.ok ? result.reason : '')
  const truncated = readJsonLine('{"a":1', 1000)
  assert.deepEqual(!truncated.ok && truncated.reason, 'not JSON (error at position 6)')
})

test('createGatewayFormats builds every gateway format, with per-format options over shared ones', () => {
  const formats = createGatewayFormats({ validator: 'edge-1', formats: { nginx: { extraFields: ['$http_authorization'] } } })
  assert.deepEqual(
    formats.map((f) => f.name),
    [...GATEWAY_FORMAT_NAMES],
  )
  assert.throws(() => createGatewayFormats({ formats: { nginx: { extraFields: ['not a variable'] } } }), /nginx format options/)
})

// ---------------------------------------------------------------------------------------------------------
// Robustness: each parser takes ~2000 random and mutated lines without throwing.

function prng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function mutations(seeds: string[], count: number, seed: number): string[] {
  const random = prng(seed)
  const int = (n: number) => Math.floor(random() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!
  const weird: unknown[] = [null, true, 0, -1, 1e308, '', '-', 'REDACTED', [], {}, [[[]]], { a: { b: {} } }, 'x'.repeat(70_000), '\u0000\uffff\ud800', [1, 'two', null], 'Bearer ', '0001-01-01T00:00:00Z']
  const hostileKeys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'error.responseType', 'authorizer.claims.constructor']
  const swap = (value: unknown, depth: number): unknown => {
    if (Array.isArray(value)) return value.length && depth < 6 ? value.map((v) => (random() < 0.3 ? swap(v, depth + 1) : v)) : pick(weird)
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) {
        const r = random()
        if (r < 0.08) continue
        out[k] = r < 0.3 ? pick(weird) : r < 0.4 && depth < 6 ? swap(v, depth + 1) : v
      }
      // Keys that name Object.prototype members must stay plain data to every parser.
      if (random() < 0.1) Object.defineProperty(out, pick(hostileKeys), { value: pick(weird), enumerable: true, configurable: true, writable: true })
      return out
    }
    return pick(weird)
  }
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    const base = pick(seeds)
    switch (int(9)) {
      case 0:
        out.push(base.slice(0, int(base.length + 1)))
        break
      case 1: {
        const at = int(base.length)
        out.push(base.slice(0, at) + pick(['"', '[', ']', '{', '}', '\\', '\\x', ' ', '\n', ',', ':', '\u0000', '%']) + base.slice(at + int(3)))
        break
      }
      case 2: {
        try {
          out.push(JSON.stringify(swap(JSON.parse(base), 0)))
        } catch {
          out.push(base.split(' ').map((w) => (random() < 0.2 ? pick(['-', '""', '[x]', '"', 'x'.repeat(int(5000))]) : w)).join(' '))
        }
        break
      }
      case 3: {
        const depth = 1 + int(20_000)
        out.push(random() < 0.5 ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth))
        break
      }
      case 4:
        out.push(Array.from({ length: int(400) }, () => String.fromCharCode(int(0x2fff))).join(''))
        break
      case 5:
        out.push(base.replace(/"[^"]{0,40}"/, `"${'A'.repeat(int(300_000))}"`))
        break
      case 6:
        out.push(pick(['', ' ', '{}', '[]', 'null', '"str"', '123', '{"log":"x","stream":"stdout"}', '2026-11-20T10:15:02Z stdout F', '[2026-11-20T10:15:02.120Z]']))
        break
      case 7: {
        const words = base.split(' ')
        for (let k = 0; k < 3; k++) words.splice(int(words.length), int(2), ...(random() < 0.5 ? [pick(words)] : []))
        out.push(words.join(' '))
        break
      }
      default:
        out.push(`2026-11-20T10:15:02.131204117Z stdout ${pick(['F', 'P'])} ${base}`)
    }
  }
  return out
}

function seedLines(dir: string): string[] {
  const folder = fixturePath('formats', dir)
  return readdirSync(folder).flatMap((file) => readFileSync(`${folder}/${file}`, 'utf8').split('\n').filter(Boolean))
}

const fuzzOptions = { formats: { envoy: { extraFields: ['%REQ(AUTHORIZATION)%', '%RESP(WWW-AUTHENTICATE)%'] }, nginx: { extraFields: ['$http_authorization', '$http_cookie', '$http_x_forwarded_for', '$request_time', '$request_id'] } } }

for (const [index, format] of createGatewayFormats(fuzzOptions).entries()) {
  test(`${format.name} never throws on 2000 random and mutated lines, and answers ok or a known reject code`, () => {
    fuzz(format, mutations(seedLines(format.name), 2000, 0x5eed + index))
  })
}

function fuzz(format: LogFormat, inputs: string[]) {
  const codes = new Set<string>(REJECT_CODES)
  let accepted = 0
  for (const input of inputs) {
    let result
    try {
      result = format.parse(input)
    } catch (error) {
      assert.fail(`${format.name} threw ${(error as Error).stack} on ${JSON.stringify(input.slice(0, 300))}`)
    }
    if (!result.ok) {
      assert.ok(codes.has(result.code), `unknown code ${result.code}`)
      assert.equal(typeof result.reason, 'string')
      continue
    }
    accepted++
    for (const event of result.events) {
      assert.equal(event.kind, 'VALIDATE')
      assert.ok(Number.isFinite(event.ts))
      if (event.result != null) assert.ok(VALIDATE_RESULTS.includes(event.result), `result ${String(event.result)}`)
      if (event.token_kind != null) assert.ok(TOKEN_KINDS.includes(event.token_kind), `token_kind ${String(event.token_kind)}`)
      for (const key of ['route', 'validator', 'user_agent', 'ip', 'method', 'event_id', 'subject', 'session_id', 'device_id'] as const) {
        if (event[key] != null) assert.equal(typeof event[key], 'string', key)
      }
      // A long secret must never surface elsewhere (short mutated values may equal a path by chance).
      if (event.token && event.token.length >= 24 && !event.token.includes('/')) {
        const probe = event.token.slice(0, 24)
        assert.ok(!event.route?.includes(probe) && !event.validator?.includes(probe), `a credential leaked outside the token field: ${JSON.stringify({ ...event, token: probe })} from ${JSON.stringify(input.slice(0, 2000))}`)
      }
    }
  }
  assert.ok(accepted > 0, 'some mutations stay valid, so the accepting path was exercised too')
}
