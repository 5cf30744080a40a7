// Small helpers that keep per-session state small when there are a million sessions: lists sized exactly and
// repeated strings kept once. Measured with a heap snapshot (bench/memory-bench.ts): `list.push` and
// `[...list, item]` both leave room for about 16 more elements (~130 bytes per list).

/** A copy of the list with the item added, allocated at its exact length (for lists that rarely grow). */
export function appended<T>(list: readonly T[], item: T): T[] {
  const out = new Array<T>(list.length + 1)
  for (let i = 0; i < list.length; i++) out[i] = list[i]!
  out[list.length] = item
  return out
}

/**
 * Keeps each distinct string once: decoders make a new string per event even when the value (a user agent, a
 * route, a network) is the same as the last million. Bounded: when full it starts over, which costs only
 * sharing (holders keep the instances they have), never correctness.
 */
export function createInterner(max: number): (s: string | null | undefined) => string | null {
  const seen = new Map<string, string>()
  return function intern(s) {
    if (s == null) return null
    const known = seen.get(s)
    if (known !== undefined) return known
    if (seen.size >= max) seen.clear()
    seen.set(s, s)
    return s
  }
}
