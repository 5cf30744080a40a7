import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AuthEvent, Detection } from '../schemas/model.js'
import { withCorroboration } from './corroboration.js'
import type { DetectionEngine, StateEntry } from './engine.js'

// The wrapped engine answers each event with the detections scripted for it, so the test speaks only of
// how findings from different detectors combine.
function scripted(script: Detection[][]): DetectionEngine {
  let i = 0
  const entries: StateEntry[] = []
  return {
    size: 0,
    credentials: 0,
    frozen: 0,
    get watermark() {
      return 0
    },
    process: () => script[i++] ?? [],
    takeChanges: () => entries.splice(0),
    restore: () => undefined,
    close: () => undefined,
    footprint: () => ({ groups: 0, hotGroups: 0, frozenGroups: 0, frozenBytes: 0, frozenReserved: 0, frozenOnDisk: 0, frozenSpillFailures: 0, nameBytes: 0, columnBytes: 0 }),
  }
}

const event = { ts: 0 } as AuthEvent
function detection(detector: string, score: number, session = 's1'): Detection {
  return {
    detection_id: `det_${detector}`, detector, severity: score >= 0.8 ? 'page' : score >= 0.5 ? 'ticket' : 'info', score,
    confirmed: false, subject: 'u1', session_id: session, token_fp: null, summary: detector,
    evidence: { event_ids: [`e-${detector}`], ips: [], prefixes: [], asns: [], places: [], user_agents: [], times: [], reasons: [] },
    first_malicious_ts: 100, detected_ts: 200,
  }
}

test('two independent tickets about one session become a confirmed page', () => {
  const engine = withCorroboration(scripted([[detection('multi_network', 0.65)], [detection('impossible_travel', 0.6)]]))
  assert.deepEqual(engine.process(event).map((d) => d.detector), ['multi_network'])
  const second = engine.process(event)
  const combined = second.find((d) => d.detector === 'corroboration')!
  assert.equal(combined.score, 0.86)
  assert.equal(combined.severity, 'page')
  assert.equal(combined.confirmed, true)
  assert.deepEqual(combined.evidence.event_ids, ['e-multi_network', 'e-impossible_travel'])
})

test('one detector repeating itself, info findings, or different sessions do not corroborate', () => {
  const engine = withCorroboration(scripted([
    [detection('multi_network', 0.65)], [detection('multi_network', 0.7)],
    [detection('impossible_travel', 0.45)], [detection('client_drift', 0.6, 's2')],
  ]))
  for (let i = 0; i < 4; i++) assert.ok(engine.process(event).every((d) => d.detector !== 'corroboration'))
})

test('the agreement survives a checkpoint and restore', () => {
  const first = withCorroboration(scripted([[detection('multi_network', 0.65)]]))
  first.process(event)
  const saved = JSON.parse(JSON.stringify(first.takeChanges())) as StateEntry[]
  const second = withCorroboration(scripted([[detection('client_drift', 0.7)]]))
  second.restore(saved)
  assert.ok(second.process(event).some((d) => d.detector === 'corroboration' && d.severity === 'page'))
})
