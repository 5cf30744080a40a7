import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fixturePath } from '../../../test/support/paths.js'
import { createGoogleWorkspaceFormat } from './google-workspace.js'
import type { DraftEvent, ParseResult } from './types.js'
import { assertSurvives, garbage } from '../../../test/support/fuzz.js'

const google = createGoogleWorkspaceFormat()
const fixture = (name: string) => readFileSync(fixturePath('formats', 'google-workspace', name), 'utf8')
const lines = fixture('login-activities.ndjson').split('\n').filter(Boolean)

function events(result: ParseResult): DraftEvent[] {
  assert.ok(result.ok, result.ok ? '' : `rejected: ${result.code} ${result.reason}`)
  return result.events
}

function one(line: string): DraftEvent {
  const parsed = events(google.parse(line))
  assert.equal(parsed.length, 1)
  return parsed[0]!
}

function rejection(result: ParseResult): { code: string; reason: string } {
  assert.ok(!result.ok, 'expected a reject')
  return { code: result.code, reason: result.reason }
}

test('login_success is a login ISSUE identified by the activity time and unique qualifier', () => {
  const e = one(lines[0]!)
  assert.equal(e.kind, 'ISSUE')
  assert.equal(e.action, 'login')
  assert.equal(e.event_id, 'google-workspace:2026-11-20T09:58:41.317Z:-4518237464518906931')
  assert.equal(e.ts, Date.parse('2026-11-20T09:58:41.317Z'))
  assert.deepEqual(e.source, { system: 'google-workspace', tenant: 'C03az79cb', format: 'google-workspace' })
  assert.equal(e.subject, 'alice@acme.example')
  assert.equal(e.ip, '198.51.100.23')
  assert.equal(e.token_kind, 'session_cookie')
  assert.deepEqual(e.amr, ['pwd', 'otp', 'mfa'], 'login_challenge_method multiValue')
  assert.deepEqual(e.net_flags, [])
})

test('login_failure is a denied login, flagged when Google found it suspicious', () => {
  const e = one(lines[1]!)
  assert.equal(e.kind, 'VALIDATE')
  assert.equal(e.action, 'login')
  assert.equal(e.result, 'DENIED')
  assert.deepEqual(e.amr, ['pwd'])
  assert.deepEqual(e.net_flags, ['idp_suspicious'])
  assert.equal(e.ip, '185.220.101.47')
})

test('an activity holding several events yields one event each, with distinct ids', () => {
  const [challenge, suspicious] = events(google.parse(lines[2]!))
  assert.equal(challenge!.action, 'challenge')
  assert.equal(challenge!.result, 'DENIED', 'login_challenge_status "Challenge Failed"')
  assert.deepEqual(challenge!.amr, ['sms', 'mfa'])
  assert.equal(challenge!.event_id, 'google-workspace:2026-11-20T10:02:30.100Z:-903347561200983712:0')
  assert.equal(suspicious!.action, 'suspicious_login')
  assert.equal(suspicious!.result, undefined)
  assert.deepEqual(suspicious!.net_flags, ['idp_suspicious'])
  assert.equal(suspicious!.event_id, 'google-workspace:2026-11-20T10:02:30.100Z:-903347561200983712:1')
})

test('logout is a session-scoped revoke', () => {
  const e = one(lines[3]!)
  assert.equal(e.kind, 'REVOKE')
  assert.equal(e.action, 'logout')
  assert.equal(e.revoke_scope, 'session')
  assert.equal(e.subject, 'alice@acme.example')
})

test('activities of other applications are accepted and skipped', () => {
  assert.deepEqual(events(google.parse(lines[4]!)), [])
})

test('an activities.list page yields every activity in items', () => {
  assert.deepEqual(
    events(google.parse(fixture('activities-page.json'))).map((e) => [e.kind, e.action]),
    [
      ['ISSUE', 'login'],
      ['REVOKE', 'logout'],
    ],
  )
})

test('bad input is rejected with a code and a reason naming the field', () => {
  const activity = JSON.parse(lines[0]!) as Record<string, unknown>
  const id = activity.id as Record<string, unknown>
  assert.equal(rejection(google.parse('{"kind":"admin#reports#activity"')).code, 'BAD_JSON')
  assert.deepEqual(rejection(google.parse(JSON.stringify({ ...activity, id: { ...id, time: undefined } }))), { code: 'MISSING_FIELD', reason: 'id.time: required' })
  assert.deepEqual(rejection(google.parse(JSON.stringify({ ...activity, id: { ...id, time: 'now' } }))), { code: 'BAD_FIELD', reason: 'id.time: not an RFC 3339 time' })
  assert.deepEqual(rejection(google.parse(JSON.stringify({ ...activity, events: undefined }))), { code: 'MISSING_FIELD', reason: 'events: required' })
  assert.deepEqual(rejection(google.parse(JSON.stringify({ ...activity, events: [{ type: 'login' }] }))), { code: 'MISSING_FIELD', reason: 'events[0].name: required string' })
  assert.deepEqual(rejection(google.parse('{"kind":"admin#reports#activities","items":{}}')), { code: 'BAD_FIELD', reason: 'items: not an array' })
})

test('2000 damaged lines never throw and always end in events or a known reject code', () => {
  assertSurvives(google, garbage([...lines, fixture('activities-page.json')], 2000, 23))
})
