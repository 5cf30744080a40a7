import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fixturePath } from '../../../test/support/paths.js'
import { createAuth0Format } from './auth0.js'
import type { DraftEvent, ParseResult } from './types.js'
import { assertSurvives, garbage } from '../../../test/support/fuzz.js'

const auth0 = createAuth0Format()
const fixture = (name: string) => readFileSync(fixturePath('formats', 'auth0', name), 'utf8')
const lines = fixture('tenant-logs.ndjson').split('\n').filter(Boolean)
const ALICE = 'auth0|65f1c2d3e4a5b6c7d8e9f012'
const SESSION = 'Xz4kQ8rT2vW6yB0nM3pL7sD1fG5hJ9cA'

function events(result: ParseResult): DraftEvent[] {
  assert.ok(result.ok, result.ok ? '' : `rejected: ${result.code} ${result.reason}`)
  return result.events
}

function one(line: string): DraftEvent {
  const parsed = events(auth0.parse(line))
  assert.equal(parsed.length, 1)
  return parsed[0]!
}

function rejection(result: ParseResult): { code: string; reason: string } {
  assert.ok(!result.ok, 'expected a reject')
  return { code: result.code, reason: result.reason }
}

test('a successful login from a log stream webhook ({log_id, data}) is a login ISSUE of the Auth0 session', () => {
  const e = one(lines[0]!)
  assert.equal(e.kind, 'ISSUE')
  assert.equal(e.action, 'login')
  assert.equal(e.event_id, 'auth0:90020261120095841317000000000000000000000000000000000001')
  assert.equal(e.ts, Date.parse('2026-11-20T09:58:41.317Z'))
  assert.deepEqual(e.source, { system: 'auth0', tenant: 'acme-prod', format: 'auth0' })
  assert.equal(e.subject, ALICE)
  assert.equal(e.session_id, SESSION)
  assert.equal(e.token_kind, 'session_cookie')
  assert.equal(e.client_id, 'kR7tV2nQ9xL4mB8wZ1cJ5hD3gF6sA0pE')
})

test('address, location_info and the TLS fingerprint are copied; the summarised agent is split into browser and OS', () => {
  const e = one(lines[0]!)
  assert.equal(e.ip, '198.51.100.23')
  assert.equal(e.country, 'PT')
  assert.equal(e.city, 'Lisbon')
  assert.equal(e.lat, 38.7167)
  assert.equal(e.lon, -9.1333)
  assert.equal(e.ja4, 't13d1516h2_8daaf6152771_02713d6af862')
  assert.equal(e.user_agent, 'Chrome 131.0.0 / Mac OS X 10.15.7')
  assert.equal(e.ua_family, 'Chrome')
  assert.equal(e.os_family, 'Mac OS X')
})

test('a code exchange wrapped as {json: …} is a token_grant keyed by the access token jti', () => {
  const e = one(lines[1]!)
  assert.equal(e.kind, 'ISSUE')
  assert.equal(e.action, 'token_grant')
  assert.equal(e.event_id, 'auth0:90020261120095842118000000000000000000000000000000000002')
  assert.equal(e.token_kind, 'access')
  assert.equal(e.jti, '8c1e4b7a2d9f')
  assert.equal(e.token_fp, 'auth0:8c1e4b7a2d9f')
  assert.deepEqual(e.scopes, ['openid', 'profile', 'inbox.read', 'offline_access'])
})

test('a refresh token exchange is a refresh ISSUE tied to the session the refresh token is bound to', () => {
  const e = one(lines[2]!)
  assert.equal(e.action, 'refresh')
  assert.equal(e.jti, '3f9a6c0e5b21')
  assert.equal(e.session_id, SESSION)
  assert.deepEqual(e.scopes, ['openid', 'inbox.read', 'offline_access'])
})

test('a failed rotating refresh token exchange (ferrt) is refresh reuse, keyed by the token family', () => {
  const e = one(lines[3]!)
  assert.equal(e.kind, 'VALIDATE')
  assert.equal(e.action, 'refresh_reuse')
  assert.equal(e.result, 'INVALID')
  assert.equal(e.token_kind, 'refresh')
  assert.equal(e.token_fp, 'auth0:fam_Q2w8E4r6T0y')
  assert.equal(e.ip, '185.220.101.47')
  assert.equal(e.country, 'NL')
  assert.equal(e.ua_family, 'Python Requests')
})

test('a refresh token revocation revokes that token; a logout revokes the session', () => {
  const revoked = one(lines[4]!)
  assert.equal(revoked.kind, 'REVOKE')
  assert.equal(revoked.revoke_scope, 'token')
  assert.equal(revoked.token_kind, 'refresh')
  assert.equal(revoked.token_fp, 'auth0:rt_9Kd3Lm7Np1Qr5St2')
  const logout = one(lines[5]!)
  assert.equal(logout.action, 'logout')
  assert.equal(logout.revoke_scope, 'session')
  assert.equal(logout.session_id, SESSION)
})

test('a wrong password is a denied login validation', () => {
  const e = one(lines[6]!)
  assert.equal(e.kind, 'VALIDATE')
  assert.equal(e.action, 'login')
  assert.equal(e.result, 'DENIED')
  assert.equal(e.validator, 'auth0')
})

test('management API events are accepted and skipped', () => {
  assert.deepEqual(events(auth0.parse(lines[7]!)), [])
})

test('a log stream delivering a JSON array yields every event in it', () => {
  const parsed = events(auth0.parse(fixture('stream-array.json')))
  assert.deepEqual(
    parsed.map((e) => [e.kind, e.action, e.event_id]),
    [
      ['ISSUE', 'refresh', 'auth0:90020261120101455250000000000000000000000000000000000003'],
      ['REVOKE', 'logout', 'auth0:90020261120110527773000000000000000000000000000000000006'],
    ],
  )
})

test('an EventBridge event ({detail: {log_id, data}}) is unwrapped too', () => {
  const stream = JSON.parse(lines[0]!) as unknown
  const e = one(JSON.stringify({ version: '0', 'detail-type': 'Auth0 log', source: 'aws.partner/auth0.com/acme', detail: stream }))
  assert.equal(e.event_id, 'auth0:90020261120095841317000000000000000000000000000000000001')
})

test('bad input is rejected with a code and a reason naming the field', () => {
  const log = JSON.parse(lines[5]!) as Record<string, unknown>
  assert.equal(rejection(auth0.parse('{"type":"s"')).code, 'BAD_JSON')
  assert.deepEqual(rejection(auth0.parse(JSON.stringify({ ...log, type: undefined }))), { code: 'MISSING_FIELD', reason: 'type: required' })
  assert.deepEqual(rejection(auth0.parse(JSON.stringify({ ...log, date: undefined }))), { code: 'MISSING_FIELD', reason: 'date: required' })
  assert.deepEqual(rejection(auth0.parse(JSON.stringify({ ...log, date: 1795168721 }))), { code: 'BAD_FIELD', reason: 'date: not an ISO 8601 time' })
  assert.deepEqual(rejection(auth0.parse(JSON.stringify({ log_id: 'x', data: { ...log, type: 7 } }))), { code: 'BAD_FIELD', reason: 'type: not a string' })
  assert.deepEqual(rejection(auth0.parse(`[${lines[5]}, null]`)), { code: 'NOT_AN_OBJECT', reason: '[1]: not a log event object' })
})

test('2000 damaged lines never throw and always end in events or a known reject code', () => {
  assertSurvives(auth0, garbage([...lines, fixture('stream-array.json')], 2000, 11))
})
