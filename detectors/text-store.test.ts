import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Symbols, TextArena, TextColumn } from './text-store.js'

// Values of every encoding the arena chooses between, and the near misses that must stay UTF-8.
const VALUES = [
  '', 'a', 'ab', '0f', 'deadbeef', 'DEADBEEF', 'abc', '8a1f3c0e-5b2d-4e6f-9a7b-0c1d2e3f4a5b', '8A1F3C0E-5B2D-4E6F-9A7B-0C1D2E3F4A5B',
  '8a1f3c0e-5b2d-4e6f-9a7b-0c1d2e3f4a5', 'tfp_0123456789abcdef0123456789abcdef01234567', 'tfp_0123', 'tfp_012', 'tfp_', 'j:abc-123',
  '8a1f3c0e5-b2d-4e6f-9a7b-0c1d2e3f4a5b', 'tfq_0123', 'tfp_01234', 'deadbeeg', 'deadbee', '0123456789abcdef0123',
  '203.0.113.7', '2001:db8::17', 'jürgen.müller@exämple.org', '東京 🗼', 'x'.repeat(20_000),
]

test('a text column gives back every value exactly, whatever encoding it is kept in', () => {
  const arena = new TextArena()
  const column = new TextColumn(arena, 4)
  for (const [row, value] of VALUES.entries()) {
    column.grow(row + 1)
    column.set(row, value)
  }
  for (const [row, value] of VALUES.entries()) {
    assert.equal(column.get(row), value)
    assert.ok(column.equals(row, value), value)
    for (const other of VALUES) if (other !== value) assert.ok(!column.equals(row, other), `${value} vs ${other}`)
    assert.ok(!column.equals(row, null))
  }
  column.set(0, null)
  assert.equal(column.get(0), null)
  assert.ok(column.isNull(0) && column.equals(0, null) && !column.equals(0, ''))
})

test('hexadecimal identifiers are kept in half the bytes', () => {
  const arena = new TextArena()
  const column = new TextColumn(arena, 8)
  column.set(0, '8a1f3c0e-5b2d-4e6f-9a7b-0c1d2e3f4a5b')
  column.set(1, 'tfp_0123456789abcdef0123456789abcdef01234567')
  assert.equal(arena.end, 16 + 20)
  column.set(2, 'Jürgen')
  assert.equal(arena.end, 36 + 7)
})

test('overwritten values are reclaimed by compaction, and every live value survives it', () => {
  const arena = new TextArena()
  const rows = 2000
  const column = new TextColumn(arena, rows)
  const expected: string[] = []
  for (let round = 0; round < 30; round++) {
    for (let row = 0; row < rows; row++) {
      // Lengths change every round, so values move rather than being overwritten in place.
      const value = `user-${row}-${'x'.repeat(round % 7)}@example.org`
      column.set(row, value)
      expected[row] = value
    }
  }
  for (let row = 0; row < rows; row++) assert.equal(column.get(row), expected[row])
  const live = expected.reduce((n, v) => n + Buffer.byteLength(v), 0)
  assert.ok(arena.end < live * 3, `arena holds ${arena.end} bytes for ${live} live`)
  assert.ok(arena.bytes.length < live * 5, `arena buffer ${arena.bytes.length} bytes for ${live} live`)
})

test('a mirror column keeps "same as" without a copy, and takes its own copy before the original changes', () => {
  const arena = new TextArena()
  const first = new TextColumn(arena, 2)
  const last = new TextColumn(arena, 2).mirrorOf(first)
  first.set(0, '198.51.100.4')
  const used = arena.end
  last.setSame(0)
  assert.equal(arena.end, used)
  assert.equal(last.get(0), '198.51.100.4')
  assert.ok(last.equals(0, '198.51.100.4'))
  first.set(0, '192.0.2.9')
  assert.equal(first.get(0), '192.0.2.9')
  assert.equal(last.get(0), '198.51.100.4')
  last.setSame(0)
  first.clear(0)
  assert.equal(last.get(0), '192.0.2.9')
  assert.equal(first.get(0), null)
})

test('symbols: one id per distinct string, stable while held, reclaimed once no row holds it', () => {
  const symbols = new Symbols(2)
  const a = symbols.id('AS64500 203.0.113.0/24')
  assert.equal(symbols.id('AS64500 203.0.113.0/24'), a)
  assert.equal(symbols.id(null), 0)
  assert.equal(symbols.str(0), null)
  symbols.hold(a)
  const b = symbols.id('Chrome/Windows/desktop')
  const c = symbols.id('Safari/iOS/mobile')
  symbols.collect()
  // b and c were never held: reclaimed; a is held.
  assert.equal(symbols.size, 1)
  assert.equal(symbols.str(a), 'AS64500 203.0.113.0/24')
  assert.equal(symbols.str(b), null)
  assert.equal(symbols.str(c), null)
  // A freed id is given out again, to the next new string.
  assert.ok([b, c].includes(symbols.id('Firefox/Linux/desktop')))
  symbols.release(a)
  symbols.id('x')
  symbols.collect()
  assert.equal(symbols.size, 0)
})
