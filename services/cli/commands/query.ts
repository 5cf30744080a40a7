import { createQueries, type TimelineKind } from '../../api/queries.js'
import { applySchema, createClickHouse } from '../../shared/clickhouse.js'
import { requireSecret, type Config } from '../../shared/config.js'
import { UsageError } from '../../shared/errors.js'
import type { Command, CommandContext } from '../command.js'

type Row = Record<string, unknown>

/**
 * Asks the running api first (with the embedded engine the pipeline holds the data directory); when
 * no api answers, opens ClickHouse itself.
 */
async function fetchFromApi(config: Readonly<Config>, path: string): Promise<unknown | undefined> {
  try {
    const health = await fetch(`${config.api.url}/healthz`, { signal: AbortSignal.timeout(2000) })
    if (!health.ok) return undefined
  } catch {
    return undefined
  }
  const response = await fetch(`${config.api.url}${path}`, { headers: { authorization: `Bearer ${requireSecret(config.api.token, 'SW_API_TOKEN')}` } })
  if (!response.ok) throw new UsageError(`api answered ${response.status}: ${await response.text()}`)
  return response.json()
}

async function withDirect<T>(config: Readonly<Config>, fn: (q: ReturnType<typeof createQueries>) => Promise<T>): Promise<T> {
  const client = await createClickHouse(config.clickhouse)
  try {
    await applySchema(client, config.clickhouse)
    return await fn(createQueries(client, config.clickhouse.database))
  } finally {
    await client.close()
  }
}

function printTimeline(ctx: CommandContext, rows: Row[], json: boolean) {
  if (json) {
    for (const r of rows) ctx.stdout.write(JSON.stringify(r) + '\n')
    return
  }
  const cols = ['time', 'kind', 'action', 'subject', 'ip', 'asn', 'country', 'client', 'route', 'result']
  const lines = rows.map((r) => [
    new Date(Number(r.ts_ms)).toISOString(), r.kind, r.action, r.subject, r.ip, r.asn ?? '', r.country,
    [r.ua_family, r.os_family].filter(Boolean).join('/'), r.route, r.result,
  ].map((v) => String(v ?? '')))
  const widths = cols.map((c, i) => Math.min(40, Math.max(c.length, ...lines.map((l) => l[i]!.length))))
  const fmt = (cells: string[]) => cells.map((c, i) => c.slice(0, widths[i]).padEnd(widths[i]!)).join('  ').trimEnd()
  ctx.stdout.write(fmt(cols) + '\n')
  for (const l of lines) ctx.stdout.write(fmt(l) + '\n')
  ctx.stdout.write(`${rows.length} events\n`)
}

export const queryCommand: Command = {
  name: 'query',
  summary: 'read the trail: a token, session or user timeline, detections, or table counts',
  usage: 'sessionwatch query token|session|user <id> [--limit 1000] [--json]\n       sessionwatch query detections [--subject <id>] [--severity page] [--limit 100]\n       sessionwatch query stats',
  options: { limit: { type: 'string' }, json: { type: 'boolean', default: false }, subject: { type: 'string' }, severity: { type: 'string' } },
  async run(values, positionals, ctx) {
    const config = ctx.config()
    const [what, id] = positionals
    const limit = values.limit === undefined ? undefined : Number(values.limit)
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 10_000)) throw new UsageError('--limit must be an integer from 1 to 10000')
    if (what === 'token' || what === 'session' || what === 'user') {
      if (!id) throw new UsageError(`name the ${what} to show`)
      const viaApi = (await fetchFromApi(config, `/v1/timeline/${what}/${encodeURIComponent(id)}?limit=${limit ?? 1000}`)) as { events: Row[] } | undefined
      const rows = viaApi ? viaApi.events : await withDirect(config, (q) => q.timeline(what as TimelineKind, id, limit ?? 1000))
      printTimeline(ctx, rows, Boolean(values.json))
      return 0
    }
    if (what === 'detections') {
      const params = new URLSearchParams({ limit: String(limit ?? 100) })
      if (typeof values.subject === 'string') params.set('subject', values.subject)
      if (typeof values.severity === 'string') params.set('severity', values.severity)
      const viaApi = (await fetchFromApi(config, `/v1/detections?${params}`)) as { detections: Row[] } | undefined
      const rows = viaApi ? viaApi.detections : await withDirect(config, (q) => q.detections({ subject: values.subject as string | undefined, severity: values.severity as string | undefined }, limit ?? 100))
      for (const r of rows) ctx.stdout.write(JSON.stringify(r) + '\n')
      return 0
    }
    if (what === 'stats') {
      const viaApi = await fetchFromApi(config, '/v1/stats')
      const stats = viaApi ?? (await withDirect(config, async (q) => ({ tables: await q.counts(), detections_by_severity: await q.detectionsBySeverity() })))
      ctx.stdout.write(JSON.stringify(stats, null, 2) + '\n')
      return 0
    }
    throw new UsageError('query what? token, session, user, detections or stats')
  },
}
