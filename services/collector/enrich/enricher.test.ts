import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createAddressEnricher } from './enricher.js'

// These read the databases shipped in the npm packages; the figures are facts of those releases.
const enrich = createAddressEnricher({ enabled: true, cityAccuracyKm: 50 })!

test('a public IPv4 address gets its autonomous system, place and provider flags', () => {
  const facts = enrich('167.99.207.81')!
  assert.equal(facts.asn, 14061)
  assert.match(facts.asn_org!, /DigitalOcean/)
  assert.match(facts.country!, /^[A-Z]{2}$/)
  assert.equal(typeof facts.lat, 'number')
  assert.deepEqual(facts.net_flags, ['hosting'])
})

test('a residential address is not flagged', () => {
  const facts = enrich('73.14.46.203')!
  assert.equal(facts.asn, 7922)
  assert.equal(facts.country, 'US')
  assert.deepEqual(facts.net_flags, [])
})

test('IPv6 addresses are looked up too', () => {
  const facts = enrich('2a03:2880:f12f:83:face:b00c:0:25de')!
  assert.equal(facts.asn, 32934)
})

test('private addresses have no place and no network', () => {
  assert.equal(enrich('10.1.2.3'), undefined)
})

test('a network lists file adds CIDR ranges and ASNs to the shipped defaults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-lists-'))
  const file = join(dir, 'lists.json')
  writeFileSync(file, JSON.stringify({ asns: { corporate: [7922] }, cidrs: { vpn: ['73.14.46.0/24'], corporate: ['2a03:2880::/32'] } }))
  const custom = createAddressEnricher({ enabled: true, cityAccuracyKm: 50, networkListsFile: file })!
  assert.deepEqual([...custom('73.14.46.203')!.net_flags!].sort(), ['corporate', 'vpn'])
  assert.deepEqual(custom('73.14.47.1')!.net_flags, ['corporate'])
  assert.deepEqual(custom('2a03:2880:f12f:83::1')!.net_flags, ['corporate'])
  assert.deepEqual(custom('167.99.207.81')!.net_flags, ['hosting'])
  // A source's own network and place: the ranges still apply, the flags follow the source's network, twice alike.
  for (let i = 0; i < 2; i++) assert.deepEqual([...custom('73.14.46.203', 14061, true)!.net_flags!].sort(), ['hosting', 'vpn'])
})

test('enrichment switched off gives no enricher', () => {
  assert.equal(createAddressEnricher({ enabled: false, cityAccuracyKm: 50 }), undefined)
})

test('provider flags follow the ASN the source gave, when it gave one', () => {
  assert.deepEqual(enrich('73.14.46.203', 9009)!.net_flags, ['vpn'])
  assert.deepEqual(enrich('167.99.207.81', 7922)!.net_flags, [])
})

test('a repeated address gets the same answer, which no caller can change', () => {
  const first = enrich('167.99.207.81')!
  assert.equal(enrich('167.99.207.81'), first)
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first.net_flags))
  assert.deepEqual(enrich('167.99.207.81', 9009)!.net_flags, ['vpn'], 'the source ASN is part of the cache key')
})

test('a source that gave its own network and place gets only the flags, which follow its network', () => {
  const facts = enrich('73.14.46.203', 14061, true)!
  assert.deepEqual(facts.net_flags, ['hosting'])
  assert.equal(facts.asn, undefined)
  assert.equal(facts.country, undefined)
  // Without the source's network, the place alone does not spare the lookup.
  assert.equal(enrich('73.14.46.203', null, true)!.asn, 7922)
  // And the two answers for one address are cached apart: without the place, the database's facts come back.
  const full = enrich('73.14.46.203', 14061)!
  assert.equal(full.asn, 7922)
  assert.equal(full.country, 'US')
  assert.deepEqual(full.net_flags, ['hosting'])
})
