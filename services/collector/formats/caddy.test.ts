import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fixturePath } from '../../../test/support/paths.js'
import { createCaddyFormat } from './caddy.js'
import type { DraftEvent, ParseResult } from './types.js'

const lines = (file: string) => readFileSync(fixturePath('formats', 'caddy', file), 'utf8').split('\n').filter(Boolean)
const access = lines('access.ndjson')

function only(result: ParseResult): DraftEvent {
  assert.ok(result.ok, result.ok ? '' : `${result.code}: ${result.reason}`)
  assert.equal(result.events.length, 1)
  return result.events[0]!
}

test('with log_credentials the Authorization array gives the token; the start is ts minus duration', () => {
  const event = only(createCaddyFormat().parse(access[0]!))
  assert.equal(event.kind, 'VALIDATE')
  assert.ok(event.token!.startsWith('eyJhbGciOiJSUzI1NiIs'))
  assert.equal(event.token_kind, 'access')
  assert.equal(event.ts, 1795169702120)
  assert.equal(event.method, 'GET')
  assert.equal(event.route, '/api/inbox/{id}')
  assert.equal(event.status, 200)
  assert.equal(event.result, 'OK')
  assert.equal(event.ip, '203.0.113.7', 'client_ip, as Caddy resolved it through trusted_proxies')
  assert.equal(event.validator, 'api.acme.example')
  assert.match(event.user_agent!, /Firefox\/132/)
  assert.equal(event.event_id, undefined)
})

test('default redaction of Authorization and Cookie leaves no credential, so the request is skipped', () => {
  assert.deepEqual(createCaddyFormat().parse(access[1]!), { ok: true, events: [] })
})

test('an X-Api-Key answered 401 is an INVALID api_key presentation with the object id collapsed', () => {
  const event = only(createCaddyFormat().parse(access[2]!))
  assert.equal(event.token, 'ck_9Tz4Yq7Wr2Ep5Ks8Ld1M')
  assert.equal(event.token_kind, 'api_key')
  assert.equal(event.result, 'INVALID')
  assert.equal(event.route, '/v2/items/{id}')
  assert.equal(event.ip, '198.51.100.23')
  assert.equal(event.ts, 1795169704249)
})

test("Caddy's own runtime log lines in the same stream are skipped, not rejected", () => {
  assert.deepEqual(createCaddyFormat().parse(access[3]!), { ok: true, events: [] })
})

test('an RFC 3339 ts with a Go duration string, and a Cookie header logged as several values', () => {
  const event = only(createCaddyFormat().parse(access[4]!))
  assert.equal(event.ts, Date.parse('2026-11-20T10:20:00Z'))
  assert.equal(event.token, 'Wq8Er4Ty1Ui6Op3As9Df2G')
  assert.equal(event.token_kind, 'session_cookie')
})

test('rejects: a missing ts names the field, truncation is BAD_JSON, an unsupported time_format is BAD_FIELD', () => {
  const [noTs, truncated, wall] = lines('rejects.txt').map((l) => createCaddyFormat().parse(l))
  assert.deepEqual(!noTs!.ok && [noTs!.code, noTs!.reason], ['MISSING_FIELD', 'ts: required'])
  assert.equal(!truncated!.ok && truncated!.code, 'BAD_JSON')
  assert.equal(!wall!.ok && wall!.code, 'BAD_FIELD')
})
