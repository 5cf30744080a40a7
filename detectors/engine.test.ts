import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AuthEvent } from '../schemas/model.js'
import { createDetectionEngine } from './engine.js'
import { createMultiNetworkDetector, DEFAULT_MULTI_NETWORK } from './multi-network.js'

const MIN = 60_000
const ev = (id: string, ts: number, session: string, asn: number, ua = 'Chrome'): AuthEvent => ({
  event_id: id, kind: 'VALIDATE', action: 'request', ts, ingest_ts: 0, source: { system: 't' }, subject: 'u-' + session,
  session_id: session, scopes: [], amr: [], net_flags: [], claims_unverified: false, ip: `10.0.${asn % 255}.1`,
  ip_prefix: `10.0.${asn % 255}.0/24`, asn, ua_family: ua, os_family: 'Windows', device_type: 'desktop', result: 'OK',
})
// Sessions forgotten 30 min after their last use, so eviction is visible within a few hours of event time.
const detector = () => createMultiNetworkDetector({ ...DEFAULT_MULTI_NETWORK, windowMs: 30 * MIN, sessionIdleMs: 30 * MIN })
const engine = () => createDetectionEngine([detector() as never], { latenessMs: 5 * MIN, sweepEveryMs: MIN })

test('state restored from a checkpoint continues exactly where the original left off', () => {
  const original = engine()
  original.process(ev('a', 0, 's1', 1))
  const restored = engine()
  restored.restore(original.takeChanges().map((c) => JSON.parse(JSON.stringify(c))))
  const fromOriginal = original.process(ev('b', MIN, 's1', 2, 'python-requests'))
  const fromRestored = restored.process(ev('b', MIN, 's1', 2, 'python-requests'))
  assert.equal(fromRestored.length, 1)
  assert.deepEqual(fromRestored, fromOriginal)
})

test('slots whose time has passed are evicted and reported as forgotten', () => {
  const e = engine()
  e.process(ev('a', 0, 's1', 1))
  e.takeChanges()
  assert.equal(e.size, 1)
  e.process(ev('b', 3 * 60 * MIN, 's2', 1))
  assert.equal(e.size, 1)
  const changes = e.takeChanges()
  assert.deepEqual(changes.find((c) => c.key.endsWith('s:s1')), { key: 'multi_network|s:s1', state: undefined })
})

test('detections are stamped with the event time offline and with the given time live', () => {
  const offline = engine()
  offline.process(ev('a', 0, 's1', 1))
  assert.equal(offline.process(ev('b', MIN, 's1', 2, 'x'))[0]!.detected_ts, MIN)
  const live = engine()
  live.process(ev('a', 0, 's1', 1), 111)
  assert.equal(live.process(ev('b', MIN, 's1', 2, 'x'), 999)[0]!.detected_ts, 999)
})

test('a slot kept alive by later events is evicted once it finally falls behind, and not before', () => {
  const e = engine()
  e.process(ev('a', 0, 's1', 1))
  e.process(ev('b', 20 * MIN, 's1', 1))
  e.process(ev('c', 40 * MIN, 's2', 1))
  assert.equal(e.size, 2, 's1 was used at 20 min: its window runs to 50 min')
  e.process(ev('d', 4 * 60 * MIN, 's3', 1))
  assert.equal(e.size, 1)
  e.process(ev('e', 5 * 60 * MIN, 's3', 1))
  e.process(ev('f', 12 * 60 * MIN, 's4', 1))
  assert.equal(e.size, 1, 's3 went too; only the newest slot is left')
})

test('a detection carries the route of the event that triggered it, for the alert policy', () => {
  const e = engine()
  e.process({ ...ev('a', 0, 's1', 1), route: '/api/inbox' })
  const [d] = e.process({ ...ev('b', MIN, 's1', 2, 'python-requests'), route: '/api/admin/users' })
  assert.equal(d!.route, '/api/admin/users')
  const other = engine()
  other.process(ev('c', 0, 's2', 1))
  assert.equal(other.process(ev('d', MIN, 's2', 2, 'python-requests'))[0]!.route, null, 'no route on the trigger: null')
})
