// The payloads sent to PagerDuty and Slack checked against the vendors' documented formats, written down as
// JSON schemas under schemas/vendors/. The schema checks are themselves tested to reject wrong payloads.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { packageRoot } from '../shared/paths.js'
import { createIncidentBook } from './incident-book.js'
import { createJsonSchemaValidator } from './json-schema.js'
import { DEFAULT_POLICY } from './policy.js'
import { sampleDetection } from './test-fixtures.js'
import { inspectSlackApi, pagerDutyFollowUp, pagerDutyTrigger, slackCommandMessage, slackMessage, slackPostMessage } from './vendors.js'

const load = (name: string) => createJsonSchemaValidator(JSON.parse(readFileSync(join(packageRoot, 'schemas', 'vendors', name), 'utf8')))
const pagerDuty = load('pagerduty-events-v2.schema.json')
const slack = load('slack-incoming-webhook.schema.json')
const slackApi = load('slack-chat-postmessage.schema.json')
const links = { timelineBaseUrl: 'http://127.0.0.1:8788', runbookBaseUrl: 'https://git.acme.example/sessionwatch/blob/main' }

function notices() {
  const book = createIncidentBook(DEFAULT_POLICY.incidents)
  return [book.apply(sampleDetection({ detection_id: 'a' }), 'page')!, book.apply(sampleDetection({ detection_id: 'b' }), 'page')!]
}

test('PagerDuty trigger, update, acknowledge and resolve events conform to Events API v2, all with the incident id as dedup_key', () => {
  const [trigger, update] = notices()
  const options = { routingKey: 'R0123456789abcdef0123456789abcde', source: 'sessionwatch', ...links }
  for (const event of [pagerDutyTrigger(sampleDetection(), trigger!, options), pagerDutyTrigger(sampleDetection({ detection_id: 'b' }), update!, options)]) {
    assert.deepEqual(pagerDuty.errors(event), [])
    assert.equal(event.dedup_key, trigger!.incident.id)
  }
  for (const action of ['acknowledge', 'resolve'] as const) assert.deepEqual(pagerDuty.errors(pagerDutyFollowUp(trigger!.incident.id, action, options.routingKey)), [])
  const long = pagerDutyTrigger(sampleDetection({ summary: 'x'.repeat(5000) }), trigger!, options)
  assert.deepEqual(pagerDuty.errors(long), [], 'the summary is clipped to 1024 characters')
})

test('the PagerDuty schema rejects what the API would reject', () => {
  const [trigger] = notices()
  const good = pagerDutyTrigger(sampleDetection(), trigger!, { routingKey: 'R01', source: 's', ...links })
  assert.notDeepEqual(pagerDuty.errors({ ...good, payload: { ...good.payload, severity: 'page' } }), [])
  assert.notDeepEqual(pagerDuty.errors({ ...good, event_action: 'escalate' }), [])
  assert.notDeepEqual(pagerDuty.errors({ routing_key: 'R01', event_action: 'resolve' }), [], 'resolve needs dedup_key')
  const { payload: _payload, ...noPayload } = good
  assert.notDeepEqual(pagerDuty.errors(noPayload), [], 'trigger needs payload')
})

test('Slack messages conform to the incoming-webhook Block Kit format and escape what they quote', () => {
  const [trigger, update] = notices()
  const hostile = sampleDetection({ subject: '<!channel> & friends', summary: 'y'.repeat(4000), evidence: { ...sampleDetection().evidence, reasons: ['<@U123>'] } })
  for (const message of [slackMessage(sampleDetection(), trigger!, links), slackMessage(sampleDetection(), update!, links), slackMessage(hostile, trigger!, links)]) {
    assert.deepEqual(slack.errors(message), [])
  }
  // Mentions are parsed in mrkdwn and the top-level text, not in plain_text (the header).
  const message = slackMessage(hostile, trigger!, links)
  const parsed = JSON.stringify([message.text, message.blocks.filter((b) => b.type !== 'header')])
  assert.ok(!parsed.includes('<!channel>') && !parsed.includes('<@U123>'))
  assert.ok(parsed.includes('&lt;!channel&gt;'))
  assert.match(JSON.stringify(slackMessage(sampleDetection(), trigger!, links)), /Timeline.*Runbook/)
})

test('the Slack schema rejects a header over 150 characters and more than 50 blocks', () => {
  const [trigger] = notices()
  const message = slackMessage(sampleDetection(), trigger!, links)
  assert.notDeepEqual(slack.errors({ ...message, blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] }), [])
  assert.notDeepEqual(slack.errors({ ...message, blocks: Array(51).fill({ type: 'divider' }) }), [])
  assert.notDeepEqual(slack.errors({ ...message, blocks: [{ type: 'section' }] }), [], 'a section needs text or fields')
})

test('chat.postMessage bodies conform to the Web API format: the channel, and thread_ts for every reply', () => {
  const [trigger, update] = notices()
  const root = slackPostMessage(slackMessage(sampleDetection(), trigger!, links), 'C0SECURITY')
  const reply = slackPostMessage(slackMessage(sampleDetection({ detection_id: 'b' }), update!, links), 'C0SECURITY', '1503435956.000247')
  assert.deepEqual(slackApi.errors(root), [])
  assert.deepEqual(slackApi.errors(reply), [])
  assert.equal('thread_ts' in root, false)
  assert.equal(reply.thread_ts, '1503435956.000247')
  assert.notDeepEqual(slackApi.errors(slackMessage(sampleDetection(), trigger!, links)), [], 'the Web API needs the channel')
  assert.notDeepEqual(slackApi.errors({ ...reply, thread_ts: 'yesterday' }), [])
})

test('acknowledge and resolve messages conform to both Slack formats, name who did it and escape what they quote', () => {
  const [trigger] = notices()
  for (const action of ['acknowledge', 'resolve'] as const) {
    const message = slackCommandMessage(trigger!.incident, { incident_id: trigger!.incident.id, action, by: '<!here> mallory', reason: 'fixed <@U1>', ts: 1_700_000_000_000 }, links)
    assert.deepEqual(slack.errors(message), [])
    assert.deepEqual(slackApi.errors(slackPostMessage(message, 'C1', '1.2')), [])
    const text = JSON.stringify(message)
    assert.ok(!text.includes('<!here>') && !text.includes('<@U1>'))
    assert.match(message.text, action === 'acknowledge' ? /Acknowledged by &lt;!here&gt; mallory/ : /Resolved by/)
  }
})

test('a chat.postMessage answer is read for its ts; Slack errors answered with 200 fail, retried only when Slack says it may help', () => {
  assert.deepEqual(inspectSlackApi(200, '{"ok":true,"channel":"C1","ts":"1503435956.000247","message":{"text":"x"}}'), { ok: true, value: { channel: 'C1', ts: '1503435956.000247' } })
  assert.deepEqual(inspectSlackApi(200, '{"ok":false,"error":"channel_not_found"}'), { ok: false, error: 'slack channel_not_found', retriable: false })
  assert.deepEqual(inspectSlackApi(200, '{"ok":false,"error":"invalid_auth"}'), { ok: false, error: 'slack invalid_auth', retriable: false })
  assert.deepEqual(inspectSlackApi(200, '{"ok":false,"error":"internal_error"}'), { ok: false, error: 'slack internal_error', retriable: true })
  assert.deepEqual(inspectSlackApi(200, '{"ok":false,"error":"ratelimited"}'), { ok: false, error: 'slack ratelimited', retriable: true })
  assert.equal(inspectSlackApi(200, 'ok').ok, false, 'an incoming-webhook answer is not a Web API answer')
  assert.equal(inspectSlackApi(200, '{"ok":true}').ok, false, 'no ts to thread under')
})
