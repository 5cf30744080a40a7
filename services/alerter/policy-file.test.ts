import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ConfigError } from '../shared/errors.js'
import { loadConfig } from '../shared/config.js'

function policyFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sw-policy-')), 'policy.json')
  writeFileSync(file, text)
  return file
}

test('SW_ALERT_POLICY is read once, with ${env:NAME} filled in from the environment', () => {
  const file = policyFile('{"channels":{"pagerduty":{"routing_key":"${env:PD_KEY}"}},"response":{"mode":"enforce"}}')
  const config = loadConfig({ SW_ALERT_POLICY: file, PD_KEY: 'key-with-"quote' })
  assert.equal(config.alerter.policy.channels.pagerduty?.routing_key, 'key-with-"quote')
  assert.equal(config.alerter.policy.response.mode, 'enforce')
  assert.ok(Object.isFrozen(config.alerter.policy.channels))
})

test('without SW_ALERT_POLICY the defaults apply: severity decides, monitor mode', () => {
  const config = loadConfig({})
  assert.equal(config.alerter.policy.routing.default, 'by_severity')
  assert.equal(config.alerter.policy.response.mode, 'monitor')
})

test('a policy file that is missing, not JSON, invalid or names an unset variable is a ConfigError saying which', () => {
  const bad = (env: Record<string, string>, pattern: RegExp) =>
    assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && /SW_ALERT_POLICY/.test(e.message) && pattern.test(e.message))
  bad({ SW_ALERT_POLICY: '/nonexistent/policy.json' }, /cannot read/)
  bad({ SW_ALERT_POLICY: policyFile('{nope') }, /not JSON/)
  bad({ SW_ALERT_POLICY: policyFile('{"response":{"mode":"yolo"}}') }, /response\.mode/)
  bad({ SW_ALERT_POLICY: policyFile('{"channels":{"slack":{"webhook_url":"${env:NOT_SET_ANYWHERE}"}}}') }, /NOT_SET_ANYWHERE/)
})
