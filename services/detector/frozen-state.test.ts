// The detector engine with idle state frozen into bytes (EngineConfig.hotGroups) must behave exactly as with
// everything kept as objects: same detections, same checkpoints, same eviction. Labeled traffic from the quality
// scenario (every kind of honest noise and every attack), normalised as the backtest does. No Kafka, no ClickHouse.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import type { AuthEvent, Detection } from '../../schemas/model.js'
import { createDetectionEngine, type DetectionEngine, type StateEntry } from '../../detectors/engine.js'
import { createDetectors } from '../../detectors/index.js'
import { parseInputs } from '../cli/offline.js'
import { createFormatRegistry } from '../collector/formats/index.js'
import { createConfiguredNormalizer } from '../collector/setup.js'
import { generateQualityScenario } from '../generator/scenarios.js'
import { loadConfig } from '../shared/config.js'
import { hotGroupsPerEngine } from './detector.js'

const config = loadConfig({ SW_FINGERPRINT_KEY: 'k'.repeat(32), SW_ENRICH: 'off', SW_LOG_LEVEL: 'silent' })

async function scenarioEvents(): Promise<AuthEvent[]> {
  const scenario = generateQualityScenario({ honestSessions: 300, attacksPerKind: 2, seed: 23, startMs: Date.parse('2026-11-20T00:00:00Z') })
  const file = join(mkdtempSync(join(tmpdir(), 'sw-frozen-')), 'quality.ndjson')
  writeFileSync(file, scenario.lines.join('\n') + '\n')
  const events: AuthEvent[] = []
  const now = () => Date.now()
  await parseInputs(
    { formats: createFormatRegistry(), normalize: createConfiguredNormalizer(config.collector, now), now, maxLineBytes: config.collector.maxLineBytes },
    'canonical', [file], Readable.from([]), (e) => events.push(e),
  )
  return events.sort((a, b) => a.ts - b.ts)
}

const engineWith = (hotGroups: number, frozenDir?: string) =>
  createDetectionEngine(createDetectors({ windowMs: config.detector.windowMs, ...config.detector.detectors }), { latenessMs: config.detector.latenessMs, sweepEveryMs: 60_000, hotGroups, frozenDir })

function run(engine: DetectionEngine, events: AuthEvent[]): Detection[] {
  const out: Detection[] = []
  for (const e of events) out.push(...engine.process(e))
  return out
}

const byKey = (entries: StateEntry[]) => entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))

test('freezing idle state changes no detection and no checkpoint, in memory or on disk', async (t) => {
  const events = await scenarioEvents()
  const dir = mkdtempSync(join(tmpdir(), 'sw-frozen-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  for (const [hot, frozenDir] of [[1, undefined], [40, undefined], [1, dir]] as const) {
    const objects = engineWith(Number.POSITIVE_INFINITY)
    const frozen = engineWith(hot, frozenDir)
    t.after(() => frozen.close())
    const expected = run(objects, events)
    assert.ok(expected.length > 10, `the scenario pages (${expected.length} detections)`)
    assert.deepStrictEqual(run(frozen, events), expected, `hotGroups ${hot}`)
    // On disk, the chunks no longer being filled are read back from the file.
    if (frozenDir) assert.ok(frozen.footprint().frozenOnDisk > 0, `frozen groups were written to disk: ${JSON.stringify(frozen.footprint())}`)
    assert.equal(objects.frozen, 0)
    assert.ok(frozen.frozen > 0, `hotGroups ${hot}: groups were frozen`)
    assert.equal(frozen.size, objects.size)
    assert.equal(frozen.credentials, objects.credentials, 'credential records frozen with their groups are still counted')
    // A checkpoint reads frozen groups without thawing them, and sees the same states.
    const before = frozen.frozen
    assert.deepStrictEqual(byKey(frozen.takeChanges()), byKey(objects.takeChanges()))
    assert.equal(frozen.frozen, before, 'taking changes thawed nothing')
    // The sweep finds what is due in frozen groups: 40 days later (past every detector's memory) it is gone
    // from both alike.
    const held = frozen.size
    const later = { ...events.at(-1)!, event_id: 'later', ts: events.at(-1)!.ts + 40 * 24 * 3600_000 }
    objects.process(later)
    frozen.process(later)
    assert.equal(frozen.size, objects.size)
    assert.equal(frozen.credentials, objects.credentials, 'frozen records are evicted on time')
    assert.ok(frozen.size < held / 2, `state was evicted (${frozen.size} states left of ${held})`)
    assert.deepStrictEqual(byKey(frozen.takeChanges()), byKey(objects.takeChanges()))
  }
})

test('a checkpoint of frozen state restores into an engine that goes on detecting exactly as one kept as objects', async () => {
  const events = await scenarioEvents()
  const half = Math.floor(events.length / 2)
  const resumed = (hot: number) => {
    const first = engineWith(hot)
    run(first, events.slice(0, half))
    if (hot < Number.POSITIVE_INFINITY) assert.ok(first.frozen > 0)
    // Through JSON, as the checkpoint topic carries it.
    const checkpoint = first.takeChanges().map((entry) => JSON.parse(JSON.stringify(entry)) as StateEntry)
    const second = engineWith(hot)
    second.restore(checkpoint)
    if (hot < Number.POSITIVE_INFINITY) assert.ok(second.frozen > 0, 'restored state past the allowance is frozen too')
    return run(second, events.slice(half))
  }
  const expected = resumed(Number.POSITIVE_INFINITY)
  assert.ok(expected.length > 0, 'the second half pages')
  assert.deepStrictEqual(resumed(3), expected)
})

test("a worker's hot allowance is shared by its partitions' engines, which follow it when it changes", async () => {
  const events = await scenarioEvents()
  assert.equal(hotGroupsPerEngine(65_536, 3), 21_845)
  assert.equal(hotGroupsPerEngine(2, 3), 1, 'at least one each')
  assert.equal(hotGroupsPerEngine(100, 0), 100, 'a worker with no partition yet')
  const budget = { perEngine: Number.POSITIVE_INFINITY }
  const engine = createDetectionEngine(createDetectors({ windowMs: config.detector.windowMs, ...config.detector.detectors }), { latenessMs: config.detector.latenessMs, sweepEveryMs: 60_000, hotGroups: budget })
  const objects = engineWith(Number.POSITIVE_INFINITY)
  const half = Math.floor(events.length / 2)
  const expected = run(objects, events)
  const got = run(engine, events.slice(0, half))
  assert.equal(engine.frozen, 0, 'nothing frozen within an unbounded allowance')
  // Another partition joins the worker: this engine's share drops, and its next event freezes the rest.
  budget.perEngine = 20
  got.push(...run(engine, events.slice(half)))
  assert.ok(engine.frozen > 0, 'groups past the new share were frozen')
  assert.deepStrictEqual(got, expected, 'and nothing it detects changed')
})
