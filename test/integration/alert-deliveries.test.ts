// The delivery log in ClickHouse: with the receiver down, every try and the final dead-lettering of a page are
// rows of alert_deliveries (alerter → auth.alerts.deliveries → sink), and the page itself is in auth.alerts.dlq.
// The api serves the JWKS that verifies the alerter's SSF events.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Detection } from '../../schemas/model.js'
import { incidentId } from '../../services/alerter/incident.js'
import { publicJwk } from '../../services/alerter/ssf.js'
import { createCodecs } from '../../services/shared/avro.js'
import { loadConfig } from '../../services/shared/config.js'
import { createLogger } from '../../services/shared/log.js'
import { freePort, randomId, startServices, testEnv, topicBytes, waitFor } from '../support/harness.js'

const WAIT = { timeoutMs: 90_000 }
const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'error' })
const codecs = createCodecs()

test('a receiver that is down: every try is a row of alert_deliveries, then the page is in the DLQ; nothing is lost', async (t) => {
  const env = testEnv({ SW_WEBHOOK_URL: `http://127.0.0.1:${await freePort()}/down/hook-secret-path`, SW_WEBHOOK_TRIES: '4' })
  const config = loadConfig(env)
  const { pipeline, kafka, producer } = await startServices(t, config, log, ['alerter', 'sink', 'api'])
  const ids = [randomId(), randomId()]
  const detections: Detection[] = ids.map((id) => ({
    detection_id: `det_${id}`, detector: 'multi_network', severity: 'page', score: 0.9, confirmed: true,
    subject: `u-${id}`, session_id: `s-${id}`, token_fp: null, summary: 'session used from 2 networks',
    evidence: { event_ids: ['e1'], ips: ['198.51.100.1'], prefixes: [], asns: [64500], places: [], user_agents: [], times: [1], reasons: [] },
    first_malicious_ts: 2, detected_ts: 3,
  }))
  await producer.send({ topic: pipeline.topics.detections, acks: -1, messages: detections.map((d) => ({ key: d.subject!, value: codecs.detection.encode(d) })) })

  const keys = detections.map((d) => incidentId(d))
  type Row = { idempotency_key: string; attempt: number; outcome: string; error: string; endpoint: string }
  let rows: Row[] = []
  await waitFor(async () => {
    const result = await pipeline.clickhouse!.query({
      query: 'SELECT idempotency_key, attempt, outcome, error, endpoint FROM {db:Identifier}.alert_deliveries FINAL WHERE idempotency_key IN {keys:Array(String)} ORDER BY idempotency_key, attempt, outcome',
      query_params: { db: config.clickhouse.database, keys },
      format: 'JSONEachRow',
    })
    rows = await result.json<Row>()
    return keys.every((key) => rows.some((r) => r.idempotency_key === key && r.outcome === 'dead_lettered'))
  }, { ...WAIT, what: 'both pages dead-lettered in ClickHouse' })
  for (const key of keys) {
    const mine = rows.filter((r) => r.idempotency_key === key)
    const tries = mine.filter((r) => r.outcome !== 'dead_lettered')
    // Tries 1..n, each one row: network errors, and a refused try at the end once the breaker opened.
    assert.deepEqual(tries.map((r) => r.attempt), tries.map((_, i) => i + 1), `every try of ${key} is a row`)
    assert.ok(tries.slice(0, -1).every((r) => r.outcome === 'network_error'))
    assert.ok(['network_error', 'circuit_open'].includes(tries.at(-1)!.outcome))
    assert.deepEqual(mine.filter((r) => r.outcome === 'dead_lettered').map((r) => r.attempt), [tries.length])
    assert.ok(mine.every((r) => r.endpoint === 'webhook'))
  }
  // The breaker (5 consecutive failures by default) stopped the tries: 8 were allowed by SW_WEBHOOK_TRIES.
  assert.equal(rows.filter((r) => r.outcome === 'network_error').length, 5)
  assert.ok(rows.some((r) => r.outcome === 'circuit_open'))
  assert.ok(!JSON.stringify(rows).includes('hook-secret-path'), 'the URL is never in the delivery log')

  const dead = (await topicBytes(kafka, pipeline.topics.alertsDlq)).flatMap((b) => {
    try {
      return [codecs.detection.decode(b)]
    } catch {
      return []
    }
  })
  assert.deepEqual(dead.map((d) => d.detection_id).sort(), detections.map((d) => d.detection_id).sort())

  const api = pipeline.services.api as unknown as { url: string }
  const jwks = await (await fetch(`${api.url}/.well-known/jwks.json`)).json() as { keys: { kid: string }[] }
  assert.equal(jwks.keys.length, 1)
  assert.equal(jwks.keys[0]!.kid, publicJwk(config.alerter.ssfSigningKeyPem!).kid)
})
