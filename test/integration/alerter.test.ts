// The alerter against the real broker and real local HTTP receivers: retries with backoff, the DLQ after the
// last try, and one accepted page when the receiver recovers in time.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { test } from 'node:test'
import type { Detection } from '../../schemas/model.js'
import { IDEMPOTENCY_HEADER, verifySignature } from '../../services/alerter/signature.js'
import { createCodecs } from '../../services/shared/avro.js'
import { loadConfig } from '../../services/shared/config.js'
import { createLogger } from '../../services/shared/log.js'
import { freePort, groupCaughtUp, randomId, startServices, testEnv, topicBytes, waitFor } from '../support/harness.js'

const WAIT = { timeoutMs: 60_000 }
const log = createLogger({ level: 'error' })
const codecs = createCodecs()

function detection(): Detection {
  const id = randomId()
  return {
    detection_id: `det_${id}`, detector: 'multi_network', severity: 'page', score: 0.9, confirmed: true,
    subject: `u-${id}`, session_id: `s-${id}`, token_fp: null, summary: 'session used from 2 networks',
    evidence: { event_ids: ['e1', 'e2'], ips: ['198.51.100.1', '203.0.113.9'], prefixes: [], asns: [64500, 64501], places: [], user_agents: [], times: [1, 2], reasons: [] },
    first_malicious_ts: 2, detected_ts: 3,
  }
}

async function runAlerter(env: Record<string, string | undefined>, webhookUrl: string, t: { after: (fn: () => Promise<void>) => void }) {
  const config = loadConfig({ ...env, SW_WEBHOOK_URL: webhookUrl, SW_WEBHOOK_TRIES: '3', SW_WEBHOOK_BACKOFF_SECONDS: '0.05' })
  const { pipeline, kafka, producer } = await startServices(t, config, log, ['alerter'])
  const publish = (d: Detection) => producer.send({ topic: pipeline.topics.detections, acks: -1, messages: [{ key: d.subject!, value: codecs.detection.encode(d) }] })
  const caughtUp = () => groupCaughtUp(kafka, `${config.kafka.topicPrefix}sessionwatch-alerter`, [pipeline.topics.detections])
  return { config, pipeline, kafka, publish, caughtUp }
}

test('a receiver that is down gets every try, then the detection goes to auth.alerts.dlq and the offset is committed', async (t) => {
  const { pipeline, kafka, publish, caughtUp } = await runAlerter(testEnv(), `http://127.0.0.1:${await freePort()}/down`, t)
  const d = detection()
  await publish(d)
  let dead: Detection[] = []
  await waitFor(async () => {
    dead = (await topicBytes(kafka, pipeline.topics.alertsDlq)).flatMap((b) => {
      try {
        return [codecs.detection.decode(b)]
      } catch {
        return []
      }
    })
    return dead.some((x) => x.detection_id === d.detection_id) && (await caughtUp())
  }, { ...WAIT, what: 'the detection in auth.alerts.dlq' })
  assert.equal(dead.filter((x) => x.detection_id === d.detection_id).length, 1)
  const outcomes = (await pipeline.metrics.deliveries.get()).values
  assert.equal(outcomes.find((v) => v.labels.outcome === 'network_error')?.value, 3)
  assert.equal(outcomes.find((v) => v.labels.outcome === 'dead_lettered')?.value, 1)
})

test('a receiver that fails twice and then recovers acts on the page exactly once, on the third try', async (t) => {
  const env = testEnv()
  const secret = loadConfig(env).alerter.webhookSecret!
  let requests = 0
  const acted: { key: string; attempt: string }[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      requests++
      if (requests <= 2) return void res.writeHead(503).end()
      const verdict = verifySignature(secret, req.headers, Buffer.concat(chunks).toString(), Math.floor(Date.now() / 1000))
      if (!verdict.ok) return void res.writeHead(401).end()
      acted.push({ key: String(req.headers[IDEMPOTENCY_HEADER]), attempt: String(req.headers['x-sessionwatch-attempt']) })
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as { port: number }).port
  const { publish, caughtUp } = await runAlerter(env, `http://127.0.0.1:${port}/hook`, t)
  await publish(detection())
  await waitFor(async () => acted.length === 1 && (await caughtUp()), { ...WAIT, what: 'the page accepted' })
  assert.equal(requests, 3)
  assert.equal(acted[0]!.attempt, '3')
  assert.match(acted[0]!.key, /^inc_[0-9a-f]{32}$/)
})
