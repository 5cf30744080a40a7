import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fixturePath } from '../../../test/support/paths.js'
import { createEntraFormat } from './entra.js'
import type { DraftEvent, ParseResult } from './types.js'
import { assertSurvives, garbage } from '../../../test/support/fuzz.js'

const entra = createEntraFormat()
const fixture = (name: string) => readFileSync(fixturePath('formats', 'entra', name), 'utf8')
const lines = fixture('diagnostic-export.ndjson').split('\n').filter(Boolean)
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const ALICE = '4d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09'

function events(result: ParseResult): DraftEvent[] {
  assert.ok(result.ok, result.ok ? '' : `rejected: ${result.code} ${result.reason}`)
  return result.events
}

function one(line: string): DraftEvent {
  const parsed = events(entra.parse(line))
  assert.equal(parsed.length, 1)
  return parsed[0]!
}

function rejection(result: ParseResult): { code: string; reason: string } {
  assert.ok(!result.ok, 'expected a reject')
  return { code: result.code, reason: result.reason }
}

test('an interactive sign-in is a login ISSUE with the session, the token identifier and MFA', () => {
  const e = one(lines[0]!)
  assert.equal(e.kind, 'ISSUE')
  assert.equal(e.action, 'login')
  assert.equal(e.event_id, 'entra:1f0e9d8c-7b6a-4594-8382-716f5e4d3c2b')
  assert.equal(e.ts, Date.parse('2026-11-20T09:58:41.317Z'), 'seven fractional digits keep their milliseconds')
  assert.deepEqual(e.source, { system: 'entra', tenant: TENANT, format: 'entra' })
  assert.equal(e.subject, ALICE)
  assert.equal(e.session_id, '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d')
  assert.equal(e.jti, 'q7FhQ2xYz0m1N2b3V4c5XA')
  assert.equal(e.token_fp, 'entra:q7FhQ2xYz0m1N2b3V4c5XA')
  assert.equal(e.client_id, '00000003-0000-0ff1-ce00-000000000000')
  assert.deepEqual(e.amr, ['pwd', 'mfa'])
  assert.equal(e.device_id, '9c8b7a6f-5e4d-4c3b-a291-807f6e5d4c3b')
})

test('the address, ASN and place Entra resolved travel with the sign-in', () => {
  const e = one(lines[0]!)
  assert.equal(e.ip, '198.51.100.23')
  assert.equal(e.asn, 12353)
  assert.equal(e.city, 'Lisbon')
  assert.equal(e.country, 'PT')
  assert.equal(e.lat, 38.7167)
  assert.equal(e.lon, -9.1333)
})

test('a non-interactive sign-in with a refresh token is a refresh validation (Level given as a string)', () => {
  const e = one(lines[1]!)
  assert.equal(e.kind, 'VALIDATE')
  assert.equal(e.action, 'refresh')
  assert.equal(e.result, 'OK')
  assert.equal(e.token_kind, 'refresh')
  assert.equal(e.token_fp, 'entra:r2GhS3tUv4w5X6y7Z8a9BC')
  assert.equal(e.session_id, '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d')
  assert.equal(e.client_id, 'd3590ed6-52b3-4102-aeff-aad2292ab01c')
  assert.deepEqual(e.amr, [])
})

test('a refused refresh from elsewhere is a validation whose result follows the error code', () => {
  const e = one(lines[2]!)
  assert.equal(e.kind, 'VALIDATE')
  assert.equal(e.action, 'refresh')
  assert.equal(e.result, 'EXPIRED', 'AADSTS70008: expired through inactivity')
  assert.equal(e.ip, '185.220.101.47')
  assert.equal(e.asn, 208294)
  assert.equal(e.country, 'NL')
})

test('a failed interactive sign-in is a denied login; an interrupt (50140) is skipped', () => {
  const e = one(lines[3]!)
  assert.equal(e.kind, 'VALIDATE')
  assert.equal(e.action, 'login')
  assert.equal(e.result, 'DENIED')
  assert.equal(e.session_id, undefined)
  assert.deepEqual(events(entra.parse(lines[4]!)), [])
})

test('"Invalidate all refresh tokens for user" revokes every session of the target user', () => {
  const e = one(lines[5]!)
  assert.equal(e.kind, 'REVOKE')
  assert.equal(e.action, 'admin_revoke')
  assert.equal(e.revoke_scope, 'user')
  assert.equal(e.subject, ALICE)
  assert.equal(e.ts, Date.parse('2026-11-20T10:33:50.118Z'))
  assert.equal(e.event_id, 'entra:Directory_7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918')
})

test('other audit activities are accepted and skipped', () => {
  assert.deepEqual(events(entra.parse(lines[6]!)), [])
})

test('a storage blob ({"records": […]}) and a Graph page ({"value": […]}) yield every record', () => {
  assert.deepEqual(
    events(entra.parse(fixture('storage-blob.json'))).map((e) => [e.kind, e.action]),
    [
      ['ISSUE', 'login'],
      ['REVOKE', 'admin_revoke'],
    ],
  )
  const graph = events(entra.parse(fixture('graph-signins.json')))
  assert.deepEqual(
    graph.map((e) => [e.kind, e.action, e.source.tenant]),
    [
      ['VALIDATE', 'refresh', TENANT],
      ['ISSUE', 'login', TENANT],
    ],
  )
})

test('bad input is rejected with a code and a reason naming the field', () => {
  const record = JSON.parse(lines[0]!) as Record<string, unknown>
  const properties = record.properties as Record<string, unknown>
  assert.equal(rejection(entra.parse('{"category":')).code, 'BAD_JSON')
  assert.deepEqual(rejection(entra.parse(JSON.stringify({ ...record, category: undefined }))), { code: 'MISSING_FIELD', reason: 'category: required' })
  assert.deepEqual(rejection(entra.parse(JSON.stringify({ ...record, properties: undefined }))), { code: 'MISSING_FIELD', reason: 'properties: required object' })
  assert.deepEqual(rejection(entra.parse(JSON.stringify({ ...record, time: undefined, properties: { ...properties, createdDateTime: undefined } }))), {
    code: 'MISSING_FIELD',
    reason: 'createdDateTime: required',
  })
  assert.deepEqual(rejection(entra.parse(JSON.stringify({ ...record, properties: { ...properties, createdDateTime: 'Tuesday' } }))), {
    code: 'BAD_FIELD',
    reason: 'createdDateTime: not an ISO 8601 time',
  })
  assert.deepEqual(rejection(entra.parse(JSON.stringify({ ...record, properties: { ...properties, status: {} } }))), {
    code: 'MISSING_FIELD',
    reason: 'status.errorCode: required (0 is success)',
  })
  assert.deepEqual(rejection(entra.parse('{}')), { code: 'MISSING_FIELD', reason: 'category: required (or a Graph signIn with createdDateTime)' })
  assert.deepEqual(rejection(entra.parse('{"records":[1]}')), { code: 'NOT_AN_OBJECT', reason: '[0]: not a record object' })
})

test('2000 damaged lines never throw and always end in events or a known reject code', () => {
  assertSurvives(entra, garbage([...lines, fixture('graph-signins.json')], 2000, 17))
})
