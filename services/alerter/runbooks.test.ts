import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { createDetectors } from '../../detectors/index.js'
import { packageRoot } from '../shared/paths.js'
import { runbookUrl } from './payload.js'
import { sampleDetection } from './test-fixtures.js'

test('every detector the pipeline runs has the runbook its pages link to', () => {
  const names = createDetectors({ windowMs: 30 * 60_000 }).map((d) => d.name)
  assert.ok(names.length > 0)
  const missing = names.filter((name) => !existsSync(join(packageRoot, runbookUrl(sampleDetection({ detector: name })))))
  assert.deepEqual(missing, [])
})
