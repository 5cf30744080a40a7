import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createCidrMatcher } from './cidr.js'
import { createPolicyEngine, DEFAULT_POLICY, parsePolicy, type AlertPolicy } from './policy.js'
import { sampleDetection } from './test-fixtures.js'

function policy(document: unknown): AlertPolicy {
  const parsed = parsePolicy(document)
  if (!parsed.ok) throw new Error(parsed.problems.join('; '))
  return parsed.policy
}

test('without a policy file the severity decides, as the plain webhook did', () => {
  const engine = createPolicyEngine(DEFAULT_POLICY)
  assert.equal(engine.decide(sampleDetection({ severity: 'page' })).action, 'page')
  assert.equal(engine.decide(sampleDetection({ severity: 'ticket' })).action, 'ticket')
  assert.equal(engine.decide(sampleDetection({ severity: 'info' })).action, 'log')
  assert.equal(DEFAULT_POLICY.response.mode, 'monitor')
})

test('the first matching rule decides by detector, score, confirmation and privilege', () => {
  const engine = createPolicyEngine(policy({
    privileged: { subjects: ['admin-*', '*@ops.acme.example'], routes: ['/admin/*'] },
    routing: {
      default: 'ticket',
      rules: [
        { name: 'privileged', when: { privileged: true, min_score: 0.5 }, action: 'page' },
        { name: 'unconfirmed', when: { confirmed: false }, action: 'log' },
        { name: 'strong', when: { detectors: ['multi_network'], min_score: 0.8 }, action: 'page' },
      ],
    },
  }))
  assert.deepEqual(engine.decide(sampleDetection({ subject: 'admin-7', score: 0.6, confirmed: false })), { action: 'page', rule: 'privileged', privileged: true })
  assert.equal(engine.decide(sampleDetection({ subject: 'bob@ops.acme.example', score: 0.6 })).rule, 'privileged')
  assert.equal(engine.decide(sampleDetection({ score: 0.6, evidence: { ...sampleDetection().evidence, reasons: ['token used on /admin/users from 2 networks'] } })).privileged, true)
  assert.equal(engine.decide(sampleDetection({ confirmed: false })).action, 'log')
  assert.equal(engine.decide(sampleDetection({ score: 0.85 })).rule, 'strong')
  assert.deepEqual(engine.decide(sampleDetection({ score: 0.5 })), { action: 'ticket', rule: 'default', privileged: false })
  assert.equal(engine.decide(sampleDetection({ detector: 'impossible_travel', score: 0.95 })).action, 'ticket')
})

test('privileged.routes match the detection route; the reason words are read only for a detection without a route', () => {
  const engine = createPolicyEngine(policy({ privileged: { routes: ['/admin/*', '/api/billing/*'] } }))
  const reasonNamingAdmin = { ...sampleDetection().evidence, reasons: ['token used on /admin/users from 2 networks'] }
  assert.equal(engine.decide(sampleDetection({ route: '/admin/users/{id}' })).privileged, true)
  assert.equal(engine.decide(sampleDetection({ route: '/API/Billing/invoices' })).privileged, true, 'globs are case-insensitive')
  assert.equal(engine.decide(sampleDetection({ route: '/api/inbox/{id}' })).privileged, false)
  // A route decides alone: a reason that mentions an admin path does not make a request to /api/inbox privileged.
  assert.equal(engine.decide(sampleDetection({ route: '/api/inbox/{id}', evidence: reasonNamingAdmin })).privileged, false)
  assert.equal(engine.decide(sampleDetection({ route: null, evidence: reasonNamingAdmin })).privileged, true, 'no route: the reason words')
  assert.equal(engine.decide(sampleDetection({ route: null })).privileged, false)
  assert.equal(createPolicyEngine(DEFAULT_POLICY).decide(sampleDetection({ route: '/admin/users' })).privileged, false, 'no privileged routes configured')
})

test('suppressions match by range, ASN, detector and subject, only inside their window, and expire', () => {
  const at = Date.parse('2026-11-20T10:00:00Z')
  const engine = createPolicyEngine(policy({
    suppressions: [
      { id: 'pentest', cidrs: ['167.99.0.0/16'], until: '2026-12-01T00:00:00Z' },
      { id: 'vpn-v6', cidrs: ['2001:db8::/32'], evidence_match: 'all', until: '2026-12-01T00:00:00Z' },
      { id: 'corp-asn', asns: [64500], detectors: ['client_drift'], until: '2026-12-01T00:00:00Z' },
      { id: 'maintenance', from: '2026-11-21T22:00:00Z', until: '2026-11-22T02:00:00Z' },
      { id: 'old-mute', detectors: ['impossible_travel'], until: '2026-11-01T00:00:00Z' },
      { id: 'robot', subjects: ['svc-*'], until: '2026-12-01T00:00:00Z' },
    ],
  }))
  const d = (o: Parameters<typeof sampleDetection>[0]) => sampleDetection({ detected_ts: at, ...o })
  assert.equal(engine.decide(d({})).suppressedBy, 'pentest', 'one evidence address in the range is enough by default')
  assert.equal(engine.decide(d({ evidence: { ...sampleDetection().evidence, ips: ['73.1.2.3'] } })).suppressedBy, undefined)
  assert.equal(engine.decide(d({ evidence: { ...sampleDetection().evidence, ips: ['2001:db8::1', '73.1.2.3'] } })).suppressedBy, undefined, 'all: one outside address keeps it')
  assert.equal(engine.decide(d({ evidence: { ...sampleDetection().evidence, ips: ['2001:db8::1', '2001:db8:0:1::9'] } })).suppressedBy, 'vpn-v6')
  assert.equal(engine.decide(d({ detector: 'client_drift', evidence: { ...sampleDetection().evidence, ips: [], asns: [64500] } })).suppressedBy, 'corp-asn')
  assert.equal(engine.decide(d({ evidence: { ...sampleDetection().evidence, ips: [], asns: [64500] } })).suppressedBy, undefined, 'another detector')
  assert.equal(engine.decide(d({ detected_ts: Date.parse('2026-11-21T23:00:00Z'), evidence: { ...sampleDetection().evidence, ips: [] } })).suppressedBy, 'maintenance')
  assert.equal(engine.decide(d({ detector: 'impossible_travel', evidence: { ...sampleDetection().evidence, ips: [] } })).suppressedBy, undefined, 'expired mute')
  assert.equal(engine.decide(d({ subject: 'svc-backup', evidence: { ...sampleDetection().evidence, ips: [] } })).suppressedBy, 'robot')
  assert.equal(engine.decide(d({ detected_ts: Date.parse('2026-12-02T00:00:00Z') })).suppressedBy, undefined, 'after until')
  assert.deepEqual(engine.expiredSuppressions(at), ['old-mute'])
})

test('a policy file with mistakes is rejected with the path of each', () => {
  const result = parsePolicy({ routing: { rules: [{ name: 'x', action: 'wake-everyone' }] }, suppressions: [{ id: 's', cidrs: ['10.0.0.0/33'], until: '2026-01-01T00:00:00Z' }], bogus: 1 })
  assert.equal(result.ok, false)
  const again = parsePolicy({ suppressions: [{ id: 's', cidrs: ['10.0.0.0/33'], until: '2026-01-01T00:00:00Z' }] })
  assert.ok(!again.ok && again.problems.some((p) => /10\.0\.0\.0\/33/.test(p)))
  const noExpiry = parsePolicy({ suppressions: [{ id: 's', detectors: ['x'] }] })
  assert.ok(!noExpiry.ok && noExpiry.problems.some((p) => /suppressions\.0\.until/.test(p)))
})

test('CIDR ranges contain what they should, for IPv4, IPv6 and mapped addresses', () => {
  const m = createCidrMatcher(['10.0.0.0/8', '192.0.2.7', '2001:db8::/48', '::ffff:198.51.100.0/120'])
  assert.ok(m.valid)
  assert.ok(m.contains('10.255.1.2'))
  assert.ok(!m.contains('11.0.0.1'))
  assert.ok(m.contains('192.0.2.7') && !m.contains('192.0.2.8'))
  assert.ok(m.contains('2001:db8:0:ffff::1') && !m.contains('2001:db8:1::1'))
  assert.ok(m.contains('::ffff:198.51.100.200'))
  assert.ok(!m.contains('not-an-ip'))
  assert.equal(createCidrMatcher(['10.0.0.0/40']).valid, false)
})

test('Slack takes an incoming webhook or a bot token with its channel, never both or neither', () => {
  const problems = (slack: unknown) => {
    const parsed = parsePolicy({ channels: { slack } })
    return parsed.ok ? [] : parsed.problems
  }
  assert.deepEqual(problems({ webhook_url: 'https://hooks.slack.com/services/T/B/x' }), [])
  assert.deepEqual(problems({ bot_token: 'xoxb-1', channel: 'C1' }), [])
  assert.equal(policy({ channels: { slack: { bot_token: 'xoxb-1', channel: 'C1' } } }).channels.slack?.api_url, 'https://slack.com/api/chat.postMessage')
  assert.match(problems({ webhook_url: 'https://hooks.slack.com/services/T/B/x', bot_token: 'xoxb-1', channel: 'C1' }).join(), /webhook_url or bot_token/)
  assert.match(problems({}).join(), /webhook_url or bot_token/)
  assert.match(problems({ bot_token: 'xoxb-1' }).join(), /channels\.slack\.channel: bot_token needs the channel/)
})

test('a successful containment acknowledges by default; the policy can turn it off', () => {
  assert.equal(DEFAULT_POLICY.response.acknowledge_on_containment, true)
  assert.equal(policy({ response: { acknowledge_on_containment: false } }).response.acknowledge_on_containment, false)
})
