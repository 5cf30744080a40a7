// Through the real local broker and the embedded ClickHouse engine: idempotent replays, one signed page per
// hijack, no raw credential anywhere downstream, malformed input in the DLQ with its reason.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startWebhookReceiver, type WebhookReceiver } from '../../services/alerter/receiver.js'
import { generate } from '../../services/generator/generate.js'
import { createCodecs } from '../../services/shared/avro.js'
import { loadConfig } from '../../services/shared/config.js'
import { createKafka } from '../../services/shared/kafka.js'
import type { Pipeline } from '../../services/pipeline.js'
import type { Config } from '../../services/shared/config.js'
import { capturingLogger, groupCaughtUp, randomId, replayLines, startPipeline, testEnv, topicBytes, waitFor } from '../support/harness.js'

const WAIT = { timeoutMs: 120_000 }

describe('the pipeline on a real broker and ClickHouse', () => {
  const { log, lines: logLines } = capturingLogger()
  const codecs = createCodecs()
  let receiver: WebhookReceiver
  let pipeline: Pipeline
  let config: Readonly<Config>
  let kafka: ReturnType<typeof createKafka>

  before(async () => {
    const env = testEnv()
    const secret = loadConfig(env).alerter.webhookSecret!
    receiver = await startWebhookReceiver({ secret })
    ;({ pipeline, config } = await startPipeline({ ...env, SW_WEBHOOK_URL: receiver.url }, log))
    kafka = createKafka(config.kafka, log)
  })

  after(async () => {
    await pipeline?.stop()
    await receiver?.close()
  })

  const countRows = async (table: string, where = '1') => {
    const rs = await pipeline.clickhouse!.query({ query: `SELECT count() AS n FROM ${config.clickhouse.database}.${table} FINAL WHERE ${where}`, format: 'JSONEachRow' })
    return Number(((await rs.json()) as { n: string }[])[0]!.n)
  }
  const group = (name: string) => `${config.kafka.topicPrefix}sessionwatch-${name}`
  const settled = async () => {
    const t = pipeline.topics
    return (await groupCaughtUp(kafka, group('detector'), [t.issue, t.revoke, t.validate])) &&
      (await groupCaughtUp(kafka, group('alerter'), [t.detections])) &&
      (await groupCaughtUp(kafka, group('sink'), [t.issue, t.revoke, t.validate, t.detections, t.dlq]))
  }

  test('replaying the same file twice stores each event once and pages once, with a valid signature', async () => {
    const scenario = generate({ users: 40, attacks: 1, requestsPerSession: 8, seed: 11, startMs: Date.parse('2026-11-20T08:00:00Z') })
    const first = await replayLines(config, scenario.lines, log)
    const second = await replayLines(config, scenario.lines, log)
    const events = first.issue + first.revoke + first.validate
    assert.equal(events, scenario.lines.length)
    assert.equal(second.issue + second.revoke + second.validate, events)
    await waitFor(async () => (await countRows('auth_events', "source_system = 'generator'")) === events && (await settled()), { ...WAIT, what: 'both replays processed' })
    assert.equal(await countRows('auth_events', "source_system = 'generator'"), events)
    assert.deepEqual(receiver.accepted.map((a) => (a.body as { session_id: string }).session_id), [scenario.truth[0]!.session_id])
    assert.equal(receiver.requests, 1, 'one delivery, not one per replay')
    assert.deepEqual(receiver.rejected, [])
    const page = receiver.accepted[0]!.body as { session_id: string; severity: string; evidence: { ips: string[] } }
    assert.equal(page.session_id, scenario.truth[0]!.session_id)
    assert.equal(page.severity, 'page')
    assert.ok(page.evidence.ips.includes(scenario.truth[0]!.attacker_ip))
  })

  test('a raw token or Authorization header in the input appears in no topic, table, log line or DLQ record', async () => {
    const token = `RAWTOKEN${randomId()}${randomId()}`
    const bearer = `RAWBEARER${randomId()}${randomId()}`
    const broken = `RAWINBROKEN${randomId()}${randomId()}`
    const subject = `hygiene-${randomId()}`
    const lines = [
      JSON.stringify({ kind: 'ISSUE', ts: '2026-11-21T09:00:00Z', subject, session_id: `s-${subject}`, token, ip: '203.0.113.5' }),
      JSON.stringify({ kind: 'VALIDATE', ts: '2026-11-21T09:01:00Z', subject, session_id: `s-${subject}`, authorization: `Bearer ${bearer}`, ip: '203.0.113.5' }),
      `{"kind":"VALIDATE","ts":"not a time","subject":"${subject}","token":"${broken}","authorization":"Bearer ${broken}"}`,
      `{"kind":"VALIDATE","token":"${broken}`,
    ]
    const counts = await replayLines(config, lines, log)
    assert.deepEqual({ issue: counts.issue, validate: counts.validate, dlq: counts.dlq }, { issue: 1, validate: 1, dlq: 2 })
    await waitFor(async () => (await countRows('auth_events', `subject = '${subject}'`)) === 2 && (await countRows('dlq')) >= 2 && (await settled()), { ...WAIT, what: 'hygiene events stored' })

    const secrets = [token, bearer, broken]
    for (const topic of Object.values(pipeline.topics)) {
      const blob = Buffer.concat(await topicBytes(kafka, topic)).toString('latin1')
      for (const s of secrets) assert.ok(!blob.includes(s), `${s} found in topic ${topic}`)
    }
    for (const table of ['auth_events', 'detections', 'dlq']) {
      const rs = await pipeline.clickhouse!.query({ query: `SELECT * FROM ${config.clickhouse.database}.${table}`, format: 'TabSeparated' })
      const text = await rs.text()
      for (const s of secrets) assert.ok(!text.includes(s), `${s} found in table ${table}`)
    }
    assert.ok(logLines.length > 0, 'the logger was used')
    for (const s of secrets) assert.ok(!logLines.some((l) => l.includes(s)), `${s} found in the logs`)
    const stored = await pipeline.clickhouse!.query({
      query: `SELECT token_fp FROM ${config.clickhouse.database}.auth_events FINAL WHERE subject = {subject:String} ORDER BY ts`,
      query_params: { subject }, format: 'JSONEachRow',
    })
    const fps = ((await stored.json()) as { token_fp: string }[]).map((r) => r.token_fp)
    assert.equal(fps.length, 2)
    for (const fp of fps) assert.match(fp, /^tfp_[0-9a-f]{40}$/)
  })

  test('raw gateway lines on logs.gateway are parsed by the format their header names; an unknown format is a DLQ record', async () => {
    const id = randomId()
    const envoy = JSON.stringify({
      start_time: '2026-11-21T11:00:00.000Z', method: 'GET', path: `/api/orders/${id}`, response_code: 200,
      x_request_id: `req-${id}`, user_agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
      downstream_remote_address: '198.51.100.23:51234', authorization: `Bearer raw-${id}-secretvalue`,
    })
    const producer = kafka.producer()
    await producer.connect()
    try {
      await producer.send({ topic: pipeline.topics.logsGateway, acks: -1, messages: [
        { value: envoy, headers: { 'sw-format': 'envoy' } },
        { value: envoy, headers: { 'sw-format': `no-such-format-${id}` } },
      ] })
    } finally {
      await producer.disconnect()
    }
    let unknown: { code: string; reason: string } | undefined
    await waitFor(async () => {
      for (const b of await topicBytes(kafka, pipeline.topics.dlq)) {
        try {
          const r = codecs.dlq.decode(b)
          if (r.reason.includes(`no-such-format-${id}`)) unknown = r
        } catch {
          // not a DLQ record
        }
      }
      return unknown !== undefined && (await countRows('auth_events', `event_id = 'envoy:req-${id}' AND token_fp LIKE 'tfp_%'`)) === 1
    }, { ...WAIT, what: 'the envoy event in ClickHouse and the unknown-format record in the DLQ' })
    assert.equal(unknown!.code, 'UNKNOWN_FORMAT')
  })

  test('malformed lines go to auth.dlq with their reason and the lines after them still arrive', async () => {
    const subject = `dlq-${randomId()}`
    const good = (minute: number) => JSON.stringify({ kind: 'VALIDATE', ts: `2026-11-21T10:0${minute}:00Z`, subject, session_id: `s-${subject}`, token_fp: 'tfp_x', ip: '198.51.100.7' })
    const lines = [
      good(0),
      '{"kind": "VALIDATE", oops',
      JSON.stringify({ ts: '2026-11-21T10:00:00Z', subject }),
      JSON.stringify({ kind: 'VALIDATE', ts: '2026-11-21T10:00:00Z', subject, status: 'two hundred' }),
      JSON.stringify({ kind: 'VALIDATE', ts: '2026-11-21T10:00:00Z', subject, route: 'x'.repeat(200_000) }),
      good(1),
    ]
    const counts = await replayLines(config, lines, log)
    assert.equal(counts.validate, 2)
    assert.equal(counts.dlq, 4)
    const origins = new Map<string, { code: string; reason: string }>()
    await waitFor(async () => {
      origins.clear()
      for (const b of await topicBytes(kafka, pipeline.topics.dlq)) {
        try {
          const r = codecs.dlq.decode(b)
          if (r.origin.startsWith(counts.file + ':')) origins.set(r.origin.slice(counts.file.length + 1), { code: r.code, reason: r.reason })
        } catch {
          // keys are not DLQ records
        }
      }
      return [2, 3, 4, 5].every((line) => [...origins.keys()].includes(String(line))) && (await countRows('auth_events', `subject = '${subject}'`)) === 2
    }, { ...WAIT, what: 'dlq records and the good lines' })
    assert.equal(origins.get('2')!.code, 'BAD_JSON')
    assert.equal(origins.get('3')!.code, 'MISSING_FIELD')
    assert.match(origins.get('3')!.reason, /kind/)
    assert.equal(origins.get('4')!.code, 'BAD_FIELD')
    assert.match(origins.get('4')!.reason, /status/)
    assert.equal(origins.get('5')!.code, 'LINE_TOO_LONG')
  })
})
