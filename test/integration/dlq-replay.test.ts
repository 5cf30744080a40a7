// `sessionwatch dlq list|replay` as a user runs it, against the real broker: failed deliveries sent again to their
// endpoints with their idempotency keys, rejected input published again to its raw topic to be parsed again.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import type { AlertDelivery, AuthEvent, Detection, DlqRecord } from '../../schemas/model.js'
import { incidentId } from '../../services/alerter/incident.js'
import { startRecordingServer, startWebhookReceiver } from '../../services/alerter/receiver.js'
import { readSpans } from '../../services/cli/commands/dlq-range.js'
import { createCodecs } from '../../services/shared/avro.js'
import { loadConfig, type Env } from '../../services/shared/config.js'
import { createKafka } from '../../services/shared/kafka.js'
import { capturingLogger, freePort, groupCaughtUp, randomId, startServices, testEnv, topicBytes, waitFor } from '../support/harness.js'
import { repoRoot } from '../support/paths.js'

const WAIT = { timeoutMs: 60_000 }
const codecs = createCodecs()
const execFileAsync = promisify(execFile)

/** Runs the CLI; resolves with its exit code and output whatever the code. */
async function cli(env: Env, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [join(repoRoot, 'dist/services/cli/main.js'), ...args], { env: { ...env, SW_LOG_LEVEL: 'warn' }, timeout: 90_000 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string; killed?: boolean }
    if (e.killed) throw new Error(`sessionwatch ${args.join(' ')} did not finish: ${e.stderr}`)
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

function detection(session: string, i: number): Detection {
  return {
    detection_id: `det_${session}_${i}`, detector: 'multi_network', severity: 'page', score: 0.9, confirmed: true,
    subject: `u-${session}`, session_id: `s-${session}`, token_fp: null, summary: `session used from ${i + 2} networks`,
    evidence: { event_ids: [`e${i}`], ips: ['73.14.86.31'], prefixes: [], asns: [7922], places: ['US'], user_agents: ['Mozilla/5.0'], times: [Date.now()], reasons: ['new network'] },
    first_malicious_ts: Date.now() - 60_000, detected_ts: Date.now(), route: null,
  }
}

async function decodedTopic<T>(env: Env, name: string, decode: (b: Buffer) => T, headers = false) {
  const config = loadConfig(env)
  const kafka = createKafka(config.kafka, capturingLogger().log)
  if (!headers) {
    return (await topicBytes(kafka, config.kafka.topicPrefix + name)).flatMap((b) => {
      try {
        return [{ value: decode(b), headers: {} as Record<string, string | undefined> }]
      } catch {
        return []
      }
    })
  }
  const admin = kafka.admin()
  await admin.connect()
  const ends = await admin.fetchTopicOffsets(config.kafka.topicPrefix + name)
  await admin.disconnect()
  const out: { value: T; headers: Record<string, string | undefined> }[] = []
  await readSpans(kafka, config.kafka.topicPrefix + name, ends.map((e) => ({ partition: e.partition, start: BigInt(e.low), end: BigInt(e.high) })), async (records) => {
    for (const r of records) out.push({ value: decode(r.value!), headers: r.headers })
    return records.length
  })
  return out
}

test('dlq replay alerts sends each failed notice again with its key, exactly once at the receiver; what fails again goes back with the new reason', async (t) => {
  const port = await freePort()
  const env = testEnv({ SW_WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/sessionwatch` })
  const { log } = capturingLogger()
  const pagerduty = await startRecordingServer(() => 503)
  t.after(() => pagerduty.close())
  const file = join(loadConfig(env).dataDir, 'alert-policy.json')
  writeFileSync(file, JSON.stringify({ channels: { webhook: { updates: true }, pagerduty: { routing_key: 'R0123456789abcdef0123456789abcde', url: pagerduty.url('/v2/enqueue') } } }))
  const withPolicy = { ...env, SW_ALERT_POLICY: file }
  const config = loadConfig(withPolicy)
  const { pipeline, kafka, producer } = await startServices(t, config, log, ['alerter'])
  const session = randomId()
  const incident = incidentId({ subject: `u-${session}`, session_id: `s-${session}`, token_fp: null, detection_id: '' })
  await producer.send({ topic: pipeline.topics.detections, acks: -1, messages: [0, 1, 2].map((i) => ({ key: `u-${session}`, value: codecs.detection.encode(detection(session, i)) })) })
  const dead = () => decodedTopic(env, 'auth.alerts.dlq', (b) => codecs.detection.decode(b), true)
  await waitFor(async () => (await dead()).length === 6 && (await groupCaughtUp(kafka, `${config.kafka.topicPrefix}sessionwatch-alerter`, [pipeline.topics.detections])), { ...WAIT, what: 'six dead-lettered notices' })

  const listed = await cli(withPolicy, ['dlq', 'list', 'alerts', '--json'])
  assert.equal(listed.code, 0, listed.stderr)
  const rows = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { reason: string; records: number; pending: number })
  assert.equal(rows.reduce((n, r) => n + r.records, 0), 6)
  assert.ok(rows.every((r) => r.records === r.pending))
  assert.ok(rows.some((r) => r.reason.startsWith('webhook: ')) && rows.some((r) => r.reason.startsWith('pagerduty: ')))

  const tried = pagerduty.requests.length
  const dry = await cli(withPolicy, ['dlq', 'replay', 'alerts', '--dry-run'])
  assert.equal(dry.code, 0, dry.stderr)
  assert.equal(dry.stdout.trim().split('\n').length, 6)
  assert.equal(pagerduty.requests.length, tried, 'a dry run sends nothing')

  const receiver = await startWebhookReceiver({ secret: config.alerter.webhookSecret!, port })
  t.after(() => receiver.close())
  const firstTwo = await cli(withPolicy, ['dlq', 'replay', 'alerts', '--limit', '2'])
  assert.equal(JSON.parse(firstTwo.stdout).read, 2)
  const rest = await cli(withPolicy, ['dlq', 'replay', 'alerts'])
  assert.equal(rest.code, 1, 'some records failed again')
  // A PagerDuty notice that failed again in the first run is back at the end, and the second run reads to the end
  // as it was at its start: it may see that one again.
  const [one, two] = [firstTwo, rest].map((r) => JSON.parse(r.stdout) as { read: number; replayed: number; failed: number })
  assert.equal(one!.replayed + two!.replayed, 3)
  assert.equal(one!.read + two!.read, 6 + one!.failed)
  assert.deepEqual(receiver.accepted.map((a) => a.idempotencyKey), [incident, `${incident}:1`, `${incident}:2`], 'each key once, in the incident\'s order')
  assert.deepEqual(receiver.rejected, [])

  const after = await dead()
  assert.equal(after.length, 6 + one!.failed + two!.failed, 'every PagerDuty notice that failed again is back')
  assert.ok(after.slice(6).every((r) => r.headers['sw-endpoint'] === 'pagerduty' && /503|circuit open/.test(r.headers['sw-error'] ?? '')))
  const deliveries = (await decodedTopic(env, 'auth.alerts.deliveries', (b) => codecs.alertDelivery.decode(b))).map((r) => r.value as AlertDelivery)
  assert.equal(deliveries.filter((r) => r.endpoint === 'webhook' && r.outcome === 'delivered').length, 3)
  assert.ok(deliveries.filter((r) => r.endpoint === 'pagerduty' && r.outcome === 'dead_lettered').length >= 6, 'by the alerter, then by the replay')

  // The next replay starts where this one stopped: only the three records that failed again.
  const again = await cli(withPolicy, ['dlq', 'replay', 'alerts', '--dry-run'])
  assert.equal(again.stdout.trim().split('\n').length, 3)
  assert.ok(again.stdout.split('\n').filter(Boolean).every((l) => l.includes('pagerduty')))
})

test('dlq replay input publishes rejected input again to its raw topic with its format, to be parsed again; what fails again is a new dlq record', async (t) => {
  const env = testEnv({ SW_ENRICH: 'off' })
  const { log } = capturingLogger()
  const config = loadConfig(env)
  const { pipeline, kafka, producer } = await startServices(t, config, log, ['collector'])
  const topics = pipeline.topics
  const subject = `u-${randomId()}@acme.example`
  const line = JSON.stringify({ kind: 'VALIDATE', action: 'request', ts: '2026-11-20T10:15:02.120Z', source: { system: 'gateway' }, subject, session_id: 's-replayed', token_fp: 'tfp_replayed', result: 'OK', route: '/api/inbox/{id}', ip: '203.0.113.7' })
  // Rejected by an older parser (say, before a fix): valid canonical input as the DLQ holds it.
  const older: DlqRecord = { reason: 'ts: not a time', code: 'BAD_FIELD', origin: `${topics.logsGateway}/0/17`, format: 'canonical', input: line, input_bytes: Buffer.byteLength(line), ts: Date.now() }
  // Cut to fit the DLQ: cannot be parsed again from what is left.
  const truncated: DlqRecord = { reason: 'line longer than 65536 bytes', code: 'LINE_TOO_LONG', origin: 'access.log:9', format: 'envoy', input: 'x'.repeat(100), input_bytes: 70_000, ts: Date.now() }
  await producer.send({ topic: topics.dlq, acks: -1, messages: [older, truncated].map((r) => ({ key: null, value: codecs.dlq.encode(r) })) })
  // And one the running collector rejects now: a format header nobody knows.
  await producer.send({ topic: topics.logsGateway, acks: -1, messages: [{ key: null, value: line, headers: { 'sw-format': 'canonical-v9' } }] })
  const dlq = () => decodedTopic(env, 'auth.dlq', (b) => codecs.dlq.decode(b))
  await waitFor(async () => (await dlq()).length === 3, { ...WAIT, what: 'three records in auth.dlq' })

  const listed = await cli(env, ['dlq', 'list', 'input'])
  assert.equal(listed.code, 0, listed.stderr)
  for (const code of ['BAD_FIELD', 'LINE_TOO_LONG', 'UNKNOWN_FORMAT']) assert.match(listed.stdout, new RegExp(`\\s+1\\s+1\\s+${code}\\s`))

  const replayed = await cli(env, ['dlq', 'replay', 'input'])
  assert.equal(replayed.code, 0, replayed.stderr)
  assert.deepEqual(JSON.parse(replayed.stdout), { dlq: 'input', read: 3, replayed: 2, failed: 0, skipped: 1 })
  assert.match(replayed.stderr, /skipped access\.log:9: the DLQ holds it truncated/)

  let validated: AuthEvent[] = []
  await waitFor(async () => {
    validated = (await decodedTopic(env, 'auth.validate', (b) => codecs.authEvent.decode(b))).map((r) => r.value).filter((e) => e.subject === subject)
    return validated.length === 1 && (await dlq()).length === 4
  }, { ...WAIT, what: 'the fixed record parsed and the unknown format rejected again' })
  assert.equal(validated[0]!.route, '/api/inbox/{id}')
  const unknown = (await dlq()).map((r) => r.value).filter((r) => r.code === 'UNKNOWN_FORMAT')
  assert.equal(unknown.length, 2, 'rejected when first shipped, and again when replayed')
  assert.ok(unknown.every((r) => r.format === 'canonical-v9'), 'the format header went with it')
  assert.equal(new Set(unknown.map((r) => r.origin)).size, 2)
  assert.ok(unknown.every((r) => r.origin.startsWith(`${topics.logsGateway}/`)), 'back to the raw topic it came from')

  const next = await cli(env, ['dlq', 'replay', 'input', '--dry-run'])
  assert.equal(next.stdout.trim().split('\n').length, 1, 'only the new record is pending')
  assert.match(next.stdout, /UNKNOWN_FORMAT canonical-v9/)
  assert.equal(await groupCaughtUp(kafka, `${config.kafka.topicPrefix}sessionwatch-collector`, [topics.logsGateway, topics.logsIdp]), true)
})
