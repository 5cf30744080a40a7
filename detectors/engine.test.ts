import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AuthEvent } from '../schemas/model.js'
import { createDetectionEngine } from './engine.js'
import { createMultiNetworkDetector } from './multi-network.js'
import { CHANGED_NETWORK, USE_ISSUE } from './credential-book.js'
import { NO_FINDINGS, type Detector } from './types.js'

const MIN = 60_000
const ev = (id: string, ts: number, session: string, asn: number, ua = 'Chrome'): AuthEvent => ({
  event_id: id, kind: 'VALIDATE', action: 'request', ts, ingest_ts: 0, source: { system: 't' }, subject: 'u-' + session,
  session_id: session, scopes: [], amr: [], net_flags: [], claims_unverified: false, ip: `10.0.${asn % 255}.1`,
  ip_prefix: `10.0.${asn % 255}.0/24`, asn, ua_family: ua, os_family: 'Windows', device_type: 'desktop', result: 'OK',
})
const engine = () => createDetectionEngine([createMultiNetworkDetector() as never], { latenessMs: 5 * MIN, sweepEveryMs: MIN })

/** Remembers when each session was last used, for 30 minutes: a state for every slot, so eviction shows. */
const lastUse: Detector<{ last: number }> = {
  name: 'last_use',
  slots: (event) => (event.session_id ? ['s:' + event.session_id] : []),
  step: (state, event) => ({ state: { last: Math.max(state?.last ?? 0, event.ts) }, findings: NO_FINDINGS }),
  expiry: (state) => state.last + 30 * MIN,
}
const stateful = () => createDetectionEngine([lastUse as Detector<unknown>], { latenessMs: 5 * MIN, sweepEveryMs: MIN })

test('state restored from a checkpoint continues exactly where the original left off', () => {
  const original = engine()
  original.process(ev('a', 0, 's1', 1))
  const restored = engine()
  restored.restore(original.takeChanges().map((c) => JSON.parse(JSON.stringify(c))))
  const fromOriginal = original.process(ev('b', MIN, 's1', 2, 'python-requests'))
  const fromRestored = restored.process(ev('b', MIN, 's1', 2, 'python-requests'))
  assert.equal(fromRestored.length, 1)
  assert.deepEqual(fromRestored, fromOriginal)
})

test('slots whose time has passed are evicted and reported as forgotten', () => {
  const e = stateful()
  e.process(ev('a', 0, 's1', 1))
  e.takeChanges()
  assert.equal(e.size, 1)
  e.process(ev('b', 3 * 60 * MIN, 's2', 1))
  assert.equal(e.size, 1)
  const changes = e.takeChanges()
  assert.deepEqual(changes.find((c) => c.key === 'last_use|s:s1'), { key: 'last_use|s:s1', state: undefined })
})

test('detections are stamped with the event time offline and with the given time live', () => {
  const offline = engine()
  offline.process(ev('a', 0, 's1', 1))
  assert.equal(offline.process(ev('b', MIN, 's1', 2, 'x'))[0]!.detected_ts, MIN)
  const live = engine()
  live.process(ev('a', 0, 's1', 1), 111)
  assert.equal(live.process(ev('b', MIN, 's1', 2, 'x'), 999)[0]!.detected_ts, 999)
})

test('a slot kept alive by later events is evicted once it finally falls behind, and not before', () => {
  const e = stateful()
  e.process(ev('a', 0, 's1', 1))
  e.process(ev('b', 20 * MIN, 's1', 1))
  e.process(ev('c', 40 * MIN, 's2', 1))
  assert.equal(e.size, 2, 's1 was used at 20 min: its window runs to 50 min')
  e.process(ev('d', 4 * 60 * MIN, 's3', 1))
  assert.equal(e.size, 1)
  e.process(ev('e', 5 * 60 * MIN, 's3', 1))
  e.process(ev('f', 12 * 60 * MIN, 's4', 1))
  assert.equal(e.size, 1, 's3 went too; only the newest slot is left')
})

test('a state that never expires outlives the credential record of its slot', () => {
  const counter: Detector<{ n: number }> = {
    name: 'counter',
    slots: (event) => (event.session_id ? ['s:' + event.session_id] : []),
    step: (state, _event) => ({ state: { n: (state?.n ?? 0) + 1 }, findings: NO_FINDINGS }),
    expiry: () => Number.POSITIVE_INFINITY,
  }
  const e = createDetectionEngine([counter as Detector<unknown>], { latenessMs: 5 * MIN, sweepEveryMs: MIN, contextTtlMs: 60 * MIN })
  e.process(ev('a', 0, 's1', 1))
  // The record of s1 (shared group 's:s1') is due after an hour: the sweep forgets it, not the counter.
  e.process(ev('b', 3 * 60 * MIN, 's2', 1))
  assert.equal(e.credentials, 1, 'only s2 has a record left')
  e.process(ev('c', 4 * 60 * MIN, 's1', 1))
  const counts = new Map(e.takeChanges().map((c) => [c.key, c.state]))
  assert.deepEqual(counts.get('counter|s:s1'), { n: 2 })
})

/** A detector that keeps nothing and writes down what the engine's credential record said at each step. */
function probe() {
  const seen: {
    id: string; key: string; uses: number; first: string | null; last: string | null; subject: string | null; network: string | null
    changed: number; issued: boolean; firstFlags: number | null
  }[] = []
  const detector: Detector<unknown> = {
    name: 'probe',
    slots: (event) => (event.session_id ? ['s:' + event.session_id] : []),
    step(state, event, _slot, context) {
      seen.push({
        id: event.event_id, key: context!.key, uses: context!.uses, first: context!.first()?.id ?? null, last: context!.last()?.id ?? null,
        subject: context!.subject, network: context!.eventNetwork, changed: context!.changed, issued: context!.issued,
        firstFlags: context!.first()?.flags ?? null,
      })
      return { state, findings: NO_FINDINGS }
    },
    expiry: () => 0,
  }
  return { detector, seen }
}

test('the credential record tells every step the history before its event: first use, latest accepted presentation', () => {
  const { detector, seen } = probe()
  const e = createDetectionEngine([detector], { latenessMs: 5 * MIN, sweepEveryMs: MIN })
  e.process({ ...ev('login', 0, 's1', 1), kind: 'ISSUE', action: 'login', result: null })
  e.process(ev('r1', MIN, 's1', 1))
  e.process({ ...ev('refused', 2 * MIN, 's1', 1), result: 'REVOKED' })
  e.process(ev('r2', 3 * MIN, 's1', 2))
  assert.deepEqual(seen.map((x) => [x.id, x.key, x.uses, x.first, x.last]), [
    ['login', 's:s1', 0, null, null],
    ['r1', 's:s1', 1, 'login', null],
    ['refused', 's:s1', 2, 'login', 'r1'],
    ['r2', 's:s1', 2, 'login', 'r1'],
  ])
  assert.equal(seen[1]!.subject, 'u-s1')
  assert.equal(seen[3]!.network, 'AS2', "the event's own network, named once for all detectors")
  assert.equal(seen[1]!.issued, true)
  assert.equal(seen[1]!.firstFlags! & USE_ISSUE, USE_ISSUE)
  assert.equal(seen[3]!.changed, 0, 'a refused presentation is not a use: nothing changed yet')
  e.process(ev('r3', 4 * MIN, 's1', 1))
  assert.equal(seen.at(-1)!.changed, CHANGED_NETWORK, 'r2 came from another network than the login')
  assert.equal(e.size, 0, 'the probe keeps no state')
  assert.equal(e.credentials, 1)
})

test('credential records are checkpointed and restored with the states, and forgotten after their time', () => {
  const config = { latenessMs: 5 * MIN, sweepEveryMs: MIN, contextTtlMs: 60 * MIN }
  const first = probe()
  const original = createDetectionEngine([first.detector], config)
  original.process(ev('a', 0, 's1', 1))
  original.process(ev('b', MIN, 's1', 1))
  const changes = original.takeChanges()
  assert.deepEqual(changes.map((c) => c.key), ['context|s:s1'])
  const second = probe()
  const restored = createDetectionEngine([second.detector], config)
  restored.restore(changes.map((c) => JSON.parse(JSON.stringify(c))))
  restored.process(ev('c', 2 * MIN, 's1', 3))
  original.process(ev('c', 2 * MIN, 's1', 3))
  assert.deepEqual(second.seen.at(-1), first.seen.at(-1))
  assert.equal(second.seen.at(-1)!.first, 'a')
  restored.takeChanges()
  restored.process(ev('later', 2 * 60 * MIN, 's2', 1))
  assert.equal(restored.credentials, 1, 's1 was last used at 2 min: its record is gone, s2 has one')
  assert.deepEqual(restored.takeChanges().find((c) => c.key === 'context|s:s1'), { key: 'context|s:s1', state: undefined })
})

test('a detection carries the route of the event that triggered it, for the alert policy', () => {
  const e = engine()
  e.process({ ...ev('a', 0, 's1', 1), route: '/api/inbox' })
  const [d] = e.process({ ...ev('b', MIN, 's1', 2, 'python-requests'), route: '/api/admin/users' })
  assert.equal(d!.route, '/api/admin/users')
  const other = engine()
  other.process(ev('c', 0, 's2', 1))
  assert.equal(other.process(ev('d', MIN, 's2', 2, 'python-requests'))[0]!.route, null, 'no route on the trigger: null')
})

test('a step can read its own detector\'s state of another slot, and only read it', () => {
  const seen: (string | undefined)[] = []
  const learner: Detector<{ n: number }> = {
    name: 'learner',
    slots: (event) => (event.action === 'login' ? ['u:' + event.subject, 's:' + event.session_id] : ['s:' + event.session_id]),
    step(state, event, slot, _context, peek) {
      if (slot.startsWith('u:')) return { state: { n: (state?.n ?? 0) + 1 }, findings: NO_FINDINGS }
      seen.push(String(peek?.('u:' + event.subject)?.n))
      return { state: { n: 0 }, findings: NO_FINDINGS }
    },
    expiry: () => Number.MAX_SAFE_INTEGER,
  }
  const e = createDetectionEngine([learner as Detector<unknown>], { latenessMs: 5 * MIN, sweepEveryMs: MIN })
  e.process({ ...ev('a', 0, 's1', 1), action: 'request' })
  e.process({ ...ev('b', MIN, 's1', 1), action: 'login' })
  e.process({ ...ev('c', 2 * MIN, 's1', 1), action: 'request' })
  assert.deepEqual(seen, ['undefined', '1', '1'], 'nothing learned yet; then the login, learned before the session step')
})

test('credential records of cold sessions are frozen with their group and read back unchanged, by their own events and by other()', () => {
  // Keeps no state: every frozen group is a record alone. Notes what each step sees of the records.
  const seen: unknown[] = []
  const probe: Detector<never> = {
    name: 'probe',
    slots: () => ['x'],
    step: (state, event, _slot, context) => {
      const other = context!.other('s:s' + ((Number(event.session_id!.slice(1)) + 1) % 40))
      seen.push([context!.uses, context!.first()?.id, context!.last()?.id, context!.lastPresentation(), context!.changed, other?.lastTs, other?.lastPresentation()])
      return { state, findings: NO_FINDINGS }
    },
    expiry: () => 0,
  }
  const history: AuthEvent[] = []
  for (let round = 0; round < 4; round++) {
    for (let s = 0; s < 40; s++) history.push({ ...ev(`e${round}-${s}`, (round * 40 + s) * 1000, 's' + s, round === 2 && s % 7 === 0 ? 99 : s), validator: `edge-${round}` })
  }
  const run = (hotGroups: number) => {
    seen.length = 0
    const e = createDetectionEngine([probe as Detector<unknown>], { latenessMs: 5 * MIN, sweepEveryMs: MIN, hotGroups })
    for (const event of history) e.process(event)
    return { seen: structuredClone(seen), credentials: e.credentials, frozen: e.frozen, changes: e.takeChanges().sort((a, b) => (a.key < b.key ? -1 : 1)) }
  }
  const objects = run(Number.POSITIVE_INFINITY)
  const frozen = run(3)
  assert.equal(objects.frozen, 0)
  assert.ok(frozen.frozen > 30, `records were frozen (${frozen.frozen} groups)`)
  assert.equal(frozen.credentials, 40)
  assert.deepStrictEqual(frozen.seen, objects.seen)
  assert.deepStrictEqual(frozen.changes, objects.changes, 'a checkpoint reads frozen records as they are')
  assert.ok(objects.seen.some((s) => (s as unknown[])[6] !== undefined), 'other() found records')
})

test('frozen groups are swept at the same sweep as hot ones, and a frozen state that never expires stays', () => {
  const counter: Detector<{ n: number }> = {
    name: 'counter',
    slots: (event) => (event.subject ? ['u:' + event.subject] : []),
    step: (state) => ({ state: { n: (state?.n ?? 0) + 1 }, findings: NO_FINDINGS }),
    expiry: () => Number.POSITIVE_INFINITY,
  }
  const run = (hotGroups: number) => {
    const e = createDetectionEngine([lastUse as Detector<unknown>, counter as Detector<unknown>], { latenessMs: 5 * MIN, sweepEveryMs: MIN, contextTtlMs: 45 * MIN, hotGroups })
    const trail: string[] = []
    // Sessions used at uneven times, each a few times, so states and records fall due in many different buckets.
    for (let i = 0; i < 400; i++) {
      const ts = i * 37_000 + (i % 7) * 11_000
      e.process(ev('e' + i, ts, 's' + (i % 23) + '-' + Math.floor(i / 60), 1 + (i % 3)))
      const forgotten = e.takeChanges().filter((c) => c.state === undefined).map((c) => c.key).sort()
      trail.push(`${i} size ${e.size} records ${e.credentials} forgot ${forgotten.join(' ')}`)
    }
    return { trail, frozen: e.frozen, footprint: e.footprint() }
  }
  const hot = run(Number.POSITIVE_INFINITY)
  const cold = run(1)
  assert.ok(cold.frozen > 10, `groups were frozen (${cold.frozen})`)
  assert.deepEqual(cold.trail, hot.trail)
  // The footprint counts the same groups both ways, and the frozen ones' bytes.
  assert.equal(cold.footprint.groups, hot.footprint.groups)
  assert.equal(cold.footprint.frozenGroups, cold.frozen)
  assert.ok(cold.footprint.hotGroups <= 1)
  assert.equal(hot.footprint.frozenBytes, 0)
  assert.ok(cold.footprint.frozenBytes > 10 * cold.frozen && cold.footprint.frozenReserved >= cold.footprint.frozenBytes)
  assert.ok(hot.trail.some((line) => line.includes('forgot last_use|')), 'states fell due during the run')
})

test('sweep buckets count from the first one filed: millisecond buckets of real timestamps evict on time', () => {
  const e = createDetectionEngine([lastUse as Detector<unknown>], { latenessMs: 5 * MIN, sweepEveryMs: 1 })
  const t0 = Date.parse('2026-12-05T08:00:00Z')
  e.process(ev('a', t0, 's1', 1))
  e.process(ev('b', t0 + 30 * MIN, 's2', 1))
  assert.equal(e.size, 2, 's1 is due at 30 min, and events this late are still allowed for 5 more')
  e.process(ev('c', t0 + 36 * MIN, 's2', 1))
  assert.equal(e.size, 1, 's1 went once the sweep passed its bucket')
  assert.deepEqual(e.takeChanges().find((c) => c.key === 'last_use|s:s1'), { key: 'last_use|s:s1', state: undefined })
})

test('a restore holds no more hot groups than the allowance at any point, and applies entries in order as the topic keeps them', () => {
  const source = createDetectionEngine([lastUse as Detector<unknown>], { latenessMs: 5 * MIN, sweepEveryMs: MIN })
  for (let i = 0; i < 2000; i++) source.process(ev('e' + i, i * 100, 's' + i, 1))
  const checkpoint = source.takeChanges()
  assert.equal(checkpoint.length, 4000, 'a state and a record per session')
  const restored = createDetectionEngine([lastUse as Detector<unknown>], { latenessMs: 5 * MIN, sweepEveryMs: MIN, hotGroups: 100 })
  let peak = 0
  // Read as the restore consumes them: the hot groups held while it is under way.
  function* entries() {
    for (const entry of checkpoint) {
      peak = Math.max(peak, restored.footprint().hotGroups)
      yield entry
    }
  }
  restored.restore(entries())
  assert.ok(peak <= 101, `at most the allowance hot while restoring (peak ${peak})`)
  assert.equal(restored.size, 2000)
  assert.equal(restored.credentials, 2000)
  assert.ok(restored.frozen > 1800)
  // Older versions and tombstones before the latest, as a topic not yet compacted holds them.
  const s = (last: number) => ({ last })
  const replay = createDetectionEngine([lastUse as Detector<unknown>], { latenessMs: 5 * MIN, sweepEveryMs: MIN, hotGroups: 1 })
  replay.restore([
    { key: 'last_use|s:a', state: s(1) }, { key: 'last_use|s:b', state: s(1) }, { key: 'last_use|s:a', state: s(2) },
    { key: 'last_use|s:b', state: undefined }, { key: 'last_use|s:c', state: undefined }, { key: 'last_use|s:c', state: s(3) },
  ])
  const compacted = createDetectionEngine([lastUse as Detector<unknown>], { latenessMs: 5 * MIN, sweepEveryMs: MIN })
  compacted.restore([{ key: 'last_use|s:a', state: s(2) }, { key: 'last_use|s:c', state: s(3) }])
  assert.equal(replay.size, 2)
  // An event at time 0 leaves a restored state's `last` as it was, so the checkpoint after it shows the state.
  const read = (e: ReturnType<typeof createDetectionEngine>) => ['a', 'b', 'c'].map((k) => {
    e.process(ev('p' + k, 0, k, 1))
    return e.takeChanges().find((c) => c.key === 'last_use|s:' + k)?.state
  })
  assert.deepEqual(read(replay), [s(2), s(0), s(3)])
  assert.deepEqual(read(compacted), [s(2), s(0), s(3)])
})
