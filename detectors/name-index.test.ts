import assert from 'node:assert/strict'
import { test } from 'node:test'
import { NameIndex } from './name-index.js'

test('the name index agrees with a Map through random adds and removes, across table growth', () => {
  const index = new NameIndex(4)
  const model = new Map<string, number>()
  const free: number[] = []
  let next = 0
  // A small generator, so a failure replays.
  let seed = 7
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32)
  const names = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? `s:102${i}xYz` : i % 3 === 1 ? `u:user${i}@exämple.org` : `t:tfp_${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}`))
  for (let step = 0; step < 40_000; step++) {
    const name = names[Math.floor(random() * names.length)]!
    const g = model.get(name)
    if (g === undefined) {
      assert.equal(index.get(name), -1)
      const fresh = free.pop() ?? next++
      index.add(name, fresh)
      model.set(name, fresh)
    } else {
      assert.equal(index.get(name), g)
      assert.equal(index.name(g), name)
      if (random() < 0.6) {
        index.remove(g)
        model.delete(name)
        free.push(g)
      }
    }
  }
  assert.equal(index.size, model.size)
  for (const name of names) assert.equal(index.get(name), model.get(name) ?? -1)
})
