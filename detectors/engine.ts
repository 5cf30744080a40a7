// Runs deterministic detectors over a stream of AuthEvents, keeping one compact state per (detector, slot) and
// one shared record per credential, evicting what event time has passed, and turning findings into Detections
// with ids that do not change when the same history is replayed.
import { createHash } from 'node:crypto'
import type { AuthEvent, Detection } from '../schemas/model.js'
import { createCredentialBook, grown, isUse, type CredentialRecord } from './credential-book.js'
import { NameIndex } from './name-index.js'
import { BlobStore } from './blob-store.js'
import { StateCodec, Unfreezable, unzigzag, zigzag } from './state-codec.js'
import { credentialKey } from './signals.js'
import type { Detector, Peek } from './types.js'

/** How long after its last use a credential's record is kept: as long as the detectors that read it remember. */
export const DEFAULT_CONTEXT_TTL_MS = 12 * 3600_000

/** Slot groups whose detector states are kept as objects; the least recently used of the others are frozen. */
export const DEFAULT_HOT_GROUPS = 65_536

export interface EngineConfig {
  /** Events this far behind the newest event time still count; eviction waits for them. */
  latenessMs: number
  /** Slots are swept at most this often, in event time. */
  sweepEveryMs: number
  /** Record changed slots for takeChanges (default true); the backtest, which never checkpoints, turns it off. */
  trackChanges?: boolean
  /** How long a credential's shared record outlives its last use (default DEFAULT_CONTEXT_TTL_MS). */
  contextTtlMs?: number
  /**
   * Slot groups whose states are kept as JS objects (default DEFAULT_HOT_GROUPS). Past it, the least recently
   * used groups are frozen into compact bytes (state-codec.ts) and thawed when an event or a peek touches them:
   * memory per idle user drops several times, at the price of a thaw on its next event. Infinity: never.
   * A HotBudget is read on every event: engines sharing one (a worker's partitions) follow its changes.
   */
  hotGroups?: number | HotBudget
  /**
   * A directory for a file holding the frozen groups' bytes (blob-store.ts): the heap then keeps 8 bytes a frozen
   * group instead of its bytes, and a thaw reads them back from the file (the page cache, mostly). None: memory.
   */
  frozenDir?: string
}

/** An allowance of hot slot groups that its owner may change while engines run (see EngineConfig.hotGroups). */
export interface HotBudget {
  readonly perEngine: number
}

export interface StateEntry {
  key: string
  state: unknown | undefined
}

export interface DetectionEngine {
  /** Feeds one event; `detectedTs` is the detection time to stamp (event time offline, wall time live). */
  process(event: AuthEvent, detectedTs?: number): readonly Detection[]
  /** Slots changed since the last call (undefined state = forgotten), for checkpointing. */
  takeChanges(): StateEntry[]
  /**
   * Applies checkpoint entries in order, as the state topic holds them: a later entry for a key replaces an
   * earlier one, and an undefined state forgets it, so a topic not yet compacted restores as the compacted one.
   */
  restore(entries: Iterable<StateEntry>): void
  /** Detector states held. */
  readonly size: number
  /** Credential records held (CredentialContext). */
  readonly credentials: number
  /** Slot groups whose states are frozen (EngineConfig.hotGroups). */
  readonly frozen: number
  readonly watermark: number
  /** What the engine's own structures hold, for the memory benchmark and the frozen-bytes gauge. */
  footprint(): EngineFootprint
  /** Lets go of the frozen groups' file (EngineConfig.frozenDir); the engine is not used after. */
  close(): void
}

/**
 * Bytes held by the engine's structures outside the JS objects of hot states and the credential records' columns:
 * the frozen bytes, the slot-name index and the per-group columns.
 */
export interface EngineFootprint {
  groups: number
  hotGroups: number
  frozenGroups: number
  /**
   * Frozen states and records: their bytes, the memory held for them (chunks, stale bytes included, and handles)
   * and the bytes of their chunks on disk (EngineConfig.frozenDir).
   */
  frozenBytes: number
  frozenReserved: number
  frozenOnDisk: number
  /** Chunks kept in memory because the file could not take them (a full disk). */
  frozenSpillFailures: number
  /** The slot-name index: its hash table, and the names as bytes. */
  nameBytes: number
  /** Per-group columns and the sweep's wheel (the list of states counted at 8 bytes a group). */
  columnBytes: number
}

/** What process returns for the (usual) event that detects nothing: shared, so a quiet event allocates no list. */
const NO_DETECTIONS: readonly Detection[] = Object.freeze([])

/** Checkpoint key prefix of the engine's credential records (not a detector's). */
const CONTEXT = 'context'
/** `filed` of a group filed under no bucket (nothing due, or nothing due within 2^31 buckets of the first). */
const NOT_FILED = 0x7fffffff
const NO_STATES: readonly unknown[] = Object.freeze([])

/**
 * Layout. Every slot name ('s:<session>', 'u:<subject>', …) is a *group*: a small integer index, reused after
 * the group is forgotten, looked up once per distinct name per event. Detectors mostly key an event by the
 * same session, so one lookup serves them all. Names are kept as bytes in a hash table of typed arrays
 * (name-index.ts), not as heap strings in a Map. A group holds the states of the detectors that keep one for
 * the name (an exact-size list of detector index and state pairs, allocated only when some detector keeps
 * state there) and, for a credential's name, the shared credential record (credential-book.ts). Everything
 * else about a group is a column indexed by it, not an object.
 *
 * Eviction: a group is filed in a wheel of sweep buckets under the earliest expiry among its states and its
 * record. A sweep visits only groups filed in the buckets it passes, drops what is due and files the group
 * again under its next expiry; a group whose expiry moved later is found not due and filed again. A state is
 * dropped at the first sweep whose horizon passes the bucket of its expiry, exactly as when every state was
 * filed on its own.
 */
export function createDetectionEngine(detectors: Detector<unknown>[], config: EngineConfig): DetectionEngine {
  if (detectors.length > 30) throw new RangeError('at most 30 detectors (change bits are a 32-bit mask)')
  const n = detectors.length
  /** Change bit of the credential record. */
  const RECORD_BIT = 1 << 30
  const contextTtlMs = config.contextTtlMs ?? DEFAULT_CONTEXT_TTL_MS
  const track = config.trackChanges ?? true
  const budget: HotBudget = typeof config.hotGroups === 'object' ? config.hotGroups : { perEngine: config.hotGroups ?? DEFAULT_HOT_GROUPS }
  const index = new NameIndex()
  /**
   * Per group: [detector index, state, detector index, state, …], or undefined when none keeps state there, or
   * (a number) the handle of the list frozen in `frozen`.
   */
  const states: (unknown[] | number | undefined)[] = []
  let capacity = 1024
  /** The bucket the group is filed under at its earliest, less `firstBucket` (NOT_FILED: none). */
  let filed = new Int32Array(capacity).fill(NOT_FILED)
  /** The first bucket anything was filed under: `filed` counts from it, so it fits 32 bits. */
  let firstBucket = Number.NaN
  /** Detectors (bits 0–29) and the record (bit 30) changed since takeChanges; non-zero: in `changed`. */
  let dirty = new Int32Array(capacity)
  /** 1: the group's credential record is in its frozen bytes, not in the book. */
  let recordFrozen = new Uint8Array(capacity)
  let frozenRecords = 0
  const free: number[] = []
  let groups = 0
  // Another credential's record, read by a step (CredentialContext.other): thawed if frozen.
  const book = createCredentialBook(capacity, (key) => {
    const g = index.get(key)
    if (g >= 0 && recordFrozen[g] === 1) thaw(g)
    return g
  })
  const frozen = new BlobStore({ dir: config.frozenDir })
  const codec = new StateCodec(book.symbols)
  // The hot groups (those with a list of states), for CLOCK: `ring` visits them in turn, `used` is set by every
  // touch and cleared by a visit, and a visit to a group not used since the last one freezes it. `inRing` says
  // whether a group is counted in `hot`; a group that left keeps its entry until the ring is compacted.
  let used = new Uint8Array(capacity)
  let inRing = new Uint8Array(capacity)
  const ring: number[] = []
  let hand = 0
  let hot = 0
  // One read-only view per detector of its states in other slots (Detector.step's `peek`).
  const peekers: Peek<unknown>[] = detectors.map((_, d) => (name: string) => {
    const g = index.get(name)
    return g < 0 ? undefined : (stateOf(g, d) as Readonly<unknown> | undefined)
  })
  let size = 0
  let changed: number[] = []
  // Checkpoint entries of groups forgotten (and their index possibly reused) before takeChanges.
  let forgotten: StateEntry[] = []
  const wheel = new Map<number, Filed>()
  const bucketOf = (t: number) => Math.floor(t / config.sweepEveryMs)
  let maxTs = 0
  let sweptBucket = Number.NEGATIVE_INFINITY
  // The groups looked up for the current event, by name: detectors name the same slots.
  const seenNames: string[] = []
  const seenGroups: number[] = []
  let seen = 0

  function grow() {
    const before = capacity
    capacity *= 2
    filed = grown(filed, capacity).fill(NOT_FILED, before)
    dirty = grown(dirty, capacity)
    used = grown(used, capacity)
    inRing = grown(inRing, capacity)
    recordFrozen = grown(recordFrozen, capacity)
  }

  function wheelBytes(): number {
    let n = 0
    for (const due of wheel.values()) n += due.groups.byteLength
    return n
  }

  function touch(g: number) {
    used[g] = 1
    if (inRing[g] !== 0) return
    inRing[g] = 1
    hot++
    ring.push(g)
    if (ring.length > 2 * hot + 1024) compactRing()
  }

  function untrack(g: number) {
    if (inRing[g] === 0) return
    inRing[g] = 0
    hot--
  }

  /** Drops the entries of groups that left the ring, and second entries of groups that came back. */
  function compactRing() {
    let k = 0
    for (let i = 0; i < ring.length; i++) {
      const g = ring[i]!
      if (inRing[g] !== 1) continue
      inRing[g] = 2
      ring[k++] = g
    }
    ring.length = k
    for (let i = 0; i < k; i++) inRing[ring[i]!] = 1
    hand = 0
  }

  /** Freezes the least recently used hot groups until a tenth of the allowance is free. */
  function freezeColdest() {
    const target = Math.floor(budget.perEngine * 0.9)
    // Each entry is visited at most twice: once to clear its bit, once to freeze it.
    let visits = 2 * ring.length + 2
    while (hot > target && visits-- > 0) {
      if (hand >= ring.length) compactRing()
      if (ring.length === 0) return
      const g = ring[hand++]!
      if (inRing[g] !== 1) continue
      if (used[g] !== 0) used[g] = 0
      else freeze(g)
    }
  }

  /**
   * The group's states and credential record as bytes: a header (whether there is a record, the detectors whose
   * states follow, and the sweep bucket of the earliest expiry among them and the record: all the sweep needs),
   * then the states, then the record (as checkpointed). The expiry is a bucket number, not a time, so the first
   * timestamp of the states is the one the others are written as differences from.
   */
  function freeze(g: number) {
    const list = (states[g] as unknown[] | undefined) ?? NO_STATES
    const record = book.has(g)
    let earliest = record ? book.seenTs(g) + contextTtlMs : Number.POSITIVE_INFINITY
    for (let i = 0; i < list.length; i += 2) earliest = Math.min(earliest, detectors[list[i] as number]!.expiry(list[i + 1]))
    // States often repeat their slot's name ('u:<subject>' holds the subject): it is known to both sides.
    codec.begin(namesOf(g))
    codec.byte(record ? 1 : 0)
    codec.varint(list.length / 2)
    for (let i = 0; i < list.length; i += 2) codec.byte(list[i] as number)
    // 0: nothing expires; else 1 + the zig-zag bucket.
    codec.varint(earliest === Number.POSITIVE_INFINITY ? 0 : 1 + zigzag(bucketOf(earliest)))
    try {
      for (let i = 1; i < list.length; i += 2) codec.write(list[i])
      if (record) codec.write(book.toJSON(g))
    } catch (e) {
      if (!(e instanceof Unfreezable)) throw e
      // Not plain JSON data (a detector's bug, or a string UTF-8 cannot carry): it stays an object.
      codec.abandon()
      used[g] = 1
      return
    }
    states[g] = frozen.put(codec.finish())
    if (record) {
      // The bytes hold the record's strings now; its row goes back to the book.
      book.forget(g)
      recordFrozen[g] = 1
      frozenRecords++
    }
    untrack(g)
  }

  /** The record a decodeGroup found in the bytes (null: none). */
  let decodedRecord: CredentialRecord | null = null

  /** A frozen group's list of states, and its record in decodedRecord; `release` when its bytes are about to be dropped. */
  function decodeGroup(g: number, h: number, release: boolean): unknown[] {
    const bytes = frozen.view(h)
    codec.open(bytes, 0, bytes.length, release, namesOf(g))
    const record = codec.readByte() === 1
    const n = codec.readVarint()
    const list = new Array<unknown>(2 * n)
    for (let i = 0; i < n; i++) list[2 * i] = codec.readByte()
    codec.readVarint()
    for (let i = 0; i < n; i++) list[2 * i + 1] = codec.read()
    decodedRecord = record ? (codec.read() as CredentialRecord) : null
    return list
  }

  /** The start of the sweep bucket of the earliest expiry among a frozen group's states and record, from its header. */
  function frozenExpiry(h: number): number {
    const bytes = frozen.view(h)
    codec.open(bytes, 0, bytes.length, false)
    codec.readByte()
    for (let n = codec.readVarint(); n > 0; n--) codec.readByte()
    const bucket = codec.readVarint()
    return bucket === 0 ? Number.POSITIVE_INFINITY : unzigzag(bucket - 1) * config.sweepEveryMs
  }

  /** A group's name and, for a 'x:' name, the rest: the strings its states most often repeat. */
  function namesOf(g: number): string[] {
    const name = index.name(g)
    return name.length > 2 && name.charCodeAt(1) === 58 ? [name, name.slice(2)] : [name]
  }

  function thaw(g: number): unknown[] | undefined {
    const h = states[g] as number
    const list = decodeGroup(g, h, true)
    frozen.drop(h)
    states[g] = list.length === 0 ? undefined : list
    if (decodedRecord !== null) {
      book.restore(g, decodedRecord)
      recordFrozen[g] = 0
      frozenRecords--
    }
    touch(g)
    return states[g] as unknown[] | undefined
  }

  /** The group's list of states, thawed if frozen. */
  function listOf(g: number): unknown[] | undefined {
    const list = states[g]
    return typeof list === 'number' ? thaw(g) : list
  }

  function create(name: string): number {
    let g = free.pop()
    if (g === undefined) {
      g = groups++
      if (g >= capacity) grow()
    }
    index.add(name, g)
    return g
  }

  /** The bucket a group is filed under (+Infinity: none). */
  function filedUnder(g: number): number {
    const at = filed[g]!
    return at === NOT_FILED ? Number.POSITIVE_INFINITY : firstBucket + at
  }

  /** Files the group under a bucket unless it is filed under that bucket or an earlier one already. */
  function file(g: number, expiry: number) {
    // A bucket already swept is never visited again: the next sweep settles it.
    const bucket = Math.max(bucketOf(expiry), sweptBucket + 1)
    // Never due (a state that never expires), or too far ahead to count: nothing to file.
    if (!Number.isFinite(bucket)) return
    if (Number.isNaN(firstBucket)) firstBucket = bucket
    const at = Math.max(bucket - firstBucket, -0x80000000)
    if (at >= NOT_FILED || filed[g]! <= at) return
    filed[g] = at
    const under = firstBucket + at
    let due = wheel.get(under)
    if (due === undefined) wheel.set(under, (due = new Filed()))
    due.push(g)
  }

  function mark(g: number, bit: number) {
    if (dirty[g] === 0) changed.push(g)
    dirty[g]! |= bit
  }

  /** Detector d's state in a list of states. */
  function stateIn(list: unknown[] | undefined, d: number): unknown {
    if (list === undefined) return undefined
    for (let i = 0; i < list.length; i += 2) if (list[i] === d) return list[i + 1]
    return undefined
  }

  /** Detector d's state in group g (thawed if frozen: the caller is about to use it). */
  function stateOf(g: number, d: number): unknown {
    return stateIn(listOf(g), d)
  }

  function put(g: number, d: number, state: unknown, marked: boolean) {
    const list = listOf(g)
    let at = -1
    if (list !== undefined) for (let i = 0; i < list.length; i += 2) if (list[i] === d) { at = i; break }
    if (at >= 0) list![at + 1] = state
    else {
      if (list === undefined) states[g] = [d, state]
      else {
        const grown = new Array<unknown>(list.length + 2)
        for (let i = 0; i < list.length; i++) grown[i] = list[i]
        grown[list.length] = d
        grown[list.length + 1] = state
        states[g] = grown
      }
      size++
    }
    file(g, detectors[d]!.expiry(state))
    touch(g)
    if (marked) mark(g, 1 << d)
  }

  function drop(g: number, d: number, marked: boolean) {
    const list = listOf(g)!
    if (list.length === 2) {
      states[g] = undefined
      // A group with a record stays hot: the record is frozen with it.
      if (!book.has(g)) untrack(g)
    } else {
      const kept = new Array<unknown>(list.length - 2)
      let k = 0
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] === d) continue
        kept[k++] = list[i]
        kept[k++] = list[i + 1]
      }
      states[g] = kept
    }
    size--
    if (marked) mark(g, 1 << d)
  }

  /** Frees a group with no state and no record; its pending changes are kept by name. */
  function release(g: number) {
    if (dirty[g] !== 0) {
      const name = index.name(g)
      for (let d = 0; d < n; d++) if ((dirty[g]! & (1 << d)) !== 0) forgotten.push({ key: detectors[d]!.name + '|' + name, state: undefined })
      if ((dirty[g]! & RECORD_BIT) !== 0) forgotten.push({ key: CONTEXT + '|' + name, state: undefined })
      // Left in `changed`: takeChanges skips groups with no change bits.
      dirty[g] = 0
    }
    index.remove(g)
    filed[g] = NOT_FILED
    untrack(g)
    free.push(g)
  }

  const stateDue = (d: number, state: unknown) => bucketOf(detectors[d]!.expiry(state)) <= sweptBucket
  const recordDue = (g: number) => bucketOf(book.seenTs(g) + contextTtlMs) <= sweptBucket

  /** Drops what is due in a group (by the current sweptBucket); frees it when nothing is left, else files it. */
  function settle(g: number) {
    let next = Number.POSITIVE_INFINITY
    let list = states[g]
    if (typeof list === 'number') {
      // Frozen: its header says whether anything is due; only then is it thawed.
      const earliest = frozenExpiry(list)
      if (bucketOf(earliest) <= sweptBucket) list = thaw(g)
      else next = earliest
    }
    if (typeof list === 'object') {
      // drop replaces the group's list; this one is read to the end.
      for (let i = 0; i < list.length; i += 2) {
        const d = list[i] as number
        const state = list[i + 1]
        if (stateDue(d, state)) drop(g, d, track)
        else next = Math.min(next, detectors[d]!.expiry(state))
      }
    }
    if (book.has(g)) {
      if (recordDue(g)) {
        book.forget(g)
        if (track) mark(g, RECORD_BIT)
      } else next = Math.min(next, book.seenTs(g) + contextTtlMs)
    }
    // Freed only when nothing is left: a state that never expires keeps its group (unfiled: no sweep is due).
    if (states[g] === undefined && !book.has(g)) release(g)
    else if (next < Number.POSITIVE_INFINITY) file(g, next)
  }

  function sweep(now: number) {
    const horizon = now - config.latenessMs
    const last = bucketOf(horizon) - 1
    if (!Number.isFinite(sweptBucket)) {
      let first = last + 1
      for (const bucket of wheel.keys()) first = Math.min(first, bucket)
      sweptBucket = first - 1
    }
    const from = sweptBucket + 1
    // Everything filed at or before `last` is judged against it: a state due in a later bucket of this
    // sweep goes now, as it would have when that bucket was reached.
    sweptBucket = Math.max(sweptBucket, last)
    for (let bucket = from; bucket <= last; bucket++) {
      const due = wheel.get(bucket)
      if (!due) continue
      wheel.delete(bucket)
      for (let i = 0; i < due.length; i++) {
        const g = due.groups[i]!
        // Filed again under another bucket since, or freed (and maybe reused).
        if (filedUnder(g) !== bucket) continue
        filed[g] = NOT_FILED
        settle(g)
      }
    }
  }

  /** The group of a name for this event, looked up once per distinct name; -1 when it does not exist. */
  function groupOf(name: string): number {
    let at = 0
    while (at < seen && seenNames[at] !== name) at++
    if (at < seen) return seenGroups[at]!
    const g = index.get(name)
    seenNames[at] = name
    seenGroups[at] = g
    seen++
    return g
  }

  function remember(name: string, g: number) {
    for (let at = 0; at < seen; at++) if (seenNames[at] === name) { seenGroups[at] = g; return }
  }

  return {
    get size() {
      return size
    },
    get credentials() {
      return book.size + frozenRecords
    },
    get frozen() {
      return frozen.count
    },
    get watermark() {
      return maxTs - config.latenessMs
    },
    footprint() {
      const reserved = frozen.reserved
      return {
        groups: index.size,
        hotGroups: hot,
        frozenGroups: frozen.count,
        frozenBytes: frozen.bytes,
        frozenReserved: reserved.total + frozen.handleBytes,
        frozenOnDisk: reserved.disk,
        frozenSpillFailures: frozen.spillFailures,
        nameBytes: index.bytes,
        columnBytes: filed.byteLength + dirty.byteLength + used.byteLength + inRing.byteLength + recordFrozen.byteLength + 8 * states.length + wheelBytes(),
      }
    },
    close() {
      frozen.close()
    },
    process(event, detectedTs) {
      if (event.ts > maxTs) {
        maxTs = event.ts
        if (bucketOf(maxTs - config.latenessMs) - 1 > sweptBucket) sweep(maxTs)
      }
      let detections = NO_DETECTIONS as Detection[]
      seen = 0
      const credential = credentialKey(event)
      let cg = credential === null ? -1 : groupOf(credential)
      if (cg >= 0 && recordFrozen[cg] === 1) thaw(cg)
      // A record past its time is gone, as if swept.
      if (cg >= 0 && filedUnder(cg) <= sweptBucket + 1 && book.has(cg) && recordDue(cg)) {
        book.forget(cg)
        if (track) mark(cg, RECORD_BIT)
      }
      // The key string the engine holds, so a detector keeping it shares it.
      const context = book.view(cg, credential ?? '', event)
      for (let d = 0; d < n; d++) {
        const detector = detectors[d]!
        const slotNames = detector.slots(event)
        for (let i = 0; i < slotNames.length; i++) {
          const slotName = slotNames[i]!
          let g = groupOf(slotName)
          let before = g >= 0 ? stateOf(g, d) : undefined
          // A group filed after the next sweep holds nothing due (it is filed at its earliest expiry).
          if (before !== undefined && filedUnder(g) <= sweptBucket + 1 && stateDue(d, before)) {
            // Due at a sweep already passed: forgotten, as the sweep would have.
            drop(g, d, track)
            before = undefined
          }
          const { state, findings } = detector.step(before, event, slotName, context, peekers[d])
          if (state !== undefined) {
            if (g < 0) {
              g = create(slotName)
              remember(slotName, g)
              if (slotName === credential) cg = g
            }
            put(g, d, state, track)
          } else if (before !== undefined) {
            // Only a slot that existed needs a deletion in the checkpoint.
            drop(g, d, track)
          }
          if (findings.length === 0) continue
          if (detections === NO_DETECTIONS) detections = []
          for (const f of findings) {
            detections.push({
              detection_id: detectionId(f.detector, f.subject, f.key, f.incident_ts),
              detector: f.detector,
              severity: f.severity,
              score: f.score,
              confirmed: f.confirmed,
              subject: f.subject ?? null,
              session_id: f.session_id ?? null,
              token_fp: f.token_fp ?? null,
              summary: f.summary,
              evidence: f.evidence,
              first_malicious_ts: f.first_malicious_ts,
              detected_ts: detectedTs ?? event.ts,
              // What the triggering request asked for: the alert policy's privileged routes match it.
              route: event.route ?? null,
            })
          }
        }
      }
      if (credential !== null && isUse(event)) {
        if (cg < 0) cg = create(credential)
        book.record(cg, event)
        file(cg, book.seenTs(cg) + contextTtlMs)
        touch(cg)
        if (track) mark(cg, RECORD_BIT)
      }
      if (hot > budget.perEngine) freezeColdest()
      return detections
    },
    takeChanges() {
      // One entry per key with its latest state; a slot forgotten and made again since the last call appears
      // once, with its latest state.
      const out = new Map<string, StateEntry>()
      for (const entry of forgotten) out.set(entry.key, entry)
      forgotten = []
      for (const g of changed) {
        const bits = dirty[g]!
        if (bits === 0) continue
        const name = index.name(g)
        // Read only: a frozen group stays frozen, and is decoded once for all its changed states.
        const held = states[g]
        const list = typeof held !== 'number' ? held : (bits & ~RECORD_BIT) !== 0 || recordFrozen[g] === 1 ? decodeGroup(g, held, false) : undefined
        for (let d = 0; d < n; d++) {
          if ((bits & (1 << d)) === 0) continue
          const key = detectors[d]!.name + '|' + name
          out.set(key, { key, state: stateIn(list, d) })
        }
        if ((bits & RECORD_BIT) !== 0) {
          const key = CONTEXT + '|' + name
          out.set(key, { key, state: book.has(g) ? book.toJSON(g) : recordFrozen[g] === 1 && typeof held === 'number' ? decodedRecord! : undefined })
        }
        dirty[g] = 0
      }
      changed = []
      return [...out.values()]
    },
    restore(entries) {
      const byName = new Map(detectors.map((d, i) => [d.name, i]))
      for (const { key, state } of entries) {
        const bar = key.indexOf('|')
        const owner = key.slice(0, bar)
        const d = owner === CONTEXT ? -1 : byName.get(owner)
        if (d === undefined) continue
        const name = key.slice(bar + 1)
        let g = index.get(name)
        // Restored into objects, and the coldest frozen as soon as they pass the allowance: a partition's state
        // is never all objects at once.
        if (g >= 0 && typeof states[g] === 'number') thaw(g)
        if (state !== undefined) {
          if (g < 0) g = create(name)
          if (d >= 0) put(g, d, state, false)
          else {
            book.restore(g, state as CredentialRecord)
            file(g, book.seenTs(g) + contextTtlMs)
            touch(g)
          }
        } else if (g >= 0) {
          if (d >= 0 && stateOf(g, d) !== undefined) drop(g, d, false)
          if (d < 0) book.forget(g)
          if (states[g] === undefined && !book.has(g)) release(g)
        }
        if (hot > budget.perEngine) freezeColdest()
      }
    },
  }
}

/**
 * The groups filed under one sweep bucket, as a growing typed list: a group filed again under an earlier bucket
 * leaves its entry here, skipped when the bucket is swept (the group's `filed` column says where it is).
 */
class Filed {
  groups = new Int32Array(8)
  length = 0

  push(g: number): void {
    if (this.length === this.groups.length) {
      const grown = new Int32Array(Math.ceil(this.length * 1.5))
      grown.set(this.groups)
      this.groups = grown
    }
    this.groups[this.length++] = g
  }
}

/** detector + subject + token or session + incident window start: a replay never pages twice. */
export function detectionId(detector: string, subject: string | null | undefined, slot: string, incidentTs: number): string {
  return 'det_' + createHash('sha256').update([detector, subject ?? '', slot, String(incidentTs)].join('\u0000')).digest('hex').slice(0, 32)
}
