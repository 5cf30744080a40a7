// `sessionwatch backtest --feedback <file>`: an analyst replays history with their verdicts and sees which pages
// the benign patterns would have kept quiet, and that everything else still pages. No Kafka, no ClickHouse.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable, Writable } from 'node:stream'
import { test } from 'node:test'
import type { Detection, DetectionFeedback } from '../../schemas/model.js'
import { detectorsOf, feedbackEvidence } from '../../detectors/feedback.js'
import { loadConfig } from '../shared/config.js'
import { UsageError } from '../shared/errors.js'
import { feedbackToJson } from '../shared/feedback-json.js'
import type { CommandContext } from './command.js'
import { backtestCommand } from './commands/offline.js'

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'
const HOME = { ip: '73.14.86.31', asn: 7922, asn_org: 'Comcast Cable Communications, LLC', country: 'US', city: 'Denver', lat: 39.74, lon: -104.99, user_agent: CHROME, device_id: 'd-laptop' }
const JUMP_HOST = { ip: '167.99.1.2', asn: 14061, asn_org: 'DigitalOcean, LLC', country: 'NL', city: 'Amsterdam', lat: 52.37, lon: 4.9, user_agent: FIREFOX, device_id: 'd-jump' }
const ELSEWHERE = { ip: '89.40.11.5', asn: 12389, asn_org: 'Rostelecom', country: 'RU', city: 'Moscow', lat: 55.75, lon: 37.62, user_agent: FIREFOX, device_id: 'd-jump' }

function session(id: string, start: number, away: Record<string, unknown>): string[] {
  const at = (minutes: number) => new Date(start + minutes * 60_000).toISOString()
  const own = { subject: 'u1@acme.example', session_id: id, token_fp: `tfp_${id}`, token_kind: 'session_cookie', source: { system: 'test' } }
  const use = (n: number, minutes: number, where: Record<string, unknown>) =>
    JSON.stringify({ event_id: `${id}-${n}`, kind: 'VALIDATE', action: 'request', ts: at(minutes), validator: 'edge-1', status: 200, result: 'OK', ...own, ...where })
  return [
    JSON.stringify({ event_id: `${id}-0`, kind: 'ISSUE', action: 'login', ts: at(0), amr: ['pwd', 'otp'], ...own, ...HOME }),
    use(1, 1, HOME), use(2, 5, away), use(3, 6, away), use(4, 7, HOME),
  ]
}

const dir = mkdtempSync(join(tmpdir(), 'sw-backtest-feedback-'))
const T0 = Date.parse('2026-11-22T08:00:00Z')
const DAY = 24 * 3600_000
const history = join(dir, 'history.ndjson')
writeFileSync(history, [...session('s-first', T0, JUMP_HOST), ...session('s-again', T0 + DAY, JUMP_HOST), ...session('s-other', T0 + 2 * DAY, ELSEWHERE)].join('\n') + '\n')

async function backtest(args: string[]): Promise<{ detections: Detection[]; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const sink = (append: (s: string) => void) => new Writable({ write(chunk, _e, done) { append(chunk.toString()); done() } })
  const values: Record<string, string> = {}
  const files: string[] = []
  for (let i = 0; i < args.length; i++) {
    if (args[i]!.startsWith('--')) values[args[i]!.slice(2)] = args[++i]!
    else files.push(args[i]!)
  }
  const env = { SW_FINGERPRINT_KEY: 'k'.repeat(32), SW_ENRICH: 'off' }
  const ctx = {
    env, stdin: Readable.from([]) as unknown as PassThrough, stopSignal: new Promise<string>(() => {}),
    stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)),
    config: () => loadConfig(env), log: () => { throw new Error('the backtest logs nothing') },
  } as unknown as CommandContext
  assert.equal(await backtestCommand.run({ format: 'canonical', ...values }, files, ctx), 0)
  return { detections: stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Detection), stderr }
}

/** Latest version of each detection of a session (an incident is re-reported when its score rises). */
function latest(detections: Detection[], session: string): Detection[] {
  const byId = new Map<string, Detection>()
  for (const d of detections) if (d.session_id === session) byId.set(d.detection_id, d)
  return [...byId.values()]
}

const pages = (ds: Detection[]) => ds.filter((d) => d.severity === 'page').map((d) => d.detector).sort()

test('backtest --feedback lowers the detections within the verdicts\' benign pattern, before and after the verdict, and no others', async () => {
  const plain = await backtest([history])
  const first = latest(plain.detections, 's-first')
  assert.ok(pages(first).length > 0, 'without feedback the jump host pages')
  assert.ok(pages(latest(plain.detections, 's-again')).length > 0)

  // The verdicts as GET /v1/feedback lists them; built from the detection alone (no events looked up), as when
  // the trail has aged out of ClickHouse.
  const verdicts: DetectionFeedback[] = first.map((d, i) => ({
    feedback_id: `fb-${i}`, detection_id: d.detection_id, verdict: 'false_positive', scope: 'user', note: 'jump host', analyst: 'alice',
    ts: T0 + 3 * DAY, detector: d.detector, detectors: detectorsOf(d), subject: d.subject, session_id: d.session_id, token_fp: d.token_fp,
    score: d.score, severity: d.severity, evidence: feedbackEvidence(d, new Map()),
  }))
  const file = join(dir, 'verdicts.ndjson')
  writeFileSync(file, verdicts.map((v) => JSON.stringify(feedbackToJson(v))).join('\n') + '\n')

  const judged = await backtest(['--feedback', file, history])
  assert.deepEqual(pages(latest(judged.detections, 's-first')), [], 'history before the verdict is lowered too')
  const again = latest(judged.detections, 's-again')
  assert.ok(again.length > 0)
  assert.deepEqual(pages(again), [])
  assert.ok(again.every((d) => d.evidence.reasons.some((r) => r.startsWith('analyst feedback: benign pattern for u1@acme.example'))))
  assert.deepEqual(pages(latest(judged.detections, 's-other')), pages(latest(plain.detections, 's-other')))
  assert.ok(pages(latest(judged.detections, 's-other')).length > 0)
  assert.match(judged.stderr, new RegExp(`feedback: ${verdicts.length} verdicts, [1-9][0-9]* detections lowered`))
})

test('a bad line in the feedback file is a usage error naming the file and line', async () => {
  const file = join(dir, 'bad.ndjson')
  writeFileSync(file, JSON.stringify({ detection_id: 'det_x', verdict: 'benign' }) + '\n')
  await assert.rejects(backtest(['--feedback', file, history]), (e: unknown) => e instanceof UsageError && e.message.startsWith(`--feedback ${file}:1: `) && /verdict/.test(e.message))
  await assert.rejects(backtest(['--feedback', join(dir, 'missing.ndjson'), history]), (e: unknown) => e instanceof UsageError && /cannot read/.test(e.message))
})
