// Facts about one event that several detectors compare: which network, client, device and place it came from,
// whether the caller is a machine identity, and how to turn compact records of uses into Evidence.
// Everything here is pure and allocation-light: it runs once per event per detector.
import type { AuthEvent, Evidence } from '../schemas/model.js'
import { widerPrefixOf } from './network-key.js'
import { emptyEvidence, type CredentialContext } from './types.js'

/**
 * One use of a credential, as detectors keep it in their state: plain JSON, short fields, no raw event.
 * `net` is the network key (operator, ASN or prefix), `client` the browser/OS/device-type triple.
 */
export interface Use {
  id: string
  ts: number
  ip: string | null
  prefix: string | null
  asn: number | null
  net: string | null
  place: string | null
  ua: string | null
  client: string | null
  device: string | null
}

/** The Use part of a richer use (the credential record's RecordedUse): what detector states keep. */
export function plainUse(u: Use): Use {
  return { id: u.id, ts: u.ts, ip: u.ip, prefix: u.prefix, asn: u.asn, net: u.net, place: u.place, ua: u.ua, client: u.client, device: u.device }
}

/**
 * Overwrites a stored use with this event's, in place: for a "latest use" no other object refers to. The client
 * and place may be given when the caller has them already (the credential record names them once per event).
 */
export function overwriteUse(
  use: Use, event: AuthEvent, net: string | null, client: string | null = clientOf(event), place: string | null = placeOf(event), ua: string | null = event.user_agent ?? null,
): Use {
  use.id = event.event_id
  use.ts = event.ts
  use.ip = event.ip ?? null
  use.prefix = event.ip_prefix ?? null
  use.asn = event.asn ?? null
  use.net = net
  use.place = place
  use.ua = ua
  use.client = client
  use.device = event.device_id ?? null
  return use
}

export function useOf(event: AuthEvent, net: string | null = networkOf(event)): Use {
  return {
    id: event.event_id,
    ts: event.ts,
    ip: event.ip ?? null,
    prefix: event.ip_prefix ?? null,
    asn: event.asn ?? null,
    net,
    place: placeOf(event),
    ua: event.user_agent ?? null,
    client: clientOf(event),
    device: event.device_id ?? null,
  }
}

export interface UseReader {
  networkOf(event: AuthEvent): string | null
  /**
   * The event's Use. Given the step's context, its strings that repeat from event to event (network, client,
   * place, user agent, prefix) are the engine's shared instances: a Use kept in a state then holds no copy of
   * them (a user agent alone is a hundred bytes in each event decoded).
   */
  useOf(event: AuthEvent, context?: CredentialContext): Use
}

/** The event's Use with the context's shared instances of its repeated strings (UseReader.useOf). */
export function sharedUseOf(event: AuthEvent, context: CredentialContext): Use {
  return {
    id: event.event_id,
    ts: event.ts,
    ip: event.ip ?? null,
    prefix: context.eventPrefix,
    asn: event.asn ?? null,
    net: context.eventNetwork,
    place: context.eventPlace,
    ua: context.eventUserAgent,
    client: context.eventClient,
    device: event.device_id ?? null,
  }
}

/**
 * networkOf and useOf with the network name memoised per ASN organisation: a tenant has few distinct ASN
 * organisations and every event names one. Each detector makes its own at creation, so no state is shared
 * between detectors.
 */
export function createUseReader(cacheSize = 4096): UseReader {
  // asn_org -> 'org:<operator>', or null when the organisation names no operator.
  const networks = new Map<string, string | null>()
  function network(event: AuthEvent): string | null {
    const org = event.asn_org
    if (org) {
      let net = networks.get(org)
      if (net === undefined) {
        const operator = operatorOf(org)
        net = operator ? 'org:' + operator : null
        if (networks.size >= cacheSize) networks.clear()
        networks.set(org, net)
      }
      if (net !== null) return net
    }
    if (event.asn != null) return 'AS' + event.asn
    return event.ip_prefix ? widerPrefixOf(event.ip_prefix) : null
  }
  return { networkOf: network, useOf: (event, context) => (context ? sharedUseOf(event, context) : useOf(event, network(event))) }
}

/**
 * The network an address belongs to: its operator when the ASN database names one (one operator often
 * announces several ASNs: a carrier's regions, a secure web gateway's egress pools), else its ASN, else its
 * prefix widened to /48 for IPv6. Never the raw address: honest clients change addresses all the time.
 */
export function networkOf(event: AuthEvent): string | null {
  const operator = operatorOf(event.asn_org)
  if (operator) return 'org:' + operator
  if (event.asn != null) return 'AS' + event.asn
  return event.ip_prefix ? widerPrefixOf(event.ip_prefix) : null
}

// Legal forms and filler words that differ between the ASNs of one operator ("Zscaler, Inc." / "ZSCALER INC").
const ORG_FILLER = new Set(['inc', 'llc', 'ltd', 'limited', 'corp', 'corporation', 'co', 'company', 'sa', 'ag', 'gmbh', 'plc', 'bv', 'nv', 'srl', 'sas', 'spa', 'ab', 'as', 'oy', 'kk', 'pty', 'the', 'communications', 'network', 'networks', 'services', 'holdings', 'group', 'international'])

/** A stable operator name from an ASN organisation: lower case, legal forms dropped, first two words. */
export function operatorOf(org: string | null | undefined): string | null {
  if (!org) return null
  const words = org.toLowerCase().replace(/[^a-z0-9&\- ]+/g, ' ').split(/\s+/).filter((w) => w && !ORG_FILLER.has(w))
  return words.length === 0 ? null : words.slice(0, 2).join(' ')
}

/** Browser family, OS family and device type: what stays the same across version upgrades. */
export function clientOf(event: AuthEvent): string | null {
  if (!event.ua_family && !event.os_family && !event.device_type) return null
  return `${event.ua_family ?? '?'}/${event.os_family ?? '?'}/${event.device_type ?? '?'}`
}

export function placeOf(event: AuthEvent): string | null {
  if (!event.country) return null
  return event.city ? event.city + ', ' + event.country : event.country
}

export function countryOf(place: string | null): string | null {
  return place ? (place.split(', ').at(-1) ?? null) : null
}

/** True when both values are known and differ: an unknown side is never evidence of a change. */
export function differs<T>(a: T | null | undefined, b: T | null | undefined): boolean {
  return a != null && b != null && a !== b
}

/** Both known and equal. */
export function agrees<T>(a: T | null | undefined, b: T | null | undefined): boolean {
  return a != null && b != null && a === b
}

/** Client triples differ on a known part (an unknown family or OS on one side does not count as a change). */
export function clientsDiffer(a: string | null, b: string | null): boolean {
  if (!a || !b || a === b) return false
  const pa = a.split('/')
  const pb = b.split('/')
  return pa.some((x, i) => x !== '?' && pb[i] !== '?' && pb[i] !== undefined && x !== pb[i])
}

// Flags under which an address says nothing about where the person is (RFC 6598 CGNAT, RFC 1918, VPN exits,
// iCloud Private Relay, Tor, data centres).
const NOT_A_LOCATION = new Set(['vpn', 'relay', 'proxy', 'tor', 'hosting', 'private', 'cgnat', 'loopback', 'link_local'])
const ANONYMISER = new Set(['vpn', 'relay', 'proxy', 'tor'])

export function isLocatable(event: AuthEvent): boolean {
  return event.lat != null && event.lon != null && !hasFlagIn(event.net_flags, NOT_A_LOCATION)
}

export function isAnonymised(event: AuthEvent): boolean {
  return hasFlagIn(event.net_flags, ANONYMISER)
}

function hasFlagIn(flags: readonly string[], set: ReadonlySet<string>): boolean {
  for (let i = 0; i < flags.length; i++) if (set.has(flags[i]!)) return true
  return false
}

// Mobile operators geolocate a whole region to one gateway city, and hand devices between Wi-Fi and cellular.
const MOBILE_ORG = /\b(mobile|mobility|wireless|cellular|lte|t-mobile|vodafone|telefonica|movistar|tim|o2|ee|three|hutchison|h3g|jio|airtel|telstra|optus|docomo|softbank|kddi|rogers|bell mobility|tmobile|verizon wireless|at&t mobility|sprint|us cellular|claro|vivo|mts|megafon|beeline|turkcell|safaricom|mtn)\b/i

export function isMobileNetwork(event: AuthEvent): boolean {
  return event.device_type === 'mobile' || event.device_type === 'tablet' || event.net_flags.includes('mobile') ||
    event.net_flags.includes('cellular') || (!!event.asn_org && MOBILE_ORG.test(event.asn_org))
}

export function isAutomation(event: AuthEvent): boolean {
  return event.device_type === 'automation'
}

/**
 * Service accounts, API keys and CI runners call from many cloud addresses with tool user agents by design:
 * the network and client signals say nothing about them. Subject patterns catch machine users that
 * authenticate like people (a Keycloak "service-account-<client>" user, a "svc-" naming convention).
 */
export const DEFAULT_MACHINE_SUBJECTS: readonly string[] = [
  '^svc[-_.]', '^sa[-_.]', '^ci[-_.]', '^bot[-_.]', '[-_.]bot@', '^service-account-', '^system:serviceaccount:',
  '\\.iam\\.gserviceaccount\\.com$', '^[0-9a-f-]{36}@clients$',
]

export function createMachineIdentityTest(subjectPatterns: readonly string[]): (event: AuthEvent) => boolean {
  // One alternation instead of one regex per pattern (every event is tested, by several detectors), unless a
  // pattern numbers or names its groups, which an alternation would renumber or duplicate.
  const patterns = /\\[1-9k]|\(\?<[^=!]/.test(subjectPatterns.join('')) || subjectPatterns.length === 0
    ? subjectPatterns.map((p) => new RegExp(p, 'i'))
    : [new RegExp(subjectPatterns.map((p) => `(?:${p})`).join('|'), 'i')]
  return function isMachineIdentity(event) {
    if (event.token_kind === 'service_account' || event.token_kind === 'api_key') return true
    const subject = event.subject
    if (!subject) return false
    for (const p of patterns) if (p.test(subject)) return true
    return false
  }
}

// The key of the event last asked about: the engine and every detector ask for the same event's key in turn,
// and one shared string spares each a concatenation and the engine a comparison of equal copies.
let keyed: object | null = null
let keyedSession: string | null | undefined
let keyedToken: string | null | undefined
let lastKey: string | null = null

/** The credential a finding is about, for the alerter's one-page-per-session rule: session first, else token. */
export function credentialKey(event: Pick<AuthEvent, 'session_id' | 'token_fp'>): string | null {
  if (event === keyed && event.session_id === keyedSession && event.token_fp === keyedToken) return lastKey
  keyed = event
  keyedSession = event.session_id
  keyedToken = event.token_fp
  lastKey = event.session_id ? 's:' + event.session_id : event.token_fp ? 't:' + event.token_fp : null
  return lastKey
}

/** 's:' + the event's session id (the string credentialKey shares), or null. */
export function sessionSlot(event: Pick<AuthEvent, 'session_id' | 'token_fp'>): string | null {
  return event.session_id ? credentialKey(event) : null
}

/**
 * One token's identity across sources. An IdP logs its own token id (token_fp '<format>:<id>') while a gateway
 * fingerprints the raw token, so the two fingerprints never match; a JWT's `jti` is the same in both
 * (docs/formats-idp.md), so it wins when present.
 */
export function tokenKeyOf(event: Pick<AuthEvent, 'jti' | 'token_fp'>): string | null {
  if (event.jti) return 'j:' + event.jti
  return event.token_fp ? 't:' + event.token_fp : null
}

export function roundScore(score: number): number {
  return Math.min(1, Math.max(0, Math.round(score * 100) / 100))
}

/** Evidence from compact uses, each listed once, in the order given (the first is the reference use). */
export function evidenceOf(uses: Use[], reasons: string[]): Evidence {
  const e = emptyEvidence()
  for (const u of uses) {
    if (e.event_ids.includes(u.id)) continue
    e.event_ids.push(u.id)
    if (u.ip && !e.ips.includes(u.ip)) e.ips.push(u.ip)
    if (u.prefix && !e.prefixes.includes(u.prefix)) e.prefixes.push(u.prefix)
    if (u.asn != null && !e.asns.includes(u.asn)) e.asns.push(u.asn)
    if (u.place && !e.places.includes(u.place)) e.places.push(u.place)
    if (u.ua && !e.user_agents.includes(u.ua)) e.user_agents.push(u.ua)
    e.times.push(u.ts)
  }
  e.reasons = reasons
  return e
}

/** Appends to a bounded list, keeping the first entry (the reference) and the most recent ones. */
export function pushBounded<T>(list: T[], item: T, max: number): T[] {
  const out = [...list, item]
  if (out.length > max) out.splice(1, out.length - max)
  return out
}

/** Second factors as RFC 8176 names them, plus the names IdPs use in practice (Okta, Auth0, Entra). */
export const SECOND_FACTORS: readonly string[] = ['mfa', 'otp', 'hwk', 'swk', 'sms', 'fido', 'webauthn', 'face', 'fpt', 'totp', 'push', 'tel', 'iris', 'retina', 'vbm', 'sc', 'pop', 'ngcmfa', 'rsa']

export function hasSecondFactor(amr: readonly string[]): boolean {
  return amr.some((m) => SECOND_FACTORS.includes(m.toLowerCase()))
}

/**
 * Remembers `key` in the map at its earliest time, in place, bounded (a plain object, so state stays JSON).
 * Past the bound it forgets the most recently first-seen keys (the last added among equal times): the old ones
 * are the owner's, the reference detectors need.
 */
export function rememberFirst(map: Record<string, number>, key: string | null, ts: number, max: number): void {
  if (key === null) return
  const known = map[key]
  if (known !== undefined && known <= ts) return
  map[key] = ts
  let size = 0
  for (const k in map) size++
  while (size > max) {
    let newest: string | null = null
    for (const k in map) if (newest === null || map[k]! >= map[newest]!) newest = k
    delete map[newest!]
    size--
  }
}

/** Great-circle distance in km (haversine, mean Earth radius 6371 km). */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180
  const dLat = (lat2 - lat1) * rad
  const dLon = (lon2 - lon1) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)))
}

/** FNV-1a: a name as a 32-bit number, enough to count distinct users (of a network, of a route) in plain JSON state. */
export function hash32(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
