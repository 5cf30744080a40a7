import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fixturePath } from '../../../test/support/paths.js'
import { createKongFormat } from './kong.js'
import type { DraftEvent, ParseResult } from './types.js'

const lines = (file: string) => readFileSync(fixturePath('formats', 'kong', file), 'utf8').split('\n').filter(Boolean)
const fileLog = lines('file-log.ndjson')

function only(result: ParseResult): DraftEvent {
  assert.ok(result.ok, result.ok ? '' : `${result.code}: ${result.reason}`)
  assert.equal(result.events.length, 1)
  return result.events[0]!
}

test('a redacted Authorization header is passed over and the session cookie becomes the credential', () => {
  const event = only(createKongFormat().parse(fileLog[0]!))
  assert.equal(event.kind, 'VALIDATE')
  assert.equal(event.token, '9f3kQ2xVb7Lm1Nz8Rt4Yw6Pc0Hd5Jg')
  assert.equal(event.token_kind, 'session_cookie')
  assert.equal(event.ts, 1795169702120, 'started_at is epoch ms')
  assert.equal(event.method, 'GET')
  assert.equal(event.route, '/api/inbox/{id}', 'the route prefix as configured, the rest templated, no query')
  assert.equal(event.status, 200)
  assert.equal(event.result, 'OK')
  assert.equal(event.ip, '203.0.113.7')
  assert.equal(event.validator, 'inbox-svc')
  assert.equal(event.event_id, 'kong:2f6946328ffc4946b8c9120704a4a155')
  assert.match(event.user_agent!, /Chrome\/131/)
})

test('a request whose only credential Kong redacted is skipped, since nothing identifies the token', () => {
  assert.deepEqual(createKongFormat().parse(fileLog[1]!), { ok: true, events: [] })
})

test('a key-auth apikey header rejected with 401 is an INVALID api_key presentation', () => {
  const event = only(createKongFormat().parse(fileLog[2]!))
  assert.equal(event.token, 'kq_7Hd93LmA02xVbN5tRz8Yw1Pc')
  assert.equal(event.token_kind, 'api_key')
  assert.equal(event.status, 401)
  assert.equal(event.result, 'INVALID')
  assert.equal(event.route, '/v1/reports/2026-11')
  assert.equal(event.ip, '198.51.100.23')
})

test('an unredacted bearer token answered "expired" is EXPIRED, the consumer is the client and the id comes from x-kong-request-id', () => {
  const event = only(createKongFormat().parse(fileLog[3]!))
  assert.ok(event.token!.startsWith('eyJhbGciOiJSUzI1NiIs'))
  assert.equal(event.token_kind, 'access')
  assert.equal(event.result, 'EXPIRED')
  assert.equal(event.client_id, 'mobile-app')
  assert.equal(event.route, '/api/orders/{id}')
  assert.equal(event.event_id, 'kong:d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9', 'Kong before 3.5 has no request.id')
})

test('an http-log batch array yields one event per entry that presented a credential', () => {
  const result = createKongFormat().parse(lines('http-log-batch.ndjson')[0]!)
  assert.ok(result.ok)
  assert.deepEqual(
    result.events.map((e) => [e.event_id, e.token_kind, e.ts]),
    [
      ['kong:e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1', 'session_cookie', 1795169740000],
      ['kong:a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3', 'access', 1795169740200],
    ],
  )
})

test('malformed entries are rejected: missing started_at names the field, truncation is BAD_JSON, a non-object batch member is NOT_AN_OBJECT', () => {
  const [noStart, truncated, badBatch] = lines('rejects.txt').map((l) => createKongFormat().parse(l))
  assert.deepEqual(!noStart!.ok && [noStart!.code, noStart!.reason], ['MISSING_FIELD', 'started_at: required'])
  assert.equal(!truncated!.ok && truncated!.code, 'BAD_JSON')
  assert.equal(!badBatch!.ok && badBatch!.code, 'NOT_AN_OBJECT')
  assert.match(!badBatch!.ok ? badBatch!.reason : '', /^\[1\]/)
})

test('Kong JSON inside a Docker json-file envelope is unwrapped', () => {
  const wrapped = JSON.stringify({ log: fileLog[0]! + '\n', stream: 'stdout', time: '2026-11-20T10:15:02.200Z' })
  assert.equal(only(createKongFormat().parse(wrapped)).token_kind, 'session_cookie')
})
