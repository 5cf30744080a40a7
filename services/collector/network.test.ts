import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeAddress } from './network.js'

test('IPv4 addresses are grouped by /24', () => {
  assert.deepEqual(describeAddress('203.0.113.7'), { ip: '203.0.113.7', prefix: '203.0.113.0/24', flags: [] })
})

test('IPv6 addresses are canonicalised and grouped by /64', () => {
  const a = describeAddress('2001:DB8:0:12:aaaa::1')
  assert.equal(a?.ip, '2001:db8:0:12:aaaa:0:0:1')
  assert.equal(a?.prefix, '2001:db8:0:12::/64')
  assert.equal(describeAddress('[2001:db8::1]')?.prefix, '2001:db8:0:0::/64')
})

test('IPv4-mapped IPv6 is read as the IPv4 address it carries', () => {
  assert.equal(describeAddress('::ffff:198.51.100.9')?.prefix, '198.51.100.0/24')
})

test('private, carrier-grade NAT and loopback ranges are flagged', () => {
  assert.deepEqual(describeAddress('10.1.2.3')?.flags, ['private'])
  assert.deepEqual(describeAddress('172.20.0.1')?.flags, ['private'])
  assert.deepEqual(describeAddress('100.72.1.1')?.flags, ['cgnat'])
  assert.deepEqual(describeAddress('100.128.1.1')?.flags, [])
  assert.deepEqual(describeAddress('::1')?.flags, ['loopback'])
  assert.deepEqual(describeAddress('fd00::5')?.flags, ['private'])
})

test('anything that is not an address literal gives nothing', () => {
  for (const bad of ['null', '', 'ec2.amazonaws.com', '999.1.1.1', '1.2.3', '2001:db8::1::2', undefined]) {
    assert.equal(describeAddress(bad), undefined, String(bad))
  }
})
