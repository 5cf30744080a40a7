// Detector states as compact bytes, for the groups of slots no event has touched for a while (engine.ts keeps
// at most `hotGroups` groups as JS objects and freezes the least recently used of the rest here; an event that
// touches a frozen group thaws it first). A user seen once an hour costs its bytes, not a graph of small objects.
//
// The format is generic: detector states are plain JSON data (types.ts), so any of them can be written without
// the detector's help, and read back equal (deepStrictEqual, `undefined` properties included):
//
// - strings the credential record already holds as symbols (networks, places, user agents, clients, prefixes),
//   and short strings that keep coming back in states (validators, routes), are a symbol id, held for as long as
//   the bytes live; strings repeated within one group (a session key in three detectors' states, an event id
//   that is first and last, the group's own name) are a back-reference; 'x:'-prefixed keys ('s:<session>',
//   't:<token>') are the prefix and the rest; the rest is text in the text arena's encodings (lower-case
//   hexadecimal, UUIDs and token fingerprints as the bytes they spell);
// - integers are zig-zag varints, millisecond timestamps a varint delta from the group's first one, and numbers
//   that a few decimal places give back exactly (coordinates) a scaled varint; dotted-quad IPv4 addresses are
//   their four bytes;
// - objects whose property names are identifiers are a shape id (the shapes are few: one per state type) and
//   the values, or a mask of the values equal to the previous object of the shape in the list and the others;
//   other objects are a count of name and value pairs.
import { byteCount, decodeText, encodeInto, encodingOf, UTF8, type Symbols } from './text-store.js'

const NULL = 0
const UNDEFINED = 1
const FALSE = 2
const TRUE = 3
/** Zig-zag varint. */
const INT = 4
/** The group's first timestamp (zig-zag varint), then TIME: a zig-zag varint delta from it. */
const TIME0 = 5
const TIME = 6
const FLOAT = 7
const SYMBOL = 8
const REF = 9
/** 'x:' + a string value. */
const PREFIXED = 10
const EMPTY_ARRAY = 11
const ARRAY = 12
const SHAPE = 13
const MAP = 14
/** A shape id, a mask of the properties equal to the previous object of that shape in the list, the others. */
const DELTA = 15
/** Text in encoding (tag - TEXT): varint byte count, bytes. */
const TEXT = 16
/** A number with a few decimal places (coordinates, scores): a byte of places and a zig-zag varint of it scaled. */
const DECIMAL = 24
/** A dotted-quad IPv4 address: its four bytes. */
const IPV4 = 25
const MAX_PLACES = 7
const POWERS = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000]

/** Strings at least this long are registered for back-references. */
const MIN_REF = 8
const MAX_SHAPES = 1 << 14
const MAX_PROMOTED = 64
const PROMOTE_AT = 4
const MAX_SEEN = 1 << 16
const IDENTIFIER = /^[A-Za-z_$][\w$]{0,63}$/
/** Shapes with more properties than a mask has bits are always written whole. */
const MAX_DELTA_KEYS = 31

const NONE: readonly string[] = []

const isTime = (x: number) => x >= 1e12 && x < 1e14 && Number.isInteger(x)

/** A value the format cannot hold (not plain JSON data): the engine keeps such a group as objects. */
export class Unfreezable extends Error {}

/**
 * Writes and reads detector states against one engine's symbol table. Object shapes are learned as they are
 * met and kept for the codec's life (a shape is a list of property names: a few per detector).
 */
export class StateCodec {
  private out = Buffer.allocUnsafeSlow(1 << 12)
  private at = 0
  private base = Number.NaN
  private readonly refIds = new Map<string, number>()
  private refCount = 0
  private readonly held: number[] = []
  /** Short strings written as text, by how often: one met PROMOTE_AT times becomes a symbol. */
  private readonly seen = new Map<string, number>()
  private readonly shapesByFirst = new Map<string, number[]>()
  private empty = -1
  private readonly shapes: string[][] = []
  /**
   * Per shape id, the property values of the last object of that shape written or read in the current list
   * (undefined: none yet). A list's uses of one credential mostly share address, network, place and client.
   */
  private previous: (unknown[] | undefined)[] = []
  // Reading.
  private bytes: Buffer = this.out
  private pos = 0
  private end = 0
  private refs: string[] = []
  private releasing = false

  constructor(private readonly symbols: Symbols) {}

  /**
   * Starts a new value list: `write` values, then `finish` gives the bytes (valid until the next `begin`), which
   * hold the symbols written until they are read with `release`. After an Unfreezable, `abandon` the list.
   * `known` strings (the group's name) are written as back-references: `open` must be given the same.
   */
  begin(known: readonly string[] = NONE): void {
    this.at = 0
    this.base = Number.NaN
    this.refIds.clear()
    this.refCount = 0
    this.held.length = 0
    this.previous.length = 0
    for (const k of known) if (k.length >= MIN_REF && !this.refIds.has(k)) this.refIds.set(k, this.refCount++)
  }

  /** Writes one value; throws Unfreezable for anything that is not plain JSON data. */
  write(value: unknown): void {
    this.value(value)
  }

  /** Gives back the symbols held by the list begun, which will not be kept. */
  abandon(): void {
    for (const id of this.held) this.symbols.release(id)
    this.held.length = 0
    this.at = 0
  }

  varint(n: number): void {
    this.room(8)
    while (n >= 0x80) {
      this.out[this.at++] = (n % 0x80) | 0x80
      n = Math.floor(n / 0x80)
    }
    this.out[this.at++] = n
  }

  private float(x: number): void {
    this.room(8)
    this.out.writeDoubleLE(x, this.at)
    this.at += 8
  }

  byte(b: number): void {
    this.room(1)
    this.out[this.at++] = b
  }

  finish(): Buffer {
    return this.out.subarray(0, this.at)
  }

  /** Starts reading `bytes[from, to)`; `release` gives back the symbols they hold as they are read. */
  open(bytes: Buffer, from: number, to: number, release: boolean, known: readonly string[] = NONE): void {
    this.bytes = bytes
    this.pos = from
    this.end = to
    this.base = Number.NaN
    this.refs = []
    this.previous.length = 0
    for (const k of known) if (k.length >= MIN_REF && !this.refs.includes(k)) this.refs.push(k)
    this.releasing = release
  }

  get done(): boolean {
    return this.pos >= this.end
  }

  readVarint(): number {
    let n = 0
    let scale = 1
    for (;;) {
      const b = this.bytes[this.pos++]!
      n += (b & 0x7f) * scale
      if (b < 0x80) return n
      scale *= 0x80
    }
  }

  private readFloat(): number {
    const x = this.bytes.readDoubleLE(this.pos)
    this.pos += 8
    return x
  }

  readByte(): number {
    return this.bytes[this.pos++]!
  }

  read(): unknown {
    const tag = this.bytes[this.pos++]!
    switch (tag) {
      case NULL: return null
      case UNDEFINED: return undefined
      case FALSE: return false
      case TRUE: return true
      case INT: return unzigzag(this.readVarint())
      case TIME0: return (this.base = unzigzag(this.readVarint()))
      case TIME: return this.base + unzigzag(this.readVarint())
      case FLOAT: return this.readFloat()
      case DECIMAL: {
        const places = this.bytes[this.pos++]!
        return unzigzag(this.readVarint()) / POWERS[places]!
      }
      case EMPTY_ARRAY: return []
      case ARRAY: {
        const n = this.readVarint()
        const a = new Array<unknown>(n)
        for (let i = 0; i < n; i++) a[i] = this.read()
        return a
      }
      case SHAPE: {
        const shape = this.readVarint()
        const keys = this.shapes[shape]!
        const o: Record<string, unknown> = {}
        const values = keys.length <= MAX_DELTA_KEYS ? new Array<unknown>(keys.length) : null
        for (let i = 0; i < keys.length; i++) {
          const v = this.read()
          o[keys[i]!] = v
          if (values !== null) values[i] = v
        }
        if (values !== null) this.previous[shape] = values
        return o
      }
      case DELTA: {
        const shape = this.readVarint()
        const keys = this.shapes[shape]!
        const before = this.previous[shape]!
        const same = this.readVarint()
        const o: Record<string, unknown> = {}
        const values = new Array<unknown>(keys.length)
        for (let i = 0; i < keys.length; i++) {
          const v = (same & (1 << i)) !== 0 ? before[i] : this.read()
          o[keys[i]!] = v
          values[i] = v
        }
        this.previous[shape] = values
        return o
      }
      case MAP: {
        const n = this.readVarint()
        const o: Record<string, unknown> = {}
        for (let i = 0; i < n; i++) {
          const key = this.read() as string
          o[key] = this.read()
        }
        return o
      }
      default:
        return this.readString(tag)
    }
  }

  private readString(tag: number): string {
    switch (tag) {
      case SYMBOL: {
        const id = this.readVarint()
        const s = this.symbols.str(id)!
        if (this.releasing) this.symbols.release(id)
        return s
      }
      case REF: return this.refs[this.readVarint()]!
      case IPV4: {
        const b = this.bytes
        const p = this.pos
        const s = `${b[p]}.${b[p + 1]}.${b[p + 2]}.${b[p + 3]}`
        this.pos += 4
        if (s.length >= MIN_REF) this.refs.push(s)
        return s
      }
      case PREFIXED: {
        const c = this.bytes[this.pos++]!
        const s = String.fromCharCode(c) + ':' + this.readString(this.bytes[this.pos++]!)
        if (s.length >= MIN_REF) this.refs.push(s)
        return s
      }
      default: {
        if (tag < TEXT || tag > TEXT + 3) throw new Error(`corrupt frozen state: tag ${tag} at ${this.pos - 1}`)
        const n = this.readVarint()
        const s = decodeText(this.bytes, tag - TEXT, this.pos, this.pos + n)
        this.pos += n
        if (s.length >= MIN_REF) this.refs.push(s)
        return s
      }
    }
  }

  private room(n: number): void {
    if (this.at + n <= this.out.length) return
    const next = Buffer.allocUnsafeSlow(Math.max(this.at + n, this.out.length * 2))
    this.out.copy(next, 0, 0, this.at)
    this.out = next
  }

  private value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        this.string(v)
        return
      case 'number':
        this.number(v)
        return
      case 'boolean':
        this.byte(v ? TRUE : FALSE)
        return
      case 'undefined':
        this.byte(UNDEFINED)
        return
      case 'object':
        break
      default:
        throw new Unfreezable(`a ${typeof v} in a detector state`)
    }
    if (v === null) {
      this.byte(NULL)
      return
    }
    if (Array.isArray(v)) {
      if (v.length === 0) {
        this.byte(EMPTY_ARRAY)
        return
      }
      this.byte(ARRAY)
      this.varint(v.length)
      for (let i = 0; i < v.length; i++) this.value(v[i])
      return
    }
    const proto = Object.getPrototypeOf(v)
    if (proto !== Object.prototype && proto !== null) throw new Unfreezable(`a ${proto?.constructor?.name ?? 'non-plain'} object in a detector state`)
    const o = v as Record<string, unknown>
    const keys = Object.keys(o)
    const shape = this.shapeOf(keys)
    if (shape >= 0) {
      if (keys.length > MAX_DELTA_KEYS) {
        this.byte(SHAPE)
        this.varint(shape)
        for (let i = 0; i < keys.length; i++) this.value(o[keys[i]!])
        return
      }
      // Properties equal to the previous object of the shape (scalars only) are a bit in a mask.
      const before = this.previous[shape]
      let same = 0
      let count = 0
      if (before !== undefined) {
        for (let i = 0; i < keys.length; i++) {
          const v = o[keys[i]!]
          if ((v === null || typeof v !== 'object') && Object.is(v, before[i])) {
            same |= 1 << i
            count++
          }
        }
      }
      const values = new Array<unknown>(keys.length)
      if (count >= 2) {
        this.byte(DELTA)
        this.varint(shape)
        this.varint(same >>> 0)
      } else {
        same = 0
        this.byte(SHAPE)
        this.varint(shape)
      }
      for (let i = 0; i < keys.length; i++) {
        const v = o[keys[i]!]
        values[i] = v
        if ((same & (1 << i)) === 0) this.value(v)
      }
      this.previous[shape] = values
      return
    }
    this.byte(MAP)
    this.varint(keys.length)
    for (let i = 0; i < keys.length; i++) {
      this.string(keys[i]!)
      this.value(o[keys[i]!])
    }
  }

  /** The id of a list of property names, learned on first sight; -1 for names that are data (ids, routes). */
  private shapeOf(keys: string[]): number {
    if (keys.length === 0) return this.emptyShape()
    // Shapes by first property name, compared name by name (property names are internalised: equal ones are
    // the same instance) rather than joined into a key string for every object.
    const candidates = this.shapesByFirst.get(keys[0]!)
    if (candidates !== undefined) {
      for (const id of candidates) if (sameNames(this.shapes[id]!, keys)) return id
    }
    if (keys.length > 64 || this.shapes.length >= MAX_SHAPES || !keys.every((k) => IDENTIFIER.test(k))) return -1
    const id = this.shapes.length
    this.shapes.push(keys)
    if (candidates === undefined) this.shapesByFirst.set(keys[0]!, [id])
    else candidates.push(id)
    return id
  }

  private emptyShape(): number {
    if (this.empty < 0 && this.shapes.length < MAX_SHAPES) {
      this.empty = this.shapes.length
      this.shapes.push([])
    }
    return this.empty
  }

  /**
   * A symbol id for a short string that keeps coming back in states though the credential record never holds it
   * (a validator, a route, a tag such as 'user'), else 0. Unique values (addresses, ids) are counted and forgotten.
   */
  private promoted(s: string): number {
    const n = (this.seen.get(s) ?? 0) + 1
    if (n < PROMOTE_AT) {
      if (this.seen.size >= MAX_SEEN) this.seen.clear()
      this.seen.set(s, n)
      return 0
    }
    this.seen.delete(s)
    return this.symbols.id(s)
  }

  /** Writes s as its four bytes if it is a canonical dotted-quad IPv4 address. */
  private ipv4(s: string): boolean {
    if (!parseIPv4(s)) return false
    this.room(5)
    this.out[this.at++] = IPV4
    for (let i = 0; i < 4; i++) this.out[this.at++] = QUAD[i]!
    return true
  }

  private number(x: number): void {
    if (isTime(x)) {
      if (Number.isNaN(this.base)) {
        this.base = x
        this.byte(TIME0)
        this.varint(zigzag(x))
      } else {
        this.byte(TIME)
        this.varint(zigzag(x - this.base))
      }
      return
    }
    if (Number.isInteger(x) && Math.abs(x) <= 2 ** 51 && !Object.is(x, -0)) {
      this.byte(INT)
      this.varint(zigzag(x))
      return
    }
    // The fewest decimal places that give x back exactly, if few do.
    if (Number.isFinite(x) && !Object.is(x, -0)) {
      for (let places = 1; places <= MAX_PLACES; places++) {
        const m = Math.round(x * POWERS[places]!)
        if (Math.abs(m) > 2 ** 51) break
        if (m / POWERS[places]! === x) {
          this.byte(DECIMAL)
          this.byte(places)
          this.varint(zigzag(m))
          return
        }
      }
    }
    this.byte(FLOAT)
    this.float(x)
  }

  private string(s: string): void {
    if (s.length >= MIN_REF) {
      const k = this.refIds.get(s)
      if (k !== undefined) {
        this.byte(REF)
        this.varint(k)
        return
      }
    }
    const c = s.charCodeAt(0)
    if (s.length > 2 && s.charCodeAt(1) === 58 && c >= 97 && c <= 122) {
      this.byte(PREFIXED)
      this.byte(c)
      this.string(s.slice(2))
    } else {
      const encoding = encodingOf(s)
      // Hexadecimal identifiers are unique (ids, fingerprints): only text is looked up among the symbols.
      if (encoding === UTF8) {
        let id = this.symbols.lookup(s)
        if (id === 0 && s.length <= MAX_PROMOTED) id = this.promoted(s)
        if (id !== 0) {
          this.symbols.hold(id)
          this.held.push(id)
          this.byte(SYMBOL)
          this.varint(id)
          return
        }
        if (this.ipv4(s)) {
          if (s.length >= MIN_REF) this.refIds.set(s, this.refCount++)
          return
        }
      }
      const n = byteCount(s, encoding)
      // A lone surrogate would come back as U+FFFD from UTF-8: such a string stays an object's.
      if (n !== s.length && !(s as unknown as { isWellFormed(): boolean }).isWellFormed()) throw new Unfreezable('a string that is not well-formed UTF-16')
      this.byte(TEXT + encoding)
      this.varint(n)
      this.room(n)
      encodeInto(s, encoding, this.out, this.at)
      this.at += n
    }
    if (s.length >= MIN_REF) this.refIds.set(s, this.refCount++)
  }
}

/** Parts of a dotted quad as written by ipv4 (a scratch list). */
const QUAD = [0, 0, 0, 0]

/** Whether s is a dotted-quad IPv4 address in canonical form (no leading zeros), filling QUAD. */
function parseIPv4(s: string): boolean {
  if (s.length < 7 || s.length > 15) return false
  let part = 0
  let value = 0
  let digits = 0
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46
    if (c === 46) {
      if (digits === 0 || part > 3) return false
      QUAD[part++] = value
      value = 0
      digits = 0
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false
      value = value * 10 + (c - 48)
      if (value > 255) return false
      digits++
    } else return false
  }
  return part === 4
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Integers as the non-negative ones varints hold: 0, -1, 1, -2, … as 0, 1, 2, 3, … */
export const zigzag = (n: number) => (n >= 0 ? n * 2 : -n * 2 - 1)
export const unzigzag = (n: number) => (n % 2 === 0 ? n / 2 : -(n + 1) / 2)
