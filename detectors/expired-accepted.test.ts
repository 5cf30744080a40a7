import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createExpiredAcceptedDetector } from './expired-accepted.js'
import { createDetectionEngine } from './engine.js'
import { carrier, datacenter, eventBuilder, HOUR, MIN, pythonRequests, runAcrossRestart, runDetector, SEC } from './fixtures.js'

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

test("a network the owner used before the expiry, though not the credential's first, is the owner's: a ticket", () => {
  const event = eventBuilder({ token_kind: 'access', expires_at: 30 * MIN })
  // Logged in at home, then on the phone's carrier before the token expired; the stale edge accepts the phone.
  const ds = run([event({ ts: 0, kind: 'ISSUE', action: 'login' }), event({ ts: 20 * MIN, ...carrier }), event({ ts: 45 * MIN, ...carrier })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'ticket')
  assert.equal(ds[0]!.confirmed, false)
})

test("uses after the expiry (the owner's next token) do not vouch for a replay of the expired one", () => {
  const old = eventBuilder({ token_kind: 'access', jti: 'old', token_fp: 'tfp_old', expires_at: 10 * MIN })
  const next = eventBuilder({ token_kind: 'access', jti: 'next', token_fp: 'tfp_next', expires_at: HOUR })
  const ds = run([
    old({ ts: 0, kind: 'ISSUE', action: 'token_grant', event_id: 'grant-old' }),
    old({ ts: 5 * MIN, event_id: 'use-old' }),
    // The session goes on from a carrier with the next token; then the old one comes back from that carrier. What the
    // credential did after the old token expired says nothing of who holds it.
    next({ ts: 12 * MIN, event_id: 'use-next', ...carrier }),
    old({ ts: 30 * MIN, event_id: 'replay', ...carrier }),
  ])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.confirmed, true)
  assert.equal(ds[0]!.token_fp, 'tfp_old')
  assert.equal(ds[0]!.session_id, 's1')
  // The evidence's reference is the credential's first use, then the replay.
  assert.deepEqual(ds[0]!.evidence.event_ids, ['grant-old', 'replay'])
})

test("a token's state is the expiry it was told and its incident: its uses are the credential record's", () => {
  const engine = createDetectionEngine([createExpiredAcceptedDetector() as never], { latenessMs: 10 * MIN, sweepEveryMs: MIN })
  const event = eventBuilder({ token_kind: 'access', jti: 'j1', expires_at: 10 * MIN })
  engine.process(event({ ts: 0, kind: 'ISSUE', action: 'token_grant' }))
  engine.process(event({ ts: MIN }))
  const quiet = engine.takeChanges().find((c) => c.key === 'expired_accepted|j:j1')
  assert.deepEqual(quiet?.state, { expires_at: 10 * MIN, last: MIN, incident_ts: null, reported_score: 0 })
  engine.process(event({ ts: 20 * MIN, ...datacenter }))
  const reported = engine.takeChanges().find((c) => c.key === 'expired_accepted|j:j1')
  assert.deepEqual(reported?.state, { expires_at: 10 * MIN, last: 20 * MIN, incident_ts: 20 * MIN, reported_score: 0.9 })
})

test('a state checkpointed with its own copy of the uses is restored to what it needs, its incident kept', () => {
  const config = { latenessMs: 10 * MIN, sweepEveryMs: MIN }
  const engine = createDetectionEngine([createExpiredAcceptedDetector() as never], config)
  const old = {
    subject: 'u1', session_id: 's1', token_fp: 'tfp_1', expires_at: 10 * MIN, origin: null, nets: { 'org:comcast cable': 0 }, clients: {},
    last: 20 * MIN, incident_ts: 20 * MIN, reported_score: 0.9,
  }
  engine.restore([{ key: 'expired_accepted|t:tfp_1', state: old }])
  const event = eventBuilder({ expires_at: 10 * MIN })
  // The same incident at no higher score: nothing new.
  assert.deepEqual(engine.process(event({ ts: 21 * MIN, ...datacenter })), [])
  const written = engine.takeChanges().find((c) => c.key === 'expired_accepted|t:tfp_1')
  assert.deepEqual(written?.state, { expires_at: 10 * MIN, last: 21 * MIN, incident_ts: 20 * MIN, reported_score: 0.9 })
})
