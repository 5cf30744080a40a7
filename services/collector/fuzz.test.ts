// At least 100 000 malformed and random lines through every parser and the rest of the collector path
// (normalise, Avro routing): nothing throws, and every line ends as events, a skip, or a DLQ record with a
// code from the closed list.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fixturePath } from '../../test/support/paths.js'
import { createCodecs } from '../shared/avro.js'
import { createFingerprinter } from '../shared/fingerprint.js'
import { topicNames } from '../shared/kafka.js'
import { createFormatRegistry } from './formats/index.js'
import { REJECT_CODES } from './formats/types.js'
import { createNormalizer } from './normalize.js'
import { createLineProcessor, createRouter } from './pipeline.js'

const PER_FORMAT = 7_000

function createRandom(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const NASTY = ['null', 'true', '-1', '1e400', '""', '"\\u0000"', '[]', '{}', '"9999-99-99T99:99:99Z"', '"' + 'x'.repeat(5000) + '"', '{"a":[[[[[[[[[[1]]]]]]]]]]}', '"😀"', '"\\ud800"', 'NaN']

function mutate(line: string, rnd: () => number): string {
  const at = Math.floor(rnd() * line.length)
  switch (Math.floor(rnd() * 8)) {
    case 0: return line.slice(0, at)
    case 1: return line.slice(at)
    case 2: return line.slice(0, at) + NASTY[Math.floor(rnd() * NASTY.length)] + line.slice(at)
    case 3: return line.replace(/"[^"]*"\s*:\s*("[^"]*"|\d+|true|false|null)/, (m) => m.replace(/:\s*.*/, ':' + NASTY[Math.floor(rnd() * NASTY.length)]))
    case 4: return line.replace(/\d/g, () => String(Math.floor(rnd() * 10)))
    case 5: return Array.from({ length: Math.floor(rnd() * 200) }, () => String.fromCharCode(Math.floor(rnd() * 0xffff))).join('')
    case 6: return '['.repeat(Math.floor(rnd() * 600)) + line
    default: return line.split('').reverse().join('')
  }
}

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
    const rnd = createRandom(format.name.length * 7919)
    const base = seeds(format.name)
    const processLine = createLineProcessor(format, { normalize, now: () => 0 })
    const outcomes = { events: 0, rejects: 0, skips: 0 }
    for (let i = 0; i < PER_FORMAT; i++) {
      const text = mutate(base[i % base.length]!, rnd)
      const outcome = processLine({ text, number: i + 1, bytes: Buffer.byteLength(text), truncated: false }, `fuzz:${i}`)
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
