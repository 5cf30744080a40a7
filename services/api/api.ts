import Fastify, { type FastifyInstance } from 'fastify'
import { requireSecret, type Config } from '../shared/config.js'
import { requireBearer } from '../shared/http-auth.js'
import type { Logger } from '../shared/log.js'
import type { Metrics } from '../shared/metrics.js'
import type { Queries, TimelineKind } from './queries.js'

export interface ApiDeps {
  config: Config['api']
  queries: Queries
  metrics: Metrics
  log: Logger
}

const MAX_LIMIT = 10_000

/**
 * Read side over HTTP: health, Prometheus metrics, timelines and detections. Everything but /healthz
 * needs the API bearer token. With the embedded engine this is how other processes read ClickHouse
 * while the pipeline holds its data directory.
 */
export function createApi(deps: ApiDeps) {
  const log = deps.log.child({ component: 'api' })
  let server: FastifyInstance | undefined
  const token = requireSecret(deps.config.token, 'SW_API_TOKEN')

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
        return { detections: await deps.queries.detections({ subject: request.query.subject, severity: request.query.severity }, limit) }
      })
      scoped.get('/v1/stats', async () => ({ tables: await deps.queries.counts(), detections_by_severity: await deps.queries.detectionsBySeverity() }))
    })
    app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
      const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500
      if (status === 500) log.error({ err: error }, 'api request failed')
      reply.code(status).send({ error: status === 500 ? 'internal error' : error.message })
    })
    return app
  }

  return {
    get url() {
      const a = server?.server.address()
      return a && typeof a === 'object' ? `http://${a.address}:${a.port}` : undefined
    },
    async start() {
      server = build()
      await server.listen({ host: deps.config.host, port: deps.config.port })
      log.info({ url: this.url }, 'api listening')
    },
    async stop() {
      await server?.close()
    },
  }
}

function boundedLimit(raw: string | undefined, fallback: number): number | undefined {
  if (raw === undefined) return fallback
  const n = Number(raw)
  return Number.isInteger(n) && n >= 1 && n <= MAX_LIMIT ? n : undefined
}
