import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AuthEvent } from '../schemas/model.js'
import { carrier, datacenter, eventBuilder, MIN, pythonRequests, runAcrossRestart, runDetector, SEC } from './fixtures.js'
import { createDetectionEngine } from './engine.js'
import { createSessionForkDetector } from './session-fork.js'

const run = (events: AuthEvent[]) => runDetector(createSessionForkDetector() as never, events)
const issue = (fp: string): Partial<AuthEvent> => ({ kind: 'ISSUE', action: 'refresh', token_fp: fp, token_kind: 'access', client_id: 'spa', validator: null, result: null })
const use = (fp: string): Partial<AuthEvent> => ({ token_fp: fp, token_kind: 'access', client_id: 'spa' })

test('an old access token replayed by a script after the owner refreshed pages, confirmed', () => {
  const event = eventBuilder()
  const ds = run([
    event({ ts: 0, ...issue('at1') }), event({ ts: MIN, ...use('at1') }), event({ ts: 10 * MIN, ...issue('at2') }),
    event({ ts: 11 * MIN, ...use('at2') }), event({ ts: 15 * MIN, ...use('at1'), ...datacenter, ...pythonRequests }),
  ])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'page')
  assert.equal(ds[0]!.confirmed, true)
  assert.equal(ds[0]!.token_fp, 'at1')
  assert.equal(ds[0]!.first_malicious_ts, 15 * MIN)
})

test('a request in flight with the old token just after a refresh raises nothing', () => {
  const event = eventBuilder()
  assert.deepEqual(run([event({ ts: 0, ...issue('at1') }), event({ ts: 10 * MIN, ...issue('at2') }), event({ ts: 10 * MIN + 5 * SEC, ...use('at1'), ...carrier })]), [])
})

test('the owner keeping the old token a while on the same client and network raises nothing', () => {
  const event = eventBuilder()
  assert.deepEqual(run([event({ ts: 0, ...issue('at1') }), event({ ts: 10 * MIN, ...issue('at2') }), event({ ts: 14 * MIN, ...use('at1') })]), [])
})

test('tokens of different OAuth clients in one SSO session are separate lineages', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0, ...issue('at1') }), event({ ts: 10 * MIN, ...issue('other1'), client_id: 'mobile-app' }), event({ ts: 14 * MIN, ...use('at1'), ...pythonRequests })])
  assert.deepEqual(ds, [])
})

test('the same client on another network (a phone between Wi-Fi and cellular) is recorded only', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0, ...issue('at1') }), event({ ts: 10 * MIN, ...issue('at2') }), event({ ts: 14 * MIN, ...use('at1'), ...carrier })])
  assert.ok(ds.every((d) => d.severity === 'info'))
})

test('the same history gives the same detections across a checkpoint and restore', () => {
  const event = eventBuilder()
  const history = [event({ ts: 0, ...issue('at1') }), event({ ts: 10 * MIN, ...issue('at2') }), event({ ts: 11 * MIN, ...use('at2') }), event({ ts: 15 * MIN, ...use('at1'), ...datacenter, ...pythonRequests })]
  const { straight, restarted } = runAcrossRestart(() => createSessionForkDetector() as never, history, 2)
  assert.equal(straight.length, 1)
  assert.deepEqual(restarted, straight)
})

test('a session presenting one credential keeps no state here; a second credential builds it from the engine record, across a restart too', () => {
  const event = eventBuilder()
  const history = [event({ ts: 0, ...issue('at1') }), event({ ts: MIN, ...use('at1') }), event({ ts: 10 * MIN, ...issue('at2') }), event({ ts: 11 * MIN, ...use('at2') }), event({ ts: 15 * MIN, ...use('at1'), ...datacenter, ...pythonRequests })]
  const engine = createDetectionEngine([createSessionForkDetector() as never], { latenessMs: 10 * MIN, sweepEveryMs: MIN })
  const found = history.slice(0, 2).flatMap((e) => engine.process(e))
  assert.equal(engine.size, 0, 'one credential: the record holds everything')
  found.push(...history.slice(2).flatMap((e) => engine.process(e)))
  assert.equal(engine.size, 1)
  assert.equal(found.length, 1)
  assert.equal(found[0]!.evidence.event_ids[0], history[0]!.event_id, "the first credential's issuance, from the record, is the reference")
  const { straight, restarted } = runAcrossRestart(() => createSessionForkDetector() as never, history, 2)
  assert.deepEqual(restarted, straight)
  assert.deepEqual(straight, found)
})
