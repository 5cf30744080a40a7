import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isIPv4 } from 'node:net'
import { describeAddress, ipv4Number } from './network.js'

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

test('an IPv4 literal is read exactly as node:net isIPv4 accepts it', () => {
  const cases = ['0.0.0.0', '255.255.255.255', '1.2.3.4', '01.2.3.4', '1.2.3.04', '1.2.3.256', '1.2.3.', '.1.2.3', '1..2.3', '1.2.3.4.5', '1.2.3', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.4a', '١.2.3.4', '1000.2.3.4', '00.1.1.1', '10.0.0.00']
  // And a few thousand random strings over the characters that matter.
  let seed = 7
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  for (let i = 0; i < 5000; i++) cases.push(Array.from({ length: 1 + Math.floor(random() * 15) }, () => '0123456789..x'[Math.floor(random() * 13)]).join(''))
  for (const s of cases) {
    const n = ipv4Number(s)
    assert.equal(n >= 0, isIPv4(s), s)
    if (n >= 0) assert.equal([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), s.split('.').map(Number).join('.'), s)
  }
})
