// A detector worker killed (SIGKILL, no goodbye) in the middle of an attack: the next worker restores the
// state from detector.state before consuming, so the attack in flight is still detected, and only once.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import type { Detection } from '../../schemas/model.js'
import { incidentId } from '../../services/alerter/incident.js'
import { groupCaughtUp, kafkaTestbed, randomId, testEnv, topicBytes, waitFor } from '../support/harness.js'
import { repoRoot } from '../support/paths.js'

const WAIT = { timeoutMs: 120_000 }

test('a killed detector worker resumes from its checkpoint: the attack in flight is detected once', async (t) => {
  const env = testEnv()
  const { config, kafka, topics, codecs, send } = await kafkaTestbed(t, env)
  const workers: ChildProcess[] = []
  t.after(() => workers.forEach((w) => w.exitCode === null && w.kill('SIGKILL')))
  const startWorker = () => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist/services/cli/main.js'), 'run', 'detector'], {
      env: { ...process.env, ...env, KAFKAJS_NO_PARTITIONER_WARNING: '1' }, stdio: 'ignore',
    })
    workers.push(child)
    return child
  }
  const caughtUp = () => groupCaughtUp(kafka, `${config.kafka.topicPrefix}sessionwatch-detector`, [topics.issue, topics.revoke, topics.validate])
  const id = randomId()
  const session = { subject: `victim-${id}`, session_id: `s-${id}`, token: `cookie-${id}-${randomId()}` }
  const home = { ip: '73.14.2.3', asn: 7922, country: 'US', user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' }
  const thief = { ip: '167.99.7.8', asn: 14061, country: 'NL', user_agent: 'python-requests/2.32.3' }

  const first = startWorker()
  await send([
    { kind: 'ISSUE', ts: '2026-11-23T09:00:00Z', ...session, ...home },
    { kind: 'VALIDATE', ts: '2026-11-23T09:01:00Z', ...session, ...home },
  ])
  await waitFor(caughtUp, { ...WAIT, what: 'the first worker to checkpoint the victim session' })
  first.kill('SIGKILL')
  await new Promise((resolve) => first.once('exit', resolve))

  startWorker()
  await send([
    { kind: 'VALIDATE', ts: '2026-11-23T09:05:00Z', ...session, ...thief },
    { kind: 'VALIDATE', ts: '2026-11-23T09:05:20Z', ...session, ...thief },
  ])
  let found: Detection[] = []
  await waitFor(async () => {
    found = (await topicBytes(kafka, topics.detections)).flatMap((b) => {
      try {
        return [codecs.detection.decode(b)]
      } catch {
        return []
      }
    }).filter((d) => d.session_id === session.session_id)
    return found.length > 0 && (await caughtUp())
  }, { ...WAIT, what: 'the detection from the second worker' })
  assert.equal(new Set(found.map((d) => incidentId(d))).size, 1, 'one incident')
  const network = found.filter((d) => d.detector === 'multi_network')
  assert.equal(new Set(network.map((d) => d.detection_id)).size, 1, 'the multi-network detection once')
  assert.equal(network.at(-1)!.severity, 'page')
  assert.deepEqual(new Set(network.at(-1)!.evidence.asns), new Set([7922, 14061]), 'the victim network seen by the killed worker is in the evidence')
})
