import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AuthEvent } from '../schemas/model.js'
import { datacenter, eventBuilder, MIN, pythonRequests, runAcrossRestart, runDetector, SEC } from './fixtures.js'
import { createRefreshReuseDetector } from './refresh-reuse.js'

const run = (events: AuthEvent[]) => runDetector(createRefreshReuseDetector() as never, events)
const refresh = (parent: string, child: string): Partial<AuthEvent> => ({
  kind: 'ISSUE', action: 'refresh', token_kind: 'refresh', parent_token_fp: parent, token_fp: child, validator: null, result: null, route: null,
})

test('a rotated-out refresh token redeemed again from another network and client pages, confirmed', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0, ...refresh('rt0', 'rt1') }), event({ ts: 20 * MIN, ...refresh('rt0', 'rtX'), ...datacenter, ...pythonRequests })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'page')
  assert.equal(ds[0]!.confirmed, true)
  assert.equal(ds[0]!.token_fp, 'rt0')
  assert.equal(ds[0]!.first_malicious_ts, 20 * MIN)
})

test('several tabs refreshing the same token within a second raise nothing', () => {
  const event = eventBuilder()
  assert.deepEqual(run([event({ ts: 0, ...refresh('rt0', 'rt1') }), event({ ts: 400, ...refresh('rt0', 'rt2') }), event({ ts: 900, ...refresh('rt0', 'rt3') })]), [])
})

test('one refresh issuing both an access and a refresh token (Keycloak) is one rotation', () => {
  const event = eventBuilder()
  assert.deepEqual(run([event({ ts: 0, ...refresh('rt0', 'at1'), token_kind: 'access' }), event({ ts: 0, ...refresh('rt0', 'rt1') })]), [])
})

test('the same device retrying a lost refresh response is a ticket at most, not confirmed', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0, ...refresh('rt0', 'rt1') }), event({ ts: 30 * SEC, ...refresh('rt0', 'rt2') })])
  assert.ok(ds.every((d) => d.severity !== 'page' && !d.confirmed))
})

test('a retired token presented to the token endpoint and rejected is still reuse', () => {
  const event = eventBuilder()
  const ds = run([
    event({ ts: 0, ...refresh('rt0', 'rt1') }),
    event({ ts: 5 * MIN, token_fp: 'rt0', token_kind: 'refresh', action: 'refresh', result: 'INVALID', ...datacenter, ...pythonRequests }),
  ])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.confirmed, true)
})

test('reuse reported by the IdP itself is decisive and reported once', () => {
  const event = eventBuilder()
  const reuse = { action: 'refresh_reuse', token_kind: 'refresh' as const, token_fp: 'fam1', result: 'INVALID' as const }
  const ds = run([event({ ts: 0, ...reuse }), event({ ts: MIN, ...reuse })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'page')
  assert.equal(ds[0]!.confirmed, true)
})

test('a rotation arriving after the reuse it precedes is still matched', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 20 * MIN, ...refresh('rt0', 'rtX'), ...datacenter, ...pythonRequests }), event({ ts: 0, ...refresh('rt0', 'rt1') })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.first_malicious_ts, 20 * MIN)
})

test('the same history gives the same detections across a checkpoint and restore', () => {
  const event = eventBuilder()
  const history = [event({ ts: 0, ...refresh('rt0', 'rt1') }), event({ ts: MIN, ...refresh('rt1', 'rt2') }), event({ ts: 20 * MIN, ...refresh('rt0', 'rtX'), ...datacenter, ...pythonRequests }), event({ ts: 21 * MIN, ...refresh('rt0', 'rtY'), ...datacenter, ...pythonRequests })]
  const { straight, restarted } = runAcrossRestart(() => createRefreshReuseDetector() as never, history, 2)
  assert.equal(straight.length, 1)
  assert.deepEqual(restarted, straight)
})
