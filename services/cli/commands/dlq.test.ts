import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { DlqRecord } from '../../../schemas/model.js'
import { topicNames } from '../../shared/kafka.js'
import { parseSince } from './dlq-range.js'
import { inputDestination } from './dlq.js'

const topics = topicNames('p.')
const record = (over: Partial<DlqRecord>): DlqRecord => ({ reason: 'r', code: 'BAD_JSON', origin: 'file.log:3', format: 'canonical', input: '{}', input_bytes: 2, ts: 0, ...over })

test('rejected input goes back to the raw topic it came from, else to the one for its format', () => {
  assert.deepEqual(inputDestination(record({ origin: 'p.logs.gateway/2/41', format: 'canonical' }), topics), { topic: 'p.logs.gateway' })
  assert.deepEqual(inputDestination(record({ origin: 'p.logs.idp/0/7', format: 'envoy' }), topics), { topic: 'p.logs.idp' })
  assert.deepEqual(inputDestination(record({ origin: 'http:10.0.0.1#3', format: 'envoy' }), topics), { topic: 'p.logs.gateway' })
  assert.deepEqual(inputDestination(record({ origin: '/var/log/okta.ndjson:9', format: 'okta' }), topics), { topic: 'p.logs.idp' })
  assert.deepEqual(inputDestination(record({ origin: 'other.topic/0/1', format: null }), topics), { topic: 'p.logs.idp' })
  assert.deepEqual(inputDestination(record({ origin: 'p.alerts.commands/0/1', format: 'sessionwatch-command' }), topics), { topic: 'p.alerts.commands' })
})

test('input the DLQ holds truncated is not replayed: only the original can be parsed', () => {
  assert.ok('skip' in inputDestination(record({ input: 'x'.repeat(10), input_bytes: 70_000 }), topics))
  assert.ok('topic' in inputDestination(record({ input: 'é', input_bytes: 2 }), topics), 'bytes, not characters')
})

test('--since takes a time or a duration back from now', () => {
  const now = Date.parse('2026-11-20T12:00:00Z')
  assert.equal(parseSince('2026-11-20T10:00:00Z', now), Date.parse('2026-11-20T10:00:00Z'))
  assert.equal(parseSince('30m', now), now - 30 * 60_000)
  assert.equal(parseSince('7d', now), now - 7 * 86_400_000)
  assert.equal(parseSince('90s', now), now - 90_000)
  assert.equal(parseSince('soon', now), undefined)
  assert.equal(parseSince('5w', now), undefined)
})
