// `sessionwatch up` as a real process: stopped with SIGTERM in the middle of a stream and started again,
// it loses nothing; its HTTP intake and api authenticate callers and bound request sizes.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { generate } from '../../services/generator/generate.js'
import { loadConfig, type Config } from '../../services/shared/config.js'
import { createLogger } from '../../services/shared/log.js'
import { freePort, randomId, replayLines, testEnv, waitFor } from '../support/harness.js'
import { repoRoot } from '../support/paths.js'

const WAIT = { timeoutMs: 180_000 }

function startUp(env: Record<string, string | undefined>): { child: ChildProcess; output: string[]; exited: Promise<number | null> } {
  const output: string[] = []
  const child = spawn(process.execPath, [join(repoRoot, 'dist/services/cli/main.js'), 'up'], {
    env: { ...process.env, ...env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (b: Buffer) => output.push(b.toString()))
  child.stderr!.on('data', (b: Buffer) => output.push(b.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, output, exited }
}

describe('sessionwatch up as a process', () => {
  const log = createLogger({ level: 'warn' })
  let env: Record<string, string | undefined>
  let config: Readonly<Config>
  let running: ReturnType<typeof startUp> | undefined

  before(async () => {
    env = testEnv({ SW_API_PORT: String(await freePort()), SW_INTAKE_PORT: String(await freePort()), SW_INTAKE_MAX_BODY_BYTES: '65536' })
    config = loadConfig(env)
  })

  after(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGTERM')
      await running.exited
    }
  })

  const api = (path: string, token: string | null = config.api.token ?? null) =>
    fetch(`${config.api.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  const healthy = async () => (await api('/healthz').catch(() => undefined))?.ok === true
  const storedEvents = async () => {
    const r = await api('/v1/stats')
    return r.ok ? ((await r.json()) as { tables: { auth_events: number } }).tables.auth_events : -1
  }

  test('a SIGTERM in the middle of a stream and a restart lose no event', async () => {
    running = startUp(env)
    await waitFor(healthy, { ...WAIT, what: 'the api of the first process' })
    const scenario = generate({ users: 1200, attacks: 3, requestsPerSession: 12, seed: 5, startMs: Date.parse('2026-11-22T08:00:00Z') })
    // The stop comes mid-stream by construction, not by timing (a fast machine stores a whole replay before a
    // SIGTERM lands): the first half is shipped while the process runs and stopped as soon as rows arrive, the
    // second half while it is down, so the restarted process must take over exactly where the first stopped.
    const half = Math.floor(scenario.lines.length / 2)
    const first = await replayLines(config, scenario.lines.slice(0, half), log)
    await waitFor(async () => (await storedEvents()) > 0, { ...WAIT, what: 'the first rows in ClickHouse' })
    running.child.kill('SIGTERM')
    assert.equal(await running.exited, 0, running.output.join(''))
    const second = await replayLines(config, scenario.lines.slice(half), log)
    const expected = [first, second].reduce((n, c) => n + c.issue + c.revoke + c.validate, 0)
    assert.equal(expected, scenario.lines.length)

    running = startUp(env)
    await waitFor(healthy, { ...WAIT, what: 'the api of the second process' })
    await waitFor(async () => (await storedEvents()) === expected, { ...WAIT, what: `all ${expected} events stored` })
    // The detector runs behind the sink: wait for each planted hijack's page rather than reading once.
    const paged = new Set<string>()
    await waitFor(async () => {
      for (const t of scenario.truth) {
        const r = await api(`/v1/detections?severity=page&subject=${encodeURIComponent(t.subject)}`)
        const found = ((await r.json()) as { detections: { session_id: string }[] }).detections
        if (found.some((d) => d.session_id === t.session_id)) paged.add(t.session_id)
      }
      return paged.size === scenario.truth.length
    }, { ...WAIT, what: `pages for the ${scenario.truth.length} planted hijacks across the restart` })
  })

  test('the intake takes NDJSON only from authenticated callers, within its size limit', async () => {
    const intake = `http://${config.collector.host}:${config.collector.intakePort}/v1/events`
    const subject = `intake-${randomId()}`
    const body = [
      JSON.stringify({ kind: 'ISSUE', ts: '2026-11-22T09:00:00Z', subject, session_id: `s-${subject}`, token: `tok-${randomId()}` }),
      JSON.stringify({ kind: 'VALIDATE', ts: '2026-11-22T09:00:05Z', subject, session_id: `s-${subject}`, token: `tok-${randomId()}` }),
      '{"kind": broken',
    ].join('\n')
    const post = (payload: string, token?: string) => fetch(intake, {
      method: 'POST', body: payload, headers: { 'content-type': 'application/x-ndjson', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    })
    assert.equal((await post(body)).status, 401)
    assert.equal((await post(body, 'x'.repeat(40))).status, 401)
    assert.equal((await post('x'.repeat(70_000), config.collector.intakeToken)).status, 413)
    const accepted = await post(body, config.collector.intakeToken)
    assert.equal(accepted.status, 202)
    assert.deepEqual(await accepted.json(), { accepted: 2, rejected: 1, skipped: 0 })
    await waitFor(async () => {
      const r = await api(`/v1/timeline/user/${encodeURIComponent(subject)}`)
      return r.ok && ((await r.json()) as { events: unknown[] }).events.length === 2
    }, { ...WAIT, what: 'intake events in the timeline' })
  })

  test('the intake answers the Okta event hook verification and takes a pretty-printed delivery as one document', async () => {
    const intake = `http://${config.collector.host}:${config.collector.intakePort}/v1/events?format=okta`
    const auth = { authorization: `Bearer ${config.collector.intakeToken}` }
    const challenge = await fetch(intake, { headers: { ...auth, 'x-okta-verification-challenge': 'c-123' } })
    assert.equal(challenge.status, 200)
    assert.deepEqual(await challenge.json(), { verification: 'c-123' })
    assert.equal((await fetch(intake, { headers: { 'x-okta-verification-challenge': 'c-123' } })).status, 401)
    const userId = `00u${randomId()}`
    const logEvent = (uuid: string, eventType: string, published: string) => ({
      uuid, published, eventType, version: '0', severity: 'INFO', displayMessage: eventType,
      actor: { id: userId, type: 'User', alternateId: 'ana@acme.example', displayName: 'Ana' },
      client: { ipAddress: '73.14.46.203', userAgent: { rawUserAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0' } },
      outcome: { result: 'SUCCESS' },
      authenticationContext: { externalSessionId: `idx${userId}` },
    })
    const delivery = {
      eventType: 'com.okta.event_hook', eventTypeVersion: '1.0', cloudEventsVersion: '0.1', contentType: 'application/json',
      eventId: `hook-${randomId()}`, eventTime: '2026-11-22T10:00:05.000Z',
      data: { events: [logEvent(`${userId}-1`, 'user.session.start', '2026-11-22T10:00:00.000Z'), logEvent(`${userId}-2`, 'user.session.end', '2026-11-22T10:30:00.000Z')] },
    }
    const posted = await fetch(intake, { method: 'POST', body: JSON.stringify(delivery, null, 2), headers: { ...auth, 'content-type': 'application/json' } })
    assert.equal(posted.status, 202)
    assert.deepEqual(await posted.json(), { accepted: 2, rejected: 0, skipped: 0 })
  })

  test('the api refuses callers without its token, except for health', async () => {
    assert.equal((await api('/metrics', null)).status, 401)
    assert.equal((await api('/v1/stats', 'wrong-token-wrong-token-wrong-token')).status, 401)
    const metrics = await api('/metrics')
    assert.equal(metrics.status, 200)
    assert.match(await metrics.text(), /sessionwatch_sink_rows_total/)
    assert.equal((await api('/v1/timeline/user/x?limit=999999')).status, 400)
  })
})
