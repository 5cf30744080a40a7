import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClientDriftDetector, DEFAULT_CLIENT_DRIFT } from './client-drift.js'
import { datacenter, eventBuilder, firefoxOnLinux, MIN, pythonRequests, runAcrossRestart, runDetector } from './fixtures.js'

const run = (events: Parameters<typeof runDetector>[1], config = DEFAULT_CLIENT_DRIFT) => runDetector(createClientDriftDetector(config) as never, events)
const headless = { user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36', ua_family: 'headlesschrome', os_family: 'Linux', device_type: 'automation', device_id: null }

test('a script replaying a browser session from a data centre pages, confirmed', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0, kind: 'ISSUE', action: 'login' }), event({ ts: MIN }), event({ ts: 5 * MIN, ...datacenter, ...pythonRequests })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'page')
  assert.equal(ds[0]!.confirmed, true)
  assert.equal(ds[0]!.first_malicious_ts, 5 * MIN)
  assert.ok(ds[0]!.evidence.user_agents.includes('python-requests/2.32.3'))
})

test('a headless browser on the login network (a phishing proxy) still pages', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0, kind: 'ISSUE', action: 'login' }), event({ ts: 2 * MIN, ...headless })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'page')
  assert.equal(ds[0]!.confirmed, false, 'nothing independent agrees yet')
})

test('a browser upgrading itself mid-session raises nothing', () => {
  const event = eventBuilder()
  const upgraded = { user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36' }
  assert.deepEqual(run([event({ ts: 0, kind: 'ISSUE', action: 'login' }), event({ ts: MIN }), event({ ts: 60 * MIN, ...upgraded })]), [])
})

test('a mobile browser reported as a webview or a mobile family is the same client', () => {
  const event = eventBuilder({ os_family: 'Android', device_type: 'mobile' })
  assert.deepEqual(run([event({ ts: 0, ua_family: 'Chrome Mobile' }), event({ ts: MIN, ua_family: 'Chrome WebView' }), event({ ts: 2 * MIN, ua_family: 'Chrome' })]), [])
})

test('another browser on another OS and network tickets or pages by how much changed', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0, kind: 'ISSUE', action: 'login' }), event({ ts: 5 * MIN, ...datacenter, ...firefoxOnLinux })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'page')
  assert.ok(ds[0]!.evidence.reasons.some((r) => r.startsWith('operating system changed')))
})

test('service accounts and CI runners with tool user agents are not judged', () => {
  const event = eventBuilder({ subject: 'ci-runner@acme.example', token_kind: 'api_key' })
  assert.deepEqual(run([event({ ts: 0, ...pythonRequests }), event({ ts: MIN, ...headless }), event({ ts: 2 * MIN, ua_family: 'curl', device_type: 'automation' })]), [])
})

test('tokens of an exempt backend-for-frontend client are not judged', () => {
  const event = eventBuilder({ client_id: 'web-bff' })
  const config = { ...DEFAULT_CLIENT_DRIFT, exemptClientIds: ['web-bff'] }
  assert.deepEqual(run([event({ ts: 0, kind: 'ISSUE', action: 'login' }), event({ ts: MIN, ...datacenter, ...pythonRequests })], config), [])
})

test('the issuance client is the origin even when the login arrives after the first requests', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: MIN, ...pythonRequests }), event({ ts: 0, kind: 'ISSUE', action: 'login' })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.evidence.user_agents[1], 'python-requests/2.32.3')
})

test('the same history gives the same detections, also across a checkpoint and restore', () => {
  const event = eventBuilder()
  const history = [event({ ts: 0, kind: 'ISSUE', action: 'login' }), event({ ts: MIN }), event({ ts: 2 * MIN, ...headless }), event({ ts: 3 * MIN, ...datacenter, ...pythonRequests })]
  const { straight, restarted } = runAcrossRestart(() => createClientDriftDetector() as never, history, 2)
  assert.ok(straight.length >= 1)
  assert.deepEqual(restarted, straight)
  assert.equal(new Set(straight.map((d) => d.detection_id)).size, 1)
})
