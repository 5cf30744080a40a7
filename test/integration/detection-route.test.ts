// The detections table gains the route column on an existing database (migration 005), and the sink's rows fill
// it, against the real ClickHouse engine (chDB).
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { sampleDetection } from '../../services/alerter/test-fixtures.js'
import { applySchema, createClickHouse } from '../../services/shared/clickhouse.js'
import { loadConfig } from '../../services/shared/config.js'
import { detectionRow } from '../../services/sink/rows.js'
import { repoRoot } from '../support/paths.js'

// Recent, or the table's TTL would drop the rows.
const recent = (over: Parameters<typeof sampleDetection>[0]) => sampleDetection({ detected_ts: Date.now(), first_malicious_ts: Date.now() - 1000, ...over })

test('a detections table made before routes existed gains the column; rows carry the route, or empty without one', async (t) => {
  const config = loadConfig({ SW_DATA_DIR: mkdtempSync(join(tmpdir(), 'sw-route-')), CLICKHOUSE_DATABASE: 'sw_route' }).clickhouse
  const client = await createClickHouse(config)
  t.after(() => client.close())
  // The table as 002 made it, with a row in it.
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}` })
  const ddl = readFileSync(join(repoRoot, 'schemas', 'clickhouse', '002-detections.sql'), 'utf8').replaceAll('${database}', config.database).replaceAll('${retention_days}', '90')
  await client.command({ query: ddl.replace(/^\s*--.*$/gm, '').trim() })
  const { route: _route, ...before } = detectionRow(recent({ detection_id: 'det_before' }))
  await client.insert({ table: `${config.database}.detections`, values: [before], format: 'JSONEachRow' })

  await applySchema(client, config)
  await applySchema(client, config)
  await client.insert({
    table: `${config.database}.detections`, format: 'JSONEachRow',
    values: [detectionRow(recent({ detection_id: 'det_admin', route: '/admin/users/{id}' })), detectionRow(recent({ detection_id: 'det_none', route: null }))],
  })
  const rs = await client.query({ query: `SELECT detection_id, route FROM ${config.database}.detections FINAL ORDER BY detection_id`, format: 'JSONEachRow' })
  assert.deepEqual(await rs.json(), [
    { detection_id: 'det_admin', route: '/admin/users/{id}' },
    { detection_id: 'det_before', route: '' },
    { detection_id: 'det_none', route: '' },
  ])
})
