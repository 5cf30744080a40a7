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
