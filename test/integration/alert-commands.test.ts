// Incident commands (acknowledge, resolve) and Slack threads against the real broker, with real local HTTP
// endpoints standing in for the webhook receiver, PagerDuty, Slack's Web API (chat.postMessage) and an IdP.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import type { AlertDelivery, Detection, DlqRecord } from '../../schemas/model.js'
import { incidentId } from '../../services/alerter/incident.js'
import { startRecordingServer, startWebhookReceiver } from '../../services/alerter/receiver.js'
import { createPipeline } from '../../services/pipeline.js'
import { createCodecs } from '../../services/shared/avro.js'
import { loadConfig, type Env } from '../../services/shared/config.js'
import { createKafka, createProducer } from '../../services/shared/kafka.js'
import type { Logger } from '../../services/shared/log.js'
import { capturingLogger, groupCaughtUp, randomId, testEnv, topicBytes, waitFor } from '../support/harness.js'
import { repoRoot } from '../support/paths.js'
import { startSlackApi } from '../support/slack-api.js'

const WAIT = { timeoutMs: 60_000 }
const codecs = createCodecs()
const run = promisify(execFile)

function detection(session: string, i: number, overrides: Partial<Detection> = {}): Detection {
  return {
    detection_id: `det_${session}_${i}`, detector: 'multi_network', severity: 'page', score: 0.9, confirmed: true,
    subject: `u-${session}`, session_id: `s-${session}`, token_fp: null, summary: `session used from ${i + 2} networks`,
    evidence: { event_ids: [`e${i}`], ips: ['73.14.86.31', '167.99.189.65'], prefixes: [], asns: [7922, 14061], places: ['US', 'NL'], user_agents: ['Mozilla/5.0'], times: [Date.now()], reasons: ['new network'] },
    first_malicious_ts: Date.now() - 60_000, detected_ts: Date.now(), route: '/api/inbox/{id}', ...overrides,
  }
}

const incidentOf = (session: string) => incidentId({ subject: `u-${session}`, session_id: `s-${session}`, token_fp: null, detection_id: '' })

/** The CLI as a user runs it, against the same topics. */
async function cli(env: Env, args: string[]) {
  return run(process.execPath, [join(repoRoot, 'dist/services/cli/main.js'), ...args], { env: { ...env, SW_LOG_LEVEL: 'error' } })
}

async function startAlerter(env: Env, policy: unknown, log: Logger, t: { after: (fn: () => Promise<void>) => void }) {
  const file = join(loadConfig(env).dataDir, 'alert-policy.json')
  writeFileSync(file, JSON.stringify(policy))
  const config = loadConfig({ ...env, SW_ALERT_POLICY: file })
  const pipeline = createPipeline(config, log, ['alerter'])
  await pipeline.start()
  let stopped = false
  const stop = async () => {
    if (!stopped) await pipeline.stop()
    stopped = true
  }
  t.after(stop)
  return { config, pipeline, stop }
}

async function tools(env: Env, log: Logger, t: { after: (fn: () => Promise<void>) => void }) {
  const config = loadConfig(env)
  const kafka = createKafka(config.kafka, log)
  const producer = createProducer(kafka)
  await producer.connect()
  t.after(() => producer.disconnect())
  const prefix = config.kafka.topicPrefix
  const topic = (name: string) => prefix + name
  const publish = (ds: Detection[]) => producer.send({ topic: topic('auth.detections'), acks: -1, messages: ds.map((d) => ({ key: d.subject!, value: codecs.detection.encode(d) })) })
  const caughtUp = async () =>
    (await groupCaughtUp(kafka, `${prefix}sessionwatch-alerter`, [topic('auth.detections')])) &&
    (await groupCaughtUp(kafka, `${prefix}sessionwatch-alerter-commands`, [topic('alerts.commands')]))
  const decoded = async <T>(name: string, decode: (b: Buffer) => T) => (await topicBytes(kafka, topic(name))).flatMap((b) => {
    try {
      return [decode(b)]
    } catch {
      return []
    }
  })
  const deliveries = () => decoded<AlertDelivery>('auth.alerts.deliveries', (b) => codecs.alertDelivery.decode(b))
  return { kafka, producer, topic, publish, caughtUp, deliveries, decoded }
}

test('with a Slack bot token updates, acknowledgement and resolution reply in the first page\'s thread, also after a restart; each command runs once on every channel', async (t) => {
  const env = testEnv()
  const { log, lines } = capturingLogger()
  const receiver = await startWebhookReceiver({ secret: loadConfig(env).alerter.webhookSecret! })
  t.after(() => receiver.close())
  const pagerduty = await startRecordingServer(() => 202)
  t.after(() => pagerduty.close())
  const token = `xoxb-${randomId()}-${randomId()}-secretpart`
  const slack = await startSlackApi({ token })
  t.after(() => slack.close())
  const policy = {
    channels: {
      webhook: { updates: true },
      pagerduty: { routing_key: 'R0123456789abcdef0123456789abcde', url: pagerduty.url('/v2/enqueue') },
      slack: { bot_token: token, channel: 'C0SECURITY', api_url: slack.url },
    },
  }
  const withWebhook = { ...env, SW_WEBHOOK_URL: receiver.url }
  const first = await startAlerter(withWebhook, policy, log, t)
  const { publish, caughtUp, deliveries } = await tools(env, log, t)
  const session = randomId()
  const incident = incidentOf(session)
  await publish([0, 1, 2].map((i) => detection(session, i)))
  await waitFor(async () => slack.posted.length === 3 && pagerduty.requests.length === 3 && receiver.accepted.length === 3 && (await caughtUp()), { ...WAIT, what: 'a page and two updates on every channel' })
  const root = slack.posted[0]!
  assert.equal(root.thread_ts, undefined, 'the page is a message of its own')
  assert.deepEqual(slack.posted.slice(1).map((p) => p.thread_ts), [root.ts, root.ts], 'updates reply in its thread')
  assert.ok(slack.posted.every((p) => p.channel === 'C0SECURITY'))

  const acked = await cli(env, ['incident', 'ack', incident, '--reason', 'on it, revoking', '--by', 'alice'])
  assert.deepEqual(JSON.parse(acked.stdout), { incident_id: incident, action: 'acknowledge', reason: 'on it, revoking', by: 'alice', ts: JSON.parse(acked.stdout).ts })
  await waitFor(async () => slack.posted.length === 4 && pagerduty.requests.length === 4 && receiver.accepted.length === 4 && (await caughtUp()), { ...WAIT, what: 'the acknowledgement on every channel' })
  assert.deepEqual(JSON.parse(pagerduty.requests[3]!.body), { routing_key: 'R0123456789abcdef0123456789abcde', event_action: 'acknowledge', dedup_key: incident })
  const ack = receiver.accepted[3]!
  assert.equal(ack.idempotencyKey, `${incident}:acknowledge`)
  assert.equal((ack.body as { event: string; by: string }).event, 'acknowledge')
  assert.equal((ack.body as { by: string }).by, 'alice')
  assert.equal(slack.posted[3]!.thread_ts, root.ts)
  assert.match(slack.posted[3]!.text, /Acknowledged by alice/)

  // The same command again (a second click, a redelivery) sends nothing and says so in the delivery log.
  await cli(env, ['incident', 'ack', incident, '--by', 'bob'])
  await waitFor(async () => (await caughtUp()) && (await deliveries()).some((r) => r.outcome === 'duplicate' && r.idempotency_key === `${incident}:acknowledge`), { ...WAIT, what: 'the repeat recorded' })
  assert.equal(pagerduty.requests.length, 4)
  assert.equal(slack.posted.length, 4)
  assert.equal(receiver.requests, 4)

  // Restarted, the alerter still knows the thread (it is kept in the incident book on auth.alerts.incidents).
  await first.stop()
  await startAlerter(withWebhook, policy, log, t)
  await publish([detection(session, 3)])
  await waitFor(async () => slack.posted.length === 5 && (await caughtUp()), { ...WAIT, what: 'the update after the restart' })
  assert.equal(slack.posted[4]!.thread_ts, root.ts)
  await cli(env, ['incident', 'resolve', incident, '--reason', 'session revoked, password reset'])
  await waitFor(async () => slack.posted.length === 6 && pagerduty.requests.length === 6 && (await caughtUp()), { ...WAIT, what: 'the resolution' })
  assert.equal(JSON.parse(pagerduty.requests[5]!.body).event_action, 'resolve')
  assert.equal(slack.posted[5]!.thread_ts, root.ts)
  assert.match(slack.posted[5]!.text, /Resolved by/)
  // After a resolve an acknowledge has nothing to add.
  await cli(env, ['incident', 'ack', incident])
  await waitFor(async () => (await caughtUp()) && (await deliveries()).filter((r) => r.outcome === 'duplicate').length === 2, { ...WAIT, what: 'the late ack recorded' })
  assert.equal(pagerduty.requests.length, 6)

  const log2 = await deliveries()
  for (const kind of ['acknowledge', 'resolve']) {
    assert.deepEqual(log2.filter((r) => r.kind === kind && r.outcome === 'delivered').map((r) => r.endpoint).sort(), kind === 'acknowledge' ? ['pagerduty', 'slack', 'webhook'] : ['pagerduty', 'slack', 'webhook'])
  }
  assert.ok(!lines.join('').includes('secretpart') && !JSON.stringify(log2).includes('secretpart'), 'the bot token is never logged or stored')
})

test('a Slack Web API error answered with HTTP 200 is a failed try; with only an incoming webhook updates stay messages of their own', async (t) => {
  const env = testEnv()
  const { log } = capturingLogger()
  const slack = await startSlackApi({ token: 'xoxb-right', fail: (i) => (i === 0 ? 'internal_error' : undefined) })
  t.after(() => slack.close())
  const webhookSlack = await startRecordingServer(() => 200)
  t.after(() => webhookSlack.close())
  await startAlerter(env, {
    channels: { slack: { bot_token: 'xoxb-right', channel: 'C1', api_url: slack.url, name: 'slack-api' } },
  }, log, t)
  const { publish, caughtUp, deliveries } = await tools(env, log, t)
  const s = randomId()
  await publish([detection(s, 0), detection(s, 1)])
  await waitFor(async () => slack.posted.length === 2 && (await caughtUp()), { ...WAIT, what: 'the retried page and its update' })
  assert.deepEqual(slack.refused, ['internal_error'])
  assert.equal(slack.posted[1]!.thread_ts, slack.posted[0]!.ts)
  const tries = (await deliveries()).filter((r) => r.endpoint === 'slack-api' && r.kind === 'trigger').map((r) => `${r.attempt}:${r.outcome}`).sort()
  assert.deepEqual(tries, ['1:http_error', '2:delivered'])

  const env2 = testEnv()
  await startAlerter(env2, { channels: { slack: { webhook_url: webhookSlack.url('/services/T0/B0/x') } } }, log, t)
  const two = await tools(env2, log, t)
  const w = randomId()
  await two.publish([detection(w, 0), detection(w, 1)])
  await waitFor(async () => webhookSlack.requests.length === 2 && (await two.caughtUp()), { ...WAIT, what: 'two webhook messages' })
  assert.ok(webhookSlack.requests.every((r) => !('thread_ts' in JSON.parse(r.body)) && !('channel' in JSON.parse(r.body))))
})

test('an enforce-mode containment that succeeded acknowledges its incident once; a failed one does not', async (t) => {
  const env = testEnv()
  const { log } = capturingLogger()
  const contained = randomId()
  const refused = randomId()
  const revocation = await startRecordingServer((r) => (new URLSearchParams(r.body).get('token') === `s-${refused}` ? 400 : 200))
  t.after(() => revocation.close())
  const pagerduty = await startRecordingServer(() => 202)
  t.after(() => pagerduty.close())
  await startAlerter(env, {
    channels: { pagerduty: { routing_key: 'R0123456789abcdef0123456789abcde', url: pagerduty.url('/v2/enqueue') } },
    response: { mode: 'enforce', revocation: { url: revocation.url('/oauth2/revoke'), client_id: 'sessionwatch', client_secret: 'client-secret-abcdef' } },
  }, log, t)
  const { publish, caughtUp, decoded } = await tools(env, log, t)
  await publish([detection(contained, 0), detection(contained, 1), detection(refused, 0)])
  await waitFor(async () => pagerduty.requests.some((r) => JSON.parse(r.body).event_action === 'acknowledge') && revocation.requests.length === 2 && (await caughtUp()), { ...WAIT, what: 'the containment acknowledged' })
  const events = pagerduty.requests.map((r) => JSON.parse(r.body) as { event_action: string; dedup_key: string })
  assert.deepEqual(events.filter((e) => e.event_action === 'acknowledge').map((e) => e.dedup_key), [incidentOf(contained)], 'once, and only for the contained incident')
  assert.ok(events.filter((e) => e.dedup_key === incidentOf(refused)).every((e) => e.event_action === 'trigger'))
  const commands = await decoded('alerts.commands', (b) => JSON.parse(b.toString()) as { by: string; action: string; reason: string })
  assert.deepEqual(commands.map((c) => `${c.by}:${c.action}`), ['sessionwatch:acknowledge'])
  assert.match(commands[0]!.reason, /rfc7009/)
})

test('a command that is not JSON, malformed, or for an incident nobody paged is an auth.dlq record with its reason', async (t) => {
  const env = testEnv()
  const { log } = capturingLogger()
  await startAlerter(env, {}, log, t)
  const { producer, topic, caughtUp, decoded } = await tools(env, log, t)
  const unknown = `inc_${'0'.repeat(32)}`
  await producer.send({
    topic: topic('alerts.commands'), acks: -1, messages: [
      { key: 'x', value: 'ack please' },
      { key: 'x', value: JSON.stringify({ incident_id: 'inc_1', action: 'snooze', by: 'eve', ts: 1 }) },
      { key: unknown, value: JSON.stringify({ incident_id: unknown, action: 'resolve', by: 'eve', ts: 1 }) },
    ],
  })
  let rejected: DlqRecord[] = []
  await waitFor(async () => (await caughtUp()) && (rejected = await decoded('auth.dlq', (b) => codecs.dlq.decode(b))).length === 3, { ...WAIT, what: 'three rejected commands' })
  assert.deepEqual(rejected.map((r) => r.code).sort(), ['BAD_COMMAND', 'BAD_COMMAND', 'UNKNOWN_INCIDENT'])
  assert.ok(rejected.every((r) => r.format === 'sessionwatch-command' && r.origin.startsWith(topic('alerts.commands'))))
  assert.match(rejected.find((r) => r.input.includes('snooze'))!.reason, /incident_id.*action|action/)
})
