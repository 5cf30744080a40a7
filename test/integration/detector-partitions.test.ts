// Two detector workers in one consumer group: the group gives partition p of all three auth topics to one of
// them, each keeps and checkpoints only its own partitions' state, and every stolen session is judged by the
// worker that saw its login, so each is detected once, with the victim's own network in the evidence.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Detection } from '../../schemas/model.js'
import { createDetectorService } from '../../services/detector/detector.js'
import { readToEnd } from '../../services/shared/consume.js'
import { createMetrics } from '../../services/shared/metrics.js'
import { groupCaughtUp, kafkaTestbed, randomId, testEnv, waitFor } from '../support/harness.js'

const WAIT = { timeoutMs: 120_000 }
const USERS = 12

test('two workers share the partitions, each holds only its own users\' state, and every attack is detected once', async (t) => {
  // Three partitions: with an odd count, dealing topic-partitions out one by one would split a user's topics.
  const env = testEnv({ SW_PARTITIONS: '3' })
  const { config, log, kafka, topics, codecs, send } = await kafkaTestbed(t, env)
  const groupId = `${config.kafka.topicPrefix}detector-${randomId()}`
  const worker = () => createDetectorService({ config: config.detector, kafka, topics, codecs, log, metrics: createMetrics(), now: () => Date.now(), groupId })
  const workers = [worker(), worker()]
  t.after(() => Promise.all(workers.map((w) => w.stop())))
  await workers[0]!.start()
  await workers[1]!.start()
  const admin = kafka.admin()
  await admin.connect()
  t.after(() => admin.disconnect())
  await waitFor(async () => {
    const { groups } = await admin.describeGroups([groupId])
    return groups[0]?.state === 'Stable' && groups[0].members.length === 2
  }, { ...WAIT, what: 'both workers in the group' })

  const id = randomId()
  const home = { ip: '73.14.2.3', asn: 7922, country: 'US', user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' }
  const thief = { ip: '167.99.7.8', asn: 14061, country: 'NL', user_agent: 'python-requests/2.32.3' }
  const victims = Array.from({ length: USERS }, (_, i) => ({ subject: `victim-${i}-${id}`, session_id: `s-${i}-${id}`, token: `cookie-${i}-${id}-${randomId()}` }))
  // Logins first, the replays in a later send: the issue and validate topics are consumed independently.
  await send(victims.map((v) => ({ kind: 'ISSUE', action: 'login', ts: '2026-11-23T09:00:00Z', ...v, ...home })))
  await send(victims.flatMap((v) => [
    { kind: 'VALIDATE', ts: '2026-11-23T09:01:00Z', ...v, ...home },
    { kind: 'VALIDATE', ts: '2026-11-23T09:05:00Z', ...v, ...thief },
  ]))

  const detections: Detection[] = []
  await waitFor(async () => {
    detections.length = 0
    await readToEnd(kafka, topics.detections, (_key, value) => { if (value) detections.push(codecs.detection.decode(value)) })
    const paged = new Set(detections.filter((d) => d.detector === 'multi_network').map((d) => d.session_id))
    return paged.size === USERS && (await groupCaughtUp(kafka, groupId, [topics.issue, topics.revoke, topics.validate]))
  }, { ...WAIT, what: 'a multi-network detection for every victim' })

  const [a, b] = workers.map((w) => new Set(w.state.partitions))
  assert.ok(a!.size > 0 && b!.size > 0, `both workers own partitions (${[...a!]} / ${[...b!]})`)
  assert.deepEqual([...a!].filter((p) => b!.has(p)), [], 'no partition held twice')
  assert.deepEqual([...a!, ...b!].sort(), [0, 1, 2])
  for (const v of victims) {
    const network = detections.filter((d) => d.session_id === v.session_id && d.detector === 'multi_network')
    assert.equal(new Set(network.map((d) => d.detection_id)).size, 1, `${v.session_id}: one incident`)
    assert.deepEqual(new Set(network.at(-1)!.evidence.asns), new Set([7922, 14061]), `${v.session_id}: the login's network is in the evidence`)
  }

  // Every checkpointed session slot sits in the partition of its user's events, and only the owner wrote it.
  const eventPartition = new Map<string, number>()
  await readToEnd(kafka, topics.issue, (_key, value, partition) => { if (value) eventPartition.set(codecs.authEvent.decode(value).session_id!, partition) })
  let checked = 0
  await readToEnd(kafka, topics.state, (key, _value, partition) => {
    const match = /\|s:(.+)$/.exec(key?.toString('utf8') ?? '')
    if (!match || !eventPartition.has(match[1]!)) return
    assert.equal(partition, eventPartition.get(match[1]!), `state of ${match[1]} in its events' partition`)
    checked++
  })
  assert.ok(checked >= USERS, `session states checked: ${checked}`)
})
