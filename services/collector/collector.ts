import Fastify, { type FastifyInstance } from 'fastify'
import type { Consumer, Kafka, Producer } from 'kafkajs'
import { requireSecret, type Config } from '../shared/config.js'
import { ConfigError } from '../shared/errors.js'
import { createConsumer, createProducer, type TopicNames } from '../shared/kafka.js'
import { requireBearer } from '../shared/http-auth.js'
import type { Logger } from '../shared/log.js'
import { retry } from '../shared/retry.js'
import { createIngestor, emptyCounts, addCounts, type IngestCounts } from './ingest.js'
import type { FormatRegistry } from './formats/index.js'
import type { Line } from './lines.js'
import type { Normalize } from './pipeline.js'
import type { Codecs } from '../shared/avro.js'

export interface CollectorDeps {
  config: Config['collector']
  kafka: Kafka
  topics: TopicNames
  codecs: Codecs
  formats: FormatRegistry
  normalize: Normalize
  log: Logger
  now: () => number
  /** Format of records on the raw topics that carry no `sw-format` header. */
  rawFormats: { idp: string; gateway: string }
  groupId: string
}

/**
 * The collector service: an authenticated HTTP intake for NDJSON, and a consumer of the raw log topics.
 * Offsets are committed only after the resulting events are acknowledged by Kafka.
 */
export function createCollector(deps: CollectorDeps) {
  const log = deps.log.child({ component: 'collector' })
  let producer: Producer | undefined
  let consumer: Consumer | undefined
  let server: FastifyInstance | undefined
  const counts: IngestCounts = emptyCounts()
  const intakeToken = requireSecret(deps.config.intakeToken, 'SW_INTAKE_TOKEN')
  for (const [topic, format] of [['SW_FORMAT_LOGS_IDP', deps.rawFormats.idp], ['SW_FORMAT_LOGS_GATEWAY', deps.rawFormats.gateway]]) {
    if (!deps.formats.has(format!)) throw new ConfigError(`${topic}: unknown format '${format}' (known: ${[...deps.formats.keys()].join(', ')})`)
  }

  async function startIntake(ingest: ReturnType<typeof createIngestor>) {
    server = Fastify({ bodyLimit: deps.config.maxBodyBytes, logger: false })
    for (const type of ['application/x-ndjson', 'application/jsonl', 'text/plain', 'application/json']) {
      server.addContentTypeParser(type, { parseAs: 'string' }, (_req, body, done) => done(null, body))
    }
    server.addHook('preHandler', requireBearer(intakeToken))
    server.post<{ Querystring: { format?: string }; Body: string }>('/v1/events', async (request, reply) => {
      const format = request.query.format ?? 'canonical'
      if (!deps.formats.has(format)) return reply.code(400).send({ error: `unknown format '${format}'`, formats: [...deps.formats.keys()] })
      const body = typeof request.body === 'string' ? request.body : ''
      // application/json is one document (an Okta event hook delivery, an SSF push): it may span lines and
      // outgrow a log line, so the body limit bounds it. Everything else is newline-delimited records.
      const whole = (request.headers['content-type'] ?? '').startsWith('application/json')
      const records = whole ? [{ text: body, number: 1, bytes: Buffer.byteLength(body), truncated: false }] : splitBody(body, deps.config.maxLineBytes)
      const lines = records.map((line) => ({ line, origin: `http:${request.ip}#${line.number}` }))
      const result = await ingest.ingest(format, lines)
      addCounts(counts, result)
      return reply.code(202).send({ accepted: result.issue + result.revoke + result.validate, rejected: result.dlq, skipped: result.skipped })
    })
    // Okta's one-time event hook verification: a GET carrying a challenge that must be echoed back
    // (Okta event hooks guide, "One-time verification request"). Authenticated like every intake call.
    server.get('/v1/events', async (request, reply) => {
      const challenge = request.headers['x-okta-verification-challenge']
      if (typeof challenge !== 'string' || challenge.length === 0 || challenge.length > 512) {
        return reply.code(400).send({ error: 'GET is only for the Okta event hook verification challenge' })
      }
      return { verification: challenge }
    })
    await server.listen({ host: deps.config.host, port: deps.config.intakePort })
    const address = server.server.address()
    log.info({ address }, 'http intake listening')
  }

  async function startRawConsumer(ingest: ReturnType<typeof createIngestor>) {
    consumer = createConsumer(deps.kafka, deps.groupId)
    await consumer.connect()
    await consumer.subscribe({ topics: [deps.topics.logsIdp, deps.topics.logsGateway], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        const defaultFormat = batch.topic === deps.topics.logsIdp ? deps.rawFormats.idp : deps.rawFormats.gateway
        const byFormat = new Map<string, { line: Line; origin: string }[]>()
        for (const m of batch.messages) {
          const format = m.headers?.['sw-format']?.toString() ?? defaultFormat
          const text = m.value?.toString('utf8') ?? ''
          const bytes = m.value?.length ?? 0
          const line: Line = { text: text.slice(0, deps.config.maxLineBytes), number: Number(m.offset), bytes, truncated: bytes > deps.config.maxLineBytes }
          const list = byFormat.get(format) ?? []
          list.push({ line, origin: `${batch.topic}/${batch.partition}/${m.offset}` })
          byFormat.set(format, list)
        }
        for (const [format, lines] of byFormat) {
          if (!deps.formats.has(format)) log.warn({ format: format.slice(0, 64), topic: batch.topic, records: lines.length }, 'unknown format header, records sent to the dlq')
          addCounts(counts, await retry(() => ingest.ingest(format, lines, 'dlq')))
        }
        const last = batch.messages.at(-1)
        if (last) await consumer!.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }])
        await heartbeat()
      },
    })
  }

  return {
    counts,
    get intakeAddress() {
      const a = server?.server.address()
      return a && typeof a === 'object' ? `http://${a.address}:${a.port}` : undefined
    },
    async start() {
      producer = createProducer(deps.kafka)
      await producer.connect()
      const ingest = createIngestor({ formats: deps.formats, normalize: deps.normalize, codecs: deps.codecs, topics: deps.topics, producer, now: deps.now })
      await startIntake(ingest)
      await startRawConsumer(ingest)
    },
    async stop() {
      await server?.close()
      await consumer?.disconnect()
      await producer?.disconnect()
      log.info({ counts }, 'collector stopped')
    },
  }
}

function splitBody(body: string, maxLineBytes: number): Line[] {
  return body.split('\n').map((text, i) => {
    const bytes = Buffer.byteLength(text)
    return { text: bytes > maxLineBytes ? text.slice(0, maxLineBytes) : text.replace(/\r$/, ''), number: i + 1, bytes, truncated: bytes > maxLineBytes }
  })
}
