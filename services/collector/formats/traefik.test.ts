import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fixturePath } from '../../../test/support/paths.js'
import { createTraefikFormat } from './traefik.js'
import type { DraftEvent, ParseResult } from './types.js'

const lines = (file: string) => readFileSync(fixturePath('formats', 'traefik', file), 'utf8').split('\n').filter(Boolean)
const access = lines('access.ndjson')

function only(result: ParseResult): DraftEvent {
  assert.ok(result.ok, result.ok ? '' : `${result.code}: ${result.reason}`)
  assert.equal(result.events.length, 1)
  return result.events[0]!
}

test('a kept request_Authorization header gives the bearer token; StartUTC with nanoseconds is the start time', () => {
  const event = only(createTraefikFormat().parse(access[0]!))
  assert.equal(event.kind, 'VALIDATE')
  assert.ok(event.token!.startsWith('eyJhbGciOiJSUzI1NiIs'))
  assert.equal(event.token_kind, 'access')
  assert.equal(event.ts, Date.parse('2026-11-20T10:15:02.120Z'))
  assert.equal(event.method, 'GET')
  assert.equal(event.route, '/api/inbox/{id}')
  assert.equal(event.status, 200)
  assert.equal(event.result, 'OK')
  assert.equal(event.ip, '203.0.113.7', 'X-Forwarded-For first hop, not the ClientHost peer')
  assert.equal(event.validator, 'prod-inbox-80@kubernetes')
  assert.equal(event.device_id, 'd-9f21')
  assert.equal(event.user_agent, 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0')
  assert.equal(event.event_id, undefined, 'Traefik has no request id of its own')
})

test('a REDACTED Authorization header falls through to a __Host- session cookie', () => {
  const event = only(createTraefikFormat().parse(access[1]!))
  assert.equal(event.token, 'hT7q2LxP9vR4mW1nZ8sK3dF6')
  assert.equal(event.token_kind, 'session_cookie')
  assert.equal(event.route, '/account')
  assert.equal(event.ip, '10.0.0.5', 'no X-Forwarded-For kept: the peer')
})

test('with header fields dropped (Traefik default) nothing identifies a credential and the line is skipped', () => {
  assert.deepEqual(createTraefikFormat().parse(access[2]!), { ok: true, events: [] })
})

test('a 401 with an expired-token challenge in downstream_Www-Authenticate is EXPIRED', () => {
  const event = only(createTraefikFormat().parse(access[3]!))
  assert.equal(event.status, 401)
  assert.equal(event.result, 'EXPIRED')
  assert.equal(event.route, '/api/orders/{id}')
  assert.equal(event.ts, Date.parse('2026-11-20T10:17:00.500Z'))
})

test('StartLocal stands in when StartUTC was dropped, and an X-Api-Key answered 403 is a DENIED api_key', () => {
  const event = only(createTraefikFormat().parse(access[4]!))
  assert.equal(event.ts, Date.parse('2026-11-20T10:18:00.250Z'))
  assert.equal(event.token, 'tk_prod_5Gh8Jk2Lm9Np4Qr7St1V')
  assert.equal(event.token_kind, 'api_key')
  assert.equal(event.method, 'POST')
  assert.equal(event.result, 'DENIED')
})

test('rejects: no start time names StartUTC, truncation is BAD_JSON, Go zero time is BAD_FIELD', () => {
  const [noStart, truncated, zero] = lines('rejects.txt').map((l) => createTraefikFormat().parse(l))
  assert.deepEqual(!noStart!.ok && [noStart!.code, noStart!.reason], ['MISSING_FIELD', 'StartUTC: required'])
  assert.equal(!truncated!.ok && truncated!.code, 'BAD_JSON')
  assert.equal(!zero!.ok && zero!.code, 'BAD_FIELD')
})

test('a line behind a containerd prefix is unwrapped', () => {
  const event = only(createTraefikFormat().parse('2026-11-20T10:15:02.200000000Z stdout F ' + access[0]!))
  assert.equal(event.route, '/api/inbox/{id}')
})
