// Where the credential records (credential-book.ts) keep their strings, so that a million sessions cost a
// million rows of numbers rather than millions of small JS objects.
//
// - Strings that repeat across records (networks, places, user agents, address prefixes, token kinds) are
//   `Symbols`: each distinct value once, named by a small integer held in a typed array.
// - Strings unique to a record (event ids, addresses, device ids, subjects, token fingerprints) are bytes in a
//   `TextArena` outside the JS heap, with their offset and length in typed arrays. A V8 string costs a 16-byte
//   header, padding and an 8-byte reference besides its characters; here a value costs its bytes and 6 bytes.
//   Identifiers that are lower-case hexadecimal (UUIDs, the collector's 'tfp_' fingerprints, hex device ids)
//   are kept as the bytes they spell, half their length.

/**
 * Repeated strings by id (0 stands for null). An id stays valid while some row holds it (`hold`/`release`);
 * ids nobody holds are reclaimed by `collect`, which the owner calls only where no id it looked up is pending.
 */
export class Symbols {
  private readonly ids = new Map<string, number>()
  private readonly strings: (string | null)[] = [null]
  private refs = new Int32Array(1024)
  private readonly free: number[] = []
  private unheld = 0

  constructor(private readonly maxUnheld = 1 << 16) {}

  /** The id of a string, added (unheld) when new. */
  id(s: string | null | undefined): number {
    if (s == null) return 0
    const known = this.ids.get(s)
    if (known !== undefined) return known
    const id = this.free.pop() ?? this.strings.length
    if (id >= this.refs.length) {
      const r = new Int32Array(this.refs.length * 2)
      r.set(this.refs)
      this.refs = r
    }
    this.strings[id] = s
    this.refs[id] = 0
    this.ids.set(s, id)
    this.unheld++
    return id
  }

  /** The id of a string already known, else 0 (nothing is added). */
  lookup(s: string): number {
    return this.ids.get(s) ?? 0
  }

  /** The shared instance of an id's string. */
  str(id: number): string | null {
    return this.strings[id]!
  }

  hold(id: number): void {
    if (id !== 0 && this.refs[id]!++ === 0) this.unheld--
  }

  release(id: number): void {
    if (id !== 0 && --this.refs[id]! === 0) this.unheld++
  }

  /** Reclaims the ids no row holds once there are many of them (they are event facts not recorded). */
  collect(): void {
    if (this.unheld < this.maxUnheld) return
    for (let id = 1; id < this.strings.length; id++) {
      const s = this.strings[id]
      if (s == null || this.refs[id] !== 0) continue
      this.ids.delete(s)
      this.strings[id] = null
      this.free.push(id)
    }
    this.unheld = 0
  }

  /** Distinct strings held. */
  get size(): number {
    return this.ids.size
  }
}

// A value's length word: 2 bits of encoding, 14 bits of stored bytes; three values are markers.
const NULL = 0xffff
/** Equal to the same row of the column's `sameAs` column (kept there, not twice). */
const SAME = 0xfffe
/** Too long for 14 bits: kept as a JS string in the column's `long` map. */
const LONG = 0xfffd
const MAX_BYTES = 0x3fff
/** Encodings of a stored string (2 bits). */
export const UTF8 = 0
const HEX = 1
const UUID = 2
const FINGERPRINT = 3
const FP_PREFIX = 'tfp_'

const hexDigit = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1)

function lowerHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (hexDigit(s.charCodeAt(i)) < 0) return false
  return true
}

function isUuid(s: string): boolean {
  if (s.length !== 36) return false
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i)
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false
    } else if (hexDigit(c) < 0) return false
  }
  return true
}

/** The encoding a string is stored in. */
export function encodingOf(s: string): number {
  const n = s.length
  if (n >= 2 && n % 2 === 0 && lowerHex(s, 0, n)) return HEX
  if (n === 36 && isUuid(s)) return UUID
  if (n > 4 && n % 2 === 0 && s.startsWith(FP_PREFIX) && lowerHex(s, 4, n)) return FINGERPRINT
  return UTF8
}

/** How many bytes `s` takes in an encoding. */
export function byteCount(s: string, encoding: number): number {
  switch (encoding) {
    case HEX:
      return s.length / 2
    case UUID:
      return 16
    case FINGERPRINT:
      return (s.length - 4) / 2
    default:
      for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8')
      return s.length
  }
}

/** Writes the bytes of `s` in an encoding at `at` of `out`, which has room for them. */
export function encodeInto(s: string, encoding: number, out: Buffer, at: number): void {
  if (encoding === UTF8) {
    // ASCII, the usual case, byte by byte: short values cost less than a call into the encoder.
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) {
        out.write(s, at, 'utf8')
        return
      }
      out[at + i] = c
    }
    return
  }
  let n = 0
  for (let i = encoding === FINGERPRINT ? 4 : 0; i < s.length; ) {
    if (encoding === UUID && s.charCodeAt(i) === 45) { i++; continue }
    out[at + n++] = (hexDigit(s.charCodeAt(i)) << 4) | hexDigit(s.charCodeAt(i + 1))
    i += 2
  }
}

export function decodeText(bytes: Buffer, encoding: number, from: number, to: number): string {
  switch (encoding) {
    case HEX:
      return bytes.toString('hex', from, to)
    case FINGERPRINT:
      return FP_PREFIX + bytes.toString('hex', from, to)
    case UUID: {
      const h = bytes.toString('hex', from, to)
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
    }
    default:
      return bytes.toString('utf8', from, to)
  }
}

/**
 * Bytes shared by a set of TextColumns, compacted when more than half of them are stale. It grows by `growth`: a
 * larger factor copies less often, a smaller one holds less unused room (at most a third of the arena at 1.5, a
 * ninth at 1.125). A compaction leaves a quarter more room than needed, or the growth factor's if less.
 */
export class TextArena {
  bytes = Buffer.allocUnsafeSlow(1 << 16)
  end = 0
  /** Bytes of values since overwritten or cleared. */
  stale = 0
  readonly columns: TextColumn[] = []

  constructor(private readonly growth = 1.5) {}

  /** Room for `n` more bytes at `end`, compacting or growing. */
  reserve(n: number): void {
    if (this.end + n <= this.bytes.length) return
    const live = this.end - this.stale
    if (this.stale > live) this.compact(live + n)
    if (this.end + n > this.bytes.length) this.moveTo(Math.max(this.end + n, Math.ceil(this.bytes.length * this.growth)))
  }

  private moveTo(size: number): void {
    const next = Buffer.allocUnsafeSlow(size)
    this.bytes.copy(next, 0, 0, this.end)
    this.bytes = next
  }

  /** Copies every live value, in column order, into a buffer with room for `need` bytes and some more. */
  private compact(need: number): void {
    const next = Buffer.allocUnsafeSlow(Math.max(1 << 16, Math.ceil(need * Math.min(this.growth, 1.25))))
    let at = 0
    for (const column of this.columns) {
      for (let row = 0; row < column.rows; row++) {
        const word = column.len[row]!
        if (word >= LONG) continue
        const n = word & MAX_BYTES
        if (n === 0) continue
        const from = column.off[row]!
        this.bytes.copy(next, at, from, from + n)
        column.off[row] = at
        at += n
      }
    }
    this.bytes = next
    this.end = at
    this.stale = 0
  }
}

/**
 * One string per row, in an arena. A column may name another (`sameAs`): a value equal to that column's value
 * of the same row is stored as a marker, and materialised here before that column's value changes.
 */
export class TextColumn {
  off: Uint32Array<ArrayBuffer>
  /** Encoding (top 2 bits) and byte count, or NULL / SAME / LONG. */
  len: Uint16Array<ArrayBuffer>
  /** Rows written so far (the compaction walks these). */
  rows = 0
  private long: Map<number, string> | null = null
  /** The column holding this one's SAME values, and the column whose values mirror this one's. */
  private sameAs: TextColumn | null = null
  private mirror: TextColumn | null = null

  constructor(private readonly arena: TextArena, capacity: number) {
    this.off = new Uint32Array(capacity)
    this.len = new Uint16Array(capacity).fill(NULL)
    arena.columns.push(this)
  }

  /** Lets this column store "same as `other`'s value in this row" without a copy. */
  mirrorOf(other: TextColumn): this {
    this.sameAs = other
    other.mirror = this
    return this
  }

  grow(capacity: number): void {
    if (this.off.length >= capacity) return
    const size = Math.max(capacity, this.off.length * 2)
    const off = new Uint32Array(size)
    off.set(this.off)
    this.off = off
    const len = new Uint16Array(size).fill(NULL)
    len.set(this.len)
    this.len = len
  }

  /** Bytes of the column's own arrays (its values are in the arena's). */
  get bytes(): number {
    return this.off.byteLength + this.len.byteLength
  }

  isNull(row: number): boolean {
    return this.len[row] === NULL
  }

  /** Whether the row holds "equal to sameAs's value" (setSame). */
  isSame(row: number): boolean {
    return this.len[row] === SAME
  }

  get(row: number): string | null {
    const word = this.len[row]!
    if (word === NULL) return null
    if (word === SAME) return this.sameAs!.get(row)
    if (word === LONG) return this.long!.get(row)!
    const from = this.off[row]!
    return decodeText(this.arena.bytes, word >>> 14, from, from + (word & MAX_BYTES))
  }

  /** Whether the row holds exactly `s` (null: holds null). Compares in place, without encoding `s`. */
  equals(row: number, s: string | null | undefined): boolean {
    const word = this.len[row]!
    if (s == null) return word === NULL
    if (word === NULL) return false
    if (word === SAME) return this.sameAs!.equals(row, s)
    if (word === LONG) return this.long!.get(row) === s
    const n = word & MAX_BYTES
    const bytes = this.arena.bytes
    const from = this.off[row]!
    const encoding = word >>> 14
    if (encoding === UTF8) {
      // A string of ASCII characters is its own bytes; one with any other character has more bytes than
      // characters (and is compared decoded).
      if (n === s.length) {
        for (let i = 0; i < n; i++) {
          const c = s.charCodeAt(i)
          if (c >= 0x80) return false
          if (bytes[from + i] !== c) return false
        }
        // The same bytes: the same string (which was kept as UTF-8 when written).
        return true
      }
      if (n < s.length) return false
      for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return this.get(row) === s
      return false
    }
    // Kept as the bytes lower-case hex digits spell: s must spell exactly those, without first working out its
    // encoding (any other character gives hexDigit -1, which matches no byte).
    if (s.length !== (encoding === UUID ? 36 : encoding === FINGERPRINT ? 2 * n + 4 : 2 * n)) return false
    if (encoding === FINGERPRINT && !s.startsWith(FP_PREFIX)) return false
    let i = encoding === FINGERPRINT ? 4 : 0
    for (let k = 0; k < n; k++) {
      if (encoding === UUID && (i === 8 || i === 13 || i === 18 || i === 23)) {
        if (s.charCodeAt(i) !== 45) return false
        i++
      }
      const hi = hexDigit(s.charCodeAt(i))
      const lo = hexDigit(s.charCodeAt(i + 1))
      if (hi < 0 || lo < 0 || bytes[from + k] !== ((hi << 4) | lo)) return false
      i += 2
    }
    return true
  }

  set(row: number, s: string | null | undefined): void {
    if (row >= this.rows) this.rows = row + 1
    // A mirror's SAME value is about to change meaning: it takes its own copy first.
    if (this.mirror !== null && this.mirror.len[row] === SAME) this.mirror.write(row, this.get(row))
    this.write(row, s)
  }

  /** Stores "equal to sameAs's value" (which must be equal to the value meant). */
  setSame(row: number): void {
    if (row >= this.rows) this.rows = row + 1
    this.drop(row)
    this.len[row] = SAME
  }

  clear(row: number): void {
    if (this.mirror !== null && this.mirror.len[row] === SAME) this.mirror.write(row, this.get(row))
    this.drop(row)
    this.len[row] = NULL
  }

  private drop(row: number): void {
    const word = this.len[row]!
    if (word === LONG) this.long!.delete(row)
    else if (word < LONG) this.arena.stale += word & MAX_BYTES
  }

  private write(row: number, s: string | null | undefined): void {
    if (s == null) {
      this.drop(row)
      this.len[row] = NULL
      return
    }
    const arena = this.arena
    const encoding = encodingOf(s)
    const n = byteCount(s, encoding)
    if (n > MAX_BYTES) {
      this.drop(row)
      ;(this.long ??= new Map()).set(row, s)
      this.len[row] = LONG
      return
    }
    const word = this.len[row]!
    // The same number of bytes (event ids of one source, mostly) go where the old value was.
    if (word < LONG && (word & MAX_BYTES) === n) {
      encodeInto(s, encoding, arena.bytes, this.off[row]!)
      this.len[row] = (encoding << 14) | n
      return
    }
    this.drop(row)
    this.len[row] = NULL
    arena.reserve(n)
    encodeInto(s, encoding, arena.bytes, arena.end)
    this.off[row] = arena.end
    this.len[row] = (encoding << 14) | n
    arena.end += n
  }
}
