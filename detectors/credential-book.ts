// The engine's one compact record per credential (session, else token): who it belongs to, where and with what
// it was first used and last used. Every detector reads it (CredentialContext), so a quiet session costs one
// row of columns here instead of an object graph per detector; a detector keeps state of its own only once a
// credential does something worth remembering.
//
// Rows are indexed by the engine's slot-group index. Strings that repeat across sessions (networks, places,
// user agents, clients, address prefixes) are stored as one shared instance each (a decoder makes a new string
// per event), so a row holds references rather than copies.
import type { AuthEvent } from '../schemas/model.js'
import { clientOf, clientsDiffer, createUseReader, isAnonymised, isLocatable, isMobileNetwork, placeOf, tokenKeyOf } from './signals.js'
import { Symbols, TextArena, TextColumn } from './text-store.js'
import type { CredentialContext, Presentation, RecordedUse } from './types.js'

/** Bits of CredentialContext.changed: what differed, on some later use, from the first use. */
export const CHANGED_NETWORK = 1
export const CHANGED_CLIENT = 2
export const CHANGED_DEVICE = 4
export const CHANGED_TOKEN = 8
/** A locatable use (signals.ts isLocatable) at other coordinates than the first use's. */
export const CHANGED_LOCATION = 16
/** Not a change: an issuance of the credential was seen (kept with the change bits). */
const ISSUED = 128

/** Bits of RecordedUse.flags: facts about one use's address and client (signals.ts tests). */
export const USE_ISSUE = 1
export const USE_ANONYMISED = 2
export const USE_HOSTING = 4
export const USE_MOBILE = 8
export const USE_CORPORATE = 16
export const USE_LOCATABLE = 32
export const USE_AUTOMATION = 64
/** The event carried an address prefix (multi_network steps only those). */
export const USE_PREFIXED = 128

function flagsOf(event: AuthEvent): number {
  let f = 0
  if (event.kind === 'ISSUE') f |= USE_ISSUE
  if (isAnonymised(event)) f |= USE_ANONYMISED
  if (event.net_flags.includes('hosting')) f |= USE_HOSTING
  if (isMobileNetwork(event)) f |= USE_MOBILE
  if (event.net_flags.includes('corporate')) f |= USE_CORPORATE
  if (isLocatable(event)) f |= USE_LOCATABLE
  if (event.device_type === 'automation') f |= USE_AUTOMATION
  if (event.ip_prefix) f |= USE_PREFIXED
  return f
}

/** Bits of a latest presentation (LastColumns.bits). */
const PRESENTED_OK = 1
const PRESENTED_INTROSPECTED = 2
const PRESENTED_NAMED = 4

const bitsOf = (ok: boolean, introspected: boolean, named: boolean) =>
  (ok ? PRESENTED_OK : 0) | (introspected ? PRESENTED_INTROSPECTED : 0) | (named ? PRESENTED_NAMED : 0)
const presentedBits = (event: AuthEvent) => bitsOf(event.result === 'OK', event.action === 'introspect', !!event.subject)

/** The record as checkpointed (plain JSON). */
export interface CredentialRecord {
  subject: string | null
  token_fp: string | null
  /** Absent when it is 't:' + token_fp. */
  token?: string | null
  token_kind: string | null
  client_id: string | null
  uses: number
  changed: number
  /** Latest use of any kind. */
  seen: number
  /** Latest locatable use at the first use's coordinates. */
  stayed: number | null
  first: RecordedUse
  last: RecordedUse | null
  /** What the latest accepted presentation presented (absent in checkpoints from before it was kept). */
  presented?: Presentation | null
}

/** Whether an event is a use of its credential: an issuance, or a presentation that was not refused. */
export function isUse(event: AuthEvent): boolean {
  return event.kind === 'ISSUE' || (event.kind === 'VALIDATE' && (event.result == null || event.result === 'OK'))
}

/** One use as columns: numbers in typed arrays, repeated strings as Symbols ids, unique ones in the arena. */
class UseColumns {
  id: TextColumn
  ts: Float64Array<ArrayBuffer>
  ip: TextColumn
  /** NO_ASN: unknown. */
  asn: Uint32Array<ArrayBuffer>
  // Symbols ids (0: null).
  prefix: Int32Array<ArrayBuffer>
  net: Int32Array<ArrayBuffer>
  place: Int32Array<ArrayBuffer>
  ua: Int32Array<ArrayBuffer>
  client: Int32Array<ArrayBuffer>
  ja4: Int32Array<ArrayBuffer>
  device: TextColumn
  /** NaN: unknown. */
  lat: Float64Array<ArrayBuffer>
  lon: Float64Array<ArrayBuffer>
  acc: Float64Array<ArrayBuffer>
  flags: Uint8Array<ArrayBuffer>

  constructor(arena: TextArena, capacity: number) {
    this.id = new TextColumn(arena, capacity)
    this.ip = new TextColumn(arena, capacity)
    this.device = new TextColumn(arena, capacity)
    this.ts = new Float64Array(capacity)
    this.asn = new Uint32Array(capacity)
    this.prefix = new Int32Array(capacity)
    this.net = new Int32Array(capacity)
    this.place = new Int32Array(capacity)
    this.ua = new Int32Array(capacity)
    this.client = new Int32Array(capacity)
    this.ja4 = new Int32Array(capacity)
    this.lat = new Float64Array(capacity)
    this.lon = new Float64Array(capacity)
    this.acc = new Float64Array(capacity)
    this.flags = new Uint8Array(capacity)
  }

  grow(capacity: number) {
    this.id.grow(capacity)
    this.ip.grow(capacity)
    this.device.grow(capacity)
    this.ts = grown(this.ts, capacity)
    this.asn = grown(this.asn, capacity)
    this.prefix = grown(this.prefix, capacity)
    this.net = grown(this.net, capacity)
    this.place = grown(this.place, capacity)
    this.ua = grown(this.ua, capacity)
    this.client = grown(this.client, capacity)
    this.ja4 = grown(this.ja4, capacity)
    this.lat = grown(this.lat, capacity)
    this.lon = grown(this.lon, capacity)
    this.acc = grown(this.acc, capacity)
    this.flags = grown(this.flags, capacity)
  }

  read(row: number, symbols: Symbols): RecordedUse {
    const asn = this.asn[row]!
    return {
      id: this.id.get(row)!, ts: this.ts[row]!, ip: this.ip.get(row), prefix: symbols.str(this.prefix[row]!), asn: asn === NO_ASN ? null : asn,
      net: symbols.str(this.net[row]!), place: symbols.str(this.place[row]!), ua: symbols.str(this.ua[row]!), client: symbols.str(this.client[row]!),
      device: this.device.get(row), ja4: symbols.str(this.ja4[row]!), lat: orNull(this.lat[row]!), lon: orNull(this.lon[row]!),
      accuracy_km: orNull(this.acc[row]!), flags: this.flags[row]!,
    }
  }

  /** Lets go of the row's strings. */
  clear(row: number, symbols: Symbols) {
    this.id.clear(row)
    this.ip.clear(row)
    this.device.clear(row)
    for (const column of [this.prefix, this.net, this.place, this.ua, this.client, this.ja4]) {
      symbols.release(column[row]!)
      column[row] = 0
    }
  }
}

/**
 * The latest accepted presentation. It is mostly the first use again with another event id and time (a session
 * stays on its network, place and client), so only those, its address and flags are columns here; a latest
 * use that differs from the first in anything else has its own row in a table of deviations (`side`).
 */
class LastColumns {
  id: TextColumn
  ts: Float64Array<ArrayBuffer>
  ip: TextColumn
  flags: Uint8Array<ArrayBuffer>
  /** Row of the deviations table, or -1: everything else as the first use. */
  side: Int32Array<ArrayBuffer>
  // The Presentation: the token (its fingerprint mostly the record's first, kept once), Symbols ids, PRESENTED_* bits.
  fp: TextColumn
  jti: TextColumn
  validator: Int32Array<ArrayBuffer>
  tokenKind: Int32Array<ArrayBuffer>
  clientId: Int32Array<ArrayBuffer>
  /** NaN: none. */
  issuedAt: Float64Array<ArrayBuffer>
  bits: Uint8Array<ArrayBuffer>

  constructor(arena: TextArena, capacity: number, first: UseColumns, tokenFp: TextColumn) {
    this.id = new TextColumn(arena, capacity)
    this.ip = new TextColumn(arena, capacity).mirrorOf(first.ip)
    this.ts = new Float64Array(capacity)
    this.flags = new Uint8Array(capacity)
    this.side = new Int32Array(capacity).fill(-1)
    this.fp = new TextColumn(arena, capacity).mirrorOf(tokenFp)
    this.jti = new TextColumn(arena, capacity)
    this.validator = new Int32Array(capacity)
    this.tokenKind = new Int32Array(capacity)
    this.clientId = new Int32Array(capacity)
    this.issuedAt = new Float64Array(capacity)
    this.bits = new Uint8Array(capacity)
  }

  grow(capacity: number) {
    this.id.grow(capacity)
    this.ip.grow(capacity)
    this.fp.grow(capacity)
    this.jti.grow(capacity)
    this.ts = grown(this.ts, capacity)
    this.flags = grown(this.flags, capacity)
    this.validator = grown(this.validator, capacity)
    this.tokenKind = grown(this.tokenKind, capacity)
    this.clientId = grown(this.clientId, capacity)
    this.issuedAt = grown(this.issuedAt, capacity)
    this.bits = grown(this.bits, capacity)
    if (this.side.length < capacity) {
      const side = new Int32Array(Math.max(capacity, this.side.length * 2)).fill(-1)
      side.set(this.side)
      this.side = side
    }
  }
}

/** A use about to be written: strings that repeat as Symbols ids, numbers with NaN / NO_ASN for unknown. */
interface Draft {
  id: string
  ts: number
  ip: string | null
  prefix: number
  asn: number
  net: number
  place: number
  ua: number
  client: number
  device: string | null
  ja4: number
  lat: number
  lon: number
  acc: number
  flags: number
}

const sameNumber = (a: number, b: number) => a === b || (a !== a && b !== b)

/** Who judged a presentation: its validator, else the system that logged it. */
export const validatorOf = (event: AuthEvent): string => event.validator ?? event.source.system

// AS numbers are 32-bit (RFC 6793); the largest is reserved (RFC 7300) and stands for "unknown" here.
const NO_ASN = 0xffffffff
const asnOf = (asn: number | null | undefined) => (asn == null || !(asn >= 0 && asn < NO_ASN) ? NO_ASN : asn)

const orNull = (x: number): number | null => (Number.isNaN(x) ? null : x)

type Column = Float64Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>

/** The column with room for `capacity` rows (at least doubled when it grows). */
export function grown<C extends Column>(a: C, capacity: number): C {
  if (a.length >= capacity) return a
  const b = new (a.constructor as new (n: number) => C)(Math.max(capacity, a.length * 2))
  b.set(a as never)
  return b
}

export interface CredentialBook {
  /** Whether the engine's group `g` holds a record. */
  has(g: number): boolean
  /** Time of the group's latest use of any kind (its expiry is this plus the engine's context TTL). */
  seenTs(g: number): number
  /** Records a use of the group's credential (the event must satisfy isUse). */
  record(g: number, event: AuthEvent): void
  forget(g: number): void
  /** A read-only view of the group's record (g -1 or no record: none) as it is before `event`, valid until the next call. */
  view(g: number, key: string, event: AuthEvent): CredentialContext
  toJSON(g: number): CredentialRecord
  restore(g: number, record: CredentialRecord): void
  readonly size: number
  /** The records' table of repeated strings; frozen detector states (state-codec.ts) hold ids of it too. */
  readonly symbols: Symbols
}

/** `lookup` finds the engine's group of a credential key (-1: none), for CredentialContext.other. */
export function createCredentialBook(initialCapacity = 1024, lookup: (key: string) => number = () => -1): CredentialBook {
  const read = createUseReader()
  const symbols = new Symbols()
  const arena = new TextArena()
  let capacity = initialCapacity
  // Rows are the book's own: group index -> row (-1: none), so groups without a record (a user's slot)
  // cost the book 4 bytes, not a row.
  let rows = new Int32Array(initialCapacity).fill(-1)
  const free: number[] = []
  let rowsUsed = 0
  const rowOf = (g: number) => (g < rows.length ? rows[g]! : -1)
  function claim(g: number): number {
    if (g >= rows.length) {
      const r = new Int32Array(Math.max(g + 1, rows.length * 2)).fill(-1)
      r.set(rows)
      rows = r
    }
    const row = free.pop() ?? rowsUsed++
    ensure(row)
    rows[g] = row
    size++
    return row
  }
  let uses = new Uint32Array(capacity)
  let seen = new Float64Array(capacity)
  /** Latest locatable use at the first use's coordinates (NaN: none). */
  let stayed = new Float64Array(capacity)
  let changed = new Uint8Array(capacity)
  const subject = new TextColumn(arena, capacity)
  const tokenFp = new TextColumn(arena, capacity)
  // The first token identity, only where it is not 't:' + the fingerprint (a jti key): no copy of the usual one.
  const token = new TextColumn(arena, capacity)
  // Symbols ids.
  let tokenKind = new Int32Array(capacity)
  let clientId = new Int32Array(capacity)
  const first = new UseColumns(arena, capacity)
  // The latest use's address is mostly the first's: kept once (TextColumn.mirrorOf).
  const last = new LastColumns(arena, capacity, first, tokenFp)
  // Latest uses that differ from their first in more than address, id and time (LastColumns.side).
  const deviations = new UseColumns(arena, 64)
  const freeDeviations: number[] = []
  let deviationsUsed = 0
  let size = 0

  function ensure(row: number) {
    if (row < capacity) return
    capacity = Math.max(row + 1, capacity * 2)
    changed = grown(changed, capacity)
    uses = grown(uses, capacity)
    seen = grown(seen, capacity)
    stayed = grown(stayed, capacity)
    tokenKind = grown(tokenKind, capacity)
    clientId = grown(clientId, capacity)
    subject.grow(capacity)
    tokenFp.grow(capacity)
    token.grow(capacity)
    first.grow(capacity)
    last.grow(capacity)
  }

  /** Points a Symbols column's row at `id`, moving the hold. */
  function setSymbol(column: Int32Array, row: number, id: number) {
    const held = column[row]!
    if (held === id) return
    symbols.release(held)
    symbols.hold(id)
    column[row] = id
  }
  /** The id of a string a column's row may already hold (the usual case: no table lookup). */
  const symbolFor = (column: Int32Array, row: number, value: string | null | undefined) =>
    value == null ? 0 : symbols.str(column[row]!) === value ? column[row]! : symbols.id(value)

  // The network, client and place of the current event, each computed on first use (steps and the record
  // share them), as Symbols ids and their shared instances.
  let factsOf: AuthEvent | null = null
  let known = 0
  let net = 0
  let client = 0
  let place = 0
  function networkOf(event: AuthEvent): number {
    if (event !== factsOf) { factsOf = event; known = 0 }
    if ((known & 1) === 0) { net = symbols.id(read.networkOf(event)); known |= 1 }
    return net
  }
  function clientFor(event: AuthEvent): number {
    if (event !== factsOf) { factsOf = event; known = 0 }
    if ((known & 2) === 0) { client = symbols.id(clientOf(event)); known |= 2 }
    return client
  }
  function placeFor(event: AuthEvent): number {
    if (event !== factsOf) { factsOf = event; known = 0 }
    if ((known & 4) === 0) { place = symbols.id(placeOf(event)); known |= 4 }
    return place
  }
  let ua = 0
  function userAgentFor(event: AuthEvent): number {
    if (event !== factsOf) { factsOf = event; known = 0 }
    if ((known & 8) === 0) {
      // Mostly the credential's first user agent: compared in place rather than hashed.
      const row = context.row
      ua = row >= 0 && symbols.str(first.ua[row]!) === event.user_agent ? first.ua[row]! : symbols.id(event.user_agent)
      known |= 8
    }
    return ua
  }
  let prefix = 0
  function prefixFor(event: AuthEvent): number {
    if (event !== factsOf) { factsOf = event; known = 0 }
    if ((known & 16) === 0) { prefix = symbols.id(event.ip_prefix); known |= 16 }
    return prefix
  }
  let current: AuthEvent | null = null

  // The use being written, filled from an event or a checkpointed use; reused.
  const draft: Draft = { id: '', ts: 0, ip: null, prefix: 0, asn: NO_ASN, net: 0, place: 0, ua: 0, client: 0, device: null, ja4: 0, lat: 0, lon: 0, acc: 0, flags: 0 }

  /** The event as a draft; strings the row's first use holds are found without a table lookup. */
  function draftOf(event: AuthEvent, row: number): Draft {
    draft.id = event.event_id
    draft.ts = event.ts
    draft.ip = event.ip ?? null
    draft.prefix = symbolFor(first.prefix, row, event.ip_prefix)
    draft.asn = asnOf(event.asn)
    draft.net = networkOf(event)
    draft.place = placeFor(event)
    draft.ua = symbolFor(first.ua, row, event.user_agent)
    draft.client = clientFor(event)
    draft.device = event.device_id ?? null
    draft.ja4 = symbolFor(first.ja4, row, event.ja4)
    draft.lat = event.lat ?? Number.NaN
    draft.lon = event.lon ?? Number.NaN
    draft.acc = event.geo_accuracy_km ?? Number.NaN
    draft.flags = flagsOf(event)
    return draft
  }

  function draftOfUse(use: RecordedUse): Draft {
    draft.id = use.id
    draft.ts = use.ts
    draft.ip = use.ip
    draft.prefix = symbols.id(use.prefix)
    draft.asn = asnOf(use.asn)
    draft.net = symbols.id(use.net)
    draft.place = symbols.id(use.place)
    draft.ua = symbols.id(use.ua)
    draft.client = symbols.id(use.client)
    draft.device = use.device
    draft.ja4 = symbols.id(use.ja4)
    draft.lat = use.lat ?? Number.NaN
    draft.lon = use.lon ?? Number.NaN
    draft.acc = use.accuracy_km ?? Number.NaN
    draft.flags = use.flags
    return draft
  }

  /** Writes everything but id, time and address of a draft into a row of `columns`. */
  function putDetails(columns: UseColumns, row: number, d: Draft) {
    setSymbol(columns.prefix, row, d.prefix)
    columns.asn[row] = d.asn
    setSymbol(columns.net, row, d.net)
    setSymbol(columns.place, row, d.place)
    setSymbol(columns.ua, row, d.ua)
    setSymbol(columns.client, row, d.client)
    columns.device.set(row, d.device)
    setSymbol(columns.ja4, row, d.ja4)
    columns.lat[row] = d.lat
    columns.lon[row] = d.lon
    columns.acc[row] = d.acc
  }

  function putFirst(row: number, d: Draft) {
    // A latest use that leans on the first's details keeps them as they were.
    if (!last.id.isNull(row) && last.side[row]! < 0) {
      const side = claimDeviation()
      copyDetails(first, row, deviations, side)
      last.side[row] = side
    }
    first.id.set(row, d.id)
    first.ts[row] = d.ts
    first.ip.set(row, d.ip)
    putDetails(first, row, d)
    first.flags[row] = d.flags
  }

  function putLast(row: number, d: Draft) {
    last.id.set(row, d.id)
    last.ts[row] = d.ts
    if (first.ip.equals(row, d.ip)) last.ip.setSame(row)
    else last.ip.set(row, d.ip)
    last.flags[row] = d.flags
    let side = last.side[row]!
    const asFirst = d.prefix === first.prefix[row] && d.net === first.net[row] && d.place === first.place[row] && d.ua === first.ua[row] &&
      d.client === first.client[row] && d.ja4 === first.ja4[row] && d.asn === first.asn[row] && sameNumber(d.lat, first.lat[row]!) &&
      sameNumber(d.lon, first.lon[row]!) && sameNumber(d.acc, first.acc[row]!) && first.device.equals(row, d.device)
    if (asFirst) {
      if (side >= 0) {
        releaseDeviation(side)
        last.side[row] = -1
      }
      return
    }
    if (side < 0) last.side[row] = side = claimDeviation()
    putDetails(deviations, side, d)
  }

  /** The latest presentation's facts beyond its use, from the event. */
  function putPresented(row: number, event: AuthEvent) {
    // The fingerprint column may have been set from this event just now: asked afresh, not from the memo.
    putPresentedFp(row, event.token_fp)
    if (event.jti != null || !last.jti.isNull(row)) last.jti.set(row, event.jti)
    // Mostly the same validator, kind and client as the presentation before: no table lookup then.
    setSymbol(last.validator, row, symbolFor(last.validator, row, validatorOf(event)))
    setSymbol(last.tokenKind, row, symbolFor(last.tokenKind, row, event.token_kind))
    setSymbol(last.clientId, row, symbolFor(last.clientId, row, event.client_id))
    last.issuedAt[row] = event.issued_at ?? Number.NaN
    last.bits[row] = presentedBits(event)
  }

  /** The presented token's fingerprint, kept once when it is the record's first token's (the usual case). */
  function putPresentedFp(row: number, fp: string | null | undefined) {
    if (fp != null && tokenFp.equals(row, fp)) last.fp.setSame(row)
    else last.fp.set(row, fp)
  }

  function putPresentedOf(row: number, p: Presentation) {
    putPresentedFp(row, p.token_fp)
    last.jti.set(row, p.jti)
    setSymbol(last.validator, row, symbols.id(p.validator))
    setSymbol(last.tokenKind, row, symbols.id(p.token_kind))
    setSymbol(last.clientId, row, symbols.id(p.client_id))
    last.issuedAt[row] = p.issued_at ?? Number.NaN
    last.bits[row] = bitsOf(p.ok, p.introspected, p.named)
  }

  function readPresented(row: number): Presentation {
    const bits = last.bits[row]!
    return {
      validator: symbols.str(last.validator[row]!), token_fp: last.fp.get(row), jti: last.jti.get(row), token_kind: symbols.str(last.tokenKind[row]!),
      client_id: symbols.str(last.clientId[row]!), issued_at: orNull(last.issuedAt[row]!), ok: (bits & PRESENTED_OK) !== 0,
      introspected: (bits & PRESENTED_INTROSPECTED) !== 0, named: (bits & PRESENTED_NAMED) !== 0,
    }
  }

  /** Whether the event presents like the row's latest presentation (CredentialContext.likeLastPresentation). */
  function presentedLike(row: number, event: AuthEvent): boolean {
    if (last.bits[row] !== presentedBits(event) || !last.jti.equals(row, event.jti)) return false
    if (last.fp.isSame(row) ? !firstFpIs(row, event) : !last.fp.equals(row, event.token_fp)) return false
    if (symbols.str(last.validator[row]!) !== validatorOf(event) || symbols.str(last.tokenKind[row]!) !== (event.token_kind ?? null)) return false
    if (symbols.str(last.clientId[row]!) !== (event.client_id ?? null) || !sameNumber(last.issuedAt[row]!, event.issued_at ?? Number.NaN)) return false
    const side = last.side[row]!
    return (side < 0 ? first.net[row]! : deviations.net[side]!) === networkOf(event)
  }

  function clearLast(row: number) {
    last.id.clear(row)
    last.ip.clear(row)
    last.fp.clear(row)
    last.jti.clear(row)
    setSymbol(last.validator, row, 0)
    setSymbol(last.tokenKind, row, 0)
    setSymbol(last.clientId, row, 0)
    last.issuedAt[row] = Number.NaN
    last.bits[row] = 0
    const side = last.side[row]!
    if (side >= 0) {
      releaseDeviation(side)
      last.side[row] = -1
    }
  }

  function claimDeviation(): number {
    const side = freeDeviations.pop() ?? deviationsUsed++
    deviations.grow(side + 1)
    return side
  }

  function releaseDeviation(side: number) {
    deviations.clear(side, symbols)
    freeDeviations.push(side)
  }

  function copyDetails(from: UseColumns, row: number, to: UseColumns, at: number) {
    setSymbol(to.prefix, at, from.prefix[row]!)
    to.asn[at] = from.asn[row]!
    setSymbol(to.net, at, from.net[row]!)
    setSymbol(to.place, at, from.place[row]!)
    setSymbol(to.ua, at, from.ua[row]!)
    setSymbol(to.client, at, from.client[row]!)
    to.device.set(at, from.device.get(row))
    setSymbol(to.ja4, at, from.ja4[row]!)
    to.lat[at] = from.lat[row]!
    to.lon[at] = from.lon[row]!
    to.acc[at] = from.acc[row]!
  }

  function readLast(row: number): RecordedUse {
    const side = last.side[row]!
    const use = side < 0 ? first.read(row, symbols) : deviations.read(side, symbols)
    use.id = last.id.get(row)!
    use.ts = last.ts[row]!
    use.ip = last.ip.get(row)
    use.flags = last.flags[row]!
    return use
  }

  /** The row's first token identity: its jti key, else 't:' + its fingerprint. */
  const tokenOf = (row: number): string | null => token.get(row) ?? (tokenFp.isNull(row) ? null : 't:' + tokenFp.get(row))
  /** What the token column holds for an event: only a key that is not 't:' + its fingerprint. */
  const ownToken = (event: AuthEvent): string | null => (event.jti ? tokenKeyOf(event) : null)
  /** differs(tokenOf(row), tokenKeyOf(event)), without building either key for the usual fingerprint-only token. */
  function tokenChanged(row: number, event: AuthEvent): boolean {
    if (!event.jti && !event.token_fp) return false
    if (!token.isNull(row)) return !event.jti || !token.equals(row, tokenKeyOf(event))
    if (tokenFp.isNull(row)) return false
    return !!event.jti || !firstFpIs(row, event)
  }

  // Whether an event's fingerprint is the row's first token's: asked by a step and by record() for one event.
  let fpEvent: AuthEvent | null = null
  let fpRow = -1
  let fpSame = false
  function firstFpIs(row: number, event: AuthEvent): boolean {
    if (event !== fpEvent || row !== fpRow) {
      fpEvent = event
      fpRow = row
      fpSame = event.token_fp != null && tokenFp.equals(row, event.token_fp)
    }
    return fpSame
  }

  /** A read-only view of one row (CredentialContext); the book has two: the event's credential's and `other`'s. */
  class View implements CredentialContext {
    row = -1
    key = ''
    // The row's unique strings, decoded from the arena on first read (undefined: not yet).
    private subjectText: string | null | undefined
    private tokenFpText: string | null | undefined
    private tokenText: string | null | undefined

    at(row: number, key: string): this {
      this.row = row
      this.key = key
      this.subjectText = this.tokenFpText = this.tokenText = undefined
      return this
    }

    get subject() { return this.row < 0 ? null : this.subjectText === undefined ? (this.subjectText = subject.get(this.row)) : this.subjectText }
    hasSubject(s: string | null | undefined) { return this.row < 0 ? s == null : this.subjectText !== undefined ? this.subjectText === (s ?? null) : subject.equals(this.row, s) }
    get tokenFp() { return this.row < 0 ? null : this.tokenFpText === undefined ? (this.tokenFpText = tokenFp.get(this.row)) : this.tokenFpText }
    get token() { return this.row < 0 ? null : this.tokenText === undefined ? (this.tokenText = tokenOf(this.row)) : this.tokenText }
    isFirstToken(event: AuthEvent) {
      const row = this.row
      if (row < 0 || (token.isNull(row) && tokenFp.isNull(row))) return !event.jti && !event.token_fp
      if (!token.isNull(row)) return !!event.jti && token.equals(row, tokenKeyOf(event))
      return !event.jti && event.token_fp != null && tokenFp.equals(row, event.token_fp)
    }
    get tokenKind() { return this.row < 0 ? null : symbols.str(tokenKind[this.row]!) }
    get clientId() { return this.row < 0 ? null : symbols.str(clientId[this.row]!) }
    get uses() { return this.row < 0 ? 0 : uses[this.row]! }
    get changed() { return this.row < 0 ? 0 : changed[this.row]! & ~ISSUED }
    get issued() { return this.row < 0 ? false : (changed[this.row]! & ISSUED) !== 0 }
    get firstTs() { return this.row < 0 ? Number.NaN : first.ts[this.row]! }
    get lastTs() { return this.row < 0 || last.id.isNull(this.row) ? Number.NaN : last.ts[this.row]! }
    get seenTs() { return this.row < 0 ? Number.NaN : seen[this.row]! }
    get stayedUntil() { return this.row < 0 ? Number.NaN : stayed[this.row]! }
    get firstNetwork() { return this.row < 0 ? null : symbols.str(first.net[this.row]!) }
    get firstClient() { return this.row < 0 ? null : symbols.str(first.client[this.row]!) }
    get firstFlags() { return this.row < 0 ? 0 : first.flags[this.row]! }
    get firstLat() { return this.row < 0 ? Number.NaN : first.lat[this.row]! }
    get firstLon() { return this.row < 0 ? Number.NaN : first.lon[this.row]! }
    first() { return this.row < 0 ? null : first.read(this.row, symbols) }
    last() { return this.row < 0 || last.id.isNull(this.row) ? null : readLast(this.row) }
    lastPresentation() { return this.row < 0 || last.id.isNull(this.row) ? null : readPresented(this.row) }
    likeLastPresentation(event: AuthEvent) { return this.row >= 0 && !last.id.isNull(this.row) && presentedLike(this.row, event) }
    other(key: string): CredentialContext | null {
      const g = lookup(key)
      const row = g < 0 ? -1 : rowOf(g)
      return row < 0 ? null : otherView.at(row, key)
    }
    get eventNetwork() { return symbols.str(networkOf(current!)) }
    get eventClient() { return symbols.str(clientFor(current!)) }
    get eventPlace() { return symbols.str(placeFor(current!)) }
    get eventUserAgent() { return symbols.str(userAgentFor(current!)) }
    get eventPrefix() { return symbols.str(prefixFor(current!)) }
  }
  const context = new View()
  const otherView = new View()

  return {
    get size() {
      return size
    },
    symbols,
    has: (g) => rowOf(g) >= 0,
    seenTs: (g) => seen[rowOf(g)]!,
    record(g, event) {
      let row = rowOf(g)
      if (row < 0) {
        row = claim(g)
        changed[row] = event.kind === 'ISSUE' ? ISSUED : 0
        subject.set(row, event.subject)
        tokenFp.set(row, event.token_fp)
        token.set(row, ownToken(event))
        setSymbol(tokenKind, row, symbols.id(event.token_kind))
        setSymbol(clientId, row, symbols.id(event.client_id))
        seen[row] = event.ts
        stayed[row] = isLocatable(event) ? event.ts : Number.NaN
        putFirst(row, draftOf(event, row))
        if (event.kind === 'VALIDATE') {
          putLast(row, draft)
          putPresented(row, event)
        } else clearLast(row)
        uses[row] = 1
        return
      }
      uses[row]!++
      if (subject.isNull(row) && event.subject) subject.set(row, event.subject)
      let bits = changed[row]!
      if (tokenChanged(row, event)) bits |= CHANGED_TOKEN
      const hadToken = !token.isNull(row) || !tokenFp.isNull(row)
      if (tokenFp.isNull(row) && event.token_fp) tokenFp.set(row, event.token_fp)
      if (!hadToken) token.set(row, ownToken(event))
      const firstNet = first.net[row]!
      const net = networkOf(event)
      if (firstNet !== 0 && net !== 0 && firstNet !== net) bits |= CHANGED_NETWORK
      const firstClient = first.client[row]!
      const client = clientFor(event)
      if (firstClient !== client && clientsDiffer(symbols.str(firstClient), symbols.str(client))) bits |= CHANGED_CLIENT
      if (event.device_id != null && !first.device.isNull(row) && !first.device.equals(row, event.device_id)) bits |= CHANGED_DEVICE
      if (event.kind === 'ISSUE') bits |= ISSUED
      if (isLocatable(event)) {
        if (event.lat !== first.lat[row] || event.lon !== first.lon[row]) bits |= CHANGED_LOCATION
        else if (event.ts > stayed[row]!) stayed[row] = event.ts
      }
      changed[row] = bits
      // Events arrive out of order within the lateness: first and last are by event time.
      if (event.ts > seen[row]!) seen[row] = event.ts
      const earliest = event.ts < first.ts[row]!
      const latest = event.kind === 'VALIDATE' && (last.id.isNull(row) || event.ts >= last.ts[row]!)
      if (earliest || latest) {
        draftOf(event, row)
        if (earliest) putFirst(row, draft)
        if (latest) {
          putLast(row, draft)
          putPresented(row, event)
        }
      }
    },
    forget(g) {
      const row = rowOf(g)
      if (row < 0) return
      rows[g] = -1
      free.push(row)
      size--
      // The latest use first: it may refer to the first's address and device, and the first token.
      clearLast(row)
      subject.clear(row)
      tokenFp.clear(row)
      token.clear(row)
      setSymbol(tokenKind, row, 0)
      setSymbol(clientId, row, 0)
      first.clear(row, symbols)
    },
    view(g, key, event) {
      if (factsOf !== event) {
        // Between events no looked-up id is pending: ids no record holds may go.
        symbols.collect()
        factsOf = null
      }
      current = event
      fpEvent = null
      return context.at(g < 0 ? -1 : rowOf(g), key)
    },
    toJSON(g) {
      const row = rowOf(g)
      const r: CredentialRecord = {
        subject: subject.get(row), token_fp: tokenFp.get(row), token_kind: symbols.str(tokenKind[row]!), client_id: symbols.str(clientId[row]!), uses: uses[row]!,
        changed: changed[row]!, seen: seen[row]!, stayed: orNull(stayed[row]!), first: first.read(row, symbols), last: last.id.isNull(row) ? null : readLast(row),
      }
      if (!token.isNull(row)) r.token = token.get(row)
      if (r.last !== null) r.presented = readPresented(row)
      return r
    },
    restore(g, r) {
      const row = rowOf(g) >= 0 ? rowOf(g) : claim(g)
      subject.set(row, r.subject)
      tokenFp.set(row, r.token_fp)
      token.set(row, r.token ?? null)
      setSymbol(tokenKind, row, symbols.id(r.token_kind))
      setSymbol(clientId, row, symbols.id(r.client_id))
      seen[row] = r.seen
      stayed[row] = r.stayed ?? Number.NaN
      uses[row] = r.uses
      changed[row] = r.changed
      // The latest use is cleared first, so the first use's details are not saved for it on the way.
      clearLast(row)
      putFirst(row, draftOfUse(r.first))
      if (r.last !== null) {
        putLast(row, draftOfUse(r.last))
        // A checkpoint from before presentations were kept: an accepted one, to the validator unknown.
        putPresentedOf(row, r.presented ?? { validator: null, token_fp: null, jti: null, token_kind: null, client_id: null, issued_at: null, ok: false, introspected: false, named: false })
      }
    },
  }
}
