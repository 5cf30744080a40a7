import { readdirSync, readFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import type { ClickHouseConfig } from './config.js'
import { SessionwatchError } from './errors.js'
import { packageRoot } from './paths.js'

export type { ClickHouseClient }

/**
 * One factory for both engines: a ClickHouse server over HTTP when CLICKHOUSE_URL is set, else chDB's
 * in-process engine behind the same @clickhouse/client API. chDB allows one process per data directory.
 */
export async function createClickHouse(config: ClickHouseConfig): Promise<ClickHouseClient> {
  if (config.url) {
    return createClient({ url: config.url, username: config.user, password: config.password, request_timeout: 60_000 })
  }
  mkdirSync(config.embeddedPath, { recursive: true })
  const { createChdbConnection } = await import('chdb/connection')
  try {
    return createClient({ connection: createChdbConnection({ path: config.embeddedPath }) } as never)
  } catch (error) {
    throw new SessionwatchError('CLICKHOUSE_UNAVAILABLE', `cannot open the embedded ClickHouse at ${config.embeddedPath} (is another sessionwatch process using it? use the running api instead)`, { cause: error })
  }
}

/** Applies schemas/clickhouse/*.sql in order; every statement is idempotent (IF NOT EXISTS). */
export async function applySchema(client: ClickHouseClient, config: ClickHouseConfig): Promise<void> {
  const dir = join(packageRoot, 'schemas', 'clickhouse')
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}` })
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    // The substituted values are validated by the config schema (an identifier and an integer), never user input.
    const sql = readFileSync(join(dir, file), 'utf8')
      .replaceAll('${database}', config.database)
      .replaceAll('${retention_days}', String(config.retentionDays))
    for (const statement of sql.split(/;\s*$/m).map((s) => s.replace(/^\s*--.*$/gm, '').trim()).filter(Boolean)) {
      await client.command({ query: statement })
    }
  }
}

/** ClickHouse DateTime64(3) text for an epoch-millisecond time. */
export function chTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 23)
}
