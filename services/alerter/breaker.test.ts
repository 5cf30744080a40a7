import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createCircuitBreaker, createRateLimiter } from './breaker.js'

test('the breaker opens after N consecutive failures, lets one probe through after the cool-down, and closes on its success', () => {
  let now = 0
  const b = createCircuitBreaker({ failureThreshold: 3, coolDownMs: 1000, now: () => now })
  b.failure()
  b.failure()
  b.success()
  b.failure()
  b.failure()
  assert.equal(b.state, 'closed', 'a success in between resets the count')
  b.failure()
  assert.equal(b.state, 'open')
  assert.deepEqual(b.admit(), { allowed: false, retryAtMs: 1000 })
  now = 1000
  assert.deepEqual(b.admit(), { allowed: true, state: 'half_open' })
  assert.equal(b.admit().allowed, false, 'one probe at a time')
  b.success()
  assert.equal(b.state, 'closed')
  assert.equal(b.admit().allowed, true)
})

test('a failed probe opens the breaker for another cool-down', () => {
  let now = 0
  const b = createCircuitBreaker({ failureThreshold: 1, coolDownMs: 500, now: () => now })
  b.failure()
  now = 600
  assert.equal(b.admit().allowed, true)
  b.failure()
  assert.equal(b.state, 'open')
  assert.deepEqual(b.admit(), { allowed: false, retryAtMs: 1100 })
})

test('the rate limiter allows the burst, then the sustained rate', () => {
  let now = 0
  const r = createRateLimiter({ perMinute: 60, burst: 2, now: () => now })
  assert.equal(r.take(), true)
  assert.equal(r.take(), true)
  assert.equal(r.take(), false)
  now = 1000
  assert.equal(r.take(), true)
  assert.equal(r.take(), false)
})
