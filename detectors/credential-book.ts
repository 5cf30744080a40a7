// The engine's one compact record per credential (session, else token): who it belongs to, where and with what
// it was first used and last used. Every detector reads it (CredentialContext), so a quiet session costs one
// row of columns here instead of an object graph per detector; a detector keeps state of its own only once a
// credential does something worth remembering.
//
// Rows are indexed by the engine's slot-group index. Strings that repeat across sessions (networks, places,
// user agents, clients, address prefixes) are stored as one shared instance each (a decoder makes a new string
// per event), so a row holds references rather than copies.
import type { AuthEvent } from '../schemas/model.js'
import { clientOf, clientsDiffer, createUseReader, differs, isAnonymised, isLocatable, isMobileNetwork, placeOf, tokenKeyOf } from './signals.js'
import { createInterner } from './compact.js'
import type { CredentialContext, RecordedUse } from './types.js'

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
}

/** Whether an event is a use of its credential: an issuance, or a presentation that was not refused. */
export function isUse(event: AuthEvent): boolean {
  return event.kind === 'ISSUE' || (event.kind === 'VALIDATE' && (event.result == null || event.result === 'OK'))
}

/** One use as columns: references in plain arrays, numbers in typed arrays. */
class UseColumns {
  id: (string | null)[] = []
  ts: Float64Array<ArrayBuffer>
  ip: (string | null)[] = []
  prefix: (string | null)[] = []
  /** NO_ASN: unknown. */
  asn: Uint32Array<ArrayBuffer>
  net: (string | null)[] = []
  place: (string | null)[] = []
  ua: (string | null)[] = []
  client: (string | null)[] = []
  device: (string | null)[] = []
  ja4: (string | null)[] = []
  /** NaN: unknown. */
  lat: Float64Array<ArrayBuffer>
  lon: Float64Array<ArrayBuffer>
  acc: Float64Array<ArrayBuffer>
  flags: Uint8Array<ArrayBuffer>

  constructor(capacity: number) {
    this.ts = new Float64Array(capacity)
    this.asn = new Uint32Array(capacity)
    this.lat = new Float64Array(capacity)
    this.lon = new Float64Array(capacity)
    this.acc = new Float64Array(capacity)
    this.flags = new Uint8Array(capacity)
  }

  grow(capacity: number) {
    this.ts = grown(this.ts, capacity)
    this.asn = grownU32(this.asn, capacity)
    this.lat = grown(this.lat, capacity)
    this.lon = grown(this.lon, capacity)
    this.acc = grown(this.acc, capacity)
    if (this.flags.length < capacity) {
      const f = new Uint8Array(Math.max(capacity, this.flags.length * 2))
      f.set(this.flags)
      this.flags = f
    }
  }

  read(row: number): RecordedUse {
    const asn = this.asn[row]!
    return {
      id: this.id[row]!, ts: this.ts[row]!, ip: this.ip[row]!, prefix: this.prefix[row]!, asn: asn === NO_ASN ? null : asn,
      net: this.net[row]!, place: this.place[row]!, ua: this.ua[row]!, client: this.client[row]!, device: this.device[row]!,
      ja4: this.ja4[row]!, lat: orNull(this.lat[row]!), lon: orNull(this.lon[row]!), accuracy_km: orNull(this.acc[row]!), flags: this.flags[row]!,
    }
  }

  write(row: number, use: RecordedUse) {
    this.ja4[row] = use.ja4
    this.lat[row] = use.lat ?? Number.NaN
    this.lon[row] = use.lon ?? Number.NaN
    this.acc[row] = use.accuracy_km ?? Number.NaN
    this.flags[row] = use.flags
    this.id[row] = use.id
    this.ts[row] = use.ts
    this.ip[row] = use.ip
    this.prefix[row] = use.prefix
    this.asn[row] = asnOf(use.asn)
    this.net[row] = use.net
    this.place[row] = use.place
    this.ua[row] = use.ua
    this.client[row] = use.client
    this.device[row] = use.device
  }

  clear(row: number) {
    this.id[row] = this.ip[row] = this.prefix[row] = this.net[row] = this.place[row] = this.ua[row] = this.client[row] = this.device[row] = this.ja4[row] = null
  }
}

// AS numbers are 32-bit (RFC 6793); the largest is reserved (RFC 7300) and stands for "unknown" here.
const NO_ASN = 0xffffffff
const asnOf = (asn: number | null | undefined) => (asn == null || !(asn >= 0 && asn < NO_ASN) ? NO_ASN : asn)

/** `value`, or an instance already held that is equal to it. */
function shared(held: string | null, other: string | null, value: string | null): string | null {
  if (value === null) return null
  if (held !== null && held === value) return held
  return other !== null && other === value ? other : value
}

const orNull = (x: number): number | null => (Number.isNaN(x) ? null : x)

function grownU32(a: Uint32Array<ArrayBuffer>, capacity: number): Uint32Array<ArrayBuffer> {
  if (a.length >= capacity) return a
  const b = new Uint32Array(Math.max(capacity, a.length * 2))
  b.set(a)
  return b
}

function grown(a: Float64Array<ArrayBuffer>, capacity: number): Float64Array<ArrayBuffer> {
  if (a.length >= capacity) return a
  const b = new Float64Array(Math.max(capacity, a.length * 2))
  b.set(a)
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
}

export function createCredentialBook(initialCapacity = 1024): CredentialBook {
  const read = createUseReader()
  const intern = createInterner(1 << 18)
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
  const subject: (string | null)[] = []
  const tokenFp: (string | null)[] = []
  // The first token identity, only where it is not 't:' + the fingerprint (a jti): no copy of the usual one.
  const token: (string | null)[] = []
  const tokenKind: (string | null)[] = []
  const clientId: (string | null)[] = []
  const first = new UseColumns(capacity)
  const last = new UseColumns(capacity)
  let size = 0

  function ensure(row: number) {
    if (row < capacity) return
    capacity = Math.max(row + 1, capacity * 2)
    const c = new Uint8Array(capacity)
    c.set(changed)
    changed = c
    uses = grownU32(uses, capacity)
    seen = grown(seen, capacity)
    stayed = grown(stayed, capacity)
    first.grow(capacity)
    last.grow(capacity)
  }

  // The network, client and place of the current event, each computed on first use (steps and the record
  // share them), as shared instances.
  let factsOf: AuthEvent | null = null
  let known = 0
  let net: string | null = null
  let client: string | null = null
  let place: string | null = null
  function networkOf(event: AuthEvent): string | null {
    if (event !== factsOf) { factsOf = event; known = 0 }
    if ((known & 1) === 0) { net = intern(read.networkOf(event)); known |= 1 }
    return net
  }
  function clientFor(event: AuthEvent): string | null {
    if (event !== factsOf) { factsOf = event; known = 0 }
    if ((known & 2) === 0) { client = intern(clientOf(event)); known |= 2 }
    return client
  }
  function placeFor(event: AuthEvent): string | null {
    if (event !== factsOf) { factsOf = event; known = 0 }
    if ((known & 4) === 0) { place = intern(placeOf(event)); known |= 4 }
    return place
  }
  let current: AuthEvent | null = null

  /**
   * Writes the event's use into a row of `columns`. A value equal to what the row holds, or to what the row's
   * other use holds (`other`), keeps that instance: a decoder gives every event its own copy of the address.
   */
  function put(columns: UseColumns, row: number, event: AuthEvent, other: UseColumns) {
    columns.id[row] = event.event_id
    columns.ts[row] = event.ts
    columns.ip[row] = shared(columns.ip[row]!, other.ip[row]!, event.ip ?? null)
    const prefix = event.ip_prefix ?? null
    if (columns.prefix[row] !== prefix) columns.prefix[row] = intern(prefix)
    columns.asn[row] = asnOf(event.asn)
    columns.net[row] = networkOf(event)
    columns.place[row] = placeFor(event)
    const ua = event.user_agent ?? null
    if (columns.ua[row] !== ua) columns.ua[row] = intern(ua)
    columns.client[row] = clientFor(event)
    columns.device[row] = shared(columns.device[row]!, other.device[row]!, event.device_id ?? null)
    const ja4 = event.ja4 ?? null
    if (columns.ja4[row] !== ja4) columns.ja4[row] = intern(ja4)
    columns.lat[row] = event.lat ?? Number.NaN
    columns.lon[row] = event.lon ?? Number.NaN
    columns.acc[row] = event.geo_accuracy_km ?? Number.NaN
    columns.flags[row] = flagsOf(event)
  }

  const shareStrings = (u: RecordedUse): RecordedUse => ({
    ...u, prefix: intern(u.prefix), net: intern(u.net), place: intern(u.place), ua: intern(u.ua), client: intern(u.client), ja4: intern(u.ja4),
  })
  const tokenOf = (row: number): string | null => token[row] ?? (tokenFp[row] === null ? null : 't:' + tokenFp[row])
  /** What the token column holds for an event: only a key that is not 't:' + its fingerprint. */
  const ownToken = (event: AuthEvent): string | null => (event.jti ? tokenKeyOf(event) : null)

  let viewRow = -1
  let viewKey = ''
  const context: CredentialContext = {
    get key() { return viewKey },
    get subject() { return viewRow < 0 ? null : subject[viewRow]! },
    get tokenFp() { return viewRow < 0 ? null : tokenFp[viewRow]! },
    get token() { return viewRow < 0 ? null : tokenOf(viewRow) },
    get tokenKind() { return viewRow < 0 ? null : tokenKind[viewRow]! },
    get clientId() { return viewRow < 0 ? null : clientId[viewRow]! },
    get uses() { return viewRow < 0 ? 0 : uses[viewRow]! },
    get changed() { return viewRow < 0 ? 0 : changed[viewRow]! & ~ISSUED },
    get issued() { return viewRow < 0 ? false : (changed[viewRow]! & ISSUED) !== 0 },
    get firstTs() { return viewRow < 0 ? Number.NaN : first.ts[viewRow]! },
    get lastTs() { return viewRow < 0 || last.id[viewRow] == null ? Number.NaN : last.ts[viewRow]! },
    get seenTs() { return viewRow < 0 ? Number.NaN : seen[viewRow]! },
    get stayedUntil() { return viewRow < 0 ? Number.NaN : stayed[viewRow]! },
    get firstNetwork() { return viewRow < 0 ? null : first.net[viewRow]! },
    get firstClient() { return viewRow < 0 ? null : first.client[viewRow]! },
    get firstFlags() { return viewRow < 0 ? 0 : first.flags[viewRow]! },
    get firstLat() { return viewRow < 0 ? Number.NaN : first.lat[viewRow]! },
    get firstLon() { return viewRow < 0 ? Number.NaN : first.lon[viewRow]! },
    first() { return viewRow < 0 ? null : first.read(viewRow) },
    last() { return viewRow < 0 || last.id[viewRow] == null ? null : last.read(viewRow) },
    get eventNetwork() { return networkOf(current!) },
    get eventClient() { return clientFor(current!) },
    get eventPlace() { return placeFor(current!) },
  }

  return {
    get size() {
      return size
    },
    has: (g) => rowOf(g) >= 0,
    seenTs: (g) => seen[rowOf(g)]!,
    record(g, event) {
      let row = rowOf(g)
      if (row < 0) {
        row = claim(g)
        changed[row] = event.kind === 'ISSUE' ? ISSUED : 0
        subject[row] = event.subject ?? null
        tokenFp[row] = event.token_fp ?? null
        token[row] = ownToken(event)
        tokenKind[row] = intern(event.token_kind)
        clientId[row] = intern(event.client_id)
        seen[row] = event.ts
        stayed[row] = isLocatable(event) ? event.ts : Number.NaN
        put(first, row, event, last)
        if (event.kind === 'VALIDATE') put(last, row, event, first)
        else last.clear(row)
        uses[row] = 1
        return
      }
      uses[row]!++
      if (subject[row] === null && event.subject) subject[row] = event.subject
      const key = tokenKeyOf(event)
      const had = tokenOf(row)
      if (tokenFp[row] === null && event.token_fp) tokenFp[row] = event.token_fp
      if (had === null) token[row] = ownToken(event)
      let bits = changed[row]!
      if (differs(first.net[row], networkOf(event))) bits |= CHANGED_NETWORK
      if (clientsDiffer(first.client[row]!, clientFor(event))) bits |= CHANGED_CLIENT
      if (differs(first.device[row], event.device_id)) bits |= CHANGED_DEVICE
      if (differs(had, key)) bits |= CHANGED_TOKEN
      if (event.kind === 'ISSUE') bits |= ISSUED
      if (isLocatable(event)) {
        if (event.lat !== first.lat[row] || event.lon !== first.lon[row]) bits |= CHANGED_LOCATION
        else if (event.ts > stayed[row]!) stayed[row] = event.ts
      }
      changed[row] = bits
      // Events arrive out of order within the lateness: first and last are by event time.
      if (event.ts > seen[row]!) seen[row] = event.ts
      if (event.ts < first.ts[row]!) put(first, row, event, last)
      if (event.kind === 'VALIDATE' && (last.id[row] == null || event.ts >= last.ts[row]!)) put(last, row, event, first)
    },
    forget(g) {
      const row = rowOf(g)
      if (row < 0) return
      rows[g] = -1
      free.push(row)
      size--
      subject[row] = tokenFp[row] = token[row] = tokenKind[row] = clientId[row] = null
      first.clear(row)
      last.clear(row)
    },
    view(g, key, event) {
      current = event
      viewRow = g < 0 ? -1 : rowOf(g)
      viewKey = key
      return context
    },
    toJSON(g) {
      const row = rowOf(g)
      const r: CredentialRecord = {
        subject: subject[row]!, token_fp: tokenFp[row]!, token_kind: tokenKind[row]!, client_id: clientId[row]!, uses: uses[row]!,
        changed: changed[row]!, seen: seen[row]!, stayed: orNull(stayed[row]!), first: first.read(row), last: last.id[row] == null ? null : last.read(row),
      }
      if (token[row] !== null) r.token = token[row]
      return r
    },
    restore(g, r) {
      const row = rowOf(g) >= 0 ? rowOf(g) : claim(g)
      subject[row] = r.subject
      tokenFp[row] = r.token_fp
      token[row] = r.token ?? null
      tokenKind[row] = intern(r.token_kind)
      clientId[row] = intern(r.client_id)
      seen[row] = r.seen
      stayed[row] = r.stayed ?? Number.NaN
      uses[row] = r.uses
      changed[row] = r.changed
      first.write(row, shareStrings(r.first))
      if (r.last === null) last.clear(row)
      else last.write(row, shareStrings(r.last))
    },
  }
}
