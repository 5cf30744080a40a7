import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { test } from 'node:test'
import { createFingerprinter } from './fingerprint.js'

test('the fingerprint is HMAC-SHA256 of the token under the configured key, for short and long keys', () => {
  const keys = ['k'.repeat(32), 'a much longer key '.repeat(8), 'ключ-с-юникодом-и-достаточной-длиной', 'x'.repeat(64), 'y'.repeat(65), 'ю'.repeat(32)]
  // Long tokens before short ones: nothing of an earlier token may leak into a later fingerprint.
  const tokens = ['sc_abc', '', 'eyJhbGciOi.x.y', 'ü'.repeat(300), 'a'.repeat(682), 'a'.repeat(683), '€'.repeat(683), 't'.repeat(20_000), 'sc_abc', '😀 tok']
  for (const key of keys) {
    const fingerprint = createFingerprinter(key)
    for (const token of tokens) {
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
