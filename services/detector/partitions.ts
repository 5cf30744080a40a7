// Detector state kept per input partition. The three auth topics are co-partitioned by subject, so partition p
// of each holds all events of the same users; each partition gets its own engine, its state is checkpointed to
// partition p of the compacted detector.state topic, and a worker that is given partition p (at start or in a
// rebalance) reads back only that partition of the state topic before it processes p's first batch. A worker
// never loads, holds or writes the state of users it does not own.
import type { Kafka, Message } from 'kafkajs'
import type { DetectionEngine, EngineFootprint, StateEntry } from '../../detectors/engine.js'
import { readToEnd } from '../shared/consume.js'

export interface PartitionedState {
  /** The engine of a partition whose state is loaded (see ensure); undefined otherwise. */
  engine(partition: number): DetectionEngine | undefined
  /** Loads the state of the given partitions that are not loaded yet, in one pass over the state topic. */
  ensure(partitions: Iterable<number>): Promise<{ partitions: number[]; records: number }>
  /** Forgets partitions this worker no longer owns (their checkpointed state stays in the topic). */
  release(keep: ReadonlySet<number>): number[]
  /** Checkpoint records for every change since the last call, each to its own partition. */
  takeChanges(): Message[]
  readonly partitions: number[]
  /** State slots held, over all partitions. */
  readonly size: number
  /** Slot groups frozen into bytes, over all partitions (EngineConfig.hotGroups). */
  readonly frozen: number
  /** Bytes held by the frozen groups' chunks, over all partitions: in memory, and on disk (SW_FROZEN_STORE). */
  readonly frozenBytes: number
  readonly frozenOnDisk: number
  /** Chunks kept in memory because the frozen groups' file could not take them (a full disk), over all partitions. */
  readonly frozenSpillFailures: number
}

/** A checkpoint record that could not be restored: its slot starts afresh, and the caller is told why. */
export type UnreadableState = (what: { partition: number; key: string; reason: string }) => void

export function createPartitionedState(kafka: Kafka, stateTopic: string, createEngine: () => DetectionEngine, unreadable: UnreadableState): PartitionedState {
  const engines = new Map<number, DetectionEngine>()
  const sum = (of: (footprint: EngineFootprint) => number) => {
    let total = 0
    for (const engine of engines.values()) total += of(engine.footprint())
    return total
  }
  return {
    engine: (partition) => engines.get(partition),
    async ensure(partitions) {
      const missing = new Set([...partitions].filter((p) => !engines.has(p)))
      if (missing.size === 0) return { partitions: [], records: 0 }
      // Each record goes to its partition's engine as it is read: the engine applies them in order (a later one
      // replaces an earlier, a tombstone forgets) and freezes past its allowance as it goes, so a partition's
      // state is never held as a map of objects on the way in.
      const restoring = new Map([...missing].map((p) => [p, createEngine()]))
      const one: StateEntry[] = [{ key: '', state: undefined }]
      let records: number
      try {
        records = await readToEnd(kafka, stateTopic, (rawKey, value, partition) => {
          const engine = restoring.get(partition)
          if (!rawKey || !engine) return
          const key = rawKey.toString('utf8')
          // One bad record (not JSON, or not the state its key names) costs its slot, not the partition: a throw
          // here would have the topic read again and again.
          try {
            one[0] = { key, state: value === null ? undefined : JSON.parse(value.toString('utf8')) }
            engine.restore(one)
          } catch (error) {
            unreadable({ partition, key, reason: (error as Error).message })
          }
        }, missing)
      } catch (error) {
        for (const engine of restoring.values()) engine.close()
        throw error
      }
      for (const [partition, engine] of restoring) engines.set(partition, engine)
      return { partitions: [...missing].sort((a, b) => a - b), records }
    },
    release(keep) {
      const released: number[] = []
      for (const partition of [...engines.keys()]) {
        if (keep.has(partition)) continue
        engines.get(partition)!.close()
        engines.delete(partition)
        released.push(partition)
      }
      return released
    },
    takeChanges() {
      const messages: Message[] = []
      for (const [partition, engine] of engines) {
        for (const { key, state } of engine.takeChanges()) {
          messages.push({ key, partition, value: state === undefined ? null : Buffer.from(JSON.stringify(state)) })
        }
      }
      return messages
    },
    get partitions() {
      return [...engines.keys()].sort((a, b) => a - b)
    },
    get size() {
      let size = 0
      for (const engine of engines.values()) size += engine.size
      return size
    },
    get frozen() {
      let frozen = 0
      for (const engine of engines.values()) frozen += engine.frozen
      return frozen
    },
    get frozenBytes() {
      return sum((f) => f.frozenReserved)
    },
    get frozenOnDisk() {
      return sum((f) => f.frozenOnDisk)
    },
    get frozenSpillFailures() {
      return sum((f) => f.frozenSpillFailures)
    },
  }
}
