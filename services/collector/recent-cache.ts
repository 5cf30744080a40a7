/**
 * A bounded memo of recent answers: between `limit` and 2 × `limit` keys, the most recently set or read
 * ones. Two generations of Maps: when the newer one fills, the older is dropped whole and a read that
 * finds a key only in the older one copies it forward. Every operation is O(1). (The simpler "delete the
 * Map's first key" eviction is not: V8 keeps deleted slots at the head of a Map until it rehashes, so each
 * `keys().next()` scans past them and a cache that misses steadily slows to microseconds per miss.)
 * `undefined` is not a storable value: it means "not cached".
 */
export interface RecentCache<K, V> {
  get(key: K): V | undefined
  set(key: K, value: V): void
}

export function createRecentCache<K, V>(limit: number): RecentCache<K, V> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`cache limit must be a positive integer, got ${limit}`)
  let newer = new Map<K, V>()
  let older = new Map<K, V>()
  function set(key: K, value: V): void {
    if (newer.size >= limit) {
      older = newer
      newer = new Map()
    }
    newer.set(key, value)
  }
  return {
    get(key) {
      const hit = newer.get(key)
      if (hit !== undefined) return hit
      const old = older.get(key)
      if (old !== undefined) set(key, old)
      return old
    },
    set,
  }
}
