import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import avro from 'avsc'
import type { AuthEvent } from '../../schemas/model.js'
import { createFingerprinter } from './fingerprint.js'
import { createCodecs } from './avro.js'
import { createNormalizer } from '../collector/normalize.js'
import { packageRoot } from './paths.js'

const codecs = createCodecs()
const normalize = createNormalizer({ fingerprint: createFingerprinter('k'.repeat(32)), now: () => 1_000 })
const event = (route: string): AuthEvent =>
  normalize({ kind: 'VALIDATE', action: 'request', ts: 500, source: { system: 'gateway', format: 'canonical' }, route, ip: '203.0.113.9' }, 'line', 0)

test('every encoded value has its own bytes: encoding the next one does not change an earlier result', () => {
  const first = codecs.authEvent.encode(event('/a'))
  const copy = Buffer.from(first)
  codecs.authEvent.encode(event('/bbbbbbbbbbbbbbbb'))
  assert.deepEqual(first, copy)
  assert.equal(codecs.authEvent.decode(first).route, '/a')
})

test('values larger than the scratch buffer encode whole, and smaller ones still encode after it grew', () => {
  const long = '/' + 'x'.repeat(20_000)
  assert.equal(codecs.authEvent.decode(codecs.authEvent.encode(event(long))).route, long)
  assert.equal(codecs.authEvent.decode(codecs.authEvent.encode(event('/short'))).route, '/short')
})

test('an encoded value is byte for byte what avsc toBuffer writes for it', () => {
  const type = avro.Type.forSchema(JSON.parse(readFileSync(join(packageRoot, 'schemas', 'auth-event.avsc'), 'utf8')))
  for (const route of ['/api/inbox', '/' + 'y'.repeat(9_000)]) {
    const value = event(route)
    assert.deepEqual(codecs.authEvent.encode(value), type.toBuffer(value))
  }
})
