// Shared set-up for integration and end-to-end tests: a fresh topic prefix, database and data directory
// per test file, the real local broker (KAFKA_BROKERS, started by `make test`) and the real ClickHouse
// engine, logs captured in memory so tests can prove what never reaches them.
import { randomBytes } from 'node:crypto'
import { createConfiguredNormalizer } from '../../services/collector/setup.js'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { Kafka } from 'kafkajs'
import { createFormatRegistry } from '../../services/collector/formats/index.js'
import { createIngestor } from '../../services/collector/ingest.js'
import { replayFiles } from '../../services/collector/replay.js'
import { createPipeline, type ServiceName } from '../../services/pipeline.js'
import { createCodecs } from '../../services/shared/avro.js'
import { loadConfig, type Config, type Env } from '../../services/shared/config.js'
import { readToEnd } from '../../services/shared/consume.js'
import { createKafka, createProducer, ensureTopics, topicNames, topicSpecs } from '../../services/shared/kafka.js'
import { createLogger, type Logger } from '../../services/shared/log.js'

export { waitFor } from '../../services/cli/wait-for.js'
export { groupCaughtUp } from '../../services/shared/consume.js'

export function randomId(): string {
  return randomBytes(4).toString('hex')
}

/** Environment for one isolated pipeline: its own topics, database and data directory. */
export function testEnv(overrides: Env = {}): Env {
  const id = randomId()
  return {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
    SW_TOPIC_PREFIX: `t-${id}.`,
    CLICKHOUSE_DATABASE: `sw_test_${id}`,
    SW_DATA_DIR: mkdtempSync(join(tmpdir(), 'sw-test-')),
    SW_LOCAL_SECRETS: '1',
    SW_API_PORT: '0',
    SW_INTAKE_PORT: '0',
    SW_SINK_FLUSH_SECONDS: '0.2',
    SW_CHECKPOINT_SECONDS: '0.5',
    SW_WEBHOOK_TRIES: '3',
    SW_WEBHOOK_BACKOFF_SECONDS: '0.05',
    SW_LOG_LEVEL: 'info',
    // Scenarios are dated (November 2026): ClickHouse keeps ten years of event time, so the tables' TTL does not
    // drop their rows as the calendar moves on.
    SW_RETENTION_DAYS: '3650',
    ...overrides,
  }
}

/** A logger whose every line is kept, to assert what reached the logs. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString())
      done()
    },
  })
  return { log: createLogger({ level: 'debug' }, sink), lines }
}

export async function startPipeline(env: Env, log: Logger) {
  const config = loadConfig(env)
  const pipeline = createPipeline(config, log)
  await pipeline.start()
  return { config, pipeline }
}

/** Some services against the real broker (stopped after the test), and a connected producer to feed them. */
export async function startServices(t: { after(fn: () => unknown): void }, config: Readonly<Config>, log: Logger, services: readonly ServiceName[]) {
  const pipeline = createPipeline(config, log, services)
  await pipeline.start()
  t.after(() => pipeline.stop())
  const kafka = createKafka(config.kafka, log)
  const producer = createProducer(kafka)
  await producer.connect()
  t.after(() => producer.disconnect())
  return { pipeline, kafka, producer }
}

/** Replays lines through the same collector path as `sessionwatch replay`. */
export async function replayLines(config: Readonly<Config>, lines: string[], log: Logger, format = 'canonical') {
  const file = join(config.dataDir, `replay-${randomId()}.ndjson`)
  writeFileSync(file, lines.join('\n') + '\n')
  const kafka = createKafka(config.kafka, log)
  const topics = topicNames(config.kafka.topicPrefix)
  await ensureTopics(kafka, topicSpecs(config.kafka, topics))
  const producer = createProducer(kafka)
  await producer.connect()
  try {
    const now = () => Date.now()
    const ingestor = createIngestor({
      formats: createFormatRegistry(),
      normalize: createConfiguredNormalizer(config.collector, now),
      codecs: createCodecs(), topics, producer, now,
    })
    const counts = await replayFiles(ingestor, [file], { format, maxLineBytes: config.collector.maxLineBytes, batchLines: 500 })
    return { ...counts, file }
  } finally {
    await producer.disconnect()
  }
}

/** Every record of a topic as raw bytes (key and value), for searching. */
export async function topicBytes(kafka: Kafka, topic: string): Promise<Buffer[]> {
  const out: Buffer[] = []
  await readToEnd(kafka, topic, (key, value) => {
    if (key) out.push(key)
    if (value) out.push(value)
  })
  return out
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * Topics of a fresh prefix created on the real broker, a connected producer (closed after the test), and `send`
 * for canonical lines through the collector's own ingest path (normaliser, fingerprints, Avro).
 */
export async function kafkaTestbed(t: { after(fn: () => unknown): void }, env: Env) {
  const config = loadConfig(env)
  const log = createLogger({ level: 'error' })
  const kafka = createKafka(config.kafka, log)
  const topics = topicNames(config.kafka.topicPrefix)
  const codecs = createCodecs()
  await ensureTopics(kafka, topicSpecs(config.kafka, topics))
  const producer = createProducer(kafka)
  await producer.connect()
  t.after(() => producer.disconnect())
  const now = () => Date.now()
  const ingestor = createIngestor({ formats: createFormatRegistry(), codecs, topics, producer, now, normalize: createConfiguredNormalizer(config.collector, now) })
  const send = (lines: object[]) =>
    ingestor.ingest('canonical', lines.map((l, i) => ({ line: { text: JSON.stringify(l), number: i + 1, bytes: 0, truncated: false }, origin: `test:${i}` })))
  return { config, log, kafka, topics, codecs, producer, send }
}
