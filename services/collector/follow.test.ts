import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { followLines } from './follow.js'

test('following a file yields appended lines, waits for unfinished ones, and restarts after rotation', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-follow-'))
  const file = join(dir, 'app.log')
  writeFileSync(file, 'one\ntw')
  const controller = new AbortController()
  const seen: string[] = []
  const lines = followLines(file, { maxLineBytes: 1024, pollMs: 10, signal: controller.signal, fromEnd: false })
  const next = async () => {
    const r = await lines.next()
    if (r.done) throw new Error('ended early')
    seen.push(r.value.text)
    return r.value.text
  }
  assert.equal(await next(), 'one')
  const waiting = next()
  appendFileSync(file, 'o\nthree\n')
  assert.equal(await waiting, 'two')
  assert.equal(await next(), 'three')
  renameSync(file, file + '.1')
  writeFileSync(file, 'after rotation\n')
  assert.equal(await next(), 'after rotation')
  controller.abort()
  assert.equal((await lines.next()).done, true)
  assert.deepEqual(seen, ['one', 'two', 'three', 'after rotation'])
})
