import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ConfigError } from '../shared/errors.js'
import { loadConfig } from '../shared/config.js'
import { packageRoot } from '../shared/paths.js'
import { parsePolicyText } from './policy-file.js'

function policyFile(text: string, name = 'policy.json'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sw-policy-')), name)
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

const YAML_POLICY = `# the same policy as POLICY_JSON below
routing:
  default: by_severity
  rules:
    - name: privileged-any
      when: { privileged: true, min_score: 0.5 }
      action: page
privileged:
  subjects: ["admin-*"]
  routes: [/admin/*]
suppressions:
  - id: pentest
    cidrs: [198.51.100.0/24]
    until: 2026-12-15T00:00:00Z
channels:
  pagerduty:
    routing_key: \${env:PD_KEY}
`
const POLICY_JSON = {
  routing: { default: 'by_severity', rules: [{ name: 'privileged-any', when: { privileged: true, min_score: 0.5 }, action: 'page' }] },
  privileged: { subjects: ['admin-*'], routes: ['/admin/*'] },
  suppressions: [{ id: 'pentest', cidrs: ['198.51.100.0/24'], until: '2026-12-15T00:00:00Z' }],
  channels: { pagerduty: { routing_key: '${env:PD_KEY}' } },
}

test('a .yaml or .yml policy is read like its JSON twin, ${env:NAME} included', () => {
  const env = { PD_KEY: 'key: with "yaml" {markup} & #hash' }
  const fromJson = loadConfig({ SW_ALERT_POLICY: policyFile(JSON.stringify(POLICY_JSON)), ...env }).alerter.policy
  for (const name of ['policy.yaml', 'policy.YML']) {
    const fromYaml = loadConfig({ SW_ALERT_POLICY: policyFile(YAML_POLICY, name), ...env }).alerter.policy
    assert.deepEqual(fromYaml, fromJson)
  }
  assert.equal(fromJson.channels.pagerduty?.routing_key, env.PD_KEY, 'a value with YAML markup cannot change the structure')
  assert.equal(fromJson.suppressions[0]?.until, Date.parse('2026-12-15T00:00:00Z'), 'an unquoted YAML time stays a string for the policy to read')
})

test('a YAML policy that does not parse or does not validate is a ConfigError naming the line', () => {
  const fails = (text: string, pattern: RegExp) =>
    assert.throws(() => parsePolicyText('/etc/sw/policy.yaml', text, {}), (e: unknown) => e instanceof ConfigError && pattern.test(e.message), pattern.source)
  fails('routing:\n  rules: [\n    { name: a\n', /policy\.yaml is not valid YAML: line \d+, column \d+/)
  fails('response:\n  mode: enforce\nresponse:\n  mode: monitor\n', /not valid YAML: line 3, column 1: Map keys must be unique/)
  fails('version: 1\nresponse:\n  mode: yolo\n', /response\.mode \(line 3\): /)
  fails('routing:\n  rules:\n    - name: r1\n      action: page\n    - name: r2\n      action: shout\n', /routing\.rules\.1\.action \(line 6\)/)
  fails('suppressions:\n  - id: x\n    until: 2030-01-01T00:00:00Z\n    cidrs: [10.0.0.0/8, not-a-range]\n', /suppressions\.0\.cidrs\.1 \(line 4\): 'not-a-range'/)
  fails('channels:\n  slack:\n    webhook_url: \${env:NOT_SET_ANYWHERE}\n', /NOT_SET_ANYWHERE/)
  fails('a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n', /not valid YAML/)
})

test('an empty YAML file is the default policy', () => {
  assert.deepEqual(parsePolicyText('p.yml', '# nothing yet\n', {}), loadConfig({}).alerter.policy)
})

test('deploy/alert-policy.example.yaml parses and validates', () => {
  const env = { PD_ROUTING_KEY: 'R0123456789abcdef0123456789abcde', SLACK_BOT_TOKEN: 'xoxb-1-2-abc', IDP_CLIENT_SECRET: 's', OKTA_API_TOKEN: 't', KC_ADMIN_TOKEN: 'k', SSF_PUSH_TOKEN: 'p' }
  const policy = loadConfig({ SW_ALERT_POLICY: join(packageRoot, 'deploy', 'alert-policy.example.yaml'), ...env }).alerter.policy
  assert.equal(policy.channels.pagerduty?.routing_key, env.PD_ROUTING_KEY)
  assert.equal(policy.response.mode, 'monitor')
  assert.ok(policy.routing.rules.length > 0 && policy.privileged.routes.length > 0 && policy.suppressions.length > 0)
})
