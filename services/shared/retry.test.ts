import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SessionwatchError, isRetriable } from './errors.js'
import { backoffDelay, retry } from './retry.js'

const fast = { tries: 4, initialMs: 1, maxMs: 4 }

test('a retriable failure is tried again until it succeeds', async () => {
  let calls = 0
  const result = await retry(async () => {
    calls++
    if (calls < 3) throw new SessionwatchError('KAFKA_UNAVAILABLE', 'down', { retriable: true })
    return 'ok'
  }, fast)
  assert.equal(result, 'ok')
  assert.equal(calls, 3)
})

test('a non-retriable failure is thrown at once', async () => {
  let calls = 0
  await assert.rejects(retry(async () => {
    calls++
    throw new SessionwatchError('WEBHOOK_REJECTED', 'bad request', { retriable: false })
  }, fast), /bad request/)
  assert.equal(calls, 1)
})

test('programmer errors are never retried, even wrapped in a retriable error', async () => {
  const wrapped = new SessionwatchError('KAFKA_UNAVAILABLE', 'x', { retriable: true, cause: new TypeError('undefined is not a function') })
  assert.equal(isRetriable(wrapped), false)
  assert.equal(isRetriable(new RangeError('x')), false)
  assert.equal(isRetriable(new Error('plain errors say nothing about retrying')), false)
})

test('the last error is thrown after the try limit', async () => {
  let calls = 0
  await assert.rejects(retry(async () => {
    calls++
    throw new SessionwatchError('KAFKA_UNAVAILABLE', `down ${calls}`, { retriable: true })
  }, fast), /down 4/)
  assert.equal(calls, 4)
})

test('backoff doubles from the initial delay with at most 20% jitter, and is capped', () => {
  const options = { initialMs: 300, maxMs: 2000 }
  assert.equal(backoffDelay(1, options, () => 0.5), 300)
  assert.equal(backoffDelay(2, options, () => 0.5), 600)
  assert.equal(backoffDelay(3, options, () => 1), 1440)
  assert.equal(backoffDelay(3, options, () => 0), 960)
  assert.equal(backoffDelay(10, options, () => 0.5), 2000)
})
