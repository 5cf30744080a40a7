import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fixturePath } from '../../../test/support/paths.js'
import { createNginxFormat, createNginxJsonFormat } from './nginx.js'
import type { DraftEvent, ParseResult } from './types.js'

const lines = (dir: string, file: string) => readFileSync(fixturePath('formats', dir, file), 'utf8').split('\n').filter(Boolean)
const extended = lines('nginx', 'combined-extended.txt')
const EXTRAS = ['$http_authorization', '$http_cookie', '$http_x_forwarded_for', '$request_time', '$request_id']

function only(result: ParseResult): DraftEvent {
  assert.ok(result.ok, result.ok ? '' : `${result.code}: ${result.reason}`)
  assert.equal(result.events.length, 1)
  return result.events[0]!
}

test('combined with an appended Authorization field: the bearer token, the offset-aware start time and the nginx request id', () => {
  const event = only(createNginxFormat({ extraFields: EXTRAS }).parse(extended[0]!))
  assert.equal(event.kind, 'VALIDATE')
  assert.ok(event.token!.startsWith('eyJhbGciOiJSUzI1NiIs'))
  assert.equal(event.token_kind, 'access')
  // [20/Nov/2026:11:15:02 +0100] is 10:15:02 UTC, written when the request ended $request_time (0.120 s) after it began.
  assert.equal(event.ts, Date.parse('2026-11-20T10:15:01.880Z'))
  assert.equal(event.method, 'GET')
  assert.equal(event.route, '/api/inbox/{id}')
  assert.equal(event.status, 200)
  assert.equal(event.result, 'OK')
  assert.equal(event.ip, '203.0.113.7')
  assert.equal(event.event_id, 'nginx:8d0f3a2e9b1c4d5e6f7a8b9c0d1e2f3a')
  assert.equal(event.validator, 'nginx')
  assert.deepEqual(event.source, { system: 'nginx', format: 'nginx' })
})

test('a negative UTC offset is applied, and X-Forwarded-For names the client behind the load balancer', () => {
  const event = only(createNginxFormat({ extraFields: EXTRAS }).parse(extended[1]!))
  assert.equal(event.ts, Date.parse('2026-11-20T10:16:39.957Z'))
  assert.equal(event.token, 'k2Jd8sLq0Wm3Xn7Vb5Zc1Aa9')
  assert.equal(event.token_kind, 'session_cookie')
  assert.equal(event.ip, '198.51.100.23')
  assert.equal(only(createNginxFormat({ extraFields: EXTRAS, clientAddress: 'remote' }).parse(extended[1]!)).ip, '10.0.0.5')
})

test('\\xHH escapes are decoded to UTF-8 and a ;jsessionid path parameter never reaches the route', () => {
  const event = only(createNginxFormat({ extraFields: EXTRAS }).parse(extended[2]!))
  assert.equal(event.user_agent, 'Mozilla/5.0 "CaféBot"/1.0')
  assert.equal(event.route, '/shop/cart')
  assert.equal(event.token, '7F3A9C2E1B4D5F6A8B0C1D2E3F4A5B6C')
  assert.equal(event.token_kind, 'session_cookie')
})

test('requests without a credential, TLS bytes on a plain port, and Basic-only requests are all skipped', () => {
  const format = createNginxFormat({ extraFields: EXTRAS })
  for (const line of [extended[3]!, extended[4]!, extended[5]!]) assert.deepEqual(format.parse(line), { ok: true, events: [] })
})

test('plain combined: a query-string access_token is the credential and is stripped from the route', () => {
  const [withToken, without] = lines('nginx', 'combined-plain.txt')
  const event = only(createNginxFormat().parse(withToken!))
  assert.ok(event.token!.startsWith('eyJhbGciOiJSUzI1NiIs'))
  assert.equal(event.route, '/api/inbox/{id}')
  assert.equal(event.ts, Date.parse('2026-11-20T10:20:00Z'))
  assert.equal(event.event_id, undefined, 'no $request_id: the normaliser derives the id from the line')
  assert.deepEqual(createNginxFormat().parse(without!), { ok: true, events: [] })
})

test('extra fields beyond those configured are ignored', () => {
  const event = only(createNginxFormat({ extraFields: ['$http_authorization'] }).parse(extended[0]!))
  assert.equal(event.ts, Date.parse('2026-11-20T10:15:02Z'), 'no $request_time configured: the written time stands')
  assert.equal(event.event_id, undefined)
})

test('combined rejects: not a log line is UNPARSEABLE, an impossible date is BAD_FIELD, a missing time names time_local', () => {
  const [junk, badDate, noTime] = lines('nginx', 'rejects.txt').map((l) => createNginxFormat({ extraFields: EXTRAS }).parse(l))
  assert.equal(!junk!.ok && junk!.code, 'UNPARSEABLE')
  assert.equal(!badDate!.ok && badDate!.code, 'BAD_FIELD')
  assert.deepEqual(!noTime!.ok && [noTime!.code, noTime!.reason], ['MISSING_FIELD', 'time_local: required'])
})

test('extraFields must be NGINX variable names', () => {
  assert.throws(() => createNginxFormat({ extraFields: ['$http-authorization'] }), /extraFields/)
})

const json = lines('nginx-json', 'access.ndjson')

test('nginx-json: bearer token, start = $msec − $request_time, XFF client, hostname as validator, device id', () => {
  const event = only(createNginxJsonFormat().parse(json[0]!))
  assert.ok(event.token!.startsWith('eyJhbGciOiJSUzI1NiIs'))
  assert.equal(event.ts, 1795169702000)
  assert.equal(event.route, '/api/inbox/{id}')
  assert.equal(event.ip, '203.0.113.7')
  assert.equal(event.validator, 'edge-nginx-2')
  assert.equal(event.device_id, 'd-77aa')
  assert.equal(event.event_id, 'nginx-json:8d0f3a2e9b1c4d5e6f7a8b9c0d1e2f3a')
  assert.deepEqual(event.source, { system: 'nginx', format: 'nginx-json' })
})

test('nginx-json: a $cookie_session variable is the credential and an "expired" challenge makes the 401 EXPIRED', () => {
  const event = only(createNginxJsonFormat().parse(json[1]!))
  assert.equal(event.token, 'Qm9zc2VzIGFyZSBub3QgdG9rZW5z')
  assert.equal(event.token_kind, 'session_cookie')
  assert.equal(event.status, 401)
  assert.equal(event.result, 'EXPIRED')
})

test('nginx-json: no credential is skipped; an x-api-key is an api_key; JSON escapes survive in the user agent', () => {
  assert.deepEqual(createNginxJsonFormat().parse(json[2]!), { ok: true, events: [] })
  const event = only(createNginxJsonFormat().parse(json[3]!))
  assert.equal(event.token, 'ak_live_9Xq2Wm4Rt7Yp1Zs6Vb3N')
  assert.equal(event.token_kind, 'api_key')
  assert.equal(event.user_agent, 'Ingest "client" v2 — café')
  assert.equal(event.ip, '198.51.100.23', 'an empty $http_x_forwarded_for falls back to $remote_addr')
  assert.equal(event.status, 202)
})

test('nginx-json rejects: no time at all names msec, truncated JSON is BAD_JSON, an unreadable msec is BAD_FIELD', () => {
  const [noTime, truncated, badTime] = lines('nginx-json', 'rejects.txt').map((l) => createNginxJsonFormat().parse(l))
  assert.deepEqual(!noTime!.ok && [noTime!.code, noTime!.reason], ['MISSING_FIELD', 'msec: required'])
  assert.equal(!truncated!.ok && truncated!.code, 'BAD_JSON')
  assert.equal(!badTime!.ok && badTime!.code, 'BAD_FIELD')
})
