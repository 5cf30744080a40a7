import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ConfigError } from './errors.js'
import { describeSettings, ensureFrozenDir, loadConfig, requireSecret } from './config.js'

test('defaults describe the local setup', () => {
  const config = loadConfig({})
  assert.deepEqual(config.kafka.brokers, ['127.0.0.1:19092'])
  assert.equal(config.clickhouse.url, undefined)
  assert.equal(config.detector.windowMs, 30 * 60_000)
  assert.ok(Object.isFrozen(config.kafka))
})

test('an invalid setting is a ConfigError naming the variable', () => {
  assert.throws(() => loadConfig({ SW_PARTITIONS: 'many' }), (e: unknown) => e instanceof ConfigError && /SW_PARTITIONS/.test(e.message))
  assert.throws(() => loadConfig({ CLICKHOUSE_DATABASE: 'x; DROP TABLE y' }), /CLICKHOUSE_DATABASE/)
  assert.throws(() => loadConfig({ SW_FINGERPRINT_KEY: 'short' }), /SW_FINGERPRINT_KEY/)
})

test('a missing secret is reported where it is needed, not before', () => {
  const config = loadConfig({})
  assert.throws(() => requireSecret(config.collector.fingerprintKey, 'SW_FINGERPRINT_KEY'), /SW_FINGERPRINT_KEY is not set/)
})

test('local secrets are generated once, private to the owner, and stable across loads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-config-'))
  const first = loadConfig({ SW_LOCAL_SECRETS: '1', SW_DATA_DIR: dir })
  const second = loadConfig({ SW_LOCAL_SECRETS: '1', SW_DATA_DIR: dir })
  assert.ok(first.collector.fingerprintKey && first.collector.fingerprintKey.length >= 32)
  assert.equal(second.collector.fingerprintKey, first.collector.fingerprintKey)
  assert.notEqual(first.api.token, first.collector.fingerprintKey)
  assert.equal(statSync(join(dir, 'secrets.env')).mode & 0o077, 0)
  assert.match(readFileSync(join(dir, 'secrets.env'), 'utf8'), /^SW_FINGERPRINT_KEY=/m)
})

test('a secret given in the environment wins over the local file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-config-'))
  const key = 'k'.repeat(40)
  assert.equal(loadConfig({ SW_LOCAL_SECRETS: '1', SW_DATA_DIR: dir, SW_FINGERPRINT_KEY: key }).collector.fingerprintKey, key)
})

test('settings are described with their defaults as a user would write them', () => {
  const byName = new Map(describeSettings().map((s) => [s.name, s.default]))
  assert.equal(byName.get('SW_WINDOW_SECONDS'), '1800')
  assert.equal(byName.get('SW_WEBHOOK_BACKOFF_SECONDS'), '0.5')
  assert.equal(byName.get('SW_PARTITIONS'), '3')
  assert.equal(byName.get('SW_FINGERPRINT_KEY'), '')
})

test('detector settings come from SW_DETECTORS_FILE, and a wrong one is a ConfigError naming the setting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-detectors-'))
  const good = join(dir, 'good.json')
  writeFileSync(good, JSON.stringify({ disabled: ['api_anomaly'], multi_network: { knownNetworks: ['AS64500'] } }))
  const config = loadConfig({ SW_DATA_DIR: dir, SW_DETECTORS_FILE: good })
  assert.deepEqual(config.detector.detectors.disabled, ['api_anomaly'])
  assert.deepEqual(config.detector.detectors.overrides.multi_network?.knownNetworks, ['AS64500'])
  assert.deepEqual(loadConfig({ SW_DATA_DIR: dir }).detector.detectors, { overrides: {}, disabled: [] })
  const bad = join(dir, 'bad.json')
  writeFileSync(bad, JSON.stringify({ multi_network: { windowMs: '30m' } }))
  assert.throws(() => loadConfig({ SW_DATA_DIR: dir, SW_DETECTORS_FILE: bad }), (e: unknown) => e instanceof ConfigError && /multi_network\.windowMs/.test(e.message))
  writeFileSync(bad, '{ not json')
  assert.throws(() => loadConfig({ SW_DATA_DIR: dir, SW_DETECTORS_FILE: bad }), /SW_DETECTORS_FILE: .*bad\.json is not JSON/)
})

test('analyst feedback settings: expiry in days and a factor from 0 to 1, with the documented defaults', () => {
  assert.deepEqual(loadConfig({}).detector.feedback, { expiryMs: 90 * 24 * 3600_000, factor: 0.4, thresholds: { page: 0.8, ticket: 0.5 } })
  assert.equal(loadConfig({ SW_FEEDBACK_EXPIRY_DAYS: '7', SW_FEEDBACK_FACTOR: '0.25' }).detector.feedback.expiryMs, 7 * 24 * 3600_000)
  assert.throws(() => loadConfig({ SW_FEEDBACK_FACTOR: '1.5' }), /SW_FEEDBACK_FACTOR/)
  assert.equal(loadConfig({}).api.analystToken, undefined, 'no analyst token unless given (or generated locally)')
  assert.ok((loadConfig({ SW_LOCAL_SECRETS: '1', SW_DATA_DIR: mkdtempSync(join(tmpdir(), 'sw-config-')) }).api.analystToken ?? '').length >= 32)
})

test('detector settings may be YAML, checked the same way', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-detectors-'))
  const file = join(dir, 'detectors.yaml')
  writeFileSync(file, 'disabled: [api_anomaly]\nmulti_network:\n  knownNetworks: [AS64500, 198.51.100.0/24]\n')
  assert.deepEqual(loadConfig({ SW_DATA_DIR: dir, SW_DETECTORS_FILE: file }).detector.detectors.overrides.multi_network?.knownNetworks, ['AS64500', '198.51.100.0/24'])
  writeFileSync(file, 'multi_network:\n  knownNetwork: [AS64500]\n')
  assert.throws(() => loadConfig({ SW_DATA_DIR: dir, SW_DETECTORS_FILE: file }), /multi_network\.knownNetwork \(line 2\): unknown setting/)
  writeFileSync(file, 'multi_network: [unclosed\n')
  assert.throws(() => loadConfig({ SW_DATA_DIR: dir, SW_DETECTORS_FILE: file }), /SW_DETECTORS_FILE: .*detectors\.yaml is not valid YAML: line 2, column 1/)
})

test('frozen detector state goes to disk under the data directory unless told otherwise', () => {
  assert.equal(loadConfig({ SW_DATA_DIR: '/srv/sw' }).detector.frozenDir, '/srv/sw/frozen')
  assert.equal(loadConfig({ SW_DATA_DIR: '/srv/sw', SW_FROZEN_DIR: '/var/cache/sw' }).detector.frozenDir, '/var/cache/sw')
  assert.equal(loadConfig({ SW_FROZEN_STORE: 'memory', SW_FROZEN_DIR: '/var/cache/sw' }).detector.frozenDir, undefined)
  assert.throws(() => loadConfig({ SW_FROZEN_STORE: 'tape' }), /SW_FROZEN_STORE/)
})

test('a frozen-state directory that cannot be written is a ConfigError naming SW_FROZEN_DIR', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-config-'))
  const ok = loadConfig({ SW_DATA_DIR: dir }).detector
  ensureFrozenDir(ok)
  assert.deepEqual(readdirSync(join(dir, 'frozen')), [], 'made, and the probe removed')
  // A file where the directory should be: no user, root included, can make a directory there.
  writeFileSync(join(dir, 'taken'), '')
  assert.throws(() => ensureFrozenDir(loadConfig({ SW_FROZEN_DIR: join(dir, 'taken', 'frozen') }).detector), (e: unknown) => e instanceof ConfigError && /SW_FROZEN_DIR/.test(e.message))
  ensureFrozenDir(loadConfig({ SW_FROZEN_STORE: 'memory', SW_FROZEN_DIR: join(dir, 'taken', 'frozen') }).detector)
})
