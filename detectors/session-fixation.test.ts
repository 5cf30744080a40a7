import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AuthEvent } from '../schemas/model.js'
import { carrier, datacenter, eventBuilder, firefoxOnLinux, MIN, runAcrossRestart, runDetector } from './fixtures.js'
import { createSessionFixationDetector } from './session-fixation.js'

const run = (events: AuthEvent[]) => runDetector(createSessionFixationDetector() as never, events)
const anonymous: Partial<AuthEvent> = { subject: null }
const login: Partial<AuthEvent> = { kind: 'ISSUE', action: 'login', validator: null, result: null }
const fixer: Partial<AuthEvent> = { ...datacenter, ...firefoxOnLinux }

test('an identifier planted before login and used by its planter after the login pages, confirmed', () => {
  const event = eventBuilder({ session_id: 'sid-fixed', token_fp: 'c-fixed' })
  const ds = run([event({ ts: 0, ...anonymous, ...fixer }), event({ ts: 5 * MIN, ...login }), event({ ts: 6 * MIN }), event({ ts: 9 * MIN, ...fixer })])
  assert.equal(ds.length, 1)
  const d = ds[0]!
  assert.equal(d.severity, 'page')
  assert.equal(d.confirmed, true)
  assert.equal(d.subject, 'u1')
  assert.equal(d.first_malicious_ts, 0, 'blamed from the planting')
  assert.ok(d.evidence.ips.includes('167.99.1.2'))
})

test('anonymous events join the login by session id alone, with no subject', () => {
  const event = eventBuilder({ session_id: 'sid-fixed', token_fp: null })
  const ds = run([event({ ts: 0, ...anonymous, ...fixer }), event({ ts: 5 * MIN, ...login }), event({ ts: 9 * MIN, ...anonymous, ...fixer })])
  assert.equal(ds.length, 1)
})

test('a user browsing anonymously, logging in and carrying on from the same browser raises nothing', () => {
  const event = eventBuilder()
  assert.deepEqual(run([event({ ts: 0, ...anonymous }), event({ ts: MIN, ...login }), event({ ts: 2 * MIN }), event({ ts: 3 * MIN, ...anonymous })]), [])
})

test('the same browser moving to a carrier after login is recorded only', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0, ...anonymous }), event({ ts: MIN, ...login }), event({ ts: 5 * MIN, ...carrier })])
  assert.ok(ds.every((d) => d.severity === 'info'))
})

test('sessions with no anonymous use before login keep no state and raise nothing', () => {
  const event = eventBuilder()
  assert.deepEqual(run([event({ ts: 0, ...login }), event({ ts: MIN, ...fixer })]), [])
})

test('the same history gives the same detections across a checkpoint and restore', () => {
  const event = eventBuilder({ session_id: 'sid-fixed' })
  const history = [event({ ts: 0, ...anonymous, ...fixer }), event({ ts: 5 * MIN, ...login }), event({ ts: 6 * MIN }), event({ ts: 9 * MIN, ...fixer }), event({ ts: 10 * MIN, ...fixer })]
  const { straight, restarted } = runAcrossRestart(() => createSessionFixationDetector() as never, history, 2)
  assert.equal(straight.length, 1)
  assert.deepEqual(restarted, straight)
})
