// A worker reads its partitions' checkpoints back from detector.state before consuming: a record it cannot read
// (not JSON) must cost that slot, reported with its key, and not keep the partition from loading. Real broker.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AuthEvent } from '../../schemas/model.js'
import { createDetectionEngine } from '../../detectors/engine.js'
import { createDetectors } from '../../detectors/index.js'
import { createPartitionedState } from '../../services/detector/partitions.js'
import { kafkaTestbed, testEnv } from '../support/harness.js'

test('an unreadable checkpoint record is reported and skipped; the partition loads with every other state', { timeout: 120_000 }, async (t) => {
  const { config, kafka, topics, producer } = await kafkaTestbed(t, testEnv())
  const engine = () => createDetectionEngine(createDetectors({ windowMs: config.detector.windowMs }), { latenessMs: config.detector.latenessMs, sweepEveryMs: 60_000, hotGroups: 1 })
  // Two users' logins checkpointed by a worker, as it writes them.
  const source = engine()
  const login = (i: number): AuthEvent => ({
    event_id: `e${i}`, kind: 'ISSUE', action: 'login', ts: Date.parse('2026-11-23T09:00:00Z') + i, ingest_ts: 0, source: { system: 't' },
    subject: `u${i}`, session_id: `s${i}`, token_fp: `tfp_${i}`, token_kind: 'session_cookie', scopes: [], amr: ['pwd'], net_flags: [],
    claims_unverified: false, ip: '73.14.2.3', ip_prefix: '73.14.2.0/24', asn: 7922, ua_family: 'Chrome', os_family: 'Windows', device_type: 'desktop',
  })
  source.process(login(1))
  source.process(login(2))
  const checkpoint = source.takeChanges()
  assert.ok(checkpoint.length >= 2)
  await producer.send({
    topic: topics.state,
    messages: [
      { key: 'multi_network|s:broken', value: '{"learned":', partition: 0 },
      ...checkpoint.map(({ key, state }) => ({ key, value: JSON.stringify(state), partition: 0 })),
    ],
  })

  const unreadable: { partition: number; key: string; reason: string }[] = []
  const state = createPartitionedState(kafka, topics.state, engine, (what) => unreadable.push(what))
  t.after(() => state.release(new Set()))
  const loaded = await state.ensure([0])
  assert.deepEqual(loaded.partitions, [0])
  assert.equal(loaded.records, checkpoint.length + 1)
  assert.equal(unreadable.length, 1)
  assert.equal(unreadable[0]!.key, 'multi_network|s:broken')
  assert.equal(unreadable[0]!.partition, 0)
  assert.match(unreadable[0]!.reason, /JSON/)
  // Everything else came back, frozen past the allowance of one group as it was read.
  const restored = state.engine(0)!
  assert.equal(restored.credentials, source.credentials)
  assert.equal(restored.size, source.size)
  assert.ok(restored.frozen > 0)
})
