// The engine's slot names ('s:<session>', 'u:<subject>', …) by group index, and the index of a name: an
// open-addressing hash table in typed arrays over names kept as bytes (text-store.ts). A Map from name to index
// costs a heap string and an entry per name, about 90 bytes for a session id, which a million sessions feel.

import { TextArena, TextColumn } from './text-store.js'

const EMPTY = -1

/** FNV-1a over the UTF-16 code units. */
function hashOf(name: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619)
  return h >>> 0
}

export class NameIndex {
  private table = new Int32Array(1024).fill(EMPTY)
  private mask = 1023
  private count = 0
  private hashes: Uint32Array<ArrayBuffer>
  private readonly names: TextColumn
  // Names are added once per group and rarely cleared: the arena grows in small steps, holding little unused room.
  private readonly arena = new TextArena(1.125)

  constructor(capacity = 1024) {
    this.hashes = new Uint32Array(capacity)
    this.names = new TextColumn(this.arena, capacity)
  }

  get size(): number {
    return this.count
  }

  /** The group named `name`, or -1. */
  get(name: string): number {
    const h = hashOf(name)
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const g = this.table[i]!
      if (g === EMPTY) return -1
      if (this.hashes[g] === h && this.names.equals(g, name)) return g
    }
  }

  /** Names group `g` (which has no name) `name` (which no group has). */
  add(name: string, g: number): void {
    if (g >= this.hashes.length) {
      const size = Math.max(g + 1, this.hashes.length * 2)
      const hashes = new Uint32Array(size)
      hashes.set(this.hashes)
      this.hashes = hashes
      this.names.grow(size)
    }
    if (++this.count * 2 > this.table.length) this.rehash(this.table.length * 2)
    const h = hashOf(name)
    this.hashes[g] = h
    this.names.set(g, name)
    let i = h & this.mask
    while (this.table[i] !== EMPTY) i = (i + 1) & this.mask
    this.table[i] = g
  }

  /** Bytes held: the hash table, the hashes and the names. */
  get bytes(): number {
    return this.table.byteLength + this.hashes.byteLength + this.names.bytes + this.arena.bytes.length
  }

  /** The name of group `g`. */
  name(g: number): string {
    return this.names.get(g)!
  }

  /** Forgets group `g`'s name. */
  remove(g: number): void {
    const mask = this.mask
    let i = this.hashes[g]! & mask
    while (this.table[i] !== g) i = (i + 1) & mask
    // Backward-shift deletion: later entries of the probe run move into the hole, so no tombstones build up.
    let hole = i
    for (let j = (i + 1) & mask; this.table[j] !== EMPTY; j = (j + 1) & mask) {
      const home = this.hashes[this.table[j]!]! & mask
      // The entry at j may move to the hole when its home is not cyclically within (hole, j].
      if ((j > hole && (home <= hole || home > j)) || (j < hole && home <= hole && home > j)) {
        this.table[hole] = this.table[j]!
        hole = j
      }
    }
    this.table[hole] = EMPTY
    this.names.clear(g)
    this.count--
  }

  private rehash(size: number): void {
    const old = this.table
    this.table = new Int32Array(size).fill(EMPTY)
    this.mask = size - 1
    for (let k = 0; k < old.length; k++) {
      const g = old[k]!
      if (g === EMPTY) continue
      let i = this.hashes[g]! & this.mask
      while (this.table[i] !== EMPTY) i = (i + 1) & this.mask
      this.table[i] = g
    }
  }
}
