// `make bench`: sessionwatch backtest over a generated file of at least 200k events, several runs, medians.
// Each run is a fresh process (what a user runs), so JIT warm-up is part of the figure.
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync, existsSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { median } from 'simple-statistics'
import { numberArg } from './args.js'
import { processEnv } from '../services/shared/config.js'
import { generate } from '../services/generator/generate.js'
import { packageRoot } from '../services/shared/paths.js'

const RUNS = numberArg('--runs', 5)
const USERS = numberArg('--users', 6500)
const out = join(packageRoot, 'bench', 'out')
mkdirSync(out, { recursive: true })
const file = join(out, `backtest-${USERS}.ndjson`)
if (!existsSync(file)) {
  const g = generate({ users: USERS, attacks: 50, requestsPerSession: 20, seed: 3, startMs: Date.parse('2026-11-20T00:00:00Z') })
  writeFileSync(file, g.lines.join('\n') + '\n')
}

const runs: { events: number; parseRate: number; detectRate: number; total: number; detections: number }[] = []
for (let i = 0; i < RUNS; i++) {
  const started = performance.now()
  const run = spawnSync(process.execPath, [join(packageRoot, 'dist/services/cli/main.js'), 'backtest', file], {
    env: { ...processEnv(), SW_LOCAL_SECRETS: '1', SW_DATA_DIR: out },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const stderr = run.stderr.toString()
  if (run.status !== 0) throw new Error(`backtest failed (${run.status}): ${stderr}`)
  const total = (performance.now() - started) / 1000
  const m = /backtest: (\d+) events, (\d+) detections; parse [\d.]+ s \((\d+) events\/s\), detect [\d.]+ s \((\d+) events\/s\)/.exec(stderr)
  if (!m) throw new Error(`unexpected backtest output: ${stderr}`)
  runs.push({ events: Number(m[1]), detections: Number(m[2]), parseRate: Number(m[3]), detectRate: Number(m[4]), total })
  process.stderr.write(`run ${i + 1}/${RUNS}: ${m[1]} events, parse ${m[3]}/s, detect ${m[4]}/s, ${total.toFixed(1)} s end to end\n`)
}
const events = runs[0]!.events
const result = {
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
  events,
  detections: runs[0]!.detections,
  runs: RUNS,
  median_detect_events_per_s: Math.round(median(runs.map((r) => r.detectRate))),
  median_parse_events_per_s: Math.round(median(runs.map((r) => r.parseRate))),
  median_end_to_end_events_per_s: Math.round(events / median(runs.map((r) => r.total))),
}
console.log(JSON.stringify(result, null, 2))
