import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fixturePath } from '../../../test/support/paths.js'
import { createOktaFormat } from './okta.js'
import type { DraftEvent, ParseResult } from './types.js'
import { assertSurvives, garbage } from '../../../test/support/fuzz.js'

const okta = createOktaFormat()
const fixture = (name: string) => readFileSync(fixturePath('formats', 'okta', name), 'utf8')
const lines = fixture('system-log.ndjson').split('\n').filter(Boolean)
const ALICE = '00u8xk2h7TqZ3Lm1d697'

function events(result: ParseResult): DraftEvent[] {
  assert.ok(result.ok, result.ok ? '' : `rejected: ${result.code} ${result.reason}`)
  return result.events
}

function rejection(result: ParseResult): { code: string; reason: string } {
  assert.ok(!result.ok, 'expected a reject')
  return { code: result.code, reason: result.reason }
}

function one(line: string): DraftEvent {
  const parsed = events(okta.parse(line))
  assert.equal(parsed.length, 1)
  return parsed[0]!
}

test('a session start becomes a login ISSUE keyed by the Okta user id and externalSessionId', () => {
  const e = one(lines[0]!)
  assert.equal(e.kind, 'ISSUE')
  assert.equal(e.action, 'login')
  assert.equal(e.event_id, 'okta:8f0c2a6e-9a41-11f1-8b7d-3f5c0c4d2e11')
  assert.equal(e.ts, Date.parse('2026-11-20T09:58:41.317Z'))
  assert.deepEqual(e.source, { system: 'okta', tenant: undefined, format: 'okta' })
  assert.equal(e.subject, ALICE)
  assert.equal(e.session_id, '102N1EKyPFERROGvK9wizMAPQ')
  assert.equal(e.token_kind, 'session_cookie')
  assert.deepEqual(e.amr, ['pwd'])
  assert.equal(e.device_id, 'd9b1c7f0e5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8')
  assert.match(e.user_agent ?? '', /Chrome\/131/)
})

test('the place and network Okta resolved travel with the event', () => {
  const e = one(lines[0]!)
  assert.equal(e.ip, '198.51.100.23')
  assert.equal(e.city, 'Lisbon')
  assert.equal(e.country, 'Portugal')
  assert.equal(e.lat, 38.7167)
  assert.equal(e.lon, -9.1333)
  assert.equal(e.asn, 12353)
  assert.equal(e.asn_org, 'vodafone portugal')
  // debugData.behaviors is a "{k=v, …}" string; New Device=POSITIVE is read from it.
  assert.deepEqual(e.net_flags, ['idp_new_device'])
})

test('a failed session start is a denied login whose address comes from ipChain when client.ipAddress is "null"', () => {
  const e = one(lines[1]!)
  assert.equal(e.kind, 'VALIDATE')
  assert.equal(e.action, 'login')
  assert.equal(e.result, 'DENIED')
  assert.equal(e.ip, '185.220.101.47')
  assert.equal(e.city, 'Amsterdam')
  assert.equal(e.asn, 208294)
  assert.equal(e.session_id, undefined, 'externalSessionId "unknown" is no session')
  assert.deepEqual(e.net_flags, ['vpn', 'idp_risk_high', 'idp_new_device', 'idp_velocity'])
})

test('a second factor verification is an MFA validation with the factor in amr', () => {
  const e = one(lines[2]!)
  assert.equal(e.kind, 'VALIDATE')
  assert.equal(e.action, 'mfa')
  assert.equal(e.result, 'OK')
  assert.deepEqual(e.amr, ['otp', 'mfa'])
})

test('a refresh_token grant is a refresh ISSUE of the token named in target[], keyed okta:<token id>', () => {
  const e = one(lines[3]!)
  assert.equal(e.kind, 'ISSUE')
  assert.equal(e.action, 'refresh')
  assert.equal(e.token_kind, 'refresh')
  assert.equal(e.jti, 'oar4hkx1wP3nQ7sT9u5v')
  assert.equal(e.token_fp, 'okta:oar4hkx1wP3nQ7sT9u5v')
  assert.equal(e.token, undefined, 'no raw token material in an Okta log')
  assert.equal(e.expires_at, Date.parse('2026-12-20T10:14:55.000Z'))
  assert.equal(e.subject, ALICE, 'from target detailEntry.subject; the actor is the client app')
  assert.equal(e.client_id, '0oa9q1m2n3b4v5c6x7z8')
  assert.deepEqual(e.scopes, ['openid', 'offline_access', 'inbox.read'])
})

test('an authorization code grant is a token_grant of the access token, skipping other targets', () => {
  const e = one(lines[4]!)
  assert.equal(e.action, 'token_grant')
  assert.equal(e.token_kind, 'access')
  assert.equal(e.jti, 'AT.q9Xw2vB7nLk4jH1gF8dS6aP3oI0uY5tR')
  assert.equal(e.token_fp, 'okta:AT.q9Xw2vB7nLk4jH1gF8dS6aP3oI0uY5tR')
})

test('refresh token reuse detection is an INVALID refresh_reuse validation of that refresh token', () => {
  const e = one(lines[5]!)
  assert.equal(e.kind, 'VALIDATE')
  assert.equal(e.action, 'refresh_reuse')
  assert.equal(e.result, 'INVALID')
  assert.equal(e.token_kind, 'refresh')
  assert.equal(e.token_fp, 'okta:oar4hkx1wP3nQ7sT9u5v')
  assert.equal(e.ip, '185.220.101.47')
})

test('a token revocation revokes that one token', () => {
  const e = one(lines[6]!)
  assert.equal(e.kind, 'REVOKE')
  assert.equal(e.action, 'token_revoke')
  assert.equal(e.revoke_scope, 'token')
  assert.equal(e.token_fp, 'okta:AT.q9Xw2vB7nLk4jH1gF8dS6aP3oI0uY5tR')
  assert.equal(e.subject, ALICE)
})

test('a session end is a session-scoped logout', () => {
  const e = one(lines[7]!)
  assert.equal(e.kind, 'REVOKE')
  assert.equal(e.action, 'logout')
  assert.equal(e.revoke_scope, 'session')
  assert.equal(e.session_id, '102N1EKyPFERROGvK9wizMAPQ')
  assert.equal(e.ts, Date.parse('2026-11-20T11:05:27.773Z'))
})

test("an admin's session clear revokes the target user, not the admin, and keeps the admin's address out", () => {
  const e = one(lines[8]!)
  assert.equal(e.kind, 'REVOKE')
  assert.equal(e.action, 'admin_revoke')
  assert.equal(e.revoke_scope, 'user')
  assert.equal(e.subject, ALICE)
  assert.equal(e.ip, undefined)
  assert.equal(e.user_agent, undefined)
})

test('a denied sign-on policy evaluation and an app SSO are validations with their outcome', () => {
  const policy = one(lines[9]!)
  assert.equal(policy.action, 'policy')
  assert.equal(policy.result, 'DENIED')
  const sso = one(lines[11]!)
  assert.equal(sso.action, 'sso')
  assert.equal(sso.result, 'OK')
  assert.equal(sso.client_id, '0oa2slack3x4y5z6')
})

test('events that are not about sessions or tokens are accepted and skipped', () => {
  assert.deepEqual(events(okta.parse(lines[10]!)), [])
})

test('a page from /api/v1/logs (a JSON array) yields one event per LogEvent', () => {
  const parsed = events(okta.parse(fixture('api-page.json')))
  assert.deepEqual(
    parsed.map((e) => [e.kind, e.action, e.event_id]),
    [
      ['ISSUE', 'login', 'okta:8f0c2a6e-9a41-11f1-8b7d-3f5c0c4d2e11'],
      ['REVOKE', 'logout', 'okta:07d9e1f3-9a42-11f1-8b7d-3f5c0c4d2e18'],
    ],
  )
})

test('an event hook delivery yields the LogEvents in data.events', () => {
  const delivery = {
    eventType: 'com.okta.event_hook',
    eventTypeVersion: '1.0',
    cloudEventsVersion: '0.1',
    source: 'https://acme.okta.com/api/v1/eventHooks/whok1a2b3c4d5e6f7g8',
    eventId: 'b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e',
    eventTime: '2026-11-20T11:05:28.000Z',
    contentType: 'application/json',
    data: { events: [JSON.parse(lines[7]!), JSON.parse(lines[8]!)] },
  }
  assert.deepEqual(
    events(okta.parse(JSON.stringify(delivery))).map((e) => [e.action, e.revoke_scope]),
    [
      ['logout', 'session'],
      ['admin_revoke', 'user'],
    ],
  )
})

test('debugData flattened to a "{k=v}" string still gives the device hash and the root session id', () => {
  const e = one(fixture('flattened-debug.ndjson'))
  assert.equal(e.action, 'admin_app')
  assert.equal(e.device_id, '7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f')
  assert.equal(e.session_id, 'idxQ9r8S7t6U5v4W3x2Y1z0')
})

test('an EventBridge envelope from Okta log streaming is unwrapped, and the org comes from the options', () => {
  const wrapped = JSON.stringify({ version: '0', 'detail-type': 'SystemLog', source: 'aws.partner/okta.com/acme/okta-stream', detail: JSON.parse(lines[0]!) })
  const e = events(createOktaFormat({ tenant: 'acme.okta.com' }).parse(wrapped))[0]!
  assert.equal(e.event_id, 'okta:8f0c2a6e-9a41-11f1-8b7d-3f5c0c4d2e11')
  assert.equal(e.source.tenant, 'acme.okta.com')
})

test('bad input is rejected with a code and a reason naming the field', () => {
  const record = JSON.parse(lines[0]!) as Record<string, unknown>
  const without = (field: string) => JSON.stringify({ ...record, [field]: undefined })
  assert.equal(rejection(okta.parse('{"eventType": "user.session.start",')).code, 'BAD_JSON')
  assert.equal(rejection(okta.parse('not json')).code, 'BAD_JSON')
  assert.deepEqual(okta.parse(without('eventType')), { ok: false, code: 'MISSING_FIELD', reason: 'eventType: required' })
  assert.deepEqual(okta.parse(without('published')), { ok: false, code: 'MISSING_FIELD', reason: 'published: required' })
  assert.deepEqual(okta.parse(JSON.stringify({ ...record, published: 'yesterday' })), { ok: false, code: 'BAD_FIELD', reason: 'published: not an ISO 8601 time' })
  assert.deepEqual(okta.parse('"user.session.start"'), { ok: false, code: 'NOT_AN_OBJECT', reason: 'a line must be a LogEvent object or an array of them' })
  assert.deepEqual(okta.parse(`[${lines[0]}, 7]`), { ok: false, code: 'NOT_AN_OBJECT', reason: '[1]: not a LogEvent object' })
})

test('2000 damaged lines never throw and always end in events or a known reject code', () => {
  assertSurvives(okta, garbage([...lines, fixture('api-page.json')], 2000, 7))
})
