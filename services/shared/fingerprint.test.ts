import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { test } from 'node:test'
import { createFingerprinter } from './fingerprint.js'

test('the fingerprint is HMAC-SHA256 of the token under the configured key, for short and long keys', () => {
  for (const key of ['k'.repeat(32), 'a much longer key '.repeat(8), 'ключ-с-юникодом-и-достаточной-длиной']) {
    const fingerprint = createFingerprinter(key)
    for (const token of ['sc_abc', '', 'eyJhbGciOi.x.y', 'ü'.repeat(300)]) {
      const expected = 'tfp_' + createHmac('sha256', key).update(token, 'utf8').digest('hex').slice(0, 40)
      assert.equal(fingerprint(token), expected)
    }
  }
})

test('fingerprints differ by key and by token', () => {
  const a = createFingerprinter('a'.repeat(32))
  const b = createFingerprinter('b'.repeat(32))
  assert.notEqual(a('t1'), b('t1'))
  assert.notEqual(a('t1'), a('t2'))
  assert.equal(a('t1'), a('t1'))
})
