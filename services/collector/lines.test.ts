import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { readLines } from './lines.js'

async function collect(chunks: string[], max: number) {
  const out = []
  for await (const line of readLines(Readable.from(chunks.map((c) => Buffer.from(c))), max)) out.push(line)
  return out
}

test('lines are split across chunk boundaries, with CRLF endings trimmed', async () => {
  const lines = await collect(['ab', 'c\r\nde', 'f\n', 'g'], 100)
  assert.deepEqual(lines.map((l) => l.text), ['abc', 'def', 'g'])
  assert.deepEqual(lines.map((l) => l.number), [1, 2, 3])
})

test('a line longer than the limit is cut, flagged and counted in full, without holding it in memory', async () => {
  const huge = 'x'.repeat(1_000_000)
  const lines = await collect([huge.slice(0, 400_000), huge.slice(400_000) + '\nnext\n'], 1024)
  assert.equal(lines[0]!.text.length, 1024)
  assert.equal(lines[0]!.truncated, true)
  assert.equal(lines[0]!.bytes, 1_000_000)
  assert.deepEqual({ text: lines[1]!.text, truncated: lines[1]!.truncated }, { text: 'next', truncated: false })
})
