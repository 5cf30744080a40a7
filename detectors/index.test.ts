import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDetectors, parseDetectorSettings } from './index.js'
import { datacenter, eventBuilder, MIN, pythonRequests, runDetector } from './fixtures.js'
import { createDetectionEngine } from './engine.js'

test('every detector is registered once, multi-network first, under a unique name', () => {
  const names = createDetectors({ windowMs: 30 * MIN }).map((d) => d.name)
  assert.deepEqual(names, [
    'multi_network', 'impossible_travel', 'client_drift', 'revoked_accepted', 'expired_accepted',
    'refresh_reuse', 'session_fork', 'session_fixation', 'mfa_less_privilege', 'api_anomaly',
  ])
})

test('detectors can be switched off and configured by name', () => {
  const names = createDetectors({ windowMs: 30 * MIN, disabled: ['api_anomaly', 'session_fork'] }).map((d) => d.name)
  assert.ok(!names.includes('api_anomaly') && !names.includes('session_fork'))
  const event = eventBuilder({ client_id: 'bff' })
  const history = [event({ ts: 0, kind: 'ISSUE', action: 'login' }), event({ ts: MIN, ...pythonRequests })]
  const drift = (overrides?: object) => createDetectors({ windowMs: 30 * MIN, overrides: { client_drift: overrides } }).find((d) => d.name === 'client_drift')!
  assert.equal(runDetector(drift(), history).length, 1)
  assert.deepEqual(runDetector(drift({ exemptClientIds: ['bff'] }), history), [])
})

test('an honest session through the whole set raises nothing; a stolen cookie replayed by a script pages', () => {
  const engine = createDetectionEngine(createDetectors({ windowMs: 30 * MIN }), { latenessMs: 10 * MIN, sweepEveryMs: MIN })
  const event = eventBuilder()
  const honest = [event({ ts: 0, kind: 'ISSUE', action: 'login', validator: null, result: null }), ...[1, 2, 3, 4].map((m) => event({ ts: m * MIN }))]
  assert.deepEqual(honest.flatMap((e) => engine.process(e)), [])
  const ds = engine.process(event({ ts: 6 * MIN, ...datacenter, ...pythonRequests }))
  assert.ok(ds.some((d) => d.severity === 'page' && d.confirmed))
  assert.ok(ds.every((d) => d.session_id === 's1'), 'every detector names the same session: one incident for the alerter')
})

test('a settings document is checked against the detectors\' own defaults, naming every wrong path', () => {
  const good = parseDetectorSettings({ disabled: ['api_anomaly'], multi_network: { knownNetworks: ['AS64500'], learning: { tenantUsers: 3 } } })
  assert.ok(good.ok)
  assert.deepEqual(good.settings.disabled, ['api_anomaly'])
  assert.deepEqual(good.settings.overrides.multi_network, { knownNetworks: ['AS64500'], learning: { tenantUsers: 3 } })
  const bad = parseDetectorSettings({
    disabled: ['nope'], multi_netwrk: {}, impossible_travel: { maxSpeedKmh: '900' }, client_drift: { idleMS: 5 },
    multi_network: { learning: { tenantUsers: -1 }, knownNetworks: [64500, 'AS1'] },
  })
  assert.ok(!bad.ok)
  assert.deepEqual(bad.problems.map((p) => p.split(':')[0]), [
    'disabled', 'multi_netwrk', 'impossible_travel.maxSpeedKmh', 'client_drift.idleMS', 'multi_network.learning.tenantUsers',
  ])
  assert.ok(!parseDetectorSettings([]).ok)
})

test('overrides from a settings document change what the set detects', () => {
  const event = eventBuilder()
  const history = [event({ ts: 0, kind: 'ISSUE', action: 'login' }), event({ ts: 5 * MIN, ...datacenter })]
  const run = (document: unknown) => {
    const parsed = parseDetectorSettings(document)
    assert.ok(parsed.ok)
    const engine = createDetectionEngine(createDetectors({ windowMs: 30 * MIN, ...parsed.settings }), { latenessMs: 10 * MIN, sweepEveryMs: MIN })
    return history.flatMap((e) => engine.process(e)).filter((d) => d.detector === 'multi_network')
  }
  assert.equal(run({}).at(-1)!.severity, 'page', 'the same browser on an unknown data centre')
  assert.deepEqual(run({ multi_network: { knownNetworks: [datacenter.ip_prefix!] } }), [])
})
