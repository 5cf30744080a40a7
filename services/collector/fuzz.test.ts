// At least 100 000 malformed and random lines (test/support/fuzz.ts) through every parser and the rest of the collector path
// (normalise, Avro routing): nothing throws, and every line ends as events, a skip, or a DLQ record with a
// code from the closed list.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { garbage } from '../../test/support/fuzz.js'
import { fixturePath } from '../../test/support/paths.js'
import { createCodecs } from '../shared/avro.js'
import { createFingerprinter } from '../shared/fingerprint.js'
import { topicNames } from '../shared/kafka.js'
import { createFormatRegistry } from './formats/index.js'
import { REJECT_CODES } from './formats/types.js'
import { createNormalizer } from './normalize.js'
import { createLineProcessor, createRouter } from './pipeline.js'

const PER_FORMAT = 7_000
const MAX_LINE = 64 * 1024

function seeds(format: string): string[] {
  let dir: string
  try {
    dir = fixturePath('formats', format)
    return readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n')).filter((l) => l.trim().length > 0)
  } catch {
    return ['{"kind":"VALIDATE","ts":"2026-11-20T10:15:02Z","subject":"u","token":"t","ip":"203.0.113.7"}']
  }
}

test(`every format survives ${PER_FORMAT} mutated and random lines through the whole collector path`, () => {
  const formats = createFormatRegistry()
  const normalize = createNormalizer({ fingerprint: createFingerprinter('fuzz-key-fuzz-key-fuzz-key-fuzz-key'), now: () => 0 })
  const route = createRouter(createCodecs(), topicNames('fuzz.'))
  let total = 0
  for (const format of formats.values()) {
    const lines = garbage(seeds(format.name), PER_FORMAT, format.name.length * 7919)
    const processLine = createLineProcessor(format, { normalize, now: () => 0 })
    const outcomes = { events: 0, rejects: 0, skips: 0 }
    for (let i = 0; i < PER_FORMAT; i++) {
      const text = lines[i]!
      // As the line reader hands them over: cut at the line limit and flagged, like the collector reads files.
      const bytes = Buffer.byteLength(text)
      const outcome = processLine({ text: text.slice(0, MAX_LINE), number: i + 1, bytes, truncated: bytes > MAX_LINE }, `fuzz:${i}`)
      if (outcome.reject) {
        assert.ok((REJECT_CODES as readonly string[]).includes(outcome.reject.code), `${format.name}: ${outcome.reject.code}`)
        outcomes.rejects++
      } else if (outcome.events.length === 0) outcomes.skips++
      const routed = route(outcome.events, outcome.reject ? [outcome.reject] : [])
      const produced = routed.counts.issue + routed.counts.revoke + routed.counts.validate
      outcomes.events += produced
      // An event the Avro contract refuses becomes a DLQ record; nothing disappears.
      assert.equal(produced + routed.counts.dlq, outcome.events.length + (outcome.reject ? 1 : 0))
      total++
    }
    assert.ok(outcomes.rejects > 0, `${format.name}: the mutations must produce rejects`)
  }
  assert.ok(total >= 100_000, `${total} lines`)
})
