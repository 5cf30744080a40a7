// `make bench-alert`: what the alerter adds per detection before any network I/O — the policy decision
// (routing rules, privilege globs, suppression CIDRs), the incident book (trigger or update, idempotency key)
// and building and enqueueing the deliveries for three channels plus the response actions. Deliveries go to a
// fetch that answers at once, so the figure is the alerter's own work, not a receiver's latency.
import { cpus } from 'node:os'
import { quantile, median } from 'simple-statistics'
import { numberArg } from './args.js'
import { createAlertRouter } from '../services/alerter/alerter.js'
import { createChannels } from '../services/alerter/channels.js'
import { createDeliverer } from '../services/alerter/delivery.js'
import { createIncidentBook } from '../services/alerter/incident-book.js'
import { parsePolicy } from '../services/alerter/policy.js'
import { createResponseActions } from '../services/alerter/response.js'
import { sampleDetection } from '../services/alerter/test-fixtures.js'
import { loadConfig } from '../services/shared/config.js'
import { createLogger } from '../services/shared/log.js'
import { generateKeyPairSync } from 'node:crypto'

const DETECTIONS = numberArg('--detections', 20_000)
const RUNS = numberArg('--runs', 5)
const SESSIONS = numberArg('--sessions', 2_000)

const parsed = parsePolicy({
  privileged: { subjects: ['admin-*', '*@ops.acme.example'], routes: ['/admin/*'] },
  routing: { rules: [{ name: 'privileged', when: { privileged: true }, action: 'page' }, { name: 'weak', when: { confirmed: false }, action: 'ticket' }] },
  suppressions: [{ id: 'pentest', cidrs: ['198.51.100.0/24', '2001:db8::/32'], asns: [64500], until: '2999-01-01T00:00:00Z' }],
  channels: { pagerduty: { routing_key: 'R0123456789abcdef0123456789abcde', url: 'http://127.0.0.1:9/pd' }, slack: { webhook_url: 'http://127.0.0.1:9/slack' } },
  response: { mode: 'enforce', revocation: { url: 'http://127.0.0.1:9/revoke', client_id: 'sw', client_secret: 'client-secret-123' }, ssf: { issuer: 'https://sw.bench', receivers: [{ name: 'idp', url: 'http://127.0.0.1:9/ssf', audience: 'idp' }] } },
})
if (!parsed.ok) throw new Error(parsed.problems.join('; '))
const policy = parsed.policy
const config = loadConfig({ SW_WEBHOOK_URL: 'http://127.0.0.1:9/hook', SW_WEBHOOK_SECRET: 'bench-secret-bench-secret-bench-secret' }).alerter
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
const log = createLogger({ level: 'silent' })
const instantFetch = (async () => new Response('{}', { status: 202 })) as typeof fetch
const detections = Array.from({ length: DETECTIONS }, (_, i) => sampleDetection({
  detection_id: `det_${i}`, subject: i % 50 === 0 ? `admin-${i % SESSIONS}` : `u${i % SESSIONS}@acme.example`, session_id: `s-${i % SESSIONS}`,
  score: 0.5 + (i % 50) / 100, confirmed: i % 3 !== 0, detected_ts: 1_700_000_000_000 + i * 1000,
}))

const results: Record<string, unknown> = { machine: `${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`, detections_per_run: DETECTIONS, sessions: SESSIONS, runs: RUNS }
const p50s: number[] = []
const p99s: number[] = []
for (let run = 0; run < RUNS; run++) {
  const now = () => 1_700_000_000_000
  const deliverer = createDeliverer({ concurrency: 4, tries: 3, backoffMs: 1, timeoutMs: 1000, breaker: policy.delivery.breaker, now, log, fetch: instantFetch })
  const router = createAlertRouter({
    policy, channels: createChannels(config, policy, config.webhookSecret!, now), actions: createResponseActions(policy.response, { ssfSigningKeyPem: pem, now }),
    deliverer, book: createIncidentBook(policy.incidents), log, now,
    outputs: { record: () => {}, deadLetter: async () => {}, revoked: async () => {} },
  })
  const samples = new Float64Array(DETECTIONS)
  const pending: Promise<unknown>[] = []
  for (let i = 0; i < DETECTIONS; i++) {
    const started = process.hrtime.bigint()
    const tasks = router.handle(detections[i]!)
    samples[i] = Number(process.hrtime.bigint() - started) / 1e6
    pending.push(...tasks)
    // Drain every 500 detections like a consumer batch would, so queues do not grow without bound.
    if (i % 500 === 499) {
      await Promise.all(pending.splice(0))
      router.settled()
    }
  }
  await Promise.all(pending)
  const sorted = [...samples].sort((a, b) => a - b)
  p50s.push(quantile(sorted, 0.5))
  p99s.push(quantile(sorted, 0.99))
  results[`run_${run + 1}`] = { p50_ms: +quantile(sorted, 0.5).toFixed(4), p99_ms: +quantile(sorted, 0.99).toFixed(4), max_ms: +sorted.at(-1)!.toFixed(3), stats: router.stats }
}
results.median_p50_ms = +median(p50s).toFixed(4)
results.median_p99_ms = +median(p99s).toFixed(4)
results.goal_p99_ms = 5
console.log(JSON.stringify(results, null, 2))
