// `make bench-quality`: the detectors over labeled traffic (services/generator/scenarios.ts): every kind of
// honest noise and every kind of hijack. Scores per kind: recall (attack sessions paged), false-positive
// sessions per 10 000 honest sessions, and time to detect in event time (detected_ts − first_malicious_ts).
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { quantile } from 'simple-statistics'
import type { AuthEvent, Detection } from '../schemas/model.js'
import { createFormatRegistry } from '../services/collector/formats/index.js'
import { createConfiguredNormalizer } from '../services/collector/setup.js'
import { parseInputs, runBacktest } from '../services/cli/offline.js'
import { ATTACK_KINDS, NOISE_KINDS, generateQualityScenario } from '../services/generator/scenarios.js'
import { loadConfig, processEnv } from '../services/shared/config.js'
import { packageRoot } from '../services/shared/paths.js'
import { numberArg } from './args.js'

const honestSessions = numberArg('--honest', 12_000)
const attacksPerKind = numberArg('--attacks', 40)
const seed = numberArg('--seed', 17)
const out = join(packageRoot, 'bench', 'out')
mkdirSync(out, { recursive: true })
// SW_HOT_GROUPS passes through, to check that freezing idle state changes no detection.
const config = loadConfig({ SW_LOCAL_SECRETS: '1', SW_DATA_DIR: out, SW_LOG_LEVEL: 'warn', SW_HOT_GROUPS: processEnv().SW_HOT_GROUPS })
const scenario = generateQualityScenario({ honestSessions, attacksPerKind, seed, startMs: Date.parse('2026-11-20T00:00:00Z') })
const file = join(out, `quality-${seed}.ndjson`)
writeFileSync(file, scenario.lines.join('\n') + '\n')

const events: AuthEvent[] = []
const now = () => Date.now()
const stats = await parseInputs(
  { formats: createFormatRegistry(), normalize: createConfiguredNormalizer(config.collector, now), now, maxLineBytes: config.collector.maxLineBytes },
  'canonical', [file], Readable.from([]), (e) => events.push(e),
)
const detections: Detection[] = []
runBacktest(events, config.detector, (d) => detections.push(d))

// The highest severity and the earliest paging time per session.
const bySession = new Map<string, { severity: number; pagedAt?: number; detectors: Set<string> }>()
const rank = { info: 0, ticket: 1, page: 2 }
for (const d of detections) {
  if (!d.session_id) continue
  const entry = bySession.get(d.session_id) ?? { severity: -1, detectors: new Set<string>() }
  entry.severity = Math.max(entry.severity, rank[d.severity])
  entry.detectors.add(d.detector)
  if (d.severity === 'page' && (entry.pagedAt === undefined || d.detected_ts < entry.pagedAt)) entry.pagedAt = d.detected_ts
  bySession.set(d.session_id, entry)
}

const rows: Record<string, unknown>[] = []
for (const kind of ATTACK_KINDS) {
  const attacked = scenario.sessions.filter((s) => s.label === kind)
  const paged = attacked.filter((s) => bySession.get(s.session_id)?.pagedAt !== undefined)
  const ticketed = attacked.filter((s) => (bySession.get(s.session_id)?.severity ?? -1) >= 1)
  const ttd = paged.map((s) => (bySession.get(s.session_id)!.pagedAt! - Date.parse(s.first_malicious_ts!)) / 1000)
  const detectors = new Set(paged.flatMap((s) => [...bySession.get(s.session_id)!.detectors]))
  rows.push({
    kind, sessions: attacked.length, recall_page: round(paged.length / attacked.length), recall_ticket_or_page: round(ticketed.length / attacked.length),
    ttd_median_s: ttd.length ? Math.round(quantile(ttd, 0.5)) : null, ttd_p95_s: ttd.length ? Math.round(quantile(ttd, 0.95)) : null,
    detectors: [...detectors].sort().join(' '),
  })
}
const noise: Record<string, unknown>[] = []
for (const kind of NOISE_KINDS) {
  const honest = scenario.sessions.filter((s) => s.label === kind)
  const paged = honest.filter((s) => bySession.get(s.session_id)?.pagedAt !== undefined).length
  const ticketed = honest.filter((s) => (bySession.get(s.session_id)?.severity ?? -1) >= 1).length
  noise.push({ kind, sessions: honest.length, paged, ticket_or_page: ticketed })
}
const honestAll = scenario.sessions.filter((s) => !s.attack)
const attackAll = scenario.sessions.filter((s) => s.attack)
const fpPage = honestAll.filter((s) => bySession.get(s.session_id)?.pagedAt !== undefined).length
const fpTicket = honestAll.filter((s) => (bySession.get(s.session_id)?.severity ?? -1) >= 1).length
const summary = {
  events: stats.events,
  honest_sessions: honestAll.length,
  attack_sessions: attackAll.length,
  recall_page: round(attackAll.filter((s) => bySession.get(s.session_id)?.pagedAt !== undefined).length / attackAll.length),
  false_positive_pages_per_10k: round((fpPage / honestAll.length) * 10_000),
  false_positive_tickets_or_pages_per_10k: round((fpTicket / honestAll.length) * 10_000),
}
console.table(rows)
console.table(noise)
console.log(JSON.stringify(summary, null, 2))
writeFileSync(join(out, 'quality.json'), JSON.stringify({ summary, attacks: rows, noise }, null, 2) + '\n')

function round(x: number): number {
  return Math.round(x * 1000) / 1000
}
