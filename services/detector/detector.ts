import { randomUUID } from 'node:crypto'
import PQueue from 'p-queue'
import type { Consumer, Kafka, Message, Producer } from 'kafkajs'
import type { AuthEvent, Detection } from '../../schemas/model.js'
import { withCorroboration } from '../../detectors/corroboration.js'
import { createDetectionEngine, type DetectionEngine, type HotBudget } from '../../detectors/engine.js'
import { createFeedbackBook, withFeedback, type BenignPattern } from '../../detectors/feedback.js'
import { createDetectors } from '../../detectors/index.js'
import type { Codecs } from '../shared/avro.js'
import { ensureFrozenDir, type Config } from '../shared/config.js'
import { readToEnd } from '../shared/consume.js'
import { createPartitionedState } from './partitions.js'
import { createConsumer, createProducer, sendAll, type TopicNames } from '../shared/kafka.js'
import type { Logger } from '../shared/log.js'
import type { Metrics } from '../shared/metrics.js'
import { dlqExcerpt } from '../collector/scrub.js'

export interface DetectorServiceDeps {
  config: Config['detector']
  kafka: Kafka
  topics: TopicNames
  codecs: Codecs
  log: Logger
  metrics: Metrics
  now: () => number
  groupId: string
}

/**
 * Consumes the three auth topics, scores every event, emits Detections. The topics are co-partitioned (one
 * subject key, one partition count) and the group assigns partition p of all three to one worker, which keeps
 * one engine per partition it owns. State is checkpointed to partition p of the compacted detector.state topic
 * before offsets are committed, and a worker reads back the state of the partitions it is given (at start or in
 * a rebalance) before it processes their first batch, so a restart or a rebalance neither forgets an attack in
 * flight nor pages twice for it. Analyst verdicts (the compacted
 * detector.feedback topic) are read in full before the first event and followed live; a detection within a
 * benign pattern they teach is lowered (detectors/feedback.ts).
 */
export function createDetectorService(deps: DetectorServiceDeps) {
  const log = deps.log.child({ component: 'detector' })
  const book = createFeedbackBook(deps.config.feedback)
  const lowered = (d: Detection, p: BenignPattern) => {
    deps.metrics.feedbackLowered.inc({ detector: d.detector })
    log.info({ detection_id: d.detection_id, detector: d.detector, score: d.score, verdict_on: p.detection_id, scope: p.scope }, 'detection lowered by analyst feedback')
  }
  // Inside the corroboration so that benign findings cannot agree into a page; outside for verdicts given on a
  // corroboration itself. The book judges each detection once.
  // SW_HOT_GROUPS bounds the worker, not each partition: its engines share it evenly, whatever they are given.
  const hot: { perEngine: number } = { perEngine: deps.config.hotGroups }
  const createEngine = (): DetectionEngine => withFeedback(withCorroboration(withFeedback(createDetectionEngine(
    createDetectors({ windowMs: deps.config.windowMs, ...deps.config.detectors }),
    { latenessMs: deps.config.latenessMs, sweepEveryMs: 60_000, hotGroups: hot satisfies HotBudget, frozenDir: deps.config.frozenDir },
  ), book, lowered)), book, lowered)
  const state = createPartitionedState(deps.kafka, deps.topics.state, createEngine, ({ partition, key, reason }) => {
    deps.metrics.detectorStateUnreadable.inc()
    log.error({ partition, key, reason }, 'checkpoint record not restored: its slot starts afresh')
  })
  const shareHotGroups = (engines = state.partitions.length) => {
    hot.perEngine = hotGroupsPerEngine(deps.config.hotGroups, engines)
    deps.metrics.detectorHotGroupsPerPartition.set(hot.perEngine)
  }
  // The partitions the group gave this worker last (GROUP_JOIN); their state is loaded before their first batch.
  let assigned = new Set<number>()
  let consumer: Consumer | undefined
  let feedbackConsumer: Consumer | undefined
  let producer: Producer | undefined
  let pending = new Map<string, string>() // "topic|partition" -> next offset to commit
  let lastCheckpoint = 0
  // Batches and checkpoints take turns: a checkpoint must never see half a batch.
  const serial = new PQueue({ concurrency: 1 })
  let timer: NodeJS.Timeout | undefined
  const subscribed = () => [deps.topics.revoke, deps.topics.issue, deps.topics.validate]

  async function checkpoint() {
    await sendAll(producer!, [{ topic: deps.topics.state, messages: state.takeChanges() }])
    const offsets = [...pending].map(([tp, offset]) => {
      const i = tp.lastIndexOf('|')
      return { topic: tp.slice(0, i), partition: Number(tp.slice(i + 1)), offset }
    })
    if (offsets.length > 0) await consumer!.commitOffsets(offsets)
    pending = new Map()
    lastCheckpoint = deps.now()
    deps.metrics.detectorSlots.set(state.size)
    deps.metrics.detectorFrozenGroups.set(state.frozen)
    deps.metrics.detectorFrozenBytes.set(state.frozenBytes)
    deps.metrics.detectorFrozenDiskBytes.set(state.frozenOnDisk)
    deps.metrics.detectorFrozenSpillFailures.set(state.frozenSpillFailures)
  }

  /** A new assignment: forget partitions given to another worker (and their uncommitted offsets). */
  function reassigned(partitions: Set<number>) {
    assigned = partitions
    const released = state.release(partitions)
    shareHotGroups()
    for (const tp of [...pending.keys()]) if (!partitions.has(Number(tp.slice(tp.lastIndexOf('|') + 1)))) pending.delete(tp)
    if (released.length > 0) log.info({ released, kept: [...partitions] }, 'partitions released to another worker')
  }

  /** Loads the state of owned partitions not loaded yet; all of them at once, so a start reads the topic once. */
  async function ensureLoaded(partition: number) {
    if (state.engine(partition)) return
    const owned = new Set([...assigned, partition])
    // Shared by every partition held once these are loaded, already while their state is read back.
    shareHotGroups(owned.size)
    const restored = await state.ensure(owned)
    shareHotGroups()
    log.info({ partitions: restored.partitions, records: restored.records, slots: state.size }, 'detector state restored')
  }

  /** One record of detector.feedback: a verdict, or a tombstone withdrawing the verdicts on a detection. */
  function applyFeedback(key: Buffer | null, value: Buffer | null, origin: string) {
    if (value === null) {
      if (key) book.remove(key.toString('utf8'))
    } else {
      try {
        book.add(deps.codecs.feedback.decode(value))
      } catch (error) {
        // Our own topic, written by the api: a record that does not decode is reported, not retried forever.
        log.error({ origin, err: error }, 'undecodable feedback record skipped')
      }
    }
  }

  return {
    /** The per-partition state (tests read which partitions this worker holds). */
    state,
    feedback: book,
    async start() {
      ensureFrozenDir(deps.config)
      producer = createProducer(deps.kafka)
      await producer.connect()
      // Every verdict before the first event, so a restart never pages once more on a pattern judged benign.
      const verdicts = await readToEnd(deps.kafka, deps.topics.feedback, (key, value) => applyFeedback(key, value, deps.topics.feedback))
      const patterns = book.patterns(deps.now()).length
      deps.metrics.feedbackPatterns.set(patterns)
      log.info({ records: verdicts, verdicts: book.records, patterns }, 'analyst feedback read')
      // Then followed live. Every detector process needs every verdict, so this is a group of its own that never
      // commits: it reads the (small, compacted) topic from the start again, and the book keeps the latest
      // verdict per detection, so records seen twice change nothing.
      feedbackConsumer = createConsumer(deps.kafka, `${deps.groupId}-feedback-${randomUUID()}`)
      await feedbackConsumer.connect()
      await feedbackConsumer.subscribe({ topic: deps.topics.feedback, fromBeginning: true })
      await feedbackConsumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) applyFeedback(m.key, m.value, `${batch.topic}/${batch.partition}/${m.offset}`)
          // The book folds its verdicts again only when asked after a change: once per batch, not per record.
          deps.metrics.feedbackPatterns.set(book.patterns(deps.now()).length)
        },
      })
      consumer = createConsumer(deps.kafka, deps.groupId, { coPartitioned: true })
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const partitions = new Set(Object.values(payload.memberAssignment).flat())
        // In turn with the batches, so a batch in flight finishes on the engines it started with.
        serial.add(async () => reassigned(partitions)).catch((error) => log.error({ err: error }, 'reassignment failed'))
      })
      await consumer.connect()
      await consumer.subscribe({ topics: subscribed(), fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        eachBatch: ({ batch, heartbeat }) => serial.add(async () => {
          await ensureLoaded(batch.partition)
          const engine = state.engine(batch.partition)!
          const events: AuthEvent[] = []
          const broken: Message[] = []
          for (const m of batch.messages) {
            try {
              events.push(deps.codecs.authEvent.decode(m.value!))
            } catch (error) {
              broken.push({
                value: deps.codecs.dlq.encode({
                  code: 'UNPARSEABLE', reason: `undecodable AuthEvent: ${(error as Error).message}`,
                  origin: `${batch.topic}/${batch.partition}/${m.offset}`, format: 'avro',
                  input: dlqExcerpt(m.value?.toString('base64') ?? ''), input_bytes: m.value?.length ?? 0, ts: deps.now(),
                }),
              })
            }
          }
          events.sort((a, b) => a.ts - b.ts)
          const detections: Detection[] = []
          for (const event of events) detections.push(...engine.process(event, deps.now()))
          deps.metrics.detectorEvents.inc(events.length)
          for (const d of detections) deps.metrics.detected.inc({ detector: d.detector, severity: d.severity })
          await sendAll(producer!, [
            { topic: deps.topics.detections, messages: detections.map((d) => ({ key: d.subject ?? d.session_id ?? d.detection_id, value: deps.codecs.detection.encode(d) })) },
            { topic: deps.topics.dlq, messages: broken },
          ])
          if (detections.length > 0) log.info({ count: detections.length, ids: detections.map((d) => d.detection_id) }, 'detections emitted')
          const last = batch.messages.at(-1)
          if (last) pending.set(`${batch.topic}|${batch.partition}`, (BigInt(last.offset) + 1n).toString())
          if (deps.now() - lastCheckpoint >= deps.config.checkpointIntervalMs) await checkpoint()
          await heartbeat()
        }),
      })
      // A quiet stream still gets its last batches checkpointed and committed.
      timer = setInterval(() => {
        if (pending.size > 0 && serial.size === 0) serial.add(checkpoint).catch((error) => log.error({ err: error }, 'checkpoint failed'))
      }, deps.config.checkpointIntervalMs)
    },
    async stop() {
      clearInterval(timer)
      if (consumer && producer) {
        consumer.pause(subscribed().map((topic) => ({ topic })))
        await serial.add(() => checkpoint()).catch((error) => log.error({ err: error }, 'final checkpoint failed'))
      }
      await consumer?.disconnect()
      await feedbackConsumer?.disconnect()
      await producer?.disconnect()
      // Their frozen groups' files too: the state is in the checkpoints.
      await serial.add(() => state.release(new Set()))
    },
  }
}

/** Each engine's share of a worker's hot slot groups (SW_HOT_GROUPS), at least one. */
export function hotGroupsPerEngine(total: number, engines: number): number {
  return Math.max(1, Math.floor(total / Math.max(1, engines)))
}
