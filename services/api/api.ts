import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import type { Kafka, Producer } from 'kafkajs'
import type { Codecs } from '../shared/avro.js'
import { publishIncidentCommand } from '../alerter/commands.js'
import { incidentId } from '../alerter/incident.js'
import { requireSecret, type Config } from '../shared/config.js'
import { feedbackToJson } from '../shared/feedback-json.js'
import { requireBearer } from '../shared/http-auth.js'
import { createProducer, sendAll, type TopicNames } from '../shared/kafka.js'
import type { Logger } from '../shared/log.js'
import type { Metrics } from '../shared/metrics.js'
import { buildFeedback, DETECTION_ID, FEEDBACK_BODY_LIMIT, feedbackFromRow, feedbackRequest } from './feedback.js'
import type { Queries, TimelineKind } from './queries.js'

export interface ApiDeps {
  config: Config['api']
  queries: Queries
  metrics: Metrics
  log: Logger
  /** Verdicts go to the detector.feedback topic: the api writes no table itself. */
  kafka: Kafka
  topics: Pick<TopicNames, 'feedback' | 'alertCommands'>
  codecs: Pick<Codecs, 'feedback'>
  now: () => number
}

const MAX_LIMIT = 10_000

/**
 * Read side over HTTP: health, Prometheus metrics, timelines and detections; and the one write, an analyst's
 * verdict on a detection. Reads need the API bearer token (SW_API_TOKEN, handed to dashboards and the CLI);
 * a verdict needs the analyst token (SW_ANALYST_TOKEN), since a false positive makes a pattern stop paging and
 * a read-only credential must not be able to silence alerts. With the embedded engine this is how other
 * processes read ClickHouse while the pipeline holds its data directory.
 */
export function createApi(deps: ApiDeps) {
  const log = deps.log.child({ component: 'api' })
  let server: FastifyInstance | undefined
  let producer: Producer | undefined
  const token = requireSecret(deps.config.token, 'SW_API_TOKEN')
  const analystToken = deps.config.analystToken

  function build(): FastifyInstance {
    const app = Fastify({ bodyLimit: 64 * 1024, logger: false })
    app.get('/healthz', async () => ({ ok: true }))
    // Public: the keys that verify sessionwatch's signed SSF/CAEP Security Event Tokens (RFC 7517 JWK Set).
    app.get('/.well-known/jwks.json', async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(deps.config.jwks))
    app.register(async (scoped) => {
      scoped.addHook('preHandler', requireBearer(token))
      scoped.get('/metrics', async (_req, reply) => {
        reply.header('content-type', deps.metrics.registry.contentType)
        return deps.metrics.registry.metrics()
      })
      scoped.get<{ Params: { kind: string; id: string }; Querystring: { limit?: string } }>('/v1/timeline/:kind/:id', async (request, reply) => {
        const kind = request.params.kind as TimelineKind
        if (!['token', 'session', 'user'].includes(kind)) return reply.code(404).send({ error: 'timeline kind must be token, session or user' })
        const limit = boundedLimit(request.query.limit, 1000)
        if (limit === undefined) return reply.code(400).send({ error: `limit must be an integer from 1 to ${MAX_LIMIT}` })
        return { kind, id: request.params.id, events: await deps.queries.timeline(kind, request.params.id, limit) }
      })
      scoped.get<{ Querystring: { subject?: string; severity?: string; limit?: string } }>('/v1/detections', async (request, reply) => {
        const limit = boundedLimit(request.query.limit, 100)
        if (limit === undefined) return reply.code(400).send({ error: `limit must be an integer from 1 to ${MAX_LIMIT}` })
        const detections = await deps.queries.detections({ subject: request.query.subject, severity: request.query.severity }, limit)
        // Each detection with the latest verdict on it, if any.
        const ids = detections.map((d) => String(d.detection_id))
        const verdicts = ids.length === 0 ? [] : await deps.queries.latestFeedback({ detectionIds: ids }, ids.length)
        const byId = new Map(verdicts.map((v) => [String(v.detection_id), v]))
        return {
          detections: detections.map((d) => {
            const v = byId.get(String(d.detection_id))
            return { ...d, feedback: v ? { verdict: v.verdict, scope: v.scope, analyst: v.analyst || null, ts: new Date(Number(v.ts_ms)).toISOString() } : null }
          }),
        }
      })
      scoped.get<{ Params: { id: string }; Querystring: { limit?: string } }>('/v1/detections/:id/feedback', async (request, reply) => {
        const id = request.params.id
        if (!DETECTION_ID.test(id)) return reply.code(400).send({ error: 'a detection id is det_ and 32 hex digits' })
        const limit = boundedLimit(request.query.limit, 100)
        if (limit === undefined) return reply.code(400).send({ error: `limit must be an integer from 1 to ${MAX_LIMIT}` })
        const [detection, rows] = await Promise.all([deps.queries.detection(id), deps.queries.feedback(id, limit)])
        if (!detection && rows.length === 0) return reply.code(404).send({ error: `no detection ${id}` })
        const feedback = rows.map((r) => feedbackToJson(feedbackFromRow(r)))
        return { detection_id: id, verdict: feedback[0]?.verdict ?? null, feedback }
      })
      scoped.get<{ Querystring: { verdict?: string; limit?: string } }>('/v1/feedback', async (request, reply) => {
        const limit = boundedLimit(request.query.limit, 1000)
        if (limit === undefined) return reply.code(400).send({ error: `limit must be an integer from 1 to ${MAX_LIMIT}` })
        const verdict = request.query.verdict
        if (verdict !== undefined && verdict !== 'true_positive' && verdict !== 'false_positive') {
          return reply.code(400).send({ error: 'verdict must be true_positive or false_positive' })
        }
        const rows = await deps.queries.latestFeedback({ verdict }, limit)
        return { feedback: rows.map((r) => feedbackToJson(feedbackFromRow(r))) }
      })
      scoped.get('/v1/stats', async () => ({ tables: await deps.queries.counts(), detections_by_severity: await deps.queries.detectionsBySeverity() }))
    })
    app.register(async (scoped) => {
      if (analystToken) scoped.addHook('preHandler', requireBearer(analystToken))
      scoped.post<{ Params: { id: string } }>('/v1/detections/:id/feedback', { bodyLimit: FEEDBACK_BODY_LIMIT }, async (request, reply) => {
        if (!analystToken) return reply.code(403).send({ error: 'verdicts are disabled: set SW_ANALYST_TOKEN' })
        return giveFeedback(request.params.id, request.body, reply)
      })
    })
    app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
      const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500
      if (status === 500) log.error({ err: error }, 'api request failed')
      reply.code(status).send({ error: status === 500 ? 'internal error' : error.message })
    })
    return app
  }

  async function giveFeedback(id: string, body: unknown, reply: FastifyReply) {
    if (!DETECTION_ID.test(id)) return reply.code(400).send({ error: 'a detection id is det_ and 32 hex digits' })
    const parsed = feedbackRequest.safeParse(body ?? {})
    if (!parsed.success) {
      return reply.code(400).send({ error: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') })
    }
    const detection = await deps.queries.detection(id)
    if (!detection) return reply.code(404).send({ error: `no detection ${id}` })
    const evidence = JSON.parse(detection.evidence) as { event_ids?: string[] }
    const uses = await deps.queries.uses(detection.subject, evidence.event_ids ?? [], detection.times)
    const built = buildFeedback(detection, uses, parsed.data, randomUUID(), deps.now())
    if (!built.ok) return reply.code(built.status).send({ error: built.error })
    const record = built.record
    try {
      await sendAll(producer!, [{ topic: deps.topics.feedback, messages: [{ key: record.detection_id, value: deps.codecs.feedback.encode(record) }] }])
    } catch (error) {
      log.error({ err: error, detection_id: id }, 'feedback not published')
      return reply.code(503).send({ error: 'the verdict could not be published to Kafka; try again' })
    }
    log.info({ detection_id: id, verdict: record.verdict, scope: record.scope, analyst: record.analyst }, 'feedback published')
    if (record.verdict === 'false_positive') {
      // A page an analyst called a false alarm is over: the alerter resolves its incident on every channel
      // (PagerDuty resolve, webhook and Slack updates). The verdict itself is already safe on its topic.
      const incident = incidentId({ detection_id: id, subject: detection.subject || null, session_id: detection.session_id || null, token_fp: detection.token_fp || null })
      try {
        await publishIncidentCommand(producer!, deps.topics, {
          incident_id: incident, action: 'resolve', by: (record.analyst || 'analyst').slice(0, 200), ts: deps.now(),
          reason: `analyst marked ${id} (${detection.detector}) a false positive${record.note ? `: ${record.note}` : ''}`.slice(0, 1000),
        })
      } catch (error) {
        log.error({ err: error, detection_id: id, incident_id: incident }, 'incident resolve not published')
      }
    }
    // Accepted: the detector and the sink apply it from the topic, within moments.
    return reply.code(202).send({ feedback: feedbackToJson(record) })
  }

  return {
    get url() {
      const a = server?.server.address()
      return a && typeof a === 'object' ? `http://${a.address}:${a.port}` : undefined
    },
    async start() {
      producer = createProducer(deps.kafka)
      await producer.connect()
      if (!analystToken) log.warn('SW_ANALYST_TOKEN is not set: verdicts on detections are refused')
      server = build()
      await server.listen({ host: deps.config.host, port: deps.config.port })
      log.info({ url: this.url }, 'api listening')
    },
    async stop() {
      await server?.close()
      await producer?.disconnect()
    },
  }
}

function boundedLimit(raw: string | undefined, fallback: number): number | undefined {
  if (raw === undefined) return fallback
  const n = Number(raw)
  return Number.isInteger(n) && n >= 1 && n <= MAX_LIMIT ? n : undefined
}
