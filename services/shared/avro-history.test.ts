import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import avro from 'avsc'
import type { Detection } from '../../schemas/model.js'
import { createCodecs } from './avro.js'
import { packageRoot } from './paths.js'

/** Plain data, without avsc's record classes. */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown

const detection: Detection = {
  detection_id: 'det_' + 'a'.repeat(32), detector: 'multi_network', severity: 'page', score: 0.9, confirmed: true,
  subject: 'u1', session_id: 's1', token_fp: null, summary: 'session used from 2 networks',
  evidence: { event_ids: ['e1', 'e2'], ips: ['73.14.1.10', '167.99.1.2'], prefixes: [], asns: [7922, 14061], places: [], user_agents: [], times: [1, 2], reasons: ['r'] },
  first_malicious_ts: 2, detected_ts: 3, route: '/api/admin',
}

test('a detection written before `route` existed still decodes, with route null', () => {
  const v1 = avro.Type.forSchema(JSON.parse(readFileSync(join(packageRoot, 'schemas/history/detection.v1.avsc'), 'utf8')))
  const { route: _route, ...old } = detection
  const decoded = createCodecs().detection.decode(v1.toBuffer(old))
  assert.deepEqual(plain(decoded), { ...old, route: null })
})

test('current detections round-trip, and bytes no version wrote are still an error', () => {
  const codec = createCodecs().detection
  assert.deepEqual(plain(codec.decode(codec.encode(detection))), detection)
  assert.throws(() => codec.decode(Buffer.from('not avro at all, and not short either')))
})
