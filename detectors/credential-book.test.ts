import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CHANGED_CLIENT, CHANGED_NETWORK, CHANGED_TOKEN, createCredentialBook } from './credential-book.js'
import { carrier, chromeOnWindows, eventBuilder, firefoxOnLinux, foreignResidential, home, MIN } from './fixtures.js'

const G = 3

test('the latest use keeps its own details when they differ from the first, and leans on the first when not', () => {
  const event = eventBuilder({ session_id: '102AbCdEfGhIjKlMnOpQrStUv', token_fp: 'tfp_0123456789abcdef0123456789abcdef01234567' })
  const book = createCredentialBook(2)
  const login = event({ kind: 'ISSUE', action: 'login', ts: 10 * MIN, event_id: '8a1f3c0e-5b2d-4e6f-9a7b-0c1d2e3f4a5b' })
  book.record(G, login)
  const view = () => book.view(G, 's:' + login.session_id, login)
  assert.equal(view().last(), null)
  assert.equal(view().first()!.id, login.event_id)

  const sameSpot = event({ ts: 11 * MIN })
  book.record(G, sameSpot)
  assert.deepEqual(view().last(), { ...view().first(), id: sameSpot.event_id, ts: sameSpot.ts, flags: view().last()!.flags })
  assert.equal(view().changed, 0)

  const elsewhere = event({ ts: 12 * MIN, ...foreignResidential, ...firefoxOnLinux })
  book.record(G, elsewhere)
  const last = view().last()!
  assert.equal(last.ip, elsewhere.ip)
  assert.equal(last.prefix, elsewhere.ip_prefix)
  assert.equal(last.asn, elsewhere.asn)
  assert.equal(last.device, elsewhere.device_id)
  assert.equal(last.ua, elsewhere.user_agent)
  assert.equal(view().first()!.ip, login.ip)
  assert.equal(view().changed & (CHANGED_NETWORK | CHANGED_CLIENT), CHANGED_NETWORK | CHANGED_CLIENT)

  // Back at home: the latest use is the first's details again.
  const back = event({ ts: 13 * MIN, ...home, ...chromeOnWindows })
  book.record(G, back)
  assert.equal(view().last()!.device, login.device_id)
  assert.equal(view().last()!.ip, login.ip)
})

test('an earlier event that becomes the first use leaves the latest use as it was', () => {
  const event = eventBuilder()
  const book = createCredentialBook(2)
  const request = event({ ts: 20 * MIN })
  book.record(G, request)
  const before = book.view(G, 's:s1', request).last()
  // The IdP's login arrives late, from the carrier.
  book.record(G, event({ kind: 'ISSUE', action: 'login', ts: 19 * MIN, ...carrier }))
  const view = book.view(G, 's:s1', request)
  assert.deepEqual(view.last(), before)
  assert.equal(view.first()!.ip, carrier.ip)
  assert.ok(view.issued)
})

test('a record survives its checkpoint: toJSON, restore into a fresh book, the same JSON and the same answers', () => {
  const event = eventBuilder({ jti: 'jti-1' })
  const book = createCredentialBook(2)
  book.record(G, event({ kind: 'ISSUE', action: 'login', ts: 1 * MIN, subject: 'jürgen@exämple.org' }))
  book.record(G, event({ ts: 2 * MIN, ...carrier }))
  book.record(G, event({ ts: 3 * MIN, jti: 'jti-2', token_fp: 'tfp_2' }))
  const saved = book.toJSON(G)
  assert.equal(saved.token, 'j:jti-1')
  const copy = createCredentialBook(1)
  copy.restore(7, JSON.parse(JSON.stringify(saved)))
  assert.deepEqual(copy.toJSON(7), saved)
  const probe = event({ ts: 4 * MIN })
  const view = copy.view(7, 's:s1', probe)
  assert.equal(view.subject, 'jürgen@exämple.org')
  assert.ok((view.changed & CHANGED_TOKEN) !== 0)
  assert.ok(view.isFirstToken(event({ jti: 'jti-1' })))
  assert.ok(!view.isFirstToken(event({ jti: 'jti-2' })))
  assert.ok(!view.isFirstToken(event({ jti: null })))
})

test('a forgotten row is reused clean', () => {
  const event = eventBuilder()
  const book = createCredentialBook(1)
  book.record(G, event({ ts: 1 * MIN, ...foreignResidential, device_id: 'stolen-device' }))
  book.record(G, event({ ts: 2 * MIN, ...carrier }))
  book.forget(G)
  assert.equal(book.size, 0)
  const fresh = event({ kind: 'ISSUE', action: 'login', ts: 5 * MIN, session_id: 's2', device_id: null })
  book.record(G + 1, fresh)
  const view = book.view(G + 1, 's:s2', fresh)
  assert.equal(view.first()!.device, null)
  assert.equal(view.first()!.ip, home.ip)
  assert.equal(view.last(), null)
  assert.equal(view.uses, 1)
})

test('the latest presentation keeps what it presented and to whom, compares in place, survives its checkpoint, and other records are read by key', () => {
  const event = eventBuilder({ token_kind: 'access', client_id: 'mail-web' })
  const groups = new Map([['s:s1', G], ['s:s2', G + 1]])
  const book = createCredentialBook(2, (key) => groups.get(key) ?? -1)
  book.record(G, event({ kind: 'ISSUE', action: 'login', ts: MIN, token_kind: 'session_cookie', client_id: null, validator: null, result: null }))
  assert.equal(book.view(G, 's:s1', event({ ts: 2 * MIN })).lastPresentation(), null, 'an issuance is no presentation')
  const presented = event({ ts: 2 * MIN, token_fp: 'tfp_at', jti: 'jti-9', issued_at: MIN, validator: 'kong-eu' })
  book.record(G, presented)
  const view = () => book.view(G, 's:s1', presented)
  const expected = { validator: 'kong-eu', token_fp: 'tfp_at', jti: 'jti-9', token_kind: 'access', client_id: 'mail-web', issued_at: MIN, ok: true, introspected: false, named: true }
  assert.deepEqual(view().lastPresentation(), expected)
  assert.ok(view().hasSubject('u1') && !view().hasSubject('u2') && !view().hasSubject(null))
  assert.ok(book.view(-1, '', presented).hasSubject(null), 'no record: no subject')
  assert.ok(view().likeLastPresentation(event({ ts: 3 * MIN, token_fp: 'tfp_at', jti: 'jti-9', issued_at: MIN, validator: 'kong-eu' })))
  for (const other of [{ validator: 'kong-us' }, { ...carrier }, { jti: 'jti-10' }, { token_fp: 'tfp_other' }, { subject: null }, { action: 'introspect' }, { result: null }]) {
    assert.ok(!view().likeLastPresentation(event({ ts: 3 * MIN, token_fp: 'tfp_at', jti: 'jti-9', issued_at: MIN, validator: 'kong-eu', ...other })), JSON.stringify(other))
  }
  // A presentation with no validator is judged by the system that logged it.
  book.record(G, event({ ts: 4 * MIN, validator: null, source: { system: 'envoy' } }))
  assert.equal(view().lastPresentation()!.validator, 'envoy')
  assert.equal(view().lastPresentation()!.token_fp, 'tfp_1', 'the fingerprint of the latest, not of the first token')
  const copy = createCredentialBook(1)
  copy.restore(7, JSON.parse(JSON.stringify(book.toJSON(G))))
  assert.deepEqual(copy.view(7, 's:s1', presented).lastPresentation(), view().lastPresentation())
  // Another credential's record, by key; none for a key without one.
  book.record(G + 1, event({ ts: 5 * MIN, session_id: 's2', validator: 'edge-2' }))
  const from = book.view(G, 's:s1', presented)
  assert.equal(from.other('s:s2')!.lastPresentation()!.validator, 'edge-2')
  assert.equal(from.other('s:s2')!.lastTs, 5 * MIN)
  assert.equal(from.other('s:nope'), null)
  assert.equal(from.lastPresentation()!.validator, 'envoy', "the event's own view is left as it was")
})
