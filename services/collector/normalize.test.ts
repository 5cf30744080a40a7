import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createFingerprinter } from '../shared/fingerprint.js'
import { createNormalizer } from './normalize.js'

const fingerprint = createFingerprinter('test-key-that-is-long-enough-for-hmac-use')
const normalize = createNormalizer({ fingerprint, now: () => 1_000 })
const base = { kind: 'VALIDATE' as const, action: 'request', ts: 500, source: { system: 'gateway', format: 'canonical' } }

function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part({ alg: 'RS256' })}.${part(claims)}.c2lnbmF0dXJl`
}

test('a raw token becomes a keyed fingerprint and is dropped', () => {
  const e = normalize({ ...base, token: 'sc_raw_cookie_value' }, 'line', 0)
  assert.equal(e.token_fp, fingerprint('sc_raw_cookie_value'))
  assert.match(e.token_fp!, /^tfp_[0-9a-f]{40}$/)
  assert.ok(!JSON.stringify(e).includes('sc_raw_cookie_value'))
})

test('the fingerprint depends on the key', () => {
  assert.notEqual(createFingerprinter('key-one-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')('t'), createFingerprinter('key-two-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')('t'))
})

test('JWT claims fill missing fields and mark the event unverified', () => {
  const token = jwt({ sub: 'u7', sid: 's7', jti: 'j7', exp: 1_800_000_000, iat: 1_700_000_000, amr: ['pwd', 'mfa'], cnf: { jkt: 'thumb' } })
  const e = normalize({ ...base, token }, 'line', 0)
  assert.equal(e.subject, 'u7')
  assert.equal(e.session_id, 's7')
  assert.equal(e.jti, 'j7')
  assert.equal(e.expires_at, 1_800_000_000_000)
  assert.deepEqual(e.amr, ['pwd', 'mfa'])
  assert.equal(e.dpop_jkt, 'thumb')
  assert.equal(e.claims_unverified, true)
  assert.ok(!JSON.stringify(e).includes(token))
})

test('fields the source gave are not overwritten by unverified claims', () => {
  const e = normalize({ ...base, subject: 'from-idp', token: jwt({ sub: 'from-token' }) }, 'line', 0)
  assert.equal(e.subject, 'from-idp')
})

test('a missing event id is derived from the input, so a replay gives the same id', () => {
  const a = normalize({ ...base, subject: 'u' }, '{"same":"line"}', 0)
  const b = normalize({ ...base, subject: 'u' }, '{"same":"line"}', 0)
  const c = normalize({ ...base, subject: 'u' }, '{"same":"line"}', 1)
  assert.equal(a.event_id, b.event_id)
  assert.notEqual(a.event_id, c.event_id)
})

test('the address is described and the user agent parsed', () => {
  const e = normalize({ ...base, subject: 'u', ip: '100.64.3.4', user_agent: 'python-requests/2.32.3' }, 'l', 0)
  assert.equal(e.ip_prefix, '100.64.3.0/24')
  assert.deepEqual(e.net_flags, ['cgnat'])
  assert.equal(e.ua_family, 'python-requests')
  assert.equal(e.device_type, 'automation')
  const browser = normalize({ ...base, subject: 'u', user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1' }, 'l', 0)
  assert.equal(browser.os_family, 'iOS')
  assert.equal(browser.device_type, 'mobile')
})

test('an address that is not an IP literal is cleared rather than kept', () => {
  assert.equal(normalize({ ...base, subject: 'u', ip: 'null' }, 'l', 0).ip, null)
})

test('enrichment fills place and network facts without overriding the source', () => {
  const enriching = createNormalizer({ fingerprint, now: () => 0, enrichAddress: () => ({ asn: 64500, country: 'NL', city: 'Amsterdam', lat: 52.4, lon: 4.9, geo_accuracy_km: 50, net_flags: ['hosting'] }) })
  const sourced = enriching({ ...base, subject: 'u', ip: '198.51.100.1', country: 'DE', lat: 52.5, lon: 13.4 }, 'l', 0)
  assert.equal(sourced.asn, 64500)
  assert.deepEqual([sourced.country, sourced.city, sourced.lat, sourced.geo_accuracy_km], ['DE', null, 52.5, null])
  assert.deepEqual(sourced.net_flags, ['hosting'])
  const bare = enriching({ ...base, subject: 'u', ip: '198.51.100.1' }, 'l', 0)
  assert.deepEqual([bare.country, bare.city, bare.lat, bare.lon, bare.geo_accuracy_km], ['NL', 'Amsterdam', 52.4, 4.9, 50])
})
