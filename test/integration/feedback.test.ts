// Analyst feedback end to end, on the real broker and the embedded ClickHouse: a session pages, an analyst marks
// its detections false positive through the api over HTTP, and the same benign pattern later stays below a page
// while the same user from another network still pages; the verdicts are rows in ClickHouse and the detector
// reads them all before its first event after a restart.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { incidentId } from '../../services/alerter/incident.js'
import { createDetectorService } from '../../services/detector/detector.js'
import type { Pipeline } from '../../services/pipeline.js'
import { createCodecs } from '../../services/shared/avro.js'
import type { Config } from '../../services/shared/config.js'
import { readToEnd } from '../../services/shared/consume.js'
import { createKafka } from '../../services/shared/kafka.js'
import { createMetrics } from '../../services/shared/metrics.js'
import { capturingLogger, groupCaughtUp, randomId, replayLines, startPipeline, testEnv, waitFor } from '../support/harness.js'

const WAIT = { timeoutMs: 120_000 }
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'
const HOME = { ip: '73.14.86.31', asn: 7922, asn_org: 'Comcast Cable Communications, LLC', country: 'US', city: 'Denver', lat: 39.74, lon: -104.99, user_agent: CHROME, device_id: 'd-laptop' }
/** The user's jump host in a data centre, with Firefox on Linux: the pattern the analyst will call benign. */
const JUMP_HOST = { ip: '167.99.1.2', asn: 14061, asn_org: 'DigitalOcean, LLC', country: 'NL', city: 'Amsterdam', lat: 52.37, lon: 4.9, user_agent: FIREFOX, device_id: 'd-jump' }
const ELSEWHERE = { ip: '89.40.11.5', asn: 12389, asn_org: 'Rostelecom', country: 'RU', city: 'Moscow', lat: 55.75, lon: 37.62, user_agent: FIREFOX, device_id: 'd-jump' }

type Row = Record<string, unknown> & { detection_id: string; session_id: string; severity: string; score: number; detector: string; evidence: string }

describe('analyst feedback through the api, the broker and ClickHouse', () => {
  const { log, lines: logLines } = capturingLogger()
  let pipeline: Pipeline
  let config: Readonly<Config>
  let kafka: ReturnType<typeof createKafka>
  let api: string
  const subject = `fb-${randomId()}@acme.example`

  before(async () => {
    ;({ pipeline, config } = await startPipeline(testEnv(), log))
    kafka = createKafka(config.kafka, log)
    api = (pipeline.services.api as unknown as { url: string }).url
  })

  after(async () => {
    await pipeline?.stop()
  })

  /** One session: login and requests at home, then two requests from `away`, then home again. */
  function session(id: string, start: number, away: Record<string, unknown>): string[] {
    const at = (minutes: number) => new Date(start + minutes * 60_000).toISOString()
    const own = { subject, session_id: id, token_fp: `tfp_${id}`, token_kind: 'session_cookie', source: { system: 'feedback-test' } }
    const use = (n: number, minutes: number, where: Record<string, unknown>) =>
      JSON.stringify({ event_id: `${id}-${n}`, kind: 'VALIDATE', action: 'request', ts: at(minutes), validator: 'edge-1', method: 'GET', route: '/api/inbox', status: 200, result: 'OK', ...own, ...where })
    return [
      JSON.stringify({ event_id: `${id}-0`, kind: 'ISSUE', action: 'login', ts: at(0), amr: ['pwd', 'otp'], ...own, ...HOME }),
      use(1, 1, HOME), use(2, 5, away), use(3, 6, away), use(4, 7, HOME),
    ]
  }

  const call = async (path: string, init: { method?: string; token?: string; body?: unknown; rawBody?: string } = {}) => {
    const response = await fetch(api + path, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${init.token ?? config.api.token}`, ...(init.body !== undefined || init.rawBody !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  const detectionsOf = async (sessionId: string): Promise<Row[]> => {
    const { body } = await call(`/v1/detections?subject=${encodeURIComponent(subject)}&limit=500`)
    return (body.detections as Row[]).filter((d) => d.session_id === sessionId)
  }
  const group = (name: string) => `${config.kafka.topicPrefix}sessionwatch-${name}`
  const settled = async () => {
    const t = pipeline.topics
    return (await groupCaughtUp(kafka, group('detector'), [t.issue, t.revoke, t.validate])) &&
      (await groupCaughtUp(kafka, group('sink'), [t.issue, t.revoke, t.validate, t.detections, t.feedback]))
  }
  const feedbackRows = async () => {
    const rs = await pipeline.clickhouse!.query({
      query: `SELECT detection_id, verdict, scope, analyst, subject, asns, countries, clients FROM ${config.clickhouse.database}.detection_feedback FINAL WHERE subject = {subject:String}`,
      query_params: { subject }, format: 'JSONEachRow',
    })
    return (await rs.json()) as { detection_id: string; verdict: string; scope: string; analyst: string; asns: number[]; countries: string[]; clients: string[] }[]
  }
  const patternsInForce = async () => (await pipeline.metrics.feedbackPatterns.get()).values[0]?.value ?? 0

  const T0 = Date.parse('2026-11-22T08:00:00Z')
  const DAY = 24 * 3600_000
  let judged: Row[] = []

  test('a session from the jump host pages; the analyst marks its detections false positive over HTTP and they are stored with their pattern', async () => {
    await replayLines(config, session('s-first', T0, JUMP_HOST), log)
    await waitFor(async () => (await settled()) && (await detectionsOf('s-first')).some((d) => d.severity === 'page'), { ...WAIT, what: 'the first session paging' })
    judged = await detectionsOf('s-first')

    // The refusals first: the read-only token, an unknown detection, a bad body, an oversized one.
    const first = judged[0]!.detection_id
    assert.equal((await call(`/v1/detections/${first}/feedback`, { method: 'POST', body: { verdict: 'false_positive' } })).status, 401)
    const analyst = config.api.analystToken!
    assert.equal((await call(`/v1/detections/det_${'0'.repeat(32)}/feedback`, { method: 'POST', token: analyst, body: { verdict: 'false_positive' } })).status, 404)
    const bad = await call(`/v1/detections/${first}/feedback`, { method: 'POST', token: analyst, body: { verdict: 'benign', extra: 1 } })
    assert.equal(bad.status, 400)
    assert.match(String(bad.body.error), /verdict/)
    assert.equal((await call(`/v1/detections/${first}/feedback`, { method: 'POST', token: analyst, rawBody: JSON.stringify({ verdict: 'false_positive', note: 'x'.repeat(40_000) }) })).status, 413)
    assert.equal((await call(`/v1/detections/not-an-id/feedback`, { method: 'POST', token: analyst, body: { verdict: 'false_positive' } })).status, 400)

    for (const d of judged) {
      const { status, body } = await call(`/v1/detections/${d.detection_id}/feedback`, {
        method: 'POST', token: analyst, body: { verdict: 'false_positive', analyst: 'alice', note: 'her jump host, ticket SEC-1234', scope: 'user' },
      })
      assert.equal(status, 202, JSON.stringify(body))
      const record = body.feedback as { detection_id: string; subject: string; evidence: { uses: { asns: number[]; prefixes: string[]; countries: string[]; clients: string[] }; suspicious: { asns: number[] } } }
      assert.equal(record.detection_id, d.detection_id)
      assert.equal(record.subject, subject)
      assert.deepEqual([...record.evidence.uses.asns].sort((a, b) => a - b), [7922, 14061])
      assert.deepEqual([...record.evidence.uses.countries].sort(), ['NL', 'US'])
      assert.ok(record.evidence.uses.clients.includes('Firefox/Linux/desktop'), record.evidence.uses.clients.join())
      assert.ok(record.evidence.uses.prefixes.every((p) => p.includes('/')), 'prefixes, never raw addresses')
    }
    await waitFor(async () => (await feedbackRows()).length === judged.length && (await patternsInForce()) >= judged.length, { ...WAIT, what: 'verdicts stored and in force in the detector' })
    const rows = await feedbackRows()
    assert.deepEqual(new Set(rows.map((r) => r.detection_id)), new Set(judged.map((d) => d.detection_id)))
    for (const r of rows) {
      assert.equal(r.verdict, 'false_positive')
      assert.equal(r.analyst, 'alice')
      assert.deepEqual([...r.asns].sort((a, b) => a - b), [7922, 14061])
    }
    // A false alarm resolves its incident: one resolve command per verdict, all for the first session's incident.
    const commands: { incident_id: string; action: string; by: string; reason: string }[] = []
    await readToEnd(kafka, pipeline.topics.alertCommands, (_key, value) => { if (value) commands.push(JSON.parse(value.toString('utf8'))) })
    assert.equal(commands.length, judged.length)
    assert.deepEqual(new Set(commands.map((c) => c.incident_id)), new Set([incidentId(judged[0]!)]))
    assert.ok(commands.every((c) => c.action === 'resolve' && c.by === 'alice' && c.reason.includes('false positive')))
    const listed = await call(`/v1/detections/${first}/feedback`)
    assert.equal(listed.status, 200)
    assert.equal(listed.body.verdict, 'false_positive')
    assert.equal((await detectionsOf('s-first')).every((d) => (d.feedback as { verdict: string } | null)?.verdict === 'false_positive'), true)
  })

  test('later, the same benign pattern stays below a page while the same user from another network still pages', async (t) => {
    assert.ok(judged.length > 0, 'the first test judged detections')
    await replayLines(config, [...session('s-again', T0 + DAY, JUMP_HOST), ...session('s-other', T0 + DAY + 3600_000, ELSEWHERE)], log)
    await waitFor(async () => (await settled()) && (await detectionsOf('s-again')).length > 0 && (await detectionsOf('s-other')).some((d) => d.severity === 'page'), { ...WAIT, what: 'the later sessions scored' })
    const again = await detectionsOf('s-again')
    assert.deepEqual(again.filter((d) => d.severity !== 'info').map((d) => `${d.detector} ${d.score}`), [])
    for (const d of again) {
      const reasons = (JSON.parse(d.evidence) as { reasons: string[] }).reasons
      assert.ok(reasons.some((r) => r.startsWith(`analyst feedback: benign pattern for ${subject}`)), reasons.join(' | '))
      assert.equal(d.confirmed, false)
    }
    const other = await detectionsOf('s-other')
    const show = (ds: Row[]) => ds.map((d) => `${d.detector} ${d.score} ${d.severity}`).join(', ')
    t.diagnostic(`first: ${show(judged)}; same pattern later: ${show(again)}; another network: ${show(other)}`)
    assert.ok(other.some((d) => d.detector === 'multi_network' && d.severity === 'page'))
    assert.ok(other.every((d) => !d.evidence.includes('analyst feedback')))
    assert.ok(logLines.some((l) => l.includes('detection lowered by analyst feedback')))
    assert.ok(!logLines.some((l) => l.includes(config.api.analystToken!)), 'the analyst token is never logged')
  })

  test('a detector started afterwards holds every verdict before it consumes its first event', async () => {
    const fresh = createDetectorService({
      config: config.detector, kafka, topics: pipeline.topics, codecs: createCodecs(), log, metrics: createMetrics(), now: () => Date.now(),
      groupId: `${group('detector')}-fresh-${randomId()}`,
    })
    try {
      await fresh.start()
      assert.equal(fresh.feedback.records, judged.length)
      assert.equal(fresh.feedback.patterns(Date.now()).length, judged.length)
    } finally {
      await fresh.stop()
    }
  })
})
