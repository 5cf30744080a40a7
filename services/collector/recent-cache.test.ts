import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRecentCache } from './recent-cache.js'

test('a cache returns what was set and undefined for what was not', () => {
  const cache = createRecentCache<string, number>(4)
  cache.set('a', 1)
  assert.equal(cache.get('a'), 1)
  assert.equal(cache.get('b'), undefined)
})

test('a cache keeps the latest keys up to its limit and forgets those older than twice the limit', () => {
  const cache = createRecentCache<number, number>(100)
  for (let i = 0; i < 1000; i++) cache.set(i, i)
  for (let i = 999; i >= 900; i--) assert.equal(cache.get(i), i)
  for (let i = 0; i < 800; i++) assert.equal(cache.get(i), undefined, `still holds ${i}`)
})

test('a key read again survives the turnover of its generation', () => {
  const cache = createRecentCache<string, number>(10)
  cache.set('hot', 1)
  for (let i = 0; i < 100; i++) {
    cache.set(`cold-${i}`, i)
    assert.equal(cache.get('hot'), 1, `lost after ${i} other keys`)
  }
})

test('a cache limit must be a positive integer', () => {
  assert.throws(() => createRecentCache(0), RangeError)
  assert.throws(() => createRecentCache(1.5), RangeError)
})
