import assert from 'node:assert/strict'
import { test } from 'node:test'
import { coPartition } from './assigner.js'

const AUTH = ['auth.issue', 'auth.revoke', 'auth.validate']
const sixEach = new Map(AUTH.map((t) => [t, [0, 1, 2, 3, 4, 5]]))

test('partition p of every auth topic goes to one member, and members share the partitions evenly', () => {
  const out = coPartition([{ memberId: 'b', topics: AUTH }, { memberId: 'a', topics: AUTH }], sixEach)
  assert.deepEqual(out.get('a'), { 'auth.issue': [0, 2, 4], 'auth.revoke': [0, 2, 4], 'auth.validate': [0, 2, 4] })
  assert.deepEqual(out.get('b'), { 'auth.issue': [1, 3, 5], 'auth.revoke': [1, 3, 5], 'auth.validate': [1, 3, 5] })
})

test('every topic-partition is assigned exactly once, whatever the number of members', () => {
  for (const count of [1, 2, 3, 4, 7]) {
    const members = Array.from({ length: count }, (_, i) => ({ memberId: `m${i}`, topics: AUTH }))
    const seen: string[] = []
    for (const assignment of coPartition(members, sixEach).values()) {
      for (const [topic, parts] of Object.entries(assignment)) seen.push(...parts.map((p) => `${topic}/${p}`))
    }
    assert.deepEqual(seen.sort(), AUTH.flatMap((t) => [0, 1, 2, 3, 4, 5].map((p) => `${t}/${p}`)).sort(), `${count} members`)
  }
})

test('a member is given only topics it subscribes to', () => {
  const out = coPartition([{ memberId: 'a', topics: ['auth.issue'] }, { memberId: 'b', topics: AUTH }], new Map(AUTH.map((t) => [t, [0, 1]])))
  for (const topic of Object.keys(out.get('a')!)) assert.equal(topic, 'auth.issue')
  const all = [...out.values()].flatMap((a) => Object.entries(a).flatMap(([t, ps]) => ps.map((p) => `${t}/${p}`)))
  assert.deepEqual(all.sort(), AUTH.flatMap((t) => [0, 1].map((p) => `${t}/${p}`)).sort(), 'each topic-partition once')
})
