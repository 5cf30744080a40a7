import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLogger } from '../shared/log.js'
import { createDeliverer, type Attempt } from './delivery.js'

const log = createLogger({ level: 'silent' })
const endpoint = { name: 'hook', channel: 'webhook', secrets: ['https://hooks.example/T0KEN-SECRET'] }
const request = () => ({ method: 'POST', url: 'https://hooks.example/T0KEN-SECRET', headers: {}, body: '{}' })

function fakeFetch(statuses: (number | 'down')[]) {
  let i = 0
  const fn = (async () => {
    const s = statuses[Math.min(i++, statuses.length - 1)]!
    if (s === 'down') throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED https://hooks.example/T0KEN-SECRET') })
    return new Response('no', { status: s })
  }) as typeof fetch
  return { fn, calls: () => i }
}

test('every try is recorded, a retriable failure is retried, and the secret never reaches the record', async () => {
  const f = fakeFetch(['down', 503, 200])
  const attempts: Attempt[] = []
  const d = createDeliverer({ concurrency: 1, tries: 5, backoffMs: 1, timeoutMs: 1000, breaker: { failure_threshold: 10, cool_down_seconds: 1, when_open: 'dlq' }, now: Date.now, log, fetch: f.fn })
  const result = await d.deliver(endpoint, request, async (a) => void attempts.push(a))
  assert.deepEqual(result, { ok: true, attempts: 3 })
  assert.deepEqual(attempts.map((a) => a.outcome), ['network_error', 'http_error', 'delivered'])
  assert.ok(!JSON.stringify(attempts).includes('T0KEN-SECRET'))
})

test('a 400 is not retried', async () => {
  const f = fakeFetch([400])
  const d = createDeliverer({ concurrency: 1, tries: 5, backoffMs: 1, timeoutMs: 1000, breaker: { failure_threshold: 10, cool_down_seconds: 1, when_open: 'dlq' }, now: Date.now, log, fetch: f.fn })
  const result = await d.deliver(endpoint, request, async () => {})
  assert.equal(result.ok, false)
  assert.equal(f.calls(), 1)
})

test('an open circuit sends later deliveries to the DLQ without calling the endpoint (when_open: dlq)', async () => {
  const f = fakeFetch(['down'])
  const now = 0
  const d = createDeliverer({ concurrency: 1, tries: 2, backoffMs: 1, timeoutMs: 1000, breaker: { failure_threshold: 2, cool_down_seconds: 60, when_open: 'dlq' }, now: () => now, log, fetch: f.fn })
  const first = await d.deliver(endpoint, request, async () => {})
  assert.equal(first.ok, false)
  assert.equal(d.breakerState('hook'), 'open')
  const attempts: Attempt[] = []
  const second = await d.deliver(endpoint, request, async (a) => void attempts.push(a))
  assert.ok(!second.ok && second.error.code === 'CIRCUIT_OPEN')
  assert.equal(f.calls(), 2, 'the endpoint was not called while open')
  assert.deepEqual(attempts.map((a) => a.outcome), ['circuit_open'])
})

test('with when_open: wait a delivery waits for the half-open probe instead of failing', async () => {
  const f = fakeFetch(['down', 'down', 200])
  let now = 0
  const d = createDeliverer({ concurrency: 1, tries: 1, backoffMs: 1, timeoutMs: 1000, breaker: { failure_threshold: 2, cool_down_seconds: 0.05, when_open: 'wait' }, now: () => now, log, fetch: f.fn })
  await d.deliver(endpoint, request, async () => {})
  await d.deliver(endpoint, request, async () => {})
  assert.equal(d.breakerState('hook'), 'open')
  const waiting = d.deliver(endpoint, request, async () => {})
  now = 100
  assert.deepEqual(await waiting, { ok: true, attempts: 1 })
  assert.equal(d.breakerState('hook'), 'closed')
})
