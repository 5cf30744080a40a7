import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fixturePath } from '../../../test/support/paths.js'
import { createCloudTrailFormat } from './cloudtrail.js'
import type { DraftEvent, ParseResult } from './types.js'
import { assertSurvives, garbage } from '../../../test/support/fuzz.js'

const cloudtrail = createCloudTrailFormat()
const fixture = (name: string) => readFileSync(fixturePath('formats', 'cloudtrail', name), 'utf8')
const logFile = fixture('log-file.json')
const lines = fixture('records.ndjson').split('\n').filter(Boolean)
const ALICE = 'arn:aws:iam::111122223333:user/alice'
const ROLE_SESSION = 'arn:aws:sts::111122223333:assumed-role/DeployRole/alice-deploy'
const KEY = 'ASIAZ7Q2EXAMPLEK3Y4D'

function events(result: ParseResult): DraftEvent[] {
  assert.ok(result.ok, result.ok ? '' : `rejected: ${result.code} ${result.reason}`)
  return result.events
}

function one(line: string): DraftEvent {
  const parsed = events(cloudtrail.parse(line))
  assert.equal(parsed.length, 1)
  return parsed[0]!
}

function rejection(result: ParseResult): { code: string; reason: string } {
  assert.ok(!result.ok, 'expected a reject')
  return { code: result.code, reason: result.reason }
}

test('a log file ({"Records": […]}) yields its session and token events and skips service and long-term-key calls', () => {
  const parsed = events(cloudtrail.parse(logFile))
  assert.deepEqual(
    parsed.map((e) => [e.kind, e.action, e.result]),
    [
      ['ISSUE', 'login', undefined],
      ['ISSUE', 'assume_role', undefined],
      ['VALIDATE', 'request', 'OK'],
      ['VALIDATE', 'request', 'DENIED'],
    ],
  )
})

test('a console sign-in with MFA is a login ISSUE of the IAM user', () => {
  const e = events(cloudtrail.parse(logFile))[0]!
  assert.equal(e.event_id, 'cloudtrail:3038ebd2-c98a-4c65-9b6e-e22506292313')
  assert.equal(e.ts, Date.parse('2026-11-20T09:58:41Z'))
  assert.deepEqual(e.source, { system: 'aws', tenant: '111122223333', format: 'cloudtrail' })
  assert.equal(e.subject, ALICE)
  assert.equal(e.token_kind, 'session_cookie')
  assert.deepEqual(e.amr, ['pwd', 'mfa'])
  assert.equal(e.ip, '198.51.100.23')
})

test('AssumeRole issues the temporary key to the role session, expiring at the STS-formatted expiration', () => {
  const e = events(cloudtrail.parse(logFile))[1]!
  assert.equal(e.subject, ROLE_SESSION)
  assert.equal(e.token_kind, 'access')
  assert.equal(e.jti, KEY)
  assert.equal(e.token_fp, `cloudtrail:${KEY}`)
  assert.equal(e.issued_at, Date.parse('2026-11-20T10:00:05Z'))
  assert.equal(e.expires_at, Date.parse('2026-11-20T11:00:05Z'), '"Nov 20, 2026, 11:00:05 AM" is UTC')
  assert.equal(e.parent_token_fp, undefined, 'the caller signed with a long-term key')
  assert.deepEqual(e.amr, ['mfa'])
})

test('calls made with the temporary key are validations joined to it by access key id', () => {
  const [, , ok, denied] = events(cloudtrail.parse(logFile))
  assert.equal(ok!.token_fp, `cloudtrail:${KEY}`)
  assert.equal(ok!.subject, ROLE_SESSION)
  assert.equal(ok!.route, 's3.amazonaws.com/ListBuckets')
  assert.equal(ok!.validator, 's3.amazonaws.com')
  assert.equal(ok!.issued_at, Date.parse('2026-11-20T10:00:05Z'))
  assert.deepEqual(ok!.amr, ['mfa'])
  assert.equal(denied!.token_fp, `cloudtrail:${KEY}`)
  assert.equal(denied!.route, 'iam.amazonaws.com/CreateAccessKey')
  assert.equal(denied!.result, 'DENIED')
  assert.equal(denied!.ip, '185.220.101.47')
})

test('a failed console sign-in is a denied login filed under account and user name', () => {
  const e = one(lines[0]!)
  assert.equal(e.kind, 'VALIDATE')
  assert.equal(e.action, 'login')
  assert.equal(e.result, 'DENIED')
  assert.equal(e.subject, '111122223333:alice')
  assert.deepEqual(e.amr, ['pwd'])
})

test('role chaining makes the caller temporary key the parent of the issued one', () => {
  const e = one(lines[1]!)
  assert.equal(e.subject, 'arn:aws:sts::444455556666:assumed-role/ProdReadOnly/alice-prod')
  assert.equal(e.token_fp, 'cloudtrail:ASIAQ3W4EXAMPLER5T6Y')
  assert.equal(e.parent_token_fp, `cloudtrail:${KEY}`)
  assert.equal(e.expires_at, Date.parse('2026-11-20T11:20:00Z'))
})

test('AssumeRoleWithSAML issues to the federated role session with an ISO expiration', () => {
  const e = one(lines[2]!)
  assert.equal(e.action, 'assume_role_saml')
  assert.equal(e.subject, 'arn:aws:sts::111122223333:assumed-role/Engineer/alice@acme.example')
  assert.equal(e.token_fp, 'cloudtrail:ASIAS4ML5EXAMPLE6U7I')
  assert.equal(e.expires_at, Date.parse('2026-11-20T21:45:00Z'))
})

test('a service name in sourceIPAddress leaves the address unset', () => {
  const e = one(lines[3]!)
  assert.equal(e.kind, 'VALIDATE')
  assert.equal(e.ip, undefined)
  assert.equal(e.token_fp, 'cloudtrail:ASIAS4ML5EXAMPLE6U7I')
  assert.deepEqual(e.amr, [])
})

test('an EventBridge "AWS API Call via CloudTrail" event is read from its detail', () => {
  const e = one(lines[4]!)
  assert.equal(e.action, 'get_session_token')
  assert.equal(e.subject, ALICE, 'GetSessionToken credentials act as the caller')
  assert.equal(e.token_fp, 'cloudtrail:ASIAG5S6EXAMPLET7K8N')
  assert.equal(e.expires_at, Date.parse('2026-11-20T22:40:00Z'))
  assert.deepEqual(e.amr, ['mfa'])
})

test('the STS session token recorded in responseElements never reaches an event', () => {
  const all = [...events(cloudtrail.parse(logFile)), ...lines.flatMap((l) => events(cloudtrail.parse(l)))]
  assert.ok(!JSON.stringify(all).includes('IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN'))
})

test('bad input is rejected with a code and a reason naming the field', () => {
  const record = JSON.parse(lines[0]!) as Record<string, unknown>
  assert.equal(rejection(cloudtrail.parse('{"Records":[')).code, 'BAD_JSON')
  assert.deepEqual(rejection(cloudtrail.parse(JSON.stringify({ ...record, eventTime: undefined }))), { code: 'MISSING_FIELD', reason: 'eventTime: required' })
  assert.deepEqual(rejection(cloudtrail.parse(JSON.stringify({ ...record, eventName: undefined }))), { code: 'MISSING_FIELD', reason: 'eventName: required' })
  assert.deepEqual(rejection(cloudtrail.parse(JSON.stringify({ ...record, eventTime: '20/11/2026' }))), { code: 'BAD_FIELD', reason: 'eventTime: not an ISO 8601 time' })
  assert.deepEqual(rejection(cloudtrail.parse('{"Records":{}}')), { code: 'BAD_FIELD', reason: 'Records: not an array' })
  assert.deepEqual(rejection(cloudtrail.parse(JSON.stringify({ Records: [{ ...record, eventTime: undefined }] }))), {
    code: 'MISSING_FIELD',
    reason: 'Records[0].eventTime: required',
  })
})

test('2000 damaged lines never throw and always end in events or a known reject code', () => {
  assertSurvives(cloudtrail, garbage([...lines, logFile], 2000, 19))
})
