import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fixturePath } from '../../../test/support/paths.js'
import { createSsfFormat } from './ssf.js'
import type { DraftEvent, ParseResult } from './types.js'
import { assertSurvives, garbage } from '../../../test/support/fuzz.js'

const ssf = createSsfFormat()
const fixture = (name: string) => readFileSync(fixturePath('formats', 'ssf', name), 'utf8')
const lines = fixture('sets.txt').split('\n').filter(Boolean)
const ISSUER = 'https://idp.partner.example/'
const USER = '00u8xk2h7TqZ3Lm1d697'

const b64 = (s: string) => Buffer.from(s).toString('base64url')
const jws = (payload: unknown) => `${b64('{"typ":"secevent+jwt","alg":"ES256"}')}.${b64(JSON.stringify(payload))}.c2lnbmF0dXJl`

function events(result: ParseResult): DraftEvent[] {
  assert.ok(result.ok, result.ok ? '' : `rejected: ${result.code} ${result.reason}`)
  return result.events
}

function one(line: string): DraftEvent {
  const parsed = events(ssf.parse(line))
  assert.equal(parsed.length, 1)
  return parsed[0]!
}

function rejection(result: ParseResult): { code: string; reason: string } {
  assert.ok(!result.ok, 'expected a reject')
  return { code: result.code, reason: result.reason }
}

test('a pushed session-revoked SET with a complex subject revokes that session, read without verifying', () => {
  const e = one(lines[0]!)
  assert.equal(e.kind, 'REVOKE')
  assert.equal(e.action, 'session_revoked')
  assert.equal(e.revoke_scope, 'session')
  assert.equal(e.session_id, 'dMTlD|1795168721.16|16008.16')
  assert.equal(e.subject, USER)
  assert.equal(e.ts, 1795170825 * 1000, 'event_timestamp, not iat')
  assert.equal(e.event_id, 'ssf:24c63fb56e5a2d77a6b512616ca9fa24')
  assert.deepEqual(e.source, { system: 'ssf', tenant: ISSUER, format: 'ssf' })
  assert.equal(e.claims_unverified, true)
})

test('credential-change as a JSON payload revokes the user named by an email subject', () => {
  const e = one(lines[1]!)
  assert.equal(e.action, 'credential_change')
  assert.equal(e.revoke_scope, 'user')
  assert.equal(e.subject, 'alice@acme.example')
  assert.equal(e.ts, 1795171490500, 'a fractional NumericDate keeps its milliseconds')
  assert.equal(e.claims_unverified, true)
})

test('a legacy CAEP subject inside the event names the user; without a session it revokes the user', () => {
  const e = one(lines[2]!)
  assert.equal(e.action, 'session_revoked')
  assert.equal(e.revoke_scope, 'user')
  assert.equal(e.subject, USER)
  assert.equal(e.session_id, undefined)
})

test('token-claims-change revokes the user; other event types are accepted and skipped', () => {
  const e = one(lines[3]!)
  assert.equal(e.action, 'token_claims_change')
  assert.equal(e.revoke_scope, 'user')
  assert.equal(e.ts, 1795172590 * 1000)
  assert.deepEqual(events(ssf.parse(lines[4]!)), [])
})

test('a jwt_id subject revokes that one token', () => {
  const e = one(
    jws({
      iss: ISSUER,
      jti: 'f00d',
      iat: 1795173000,
      sub_id: { format: 'jwt_id', iss: ISSUER, jti: 'AT.q9Xw2vB7nLk4jH1gF8dS6aP3oI0uY5tR' },
      events: { 'https://schemas.openid.net/secevent/caep/event-type/session-revoked': {} },
    }),
  )
  assert.equal(e.revoke_scope, 'token')
  assert.equal(e.jti, 'AT.q9Xw2vB7nLk4jH1gF8dS6aP3oI0uY5tR')
  assert.equal(e.ts, 1795173000 * 1000, 'iat when the event has no event_timestamp')
})

test('an RFC 8936 poll response yields the events of every SET in it', () => {
  assert.deepEqual(
    events(ssf.parse(fixture('poll-response.json'))).map((e) => [e.action, e.revoke_scope]),
    [
      ['session_revoked', 'session'],
      ['token_claims_change', 'user'],
    ],
  )
})

test('bad input is rejected with a code and a reason naming the field', () => {
  assert.deepEqual(rejection(ssf.parse(fixture('encrypted.txt'))), { code: 'UNPARSEABLE', reason: 'encrypted SETs (JWE) are not read' })
  assert.deepEqual(rejection(ssf.parse('session revoked for alice')), { code: 'UNPARSEABLE', reason: 'neither a compact JWS nor a JSON payload' })
  assert.equal(rejection(ssf.parse('{"iss":')).code, 'BAD_JSON')
  assert.equal(rejection(ssf.parse(`${b64('{}')}.${b64('not json')}.sig`)).code, 'BAD_JSON')
  const set = JSON.parse(lines[1]!) as Record<string, unknown>
  assert.deepEqual(rejection(ssf.parse(JSON.stringify({ ...set, events: undefined }))), { code: 'MISSING_FIELD', reason: 'events: required' })
  const noTime = { ...set, iat: undefined, events: { 'https://schemas.openid.net/secevent/caep/event-type/credential-change': {} } }
  assert.deepEqual(rejection(ssf.parse(jws(noTime))), { code: 'MISSING_FIELD', reason: 'iat: required NumericDate (or event_timestamp)' })
  assert.deepEqual(rejection(ssf.parse(JSON.stringify({ ...set, sub_id: { format: 'email' } }))), { code: 'MISSING_FIELD', reason: 'sub_id: no subject the event applies to' })
})

test('2000 damaged lines never throw and always end in events or a known reject code', () => {
  const payloads = lines.map((l) => (l.startsWith('{') ? l : Buffer.from(l.split('.')[1]!, 'base64url').toString('utf8')))
  const damaged = garbage([...payloads, fixture('poll-response.json')], 1500, 29)
  // The same damage inside a compact JWS, where a pushed SET carries it.
  const signed = damaged.slice(0, 500).map((line) => `${b64('{"alg":"RS256"}')}.${b64(line)}.${b64('sig')}`)
  assertSurvives(ssf, [...damaged, ...signed, ...lines])
})
