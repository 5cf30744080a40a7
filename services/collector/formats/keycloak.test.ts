import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fixturePath } from '../../../test/support/paths.js'
import { createKeycloakFormat } from './keycloak.js'
import type { DraftEvent, ParseResult } from './types.js'
import { assertSurvives, garbage } from '../../../test/support/fuzz.js'

const NOW = Date.parse('2026-11-20T10:00:00.000Z')
const keycloak = createKeycloakFormat({ now: () => NOW })
const fixture = (name: string) => readFileSync(fixturePath('formats', 'keycloak', name), 'utf8').split('\n').filter(Boolean)
const logged = fixture('jboss-logging.log')
const json = fixture('events.ndjson')
const ALICE = '6b1f0c2e-8d4a-4f3b-9e7c-5a2d1c0b9e8f'
const SESSION = '1c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f'

function events(result: ParseResult): DraftEvent[] {
  assert.ok(result.ok, result.ok ? '' : `rejected: ${result.code} ${result.reason}`)
  return result.events
}

function one(line: string): DraftEvent {
  const parsed = events(keycloak.parse(line))
  assert.equal(parsed.length, 1)
  return parsed[0]!
}

function rejection(result: ParseResult): { code: string; reason: string } {
  assert.ok(!result.ok, 'expected a reject')
  return { code: result.code, reason: result.reason }
}

test('a jboss-logging LOGIN line with quoted values is a login ISSUE timed by the handler prefix', () => {
  const e = one(logged[0]!)
  assert.equal(e.kind, 'ISSUE')
  assert.equal(e.action, 'login')
  assert.equal(e.ts, Date.parse('2026-11-20T09:58:41.317Z'))
  assert.deepEqual(e.source, { system: 'keycloak', tenant: 'acme', format: 'keycloak' })
  assert.equal(e.subject, ALICE)
  assert.equal(e.session_id, SESSION)
  assert.equal(e.client_id, 'inbox-web')
  assert.equal(e.ip, '198.51.100.23')
  assert.equal(e.token_kind, 'session_cookie')
  assert.equal(e.event_id, undefined, 'the listener line has no id; the collector derives one from the line')
})

test('a line without a date takes its time from now(); a code exchange issues the access and the refresh token', () => {
  const [access, refresh] = events(keycloak.parse(logged[1]!))
  assert.equal(access!.ts, NOW)
  assert.equal(access!.action, 'token_grant')
  assert.equal(access!.token_kind, 'access')
  assert.equal(access!.jti, 'e2b7c4a9-1d3f-4b6e-8a0c-9f5d2e7b1a34')
  assert.equal(access!.token_fp, 'keycloak:e2b7c4a9-1d3f-4b6e-8a0c-9f5d2e7b1a34')
  assert.equal(access!.session_id, SESSION, 'code_id names the user session')
  assert.deepEqual(access!.scopes, ['openid', 'profile', 'email'], "the legacy 'quoted value' keeps its spaces")
  assert.equal(refresh!.token_kind, 'refresh')
  assert.equal(refresh!.token_fp, 'keycloak:a7c3e9b1-5d2f-4a8c-b6e0-3f1d9c7a5e28')
  assert.equal(refresh!.parent_token_fp, undefined)
})

test('a refresh issues a new access token and the rotated refresh token, both children of the consumed one', () => {
  const [access, refresh] = events(keycloak.parse(logged[2]!))
  assert.equal(access!.action, 'refresh')
  assert.equal(access!.token_fp, 'keycloak:5d8a1f3c-7e2b-4c9d-a0f6-b3e1d7c5a942')
  assert.equal(access!.parent_token_fp, 'keycloak:a7c3e9b1-5d2f-4a8c-b6e0-3f1d9c7a5e28')
  assert.equal(refresh!.token_kind, 'refresh')
  assert.equal(refresh!.token_fp, 'keycloak:c4e8a2f6-0b9d-4e3c-8a7f-1d5b9e3c7a60')
  assert.equal(refresh!.parent_token_fp, 'keycloak:a7c3e9b1-5d2f-4a8c-b6e0-3f1d9c7a5e28')
})

test('REFRESH_TOKEN_ERROR is refresh reuse only when its reason says the token was reused', () => {
  const reuse = one(logged[3]!)
  assert.equal(reuse.kind, 'VALIDATE')
  assert.equal(reuse.action, 'refresh_reuse')
  assert.equal(reuse.result, 'INVALID')
  assert.equal(reuse.token_kind, 'refresh')
  assert.equal(reuse.token_fp, 'keycloak:a7c3e9b1-5d2f-4a8c-b6e0-3f1d9c7a5e28')
  assert.equal(reuse.ip, '185.220.101.47')
  const expired = one(logged[3]!.replace('reason="Maximum allowed refresh token reuse exceeded"', 'reason="Token is not active"').replace('invalid_token', 'session_expired'))
  assert.equal(expired.action, 'refresh')
  assert.equal(expired.result, 'EXPIRED')
})

test('a LOGIN_ERROR is a denied login with no subject when the listener printed userId=null', () => {
  const e = one(logged[4]!)
  assert.equal(e.kind, 'VALIDATE')
  assert.equal(e.action, 'login')
  assert.equal(e.result, 'DENIED')
  assert.equal(e.subject, undefined)
  assert.equal(e.session_id, undefined)
})

test('introspection is a validation, logout a session revoke, an admin user logout a user revoke', () => {
  const introspect = one(logged[5]!)
  assert.deepEqual([introspect.kind, introspect.action, introspect.result, introspect.client_id], ['VALIDATE', 'introspect', 'OK', 'inbox-api'])
  const logout = one(logged[6]!)
  assert.deepEqual([logout.kind, logout.action, logout.revoke_scope, logout.session_id], ['REVOKE', 'logout', 'session', SESSION])
  const admin = one(logged[7]!)
  assert.deepEqual([admin.kind, admin.action, admin.revoke_scope, admin.subject], ['REVOKE', 'admin_revoke', 'user', ALICE])
  assert.equal(admin.ip, undefined, "the admin's address is not the user's")
})

test('events that are not about sessions or tokens are accepted and skipped', () => {
  assert.deepEqual(events(keycloak.parse(logged[8]!)), [])
})

test('a JSON event representation keeps its id, epoch-millisecond time and token details', () => {
  const [access, refresh] = events(keycloak.parse(json[0]!))
  assert.equal(access!.event_id, 'keycloak:b8a1c3e5-7d9f-4b2a-8c6e-0f1d3b5a7c9e')
  assert.equal(access!.ts, 1795169695250)
  assert.equal(access!.client_id, 'inbox-mobile')
  assert.equal(access!.token_fp, 'keycloak:onrtac:7e5c3a1b-9f8d-4e6c-a4b2-0d8f6e4c2a19')
  assert.equal(access!.parent_token_fp, 'keycloak:4b2d0f8e-6c4a-4a2e-9d0b-8f6e4c2a0e95')
  assert.equal(refresh!.event_id, 'keycloak:b8a1c3e5-7d9f-4b2a-8c6e-0f1d3b5a7c9e:refresh')
  assert.equal(refresh!.jti, 'd9f7b5e3-1c0a-4e8d-b6f4-2a0c8e6d4b17')
  const login = one(json[1]!)
  assert.equal(login.ip, '2001:db8:85a3::8a2e:370:7334')
  assert.equal(login.session_id, '2d0e9f8a-7b6c-4d5e-8f9a-0b1c2d3e4f5a')
})

test('a Quarkus JSON log record is read through its message and timestamp', () => {
  const e = one(json[2]!)
  assert.equal(e.kind, 'REVOKE')
  assert.equal(e.action, 'token_revoke')
  assert.equal(e.revoke_scope, 'token')
  assert.equal(e.token_kind, 'refresh')
  assert.equal(e.token_fp, 'keycloak:d9f7b5e3-1c0a-4e8d-b6f4-2a0c8e6d4b17')
  assert.equal(e.ts, Date.parse('2026-11-20T10:40:03.004Z'))
  assert.equal(e.session_id, undefined, 'sessionId="null" is no session')
})

test('an admin DELETE of one session revokes that session', () => {
  const e = one(json[3]!)
  assert.deepEqual([e.kind, e.action, e.revoke_scope, e.session_id, e.ts], ['REVOKE', 'admin_revoke', 'session', '2d0e9f8a-7b6c-4d5e-8f9a-0b1c2d3e4f5a', 1795171000000])
})

test('times printed without an offset are UTC, whatever the collector time zone', () => {
  const e = one('2026-11-20T08:00:00.5 DEBUG [org.keycloak.events] (worker) type=LOGOUT, realmId=acme, clientId=web, userId=u1, sessionId=s1, ipAddress=192.0.2.1')
  assert.equal(e.ts, Date.parse('2026-11-20T08:00:00.500Z'))
})

test('bad input is rejected with a code and a reason naming the field', () => {
  assert.equal(rejection(keycloak.parse('{"type":"LOGIN",')).code, 'BAD_JSON')
  assert.deepEqual(rejection(keycloak.parse('2026-11-20 10:00:00,000 INFO [org.keycloak.services] (main) Keycloak started')), { code: 'MISSING_FIELD', reason: 'type: no "type=" or "operationType=" in the line' })
  assert.deepEqual(rejection(keycloak.parse('{"type":"LOGIN","realmId":"acme"}')), { code: 'MISSING_FIELD', reason: 'time: required' })
  assert.deepEqual(rejection(keycloak.parse('{"time":1795168721317,"realmId":"acme"}')), { code: 'MISSING_FIELD', reason: 'type: required' })
  assert.deepEqual(rejection(keycloak.parse('{"type":"LOGIN","time":"yesterday"}')), { code: 'BAD_FIELD', reason: 'time: not epoch milliseconds' })
  assert.deepEqual(rejection(keycloak.parse('[1,2]')), { code: 'NOT_AN_OBJECT', reason: 'a JSON line must be one event object' })
})

test('2000 damaged lines never throw and always end in events or a known reject code', () => {
  assertSurvives(keycloak, garbage([...logged, ...json], 2000, 13))
})
