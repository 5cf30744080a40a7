import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createExpiredAcceptedDetector } from './expired-accepted.js'
import { datacenter, eventBuilder, HOUR, MIN, pythonRequests, runAcrossRestart, runDetector, SEC } from './fixtures.js'

const run = (events: Parameters<typeof runDetector>[1]) => runDetector(createExpiredAcceptedDetector() as never, events)

test('a token accepted within the clock skew allowance after its expiry raises nothing', () => {
  const event = eventBuilder({ expires_at: 10 * MIN })
  assert.deepEqual(run([event({ ts: 0 }), event({ ts: 10 * MIN + 30 * SEC })]), [])
})

test('an expired token replayed from another network and accepted pages, confirmed', () => {
  const event = eventBuilder({ token_kind: 'access', expires_at: 10 * MIN })
  const ds = run([event({ ts: 0 }), event({ ts: 5 * MIN }), event({ ts: 40 * MIN, ...datacenter, ...pythonRequests })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'page')
  assert.equal(ds[0]!.confirmed, true)
  assert.equal(ds[0]!.first_malicious_ts, 40 * MIN)
})

test('the owner past expiry is a validator defect: a ticket', () => {
  const event = eventBuilder({ expires_at: 10 * MIN })
  const ds = run([event({ ts: 0 }), event({ ts: 15 * MIN })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'ticket')
  assert.equal(ds[0]!.confirmed, false)
})

test('the expiry learned from the ISSUE applies to presentations that do not carry it', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0, kind: 'ISSUE', action: 'login', expires_at: HOUR }), event({ ts: 2 * HOUR })])
  assert.equal(ds.length, 1)
})

test('rejected presentations of an expired token are not findings', () => {
  const event = eventBuilder({ expires_at: 10 * MIN })
  assert.deepEqual(run([event({ ts: 0 }), event({ ts: 20 * MIN, result: 'EXPIRED', ...datacenter })]), [])
})

test('tokens without a known expiry keep no state', () => {
  const event = eventBuilder({ expires_at: null })
  const { straight } = runAcrossRestart(() => createExpiredAcceptedDetector() as never, [event({ ts: 0 }), event({ ts: MIN })], 1)
  assert.deepEqual(straight, [])
})

test('the same history gives the same detections, once per token, across a restart', () => {
  const event = eventBuilder({ expires_at: 10 * MIN })
  const history = [event({ ts: 0 }), event({ ts: 12 * MIN }), event({ ts: 13 * MIN }), event({ ts: 20 * MIN, ...datacenter })]
  const { straight, restarted } = runAcrossRestart(() => createExpiredAcceptedDetector() as never, history, 2)
  assert.deepEqual(restarted, straight)
  assert.equal(straight.length, 2, 'the ticket, then the page when a new network shows up')
  assert.equal(new Set(straight.map((d) => d.detection_id)).size, 1)
})

test("the IdP's ISSUE and the gateway's presentations of one JWT meet by jti, though their fingerprints differ", () => {
  const event = eventBuilder({ jti: 'jti-42', token_kind: 'access' })
  const ds = run([
    event({ ts: 0, kind: 'ISSUE', action: 'token_grant', token_fp: 'okta:jti-42', expires_at: HOUR, validator: null, result: null }),
    event({ ts: 3 * HOUR, token_fp: 'tfp_9f1c', expires_at: null, ...datacenter }),
  ])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'page')
})
