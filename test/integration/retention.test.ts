// Logs replayed from weeks ago must not be deleted by the topics' retention before they are consumed: retention
// counts from when a record reached the broker, not from the event's time. Real broker.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import kafkajs from 'kafkajs'
import { topicSpecs } from '../../services/shared/kafka.js'
import { readToEnd } from '../../services/shared/consume.js'
import { kafkaTestbed, randomId, testEnv } from '../support/harness.js'

test('every topic stamps records with the time they arrived, so a replay of month-old logs is kept for the whole retention', async (t) => {
  const { config, kafka, topics, send } = await kafkaTestbed(t, testEnv())
  const sent = Date.now()
  const monthAgo = new Date(sent - 30 * 24 * 3600_000).toISOString()
  const id = randomId()
  await send([{ kind: 'ISSUE', ts: monthAgo, subject: `old-${id}`, session_id: `s-${id}`, token: `cookie-${id}`, ip: '73.14.2.3' }])

  const stamps: number[] = []
  await readToEnd(kafka, topics.issue, (_key, value, _partition, timestamp) => { if (value) stamps.push(timestamp) })
  assert.equal(stamps.length, 1)
  // The event's time (a month ago) would have the 7-day retention delete it at the broker's next check.
  assert.ok(stamps[0]! >= sent - 60_000, `the record's timestamp is its arrival (${new Date(stamps[0]!).toISOString()}), not the event's (${monthAgo})`)

  const admin = kafka.admin()
  await admin.connect()
  t.after(() => admin.disconnect())
  const specs = topicSpecs(config.kafka, topics)
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: specs.map((s) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name: s.topic, configNames: ['message.timestamp.type'] })),
  })
  for (const resource of described.resources) {
    assert.equal(resource.configEntries.find((e) => e.configName === 'message.timestamp.type')?.configValue, 'LogAppendTime', resource.resourceName)
  }
  assert.equal(described.resources.length, specs.length)
})
