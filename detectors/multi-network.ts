// The same token or session presented from two or more networks. Networks are compared by operator or ASN
// when known, else by address prefix (/24 IPv4, /48 IPv6), never by raw address: an honest client changes
// addresses inside one provider all the time.
//
// Honest people change networks too — a phone between Wi-Fi and its carrier, a laptop switching a VPN on,
// a dual-stack home alternating IPv4 and IPv6, a traveller — and keep their browser and device while doing
// so. A change of network alone is therefore only recorded; it takes a change of client, device or TLS stack,
// two networks used alternately, or a move no person makes with the same browser (onto a data-centre address
// that is no VPN, or to another country's fixed line faster than travel) to ask for a ticket or a page.
//
// The issuance network is remembered for the session's life (`sessionIdleMs`), other networks for `windowMs`:
// a cookie replayed hours after the victim went quiet is still compared with where it was issued. Networks the
// user signed in from, and address blocks many of the tenant's users sign in from, are learned (slots
// `u:<subject>` and `n:<prefix>`, fed by sign-ins) and excuse a move of the same client onto them, as configured ones do.
import type { AuthEvent } from '../schemas/model.js'
import {
  clientsDiffer, countryOf, createMachineIdentityTest, DEFAULT_MACHINE_SUBJECTS, differs, hash32, haversineKm, isAnonymised,
  isLocatable, isMobileNetwork, createUseReader, placeOf,
} from './signals.js'
import { appended } from './compact.js'
import { CHANGED_NETWORK, USE_ANONYMISED, USE_CORPORATE, USE_HOSTING, USE_ISSUE, USE_LOCATABLE, USE_MOBILE, USE_PREFIXED } from './credential-book.js'
import { emptyEvidence, NO_FINDINGS, NO_SLOTS, severityFor, type CredentialContext, type Detector, type Finding, type Peek, type StepResult } from './types.js'

export interface MultiNetworkConfig {
  /** Networks other than the issuance one are compared for this long after their last use. */
  windowMs: number
  /** The issuance network is remembered this long after the session's last use (its idle lifetime). */
  sessionIdleMs: number
  /** Two networks used alternately within this span count as concurrent use, not a handover. */
  concurrentMs: number
  maxSightings: number
  /** A move between two locatable places faster than this is no journey (as impossible_travel's limit). */
  maxSpeedKmh: number
  /** Accuracy assumed when the geo database gives none. */
  defaultAccuracyKm: number
  /**
   * The tenant's own egress networks ('AS64500', 'org:acme corp', or an address prefix as the collector
   * writes it, '198.51.100.0/24'). Addresses the collector flags 'corporate' count as well.
   */
  knownNetworks: readonly string[]
  learning: {
    /** A network a user signed in from, or the tenant's, is remembered this long after its last sign-in. */
    rememberMs: number
    /** Distinct users signing in from a network before it counts as one of the tenant's regular networks. */
    tenantUsers: number
    /** Networks remembered per user (the most recent). */
    maxUserNetworks: number
  }
  machineSubjects: readonly string[]
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_MULTI_NETWORK: MultiNetworkConfig = {
  windowMs: 30 * 60_000,
  sessionIdleMs: 12 * 3600_000,
  concurrentMs: 2 * 60_000,
  maxSightings: 8,
  maxSpeedKmh: 900,
  defaultAccuracyKm: 50,
  knownNetworks: [],
  learning: { rememberMs: 30 * 24 * 3600_000, tenantUsers: 5, maxUserNetworks: 8 },
  machineSubjects: DEFAULT_MACHINE_SUBJECTS,
  thresholds: { page: 0.8, ticket: 0.5 },
}

interface Sighting {
  net: string
  ip: string
  prefix: string
  asn: number | null
  ua: string | null
  client: string | null
  device: string | null
  ja4: string | null
  place: string | null
  /** Where the address is, when it says where a person is (not a VPN, relay, data centre, CGNAT, private range). */
  lat: number | null
  lon: number | null
  acc: number
  first: number
  last: number
  event_id: string
  /** Sightings of other networks seen between this one's first and last use: interleaving. */
  interleaved: boolean
  /** VPN, relay, proxy or Tor exit: the place is the exit's, not the person's. */
  anon: boolean
  /** A data centre that is not a VPN: no person browses from there. */
  hosting: boolean
  /** The operator is a mobile carrier (by flag or name). */
  mobile: boolean
  /** The client is a phone or tablet, or the address is flagged cellular: Wi-Fi and radio trade places under it. */
  handset: boolean
  /** The tenant's own egress (configured, flagged 'corporate', or learned) or a network the user signed in from. */
  known: boolean
  /** Seen on an ISSUE: the credential was issued here (absent in states checkpointed before it). */
  issued?: boolean
}

export interface MultiNetworkState {
  subject: string | null
  session_id: string | null
  token_fp: string | null
  incident_ts: number | null
  reported_score: number
  /** By first use. The first issued on (else the first) is the issuance network, kept for the session's life. */
  sightings: Sighting[]
  /** Latest `last` of the sightings kept: the expiry without a scan. Absent in states checkpointed before it. */
  last?: number
}

/** `u:<subject>`: the networks a user signed in from, most recent last, with the time of the last sign-in. */
export interface UserNetworks {
  learned: 'user'
  nets: string[]
  at: number[]
  last: number
}

/** `n:<address prefix>`: distinct users (32-bit name hashes) that signed in from it, up to the tenant threshold. */
export interface TenantNetwork {
  learned: 'tenant'
  users: number[]
  last: number
}

export type MultiNetworkSlotState = MultiNetworkState | UserNetworks | TenantNetwork

/** Events that say a person chose to be on a network: an interactive sign-in, accepted. */
const SIGN_IN = new Set(['login', 'sso', 'mfa'])

export function createMultiNetworkDetector(config: MultiNetworkConfig = DEFAULT_MULTI_NETWORK): Detector<MultiNetworkSlotState> {
  const read = createUseReader()
  const isMachine = createMachineIdentityTest(config.machineSubjects)
  const known = new Set(config.knownNetworks)
  const learning = config.learning
  // The slots an event touches, reused: the engine reads the list before the next call.
  const one = ['']
  const three = ['', '', '']
  return {
    name: 'multi_network',
    slots(event) {
      if (event.kind === 'REVOKE' || !event.ip_prefix) return NO_SLOTS
      if (event.result && event.result !== 'OK') return NO_SLOTS
      // Service accounts and CI runners call from many cloud addresses by design.
      if (isMachine(event)) return NO_SLOTS
      // One incident per session (or per token when there is no session): a stolen cookie must page once,
      // not once for the cookie and again for its session.
      let credential: string
      if (event.session_id) credential = 's:' + event.session_id
      else if (event.token_fp) credential = 't:' + event.token_fp
      else return NO_SLOTS
      if (event.kind === 'ISSUE' && event.subject && SIGN_IN.has(event.action)) {
        // Learn first: a sign-in from a network makes it the user's before the session is judged on it.
        three[0] = 'u:' + event.subject
        // The tenant's egress is an address block many users share (a consumer ISP is one operator for millions).
        three[1] = 'n:' + event.ip_prefix
        three[2] = credential
        return three
      }
      one[0] = credential
      return one
    },
    step: function multiNetwork(state, event, slot, context, peek): StepResult<MultiNetworkSlotState> {
      if (slot.startsWith('u:')) return { state: learnUser(state as UserNetworks | undefined, read.networkOf(event)!, event.ts, learning.maxUserNetworks), findings: NO_FINDINGS }
      if (slot.startsWith('n:')) return { state: learnTenant(state as TenantNetwork | undefined, event.subject!, event.ts, learning.tenantUsers), findings: NO_FINDINGS }
      // One network so far (the engine's credential record says where it was first used): nothing to keep.
      if (!state && context?.key === slot) {
        const net = context.eventNetwork
        if (net !== null && (context.uses === 0 ||
          ((context.firstFlags & USE_PREFIXED) !== 0 && (context.changed & CHANGED_NETWORK) === 0 && net === context.firstNetwork))) {
          return { state, findings: NO_FINDINGS }
        }
      }
      const learned = peek as Peek<MultiNetworkSlotState> | undefined
      const knownAt = (net: string, prefix: string | null, asn: number | null, flags: number, subject: string | null) =>
        isKnownUse(net, prefix, asn, flags, known, subject, learned, learning.tenantUsers)
      const s: MultiNetworkState = (state as MultiNetworkState | undefined) ?? fromContext(context, slot, knownAt, config) ??
        { subject: null, session_id: null, token_fp: null, incident_ts: null, reported_score: 0, sightings: [], last: event.ts }
      s.subject ??= event.subject ?? null
      s.session_id ??= event.session_id ?? null
      s.token_fp ??= event.token_fp ?? null
      const net = read.networkOf(event)!
      const ts = event.ts
      let sightings = s.sightings
      let own: Sighting | undefined
      for (let i = 0; i < sightings.length; i++) if (sightings[i]!.net === net) { own = sightings[i]; break }
      let reorder = false
      if (own) {
        for (let i = 0; i < sightings.length; i++) {
          const x = sightings[i]!
          if (x !== own && x.last > own.last && x.last <= ts) { own.interleaved = true; break }
        }
        if (ts < own.first) { own.first = ts; reorder = true }
        if (ts > own.last) own.last = ts
        if (event.kind === 'ISSUE' && !own.issued) own.issued = true
        own.ua ??= event.user_agent ?? null
        own.ja4 ??= event.ja4 ?? null
      } else {
        const flags = event.net_flags.includes('corporate') ? USE_CORPORATE : 0
        own = sightingOf(event, net, knownAt(net, event.ip_prefix ?? null, event.asn ?? null, flags, s.subject), config)
        sightings = s.sightings = appended(sightings, own)
        reorder = true
      }
      if (reorder) sightings.sort((a, b) => a.first - b.first)
      // Forget networks that fell out of the window (never the issuance one), and keep the list bounded.
      const origin = originOf(sightings)
      let kept = 0
      for (let i = 0; i < sightings.length; i++) {
        const x = sightings[i]!
        if (x === origin || x === own || Math.abs(ts - x.last) <= config.windowMs) sightings[kept++] = x
      }
      sightings.length = kept
      if (sightings.length > config.maxSightings) {
        const drop = sightings.length - config.maxSightings
        let from = 0
        // The issuance network and the one just used stay; the oldest others go.
        for (let removed = 0; removed < drop; removed++) {
          while (sightings[from] === own || sightings[from] === origin) from++
          sightings.splice(from, 1)
        }
      }
      let last = sightings[0]!.last
      for (let i = 1; i < sightings.length; i++) if (sightings[i]!.last > last) last = sightings[i]!.last
      s.last = last
      if (sightings.length < 2) {
        s.incident_ts = null
        return { state: s, findings: NO_FINDINGS }
      }
      const intruders = sightings.filter((x) => x !== origin && !excused(origin, x))
      if (intruders.length === 0) return { state: s, findings: NO_FINDINGS }
      const { score, reasons } = scoreOf(origin, intruders, config)
      if (score <= s.reported_score) return { state: s, findings: NO_FINDINGS }
      s.incident_ts ??= origin.first
      s.reported_score = score
      const finding = toFinding(s, slot, origin, intruders, score, reasons, config)
      return { state: s, findings: [finding] }
    },
    expiry(state) {
      if ('learned' in state) return state.last + learning.rememberMs
      return (state.last ?? latestOf(state.sightings)) + Math.max(config.windowMs, config.sessionIdleMs)
    },
  }
}

/**
 * The network the credential was issued on (the earliest seen on an ISSUE), else the earliest: an anonymous use
 * before the login (a planted session id) is an intruder against the login, not the origin.
 */
function originOf(sightings: Sighting[]): Sighting {
  for (let i = 0; i < sightings.length; i++) if (sightings[i]!.issued) return sightings[i]!
  return sightings[0]!
}

function learnUser(state: UserNetworks | undefined, net: string, ts: number, max: number): UserNetworks {
  // Lists at their exact length (compact.ts): `push` onto an empty list reserves room for 16 more.
  if (state === undefined) return { learned: 'user', nets: [net], at: [ts], last: ts }
  const s = state
  const i = s.nets.indexOf(net)
  if (i >= 0) {
    s.at[i] = Math.max(s.at[i]!, ts)
  } else {
    s.nets = appended(s.nets, net)
    s.at = appended(s.at, ts)
    if (s.nets.length > max) {
      // Forget the network signed in from longest ago.
      let oldest = 0
      for (let j = 1; j < s.at.length; j++) if (s.at[j]! < s.at[oldest]!) oldest = j
      s.nets.splice(oldest, 1)
      s.at.splice(oldest, 1)
    }
  }
  if (ts > s.last) s.last = ts
  return s
}

function learnTenant(state: TenantNetwork | undefined, subject: string, ts: number, enough: number): TenantNetwork {
  const s = state ?? { learned: 'tenant', users: [], last: ts }
  const user = hash32(subject)
  if (s.users.length < enough && !s.users.includes(user)) s.users.push(user)
  if (ts > s.last) s.last = ts
  return s
}

function sightingOf(event: AuthEvent, net: string, known: boolean, config: MultiNetworkConfig): Sighting {
  const anon = isAnonymised(event)
  const located = isLocatable(event)
  return {
    net, ip: event.ip ?? '', prefix: event.ip_prefix ?? '', asn: event.asn ?? null, ua: event.user_agent ?? null,
    client: clientOf(event), device: event.device_id ?? null, ja4: event.ja4 ?? null, place: placeOf(event),
    lat: located ? event.lat! : null, lon: located ? event.lon! : null, acc: event.geo_accuracy_km ?? config.defaultAccuracyKm,
    first: event.ts, last: event.ts, event_id: event.event_id, interleaved: false, anon, issued: event.kind === 'ISSUE',
    hosting: !anon && event.net_flags.includes('hosting'), mobile: isMobileNetwork(event),
    handset: event.device_type === 'mobile' || event.device_type === 'tablet' || event.net_flags.includes('cellular') || event.net_flags.includes('mobile'),
    known,
  }
}

function latestOf(sightings: Sighting[]): number {
  let last = Number.NEGATIVE_INFINITY
  for (const x of sightings) if (x.last > last) last = x.last
  return last
}

/** Configured, flagged 'corporate' (USE_CORPORATE), signed in from by the user, or the tenant's learned egress. */
function isKnownUse(
  net: string, prefix: string | null, asn: number | null, flags: number, known: Set<string>, subject: string | null,
  peek: Peek<MultiNetworkSlotState> | undefined, tenantUsers: number,
): boolean {
  if ((flags & USE_CORPORATE) !== 0 || known.has(net) || (asn != null && known.has('AS' + asn)) || (!!prefix && known.has(prefix))) return true
  if (!peek) return false
  const user = subject ? (peek('u:' + subject) as UserNetworks | undefined) : undefined
  if (user?.nets.includes(net)) return true
  const tenant = prefix ? (peek('n:' + prefix) as TenantNetwork | undefined) : undefined
  return !!tenant && tenant.users.length >= tenantUsers
}

/**
 * The issuance sighting rebuilt from the credential record, when a second network shows up: the detector kept
 * nothing while the session stayed on its first network.
 */
function fromContext(
  context: CredentialContext | undefined, slot: string,
  knownAt: (net: string, prefix: string | null, asn: number | null, flags: number, subject: string | null) => boolean, config: MultiNetworkConfig,
): MultiNetworkState | null {
  if (!context || context.key !== slot || context.uses === 0 || context.firstNetwork === null || (context.firstFlags & USE_PREFIXED) === 0) return null
  const f = context.first()!
  const anon = (f.flags & USE_ANONYMISED) !== 0
  const located = (f.flags & USE_LOCATABLE) !== 0 && f.lat !== null && f.lon !== null
  // signals.ts names a client with only a device type; this detector does not (clientOf above).
  const client = f.client && !f.client.startsWith('?/?/') ? f.client : null
  const type = f.client?.split('/')[2]
  const origin: Sighting = {
    net: f.net!, ip: f.ip ?? '', prefix: f.prefix ?? '', asn: f.asn, ua: f.ua, client, device: f.device, ja4: f.ja4, place: f.place,
    lat: located ? f.lat : null, lon: located ? f.lon : null, acc: f.accuracy_km ?? config.defaultAccuracyKm,
    first: f.ts, last: context.seenTs, event_id: f.id, interleaved: false, anon,
    hosting: !anon && (f.flags & USE_HOSTING) !== 0, mobile: (f.flags & USE_MOBILE) !== 0, handset: type === 'mobile' || type === 'tablet',
    known: knownAt(f.net!, f.prefix, f.asn, f.flags, context.subject), issued: (f.flags & USE_ISSUE) !== 0,
  }
  return {
    subject: context.subject, session_id: slot.startsWith('s:') ? slot.slice(2) : null, token_fp: context.tokenFp,
    incident_ts: null, reported_score: 0, sightings: [origin], last: context.seenTs,
  }
}

function clientOf(event: AuthEvent): string | null {
  if (!event.ua_family && !event.os_family) return null
  return `${event.ua_family ?? '?'}/${event.os_family ?? '?'}/${event.device_type ?? '?'}`
}

/** Same browser and device as the origin: nothing about the person changed, only the road. */
function samePerson(origin: Sighting, x: Sighting): boolean {
  return !clientsDiffer(origin.client, x.client) && !differs(origin.device, x.device) && !differs(origin.ja4, x.ja4)
}

/**
 * Network changes that are no evidence at all: the tenant's own egress or the user's own network with the same
 * client, and a dual-stack client seen once by its IPv4 and once by its IPv6 prefix when no ASN says whether
 * they are one provider.
 */
function excused(origin: Sighting, x: Sighting): boolean {
  if (!samePerson(origin, x)) return false
  if (x.known) return true
  const family = (p: string) => (p.includes(':') ? 6 : 4)
  return origin.asn === null && x.asn === null && family(origin.prefix) !== family(x.prefix)
}

/** A browser session carried onto a data-centre address that is no VPN exit and no network of the tenant's. */
function ontoDataCentre(origin: Sighting, x: Sighting): boolean {
  return x.hosting && !x.known && !origin.hosting && !origin.anon
}

/** The same client on another country's fixed line sooner than anyone could travel there. */
function fasterThanTravel(origin: Sighting, x: Sighting, config: MultiNetworkConfig): boolean {
  if (origin.lat === null || origin.lon === null || x.lat === null || x.lon === null) return false
  if (x.anon || x.known || x.mobile || x.handset || !differs(countryOf(origin.place), countryOf(x.place))) return false
  const km = haversineKm(origin.lat, origin.lon, x.lat, x.lon) - origin.acc - x.acc
  if (km <= 0) return false
  const hours = Math.max(0, x.first - origin.last) / 3600_000
  return hours === 0 || km / hours > config.maxSpeedKmh
}

function scoreOf(origin: Sighting, intruders: Sighting[], config: MultiNetworkConfig): { score: number; reasons: string[] } {
  const reasons = ['token or session used from more than one network']
  let score = 0.45
  const differsOn = (pick: (x: Sighting) => string | null, eq: (a: string, b: string) => boolean = (a, b) => a === b) =>
    intruders.some((x) => { const a = pick(origin); const b = pick(x); return a !== null && b !== null && !eq(a, b) })
  const otherClient = intruders.some((x) => clientsDiffer(origin.client, x.client))
  if (otherClient) { score += 0.25; reasons.push('different client (browser, OS or device type)') }
  if (differsOn((x) => x.device)) { score += 0.15; reasons.push('different device id') }
  if (differsOn((x) => x.ja4)) { score += 0.2; reasons.push('different TLS client (JA4 fingerprint)') }
  // A VPN or relay exit's country is the exit's: only places of locatable addresses are compared.
  if (!origin.anon && intruders.some((x) => !x.anon && differs(countryOf(origin.place), countryOf(x.place)))) {
    score += 0.1
    reasons.push('different country')
  }
  if (!origin.anon && !origin.hosting && intruders.some((x) => x.anon || x.hosting)) {
    score += 0.1
    reasons.push('a browser session suddenly carried by a data-centre or VPN address')
  }
  const person = intruders.every((x) => samePerson(origin, x))
  // Wi-Fi and cellular trade places under a phone that keeps its browser: alternation there is a flapping radio.
  // A desktop browser on a carrier's address is a fixed-wireless line, which does not flap with another.
  const flapping = person && (origin.handset || intruders.some((x) => x.handset))
  const concurrent = !flapping && ([origin, ...intruders].some((x) => x.interleaved) ||
    intruders.some((x) => x.first - origin.last < 0 && origin.last - x.first <= config.concurrentMs))
  if (concurrent) { score += 0.2; reasons.push('networks used alternately (concurrent use, not a handover)') }
  // One browser on one device cannot sit on two fixed lines of different operators at once, back and forth:
  // that is a copy of it (a residential proxy replaying a cookie with the user agent and device id copied).
  // Phones (radio flapping), anonymising exits and the tenant's own egress are kept out above and here.
  // (The origin is the user's own network by definition: only the others' being known excuses.)
  if (concurrent && person && !origin.handset && !origin.anon && intruders.every((x) => !x.handset && !x.anon && !x.known)) {
    score += 0.2
    reasons.push('the same client alternating between fixed lines of different operators: a copy of it')
  }
  if (intruders.length >= 2) { score += 0.05; reasons.push('three or more networks') }
  if (person && !concurrent) {
    if (intruders.some((x) => ontoDataCentre(origin, x))) {
      // People reach the internet through homes, offices, carriers and VPNs; a browser with the same user agent
      // and device id on a data centre that is none of those is an anti-detect browser loaded with the cookies.
      score += 0.25
      reasons.push('the same browser and device on a data-centre address that is no VPN and no network of this user or tenant: a copy of the session, not a handover')
    } else if (intruders.some((x) => fasterThanTravel(origin, x, config))) {
      // Another country's fixed line, sooner than a flight: asks for a look (impossible_travel agrees, and the
      // two together page through corroboration).
      score = Math.min(score + 0.1, config.thresholds.page - 0.15)
      reasons.push('the same client on a fixed line in another country sooner than anyone could travel there')
    } else {
      // Handover, travel, a VPN switched on: the same browser and device on a new road is recorded, not alerted.
      score = Math.min(score, 0.45)
      reasons.push('same client and device throughout: a handover or a VPN, recorded only')
    }
  }
  return { score: Math.min(1, Math.round(score * 100) / 100), reasons }
}

function toFinding(s: MultiNetworkState, slot: string, origin: Sighting, intruders: Sighting[], score: number, reasons: string[], config: MultiNetworkConfig): Finding {
  const all = [origin, ...intruders]
  const evidence = emptyEvidence()
  evidence.event_ids = all.map((x) => x.event_id)
  evidence.ips = all.map((x) => x.ip)
  evidence.prefixes = all.map((x) => x.prefix)
  evidence.asns = all.flatMap((x) => (x.asn == null ? [] : [x.asn]))
  evidence.places = all.flatMap((x) => (x.place ? [x.place] : []))
  evidence.user_agents = [...new Set(all.flatMap((x) => (x.ua ? [x.ua] : [])))]
  evidence.times = all.map((x) => x.first)
  evidence.reasons = reasons
  const severity = severityFor(score, config.thresholds)
  return {
    detector: 'multi_network',
    key: slot,
    incident_ts: s.incident_ts!,
    severity,
    score,
    confirmed: severity === 'page' && reasons.length >= 3,
    subject: s.subject,
    session_id: s.session_id,
    token_fp: s.token_fp,
    summary: `${slot.startsWith('t:') ? 'token' : 'session'} used from ${all.length} networks (${all.map((x) => x.net).join(', ')}) within ${spanOf(all)}`,
    evidence,
    first_malicious_ts: intruders[0]!.first,
  }
}

/** From the first use of the first network to the latest use of any, in words. */
function spanOf(sightings: Sighting[]): string {
  let first = Number.POSITIVE_INFINITY
  let last = Number.NEGATIVE_INFINITY
  for (const x of sightings) {
    if (x.first < first) first = x.first
    if (x.last > last) last = x.last
  }
  const minutes = Math.max(1, Math.round((last - first) / 60_000))
  return minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`
}
