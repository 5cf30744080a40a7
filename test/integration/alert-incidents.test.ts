// Incidents, channels and automated response against the real broker and real local HTTP endpoints standing in
// for the generic webhook receiver, PagerDuty, Slack, the IdP's RFC 7009 revocation endpoint, an Okta-style
// session API and an SSF receiver.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { AlertDelivery, AuthEvent, Detection } from '../../schemas/model.js'
import { incidentId } from '../../services/alerter/incident.js'
import { createJsonSchemaValidator } from '../../services/alerter/json-schema.js'
import { startRecordingServer, startWebhookReceiver } from '../../services/alerter/receiver.js'
import { createCodecs } from '../../services/shared/avro.js'
import { loadConfig, type Env } from '../../services/shared/config.js'
import { createLogger } from '../../services/shared/log.js'
import { packageRoot } from '../../services/shared/paths.js'
import { groupCaughtUp, randomId, startServices, testEnv, topicBytes, waitFor } from '../support/harness.js'

const WAIT = { timeoutMs: 60_000 }
const log = createLogger({ level: 'error' })
const codecs = createCodecs()
const vendor = (name: string) => createJsonSchemaValidator(JSON.parse(readFileSync(join(packageRoot, 'schemas', 'vendors', name), 'utf8')))

function detection(session: string, i: number, overrides: Partial<Detection> = {}): Detection {
  return {
    detection_id: `det_${session}_${i}`, detector: 'multi_network', severity: 'page', score: 0.9, confirmed: true,
    subject: `u-${session}`, session_id: `s-${session}`, token_fp: null, summary: `session used from ${i + 2} networks`,
    evidence: { event_ids: [`e${i}`], ips: ['73.14.86.31', '167.99.189.65'], prefixes: [], asns: [7922, 14061], places: ['US', 'NL'], user_agents: ['Mozilla/5.0'], times: [Date.now()], reasons: ['new network'] },
    first_malicious_ts: Date.now() - 60_000, detected_ts: Date.now(), ...overrides,
  }
}

async function runAlerter(env: Env, policy: unknown, t: { after: (fn: () => Promise<void>) => void }) {
  const file = join(loadConfig(env).dataDir, 'alert-policy.json')
  writeFileSync(file, JSON.stringify(policy))
  const config = loadConfig({ ...env, SW_ALERT_POLICY: file })
  const { pipeline, kafka, producer } = await startServices(t, config, log, ['alerter'])
  const publish = (ds: Detection[]) => producer.send({ topic: pipeline.topics.detections, acks: -1, messages: ds.map((d) => ({ key: d.subject!, value: codecs.detection.encode(d) })) })
  const caughtUp = () => groupCaughtUp(kafka, `${config.kafka.topicPrefix}sessionwatch-alerter`, [pipeline.topics.detections])
  const deliveries = async () => (await topicBytes(kafka, pipeline.topics.alertDeliveries)).flatMap((b) => {
    try {
      return [codecs.alertDelivery.decode(b)]
    } catch {
      return []
    }
  }) as AlertDelivery[]
  return { config, pipeline, kafka, publish, caughtUp, deliveries }
}

test('ten detections for one stolen session are one page and nine updates on every channel', async (t) => {
  const env = testEnv()
  const secret = loadConfig(env).alerter.webhookSecret!
  const receiver = await startWebhookReceiver({ secret })
  t.after(() => receiver.close())
  const pagerduty = await startRecordingServer(() => 202)
  t.after(() => pagerduty.close())
  const slack = await startRecordingServer(() => 200)
  t.after(() => slack.close())
  const { publish, caughtUp, deliveries } = await runAlerter({ ...env, SW_WEBHOOK_URL: receiver.url }, {
    channels: {
      webhook: { updates: true },
      pagerduty: { routing_key: 'R0123456789abcdef0123456789abcde', url: pagerduty.url('/v2/enqueue') },
      slack: { webhook_url: slack.url('/services/T000/B000/slack-secret-token') },
    },
  }, t)
  const session = randomId()
  await publish(Array.from({ length: 10 }, (_, i) => detection(session, i)))
  await waitFor(async () => receiver.accepted.length === 10 && pagerduty.requests.length === 10 && slack.requests.length === 10 && (await caughtUp()), { ...WAIT, what: 'ten notices on each channel' })

  const incident = incidentId({ subject: `u-${session}`, session_id: `s-${session}`, token_fp: null, detection_id: '' })
  const bodies = receiver.accepted.map((a) => a.body as { event: string; incident_id: string; update_seq: number })
  assert.deepEqual(bodies.map((b) => b.event), ['trigger', ...Array(9).fill('update')], 'one page, then updates, in order')
  assert.ok(bodies.every((b) => b.incident_id === incident))
  assert.deepEqual(receiver.accepted.map((a) => a.idempotencyKey), [incident, ...Array.from({ length: 9 }, (_, i) => `${incident}:${i + 1}`)])
  assert.deepEqual(receiver.rejected, [])

  const pd = vendor('pagerduty-events-v2.schema.json')
  const pdEvents = pagerduty.requests.map((r) => JSON.parse(r.body))
  assert.ok(pdEvents.every((e) => pd.errors(e).length === 0 && e.dedup_key === incident && e.event_action === 'trigger'), 'PagerDuty dedups all ten into one alert')
  const sl = vendor('slack-incoming-webhook.schema.json')
  assert.ok(slack.requests.every((r) => sl.errors(JSON.parse(r.body)).length === 0))

  const log = await deliveries()
  assert.equal(log.filter((r) => r.outcome === 'delivered').length, 30)
  assert.ok(!JSON.stringify(log).includes('slack-secret-token') && !JSON.stringify(log).includes('R0123456789abcdef'))
})

test('suppressed detections page nobody and are recorded; a channel over its rate limit dead-letters the excess', async (t) => {
  const env = testEnv()
  const receiver = await startWebhookReceiver({ secret: loadConfig(env).alerter.webhookSecret! })
  t.after(() => receiver.close())
  const { pipeline, kafka, publish, caughtUp, deliveries } = await runAlerter({ ...env, SW_WEBHOOK_URL: receiver.url }, {
    channels: { webhook: { updates: true } },
    suppressions: [{ id: 'pentest', cidrs: ['198.51.100.0/24'], until: '2999-01-01T00:00:00Z' }],
    rate_limits: { webhook: { per_minute: 1, burst: 2 } },
  }, t)
  const quiet = randomId()
  await publish([detection(quiet, 0, { evidence: { ...detection(quiet, 0).evidence, ips: ['198.51.100.9', '73.1.1.1'] } })])
  const loud = randomId()
  await publish(Array.from({ length: 4 }, (_, i) => detection(loud, i)))
  await waitFor(async () => (await caughtUp()) && (await deliveries()).filter((r) => r.outcome === 'rate_limited').length === 2, { ...WAIT, what: 'the alerter to catch up' })
  assert.equal(receiver.accepted.length, 2)
  assert.ok(receiver.accepted.every((a) => (a.body as { session_id: string }).session_id === `s-${loud}`))
  const log = await deliveries()
  assert.equal(log.filter((r) => r.outcome === 'suppressed' && r.detection_id === `det_${quiet}_0`).length, 1)
  const dead = (await topicBytes(kafka, pipeline.topics.alertsDlq)).flatMap((b) => {
    try {
      return [codecs.detection.decode(b)]
    } catch {
      return []
    }
  })
  assert.deepEqual(dead.map((d) => d.detection_id).sort(), [`det_${loud}_2`, `det_${loud}_3`], 'rate limited, not lost')
})

test('in enforce mode each incident is revoked once, the IdP action and the SSF push run once, and REVOKE events reach auth.revoke', async (t) => {
  const env = testEnv()
  const revocation = await startRecordingServer(() => 200)
  t.after(() => revocation.close())
  const okta = await startRecordingServer(() => 204)
  t.after(() => okta.close())
  const ssf = await startRecordingServer(() => 202)
  t.after(() => ssf.close())
  const { config, pipeline, kafka, publish, caughtUp } = await runAlerter(env, {
    response: {
      mode: 'enforce',
      revocation: { url: revocation.url('/oauth2/revoke'), client_id: 'sessionwatch', client_secret: 'client-secret-abcdef' },
      http_actions: [{ name: 'okta-clear-sessions', method: 'DELETE', url: okta.url('/api/v1/users/{subject}/sessions'), headers: { authorization: 'SSWS okta-api-token-123' } }],
      ssf: { issuer: 'https://sessionwatch.test', receivers: [{ name: 'idp', url: ssf.url('/ssf/push'), audience: 'https://idp.test' }] },
    },
  }, t)
  const a = randomId()
  const b = randomId()
  await publish([...Array.from({ length: 3 }, (_, i) => detection(a, i)), ...Array.from({ length: 2 }, (_, i) => detection(b, i)), detection(randomId(), 0, { confirmed: false })])
  let revokes: AuthEvent[] = []
  await waitFor(async () => {
    revokes = (await topicBytes(kafka, pipeline.topics.revoke)).flatMap((v) => {
      try {
        return [codecs.authEvent.decode(v)]
      } catch {
        return []
      }
    })
    return revokes.length === 4 && ssf.requests.length === 2 && (await caughtUp())
  }, { ...WAIT, what: 'two incidents revoked' })
  assert.deepEqual(revocation.requests.map((r) => new URLSearchParams(r.body).get('token')).sort(), [`s-${a}`, `s-${b}`].sort(), 'once per incident, not per detection; unconfirmed: none')
  assert.deepEqual(okta.requests.map((r) => `${r.method} ${r.path}`).sort(), [`DELETE /api/v1/users/u-${a}/sessions`, `DELETE /api/v1/users/u-${b}/sessions`].sort())
  assert.ok(ssf.requests.every((r) => r.headers['content-type'] === 'application/secevent+jwt'))
  assert.deepEqual(revokes.map((e) => `${e.kind}:${e.action}:${e.session_id}:${e.source.format}`).sort(), [
    `REVOKE:auto_revoke:s-${a}:alerter:okta-clear-sessions`, `REVOKE:auto_revoke:s-${a}:alerter:rfc7009`,
    `REVOKE:auto_revoke:s-${b}:alerter:okta-clear-sessions`, `REVOKE:auto_revoke:s-${b}:alerter:rfc7009`,
  ].sort())
  assert.equal(config.alerter.policy.response.mode, 'enforce')
})

test('in monitor mode nothing is called; what would have been done is recorded', async (t) => {
  const env = testEnv()
  const revocation = await startRecordingServer(() => 200)
  t.after(() => revocation.close())
  const { kafka, pipeline, publish, caughtUp, deliveries } = await runAlerter(env, {
    response: { mode: 'monitor', revocation: { url: revocation.url('/oauth2/revoke'), client_id: 'sessionwatch', client_secret: 'client-secret-abcdef' } },
  }, t)
  const s = randomId()
  await publish([detection(s, 0), detection(s, 1)])
  await waitFor(async () => (await caughtUp()) && (await deliveries()).some((r) => r.outcome === 'monitor'), { ...WAIT, what: 'the monitor record' })
  assert.equal(revocation.requests.length, 0)
  assert.equal((await deliveries()).filter((r) => r.outcome === 'monitor' && r.endpoint === 'rfc7009').length, 1)
  assert.equal((await topicBytes(kafka, pipeline.topics.revoke)).length, 0)
})
