import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { BlobStore } from './blob-store.js'

/** A store in memory, and one with a file in a fresh directory (removed after the test). */
function eachStore(t: { after(fn: () => void): void }): [string, BlobStore][] {
  const dir = mkdtempSync(join(tmpdir(), 'sw-blobs-'))
  const onDisk = new BlobStore({ dir })
  t.after(() => {
    onDisk.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return [['in memory', new BlobStore()], ['on disk', onDisk]]
}

test('the blob store keeps every blob intact through drops, and gives back chunks gone mostly stale', (t) => {
  for (const [where, store] of eachStore(t)) {
    const live = new Map<number, Buffer>()
    const handles: number[] = []
    let seed = 3
    const next = () => (seed = (seed * 48271) % 2147483647)
    // About 40 000 blobs live at a time (6 MB, several full chunks), 400 000 written: without giving chunks back
    // the store would hold ten times its live bytes.
    for (let i = 0; i < 400_000; i++) {
      if (handles.length >= 40_000) {
        const at = next() % handles.length
        const h = handles[at]!
        handles[at] = handles[handles.length - 1]!
        handles.pop()
        store.drop(h)
        live.delete(h)
      }
      const blob = Buffer.alloc(1 + (next() % 300), i % 251)
      const h = store.put(blob)
      live.set(h, blob)
      handles.push(h)
    }
    assert.equal(store.count, live.size, where)
    for (const [h, blob] of live) assert.deepEqual(store.view(h), blob, where)
    const bytes = [...live.values()].reduce((n, b) => n + b.length, 0)
    const { total, disk, tail } = store.reserved
    // Every chunk but the one being filled is at least three quarters live (less what a blob too long left unused).
    assert.ok(total + disk - tail <= (bytes * 4) / 3 + 300 * ((total + disk) / tail), `${where}: chunks were given back: ${total + disk} held for ${bytes} live`)
    assert.ok(store.size - tail <= (bytes * 4) / 3, `${where}: stale bytes were reclaimed: ${store.size} in use for ${bytes} live`)
    if (store.onDisk) {
      // Memory holds the chunk being filled, nothing else; the file holds the rest.
      assert.equal(total, tail, `${where}: ${total} bytes of chunks in memory`)
      assert.ok(disk >= bytes - tail, `${where}: ${disk} bytes on disk for ${bytes} live`)
    } else assert.equal(disk, 0)
  }
})

test('blobs longer than 64 kB keep their length through drops and chunk moves', (t) => {
  for (const [where, store] of eachStore(t)) {
    const long = new Map<number, Buffer>()
    const small: number[] = []
    for (let i = 0; i < 40; i++) {
      const blob = Buffer.alloc(65_535 + i * 1000, i)
      long.set(store.put(blob), blob)
      for (let k = 0; k < 200; k++) small.push(store.put(Buffer.alloc(100, k)))
    }
    // Every small blob dropped: the chunks holding long ones go mostly stale and move them.
    for (const h of small) store.drop(h)
    for (const [h, blob] of long) assert.deepEqual(store.view(h), blob, where)
    assert.equal(store.count, long.size, where)
    assert.equal(store.bytes, [...long.values()].reduce((n, b) => n + b.length, 0), where)
  }
})

test("the file of a store on disk is never seen in its directory, and a blob longer than a chunk's place stays in memory", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-blobs-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const store = new BlobStore({ dir: join(dir, 'frozen') })
  assert.ok(store.onDisk)
  // Unlinked once opened: a crash leaves nothing to clean up.
  assert.deepEqual(readdirSync(join(dir, 'frozen')), [])
  const huge = Buffer.alloc(5 << 20, 7)
  const h = store.put(huge)
  const small = store.put(Buffer.from('after'))
  assert.ok(store.reserved.total >= huge.length, 'the 5 MB chunk is held in memory')
  assert.deepEqual(store.view(h), huge)
  assert.deepEqual(store.view(small), Buffer.from('after'))
  store.close()
  store.close()
})
