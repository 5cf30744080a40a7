import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDetectionEngine } from './engine.js'
import { datacenter, eventBuilder, MIN, pythonRequests, runAcrossRestart, runDetector, SEC } from './fixtures.js'
import { createRevokedAcceptedDetector, DEFAULT_REVOKED_ACCEPTED, type RevokedAcceptedState } from './revoked-accepted.js'

const run = (events: Parameters<typeof runDetector>[1], config = DEFAULT_REVOKED_ACCEPTED) => runDetector(createRevokedAcceptedDetector(config) as never, events)
const logout = { kind: 'REVOKE' as const, action: 'logout', revoke_scope: 'session' as const, validator: null, result: null }

test("the user's own request landing a second after logout raises nothing", () => {
  const event = eventBuilder()
  assert.deepEqual(run([event({ ts: 0 }), event({ ts: MIN, ...logout }), event({ ts: MIN + SEC })]), [])
})

test('a stolen cookie accepted by a stale edge after logout, from another network, pages, confirmed', () => {
  const event = eventBuilder()
  const ds = run([
    event({ ts: 0 }), event({ ts: MIN, ...logout }),
    event({ ts: MIN + 2 * SEC, result: 'REVOKED' }),
    event({ ts: 5 * MIN, ...datacenter, ...pythonRequests, validator: 'edge-2' }),
  ])
  assert.equal(ds.length, 1)
  const d = ds[0]!
  assert.equal(d.severity, 'page')
  assert.equal(d.confirmed, true)
  assert.equal(d.session_id, 's1')
  assert.equal(d.first_malicious_ts, 5 * MIN)
  assert.ok(d.evidence.ips.includes('167.99.1.2'))
  assert.ok(d.evidence.reasons.some((r) => r.includes('edge-1 first rejected it 2 s after')), d.evidence.reasons.join('; '))
})

test('the owner still accepted past the allowance is a propagation failure: a ticket', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0 }), event({ ts: MIN, ...logout }), event({ ts: 3 * MIN, validator: 'edge-3' })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'ticket')
  assert.equal(ds[0]!.confirmed, false)
})

test('a validator with a longer configured allowance is judged by it', () => {
  const event = eventBuilder()
  const config = { ...DEFAULT_REVOKED_ACCEPTED, validatorAllowanceMs: { 'cdn-cache': 5 * MIN } }
  assert.deepEqual(run([event({ ts: 0 }), event({ ts: MIN, ...logout }), event({ ts: 3 * MIN, validator: 'cdn-cache' })], config), [])
})

test('a revocation that arrives after the validation it invalidates is still matched', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0 }), event({ ts: 4 * MIN, ...datacenter, ...pythonRequests }), event({ ts: MIN, ...logout })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.first_malicious_ts, 4 * MIN)
  assert.equal(ds[0]!.confirmed, true)
})

test('a user-wide revocation reaches every session the user had, and not the session of a later login', () => {
  const event = eventBuilder()
  const ds = run([
    event({ ts: 0, session_id: 'sA', token_fp: 'tA', kind: 'ISSUE', action: 'login', validator: null, result: null }),
    event({ ts: 0, session_id: 'sB', token_fp: 'tB', kind: 'ISSUE', action: 'login', validator: null, result: null }),
    event({ ts: MIN, session_id: null, token_fp: null, kind: 'REVOKE', action: 'admin_revoke', revoke_scope: 'user', validator: null, result: null }),
    event({ ts: 2 * MIN, session_id: 'sC', token_fp: 'tC', kind: 'ISSUE', action: 'login', validator: null, result: null }),
    event({ ts: 3 * MIN, session_id: 'sC', token_fp: 'tC' }),
    event({ ts: 4 * MIN, session_id: 'sA', token_fp: 'tA', ...datacenter }),
    event({ ts: 5 * MIN, session_id: 'sB', token_fp: 'tB' }),
  ])
  assert.deepEqual(ds.map((d) => d.session_id), ['sA', 'sB'])
  assert.deepEqual(ds.map((d) => d.severity), ['page', 'ticket'])
})

test('a revoked token is matched by its fingerprint when the gateway names no session', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0 }), event({ ts: MIN, ...logout }), event({ ts: 5 * MIN, session_id: null, subject: null, ...datacenter })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.token_fp, 'tfp_1')
})

test('self-contained access tokens outliving their session by design are not matched', () => {
  const event = eventBuilder({ token_kind: 'access', token_fp: 'at1' })
  assert.deepEqual(run([event({ ts: 0 }), event({ ts: MIN, ...logout, token_fp: null }), event({ ts: 3 * MIN })]), [])
  assert.equal(run([event({ ts: 0 }), event({ ts: MIN, ...logout, token_fp: null }), event({ ts: 3 * MIN, action: 'introspect' })]).length, 1)
})

test('one finding per revocation and credential however often it is replayed', () => {
  const event = eventBuilder()
  const history = [event({ ts: 0 }), event({ ts: MIN, ...logout }), ...[5, 6, 7, 8].map((m) => event({ ts: m * MIN, ...datacenter, ...pythonRequests }))]
  const { straight, restarted } = runAcrossRestart(() => createRevokedAcceptedDetector() as never, history, 3)
  assert.equal(straight.length, 1)
  assert.deepEqual(restarted, straight)
})

test('a gateway that sees only the session (no subject) is matched against the logout', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0, subject: null }), event({ ts: MIN, ...logout }), event({ ts: 5 * MIN, subject: null, token_fp: null, ...datacenter })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.subject, 'u1', 'the subject comes from the revocation')
  assert.equal(ds[0]!.confirmed, true)
})

test('a token revocation (RFC 7009) covers that token only, not its session siblings', () => {
  const event = eventBuilder({ token_kind: 'refresh' })
  const revoke = { kind: 'REVOKE' as const, action: 'token_revoke', revoke_scope: 'token' as const, token_fp: 'rt1', validator: null, result: null }
  const ds = run([event({ ts: 0, token_fp: 'rt1' }), event({ ts: MIN, ...revoke }), event({ ts: 3 * MIN, token_fp: 'rt2' }), event({ ts: 4 * MIN, token_fp: 'rt1', ...datacenter })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.token_fp, 'rt1')
})

test('a login on the same session id after its logout re-establishes it', () => {
  const event = eventBuilder()
  assert.deepEqual(run([event({ ts: 0 }), event({ ts: MIN, ...logout }), event({ ts: 2 * MIN, kind: 'ISSUE', action: 'login', validator: null, result: null }), event({ ts: 5 * MIN })]), [])
})

test("an IdP's token revocation reaches the gateway's presentations of the same JWT by jti", () => {
  const event = eventBuilder({ token_kind: 'refresh', jti: 'jti-7', session_id: null })
  const revoke = { kind: 'REVOKE' as const, action: 'token_revoke', revoke_scope: 'token' as const, token_fp: 'okta:jti-7', validator: null, result: null }
  const ds = run([event({ ts: 0, token_fp: 'tfp_77' }), event({ ts: MIN, ...revoke }), event({ ts: 4 * MIN, token_fp: 'tfp_77', ...datacenter })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.confirmed, true)
})

test('a state checkpointed when first-seen maps were objects is read and matched as before', () => {
  const event = eventBuilder()
  const before = [event({ ts: 0 }), event({ ts: MIN, ...logout })]
  const after = [event({ ts: MIN + 2 * SEC, result: 'REVOKED' }), event({ ts: 5 * MIN, ...datacenter, ...pythonRequests, validator: 'edge-2' })]
  const config = { latenessMs: 10 * MIN, sweepEveryMs: MIN }
  const original = createDetectionEngine([createRevokedAcceptedDetector() as never], config)
  before.forEach((e) => original.process(e))
  const asObjects = (list: (string | number)[]) => Object.fromEntries(Array.from({ length: list.length / 2 }, (_, i) => [list[2 * i], list[2 * i + 1]]))
  const old = original.takeChanges().map(({ key, state }) => {
    if (!key.startsWith('revoked_accepted|') || state === undefined) return { key, state }
    const s = JSON.parse(JSON.stringify(state)) as Record<string, unknown>
    for (const map of ['nets', 'clients', 'creds']) s[map] = asObjects(s[map] as (string | number)[])
    return { key, state: s }
  })
  assert.ok(old.some(({ state }) => state && !Array.isArray((state as { creds?: unknown }).creds) && (state as { creds?: unknown }).creds !== undefined))
  const restored = createDetectionEngine([createRevokedAcceptedDetector() as never], config)
  restored.restore(old)
  const ds = after.flatMap((e) => restored.process(e))
  assert.deepEqual(ds, after.flatMap((e) => original.process(e)))
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.confirmed, true)
})

/** The detector's states after a history, by slot. */
function statesAfter(events: Parameters<typeof runDetector>[1]): Map<string, RevokedAcceptedState> {
  const engine = createDetectionEngine([createRevokedAcceptedDetector() as never], { latenessMs: 10 * MIN, sweepEveryMs: MIN })
  events.forEach((e) => engine.process(e))
  const out = new Map<string, RevokedAcceptedState>()
  for (const { key, state } of engine.takeChanges()) if (key.startsWith('revoked_accepted|') && state) out.set(key.slice('revoked_accepted|'.length), state as RevokedAcceptedState)
  return out
}

test("a quiet user's accepted presentations are left to the credential record: no bucket is kept", () => {
  const event = eventBuilder()
  const quiet = [event({ ts: 0, kind: 'ISSUE', action: 'login', validator: null, result: null }), ...[1, 2, 3].map((m) => event({ ts: m * MIN }))]
  assert.deepEqual(statesAfter(quiet).get('u:u1')!.buckets, [])
  // A refusal, or a presentation the session's record does not take as its latest (an older one arriving
  // late), is kept as before.
  const kept = statesAfter([...quiet, event({ ts: 4 * MIN, result: 'REVOKED' }), event({ ts: 30 * SEC, validator: 'edge-9' })]).get('u:u1')!.buckets
  assert.deepEqual(kept.map((b) => [b.validator, b.ok]).sort(), [['edge-1', false], ['edge-9', true]])
})

test('a presentation the record no longer shows as its latest (another network took its place) is still matched by a late revocation', () => {
  const event = eventBuilder()
  const history = [
    event({ ts: 0, kind: 'ISSUE', action: 'login', validator: null, result: null }),
    event({ ts: MIN }),
    // The thief, then the owner again: the record's latest is the owner's.
    event({ ts: 4 * MIN, ...datacenter, ...pythonRequests }),
    event({ ts: 5 * MIN }),
    // The logout, at 2 minutes, reaches the detector last.
    event({ ts: 2 * MIN, ...logout }),
  ]
  const ds = run(history)
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.first_malicious_ts, 4 * MIN, "the thief's presentation is blamed, not the owner's later one")
  assert.equal(ds[0]!.confirmed, true)
  assert.ok(ds[0]!.evidence.ips.includes('167.99.1.2'))
  assert.deepEqual(statesAfter(history.slice(0, 4)).get('u:u1')!.buckets.map((b) => b.net), ['org:comcast cable', 'org:digitalocean'])
})

test("a user-wide revocation arriving late finds each session's latest presentation in its record", () => {
  const event = eventBuilder()
  const ds = run([
    event({ ts: 0, session_id: 'sA', token_fp: 'tA', kind: 'ISSUE', action: 'login', validator: null, result: null }),
    event({ ts: 0, session_id: 'sB', token_fp: 'tB', kind: 'ISSUE', action: 'login', validator: null, result: null }),
    event({ ts: 4 * MIN, session_id: 'sA', token_fp: 'tA', ...datacenter }),
    event({ ts: 5 * MIN, session_id: 'sB', token_fp: 'tB' }),
    event({ ts: MIN, session_id: null, token_fp: null, kind: 'REVOKE', action: 'admin_revoke', revoke_scope: 'user', validator: null, result: null }),
  ])
  assert.deepEqual(ds.map((d) => [d.session_id, d.severity, d.first_malicious_ts]), [['sA', 'page', 4 * MIN], ['sB', 'ticket', 5 * MIN]])
})
