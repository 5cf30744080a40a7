// The alerter killed (SIGKILL) while a delivery is in flight, then restarted: it delivers again what was not
// committed, with the same idempotency keys, and the receiver acts on each key exactly once.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { Detection } from '../../schemas/model.js'
import { incidentId } from '../../services/alerter/incident.js'
import { startRecordingServer } from '../../services/alerter/receiver.js'
import { IDEMPOTENCY_HEADER, verifySignature } from '../../services/alerter/signature.js'
import { createCodecs } from '../../services/shared/avro.js'
import { loadConfig } from '../../services/shared/config.js'
import { createKafka, createProducer, ensureTopics, topicNames, topicSpecs } from '../../services/shared/kafka.js'
import { createLogger } from '../../services/shared/log.js'
import { groupCaughtUp, randomId, testEnv, waitFor } from '../support/harness.js'
import { repoRoot } from '../support/paths.js'

const WAIT = { timeoutMs: 120_000 }

test('an alerter killed mid-delivery and restarted: the receiver acts on each idempotency key exactly once', async (t) => {
  const base = testEnv()
  const secret = loadConfig(base).alerter.webhookSecret!
  let holding = true
  // The receiver's side: what it acted on (a page opened, an update appended), once per idempotency key.
  const acted: string[] = []
  const receiver = await startRecordingServer((r) => {
    if (!verifySignature(secret, r.headers, r.body, Math.floor(Date.now() / 1000)).ok) return 401
    const key = String(r.headers[IDEMPOTENCY_HEADER])
    if (!acted.includes(key)) acted.push(key)
    // Acted on, but the answer is held back: the alerter dies before it learns that the page arrived.
    return holding ? new Promise<number>(() => {}) : 200
  })
  t.after(() => receiver.close())
  const policy = join(loadConfig(base).dataDir, 'alert-policy.json')
  writeFileSync(policy, JSON.stringify({ channels: { webhook: { updates: true } } }))
  const env = { ...base, SW_WEBHOOK_URL: receiver.url('/hook'), SW_WEBHOOK_TRIES: '5', SW_ALERT_POLICY: policy }
  const config = loadConfig(env)
  const log = createLogger({ level: 'error' })
  const kafka = createKafka(config.kafka, log)
  const topics = topicNames(config.kafka.topicPrefix)
  await ensureTopics(kafka, topicSpecs(config.kafka, topics))
  const producer = createProducer(kafka)
  await producer.connect()
  t.after(() => producer.disconnect())
  const workers: ChildProcess[] = []
  t.after(() => workers.forEach((w) => w.exitCode === null && w.kill('SIGKILL')))
  const startAlerter = () => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist/services/cli/main.js'), 'run', 'alerter'], {
      env: { ...process.env, ...env, KAFKAJS_NO_PARTITIONER_WARNING: '1' }, stdio: 'ignore',
    })
    workers.push(child)
    return child
  }

  const id = randomId()
  const codecs = createCodecs()
  const detections: Detection[] = Array.from({ length: 5 }, (_, i) => ({
    detection_id: `det_${id}_${i}`, detector: 'multi_network', severity: 'page', score: 0.9, confirmed: true,
    subject: `u-${id}`, session_id: `s-${id}`, token_fp: null, summary: `session used from ${i + 2} networks`,
    evidence: { event_ids: [`e${i}`], ips: ['73.14.86.31', '167.99.189.65'], prefixes: [], asns: [7922, 14061], places: [], user_agents: [], times: [1], reasons: [] },
    first_malicious_ts: 2, detected_ts: 3 + i,
  }))
  await producer.send({ topic: topics.detections, acks: -1, messages: detections.map((d) => ({ key: d.subject!, value: codecs.detection.encode(d) })) })

  const first = startAlerter()
  await waitFor(() => receiver.requests.length > 0, { ...WAIT, what: 'the first delivery to reach the receiver' })
  first.kill('SIGKILL')
  await new Promise((resolve) => first.once('exit', resolve))
  const seenBeforeRestart = receiver.requests.length
  holding = false

  startAlerter()
  const incident = incidentId(detections[0]!)
  const expected = [incident, ...[1, 2, 3, 4].map((n) => `${incident}:${n}`)]
  const caughtUp = () => groupCaughtUp(kafka, `${config.kafka.topicPrefix}sessionwatch-alerter`, [topics.detections])
  await waitFor(async () => expected.every((k) => acted.includes(k)) && (await caughtUp()), { ...WAIT, what: 'every notice acted on after the restart' })

  assert.ok(seenBeforeRestart >= 1)
  const keysReceived = receiver.requests.map((r) => String(r.headers[IDEMPOTENCY_HEADER]))
  assert.ok(keysReceived.filter((k) => k === incident).length >= 2, 'the page in flight at the kill was delivered again')
  assert.deepEqual([...new Set(keysReceived)].sort(), [...expected].sort(), 'the restarted alerter used the same keys, no new ones')
  assert.deepEqual(acted, expected, 'each key acted on once, the page first, the updates in order')
})
