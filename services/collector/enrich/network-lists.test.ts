import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeAddress } from '../network.js'
import { ipv6ToBigInt } from './network-lists.js'

test('an IPv6 address reads as the same number in its full and its compressed forms', () => {
  for (const literal of ['2001:db8::1', '::1', '2a03:2880:f12f:83:face:b00c:0:25de', 'fe80::', '::ffff:0102:0304', '1:2:3:4:5:6:7:8']) {
    const full = describeAddress(literal)?.ip ?? literal
    assert.equal(ipv6ToBigInt(full), ipv6ToBigInt(literal), literal)
  }
  assert.equal(ipv6ToBigInt('0:0:0:0:0:0:0:1'), 1n)
  assert.equal(ipv6ToBigInt('ffff:0:0:0:0:0:0:0'), 0xffffn << 112n)
})
