import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signBody, verifySignature } from './signature.js'

const secret = 'webhook-secret-webhook-secret-webhook'
const body = '{"incident_id":"det_1"}'
const headers = (ts: number, b = body) => ({ [SIGNATURE_HEADER]: signBody(secret, ts, b), [TIMESTAMP_HEADER]: String(ts) })

test('a signed body verifies', () => {
  assert.deepEqual(verifySignature(secret, headers(1000), body, 1000), { ok: true })
})

test('a tampered body fails', () => {
  assert.deepEqual(verifySignature(secret, headers(1000), body.replace('det_1', 'det_2'), 1000), { ok: false, reason: 'bad_signature' })
})

test('a stale timestamp fails even with a valid signature', () => {
  assert.deepEqual(verifySignature(secret, headers(1000), body, 1000 + 301), { ok: false, reason: 'stale_timestamp' })
})

test('another secret or missing headers fail', () => {
  assert.deepEqual(verifySignature('other-secret-other-secret-other-secret', headers(1000), body, 1000), { ok: false, reason: 'bad_signature' })
  assert.deepEqual(verifySignature(secret, {}, body, 1000), { ok: false, reason: 'missing_headers' })
})
