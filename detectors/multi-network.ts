// The same token or session presented from two or more networks within a sliding event-time window.
// Networks are compared by operator or ASN when known, else by address prefix (/24 IPv4, /48 IPv6), never by
// raw address: an honest client changes addresses inside one provider all the time.
//
// Honest people change networks too — a phone between Wi-Fi and its carrier, a laptop switching a VPN on,
// a dual-stack home alternating IPv4 and IPv6, a traveller — and keep their browser and device while doing
// so. A change of network alone is therefore only recorded; it takes a change of client, device or TLS stack,
// a data-centre or VPN address suddenly carrying a browser session, or two networks used alternately, to
// ask for a ticket or a page.
import type { AuthEvent } from '../schemas/model.js'
import {
  clientsDiffer, countryOf, createMachineIdentityTest, DEFAULT_MACHINE_SUBJECTS, differs, isAnonymised, isMobileNetwork,
  createUseReader, placeOf,
} from './signals.js'
import { emptyEvidence, NO_FINDINGS, NO_SLOTS, severityFor, type Detector, type Finding, type StepResult } from './types.js'

export interface MultiNetworkConfig {
  windowMs: number
  /** Two networks used alternately within this span count as concurrent use, not a handover. */
  concurrentMs: number
  maxSightings: number
  /**
   * The tenant's own egress networks ('AS64500', 'org:acme corp', or an address prefix as the collector
   * writes it, '198.51.100.0/24'). Addresses the collector flags 'corporate' count as well.
   */
  knownNetworks: readonly string[]
  machineSubjects: readonly string[]
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_MULTI_NETWORK: MultiNetworkConfig = {
  windowMs: 30 * 60_000,
  concurrentMs: 2 * 60_000,
  maxSightings: 8,
  knownNetworks: [],
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
  first: number
  last: number
  event_id: string
  /** Sightings of other networks seen between this one's first and last use: interleaving. */
  interleaved: boolean
  /** VPN, relay, proxy or Tor exit: the place is the exit's, not the person's. */
  anon: boolean
  /** A data centre that is not a VPN: no person browses from there. */
  hosting: boolean
  mobile: boolean
  /** The tenant's own egress (configured, or flagged 'corporate' by the collector). */
  known: boolean
}

export interface MultiNetworkState {
  subject: string | null
  session_id: string | null
  token_fp: string | null
  incident_ts: number | null
  reported_score: number
  sightings: Sighting[]
  /** Latest `last` of the sightings kept: the expiry without a scan. Absent in states checkpointed before it. */
  last?: number
}

export function createMultiNetworkDetector(config: MultiNetworkConfig = DEFAULT_MULTI_NETWORK): Detector<MultiNetworkState> {
  const read = createUseReader()
  const isMachine = createMachineIdentityTest(config.machineSubjects)
  const known = new Set(config.knownNetworks)
  // The one slot an event touches, reused: the engine reads it before the next call.
  const one = ['']
  return {
    name: 'multi_network',
    slots(event) {
      if (event.kind === 'REVOKE' || !event.ip_prefix) return NO_SLOTS
      if (event.result && event.result !== 'OK') return NO_SLOTS
      // Service accounts and CI runners call from many cloud addresses by design.
      if (isMachine(event)) return NO_SLOTS
      // One incident per session (or per token when there is no session): a stolen cookie must page once,
      // not once for the cookie and again for its session.
      if (event.session_id) one[0] = 's:' + event.session_id
      else if (event.token_fp) one[0] = 't:' + event.token_fp
      else return NO_SLOTS
      return one
    },
    step: function multiNetwork(state, event, slot): StepResult<MultiNetworkState> {
      const s: MultiNetworkState = state ?? { subject: null, session_id: null, token_fp: null, incident_ts: null, reported_score: 0, sightings: [], last: event.ts }
      s.subject ??= event.subject ?? null
      s.session_id ??= event.session_id ?? null
      s.token_fp ??= event.token_fp ?? null
      const net = read.networkOf(event)!
      const ts = event.ts
      const sightings = s.sightings
      let own: Sighting | undefined
      for (let i = 0; i < sightings.length; i++) if (sightings[i]!.net === net) { own = sightings[i]; break }
      if (own) {
        for (let i = 0; i < sightings.length; i++) {
          const x = sightings[i]!
          if (x !== own && x.last > own.last && x.last <= ts) { own.interleaved = true; break }
        }
        if (ts < own.first) own.first = ts
        if (ts > own.last) own.last = ts
        own.ua ??= event.user_agent ?? null
        own.ja4 ??= event.ja4 ?? null
      } else {
        const anon = isAnonymised(event)
        own = {
          net, ip: event.ip ?? '', prefix: event.ip_prefix ?? '', asn: event.asn ?? null, ua: event.user_agent ?? null,
          client: clientOf(event), device: event.device_id ?? null, ja4: event.ja4 ?? null, place: placeOf(event), first: ts, last: ts,
          event_id: event.event_id, interleaved: false, anon, hosting: !anon && event.net_flags.includes('hosting'),
          mobile: isMobileNetwork(event), known: isKnown(event, net, known),
        }
        sightings.push(own)
      }
      // Forget networks that fell out of the window, and keep the list bounded.
      let kept = 0
      for (let i = 0; i < sightings.length; i++) {
        const x = sightings[i]!
        if (Math.abs(ts - x.last) <= config.windowMs || x === own) sightings[kept++] = x
      }
      sightings.length = kept
      if (sightings.length > config.maxSightings) sightings.splice(1, sightings.length - config.maxSightings)
      let last = sightings[0]!.last
      for (let i = 1; i < sightings.length; i++) if (sightings[i]!.last > last) last = sightings[i]!.last
      s.last = last
      if (sightings.length < 2) {
        s.incident_ts = null
        return { state: s, findings: NO_FINDINGS }
      }
      const ordered = [...sightings].sort((a, b) => a.first - b.first)
      const origin = ordered[0]!
      const intruders = ordered.slice(1).filter((x) => !excused(origin, x))
      if (intruders.length === 0) return { state: s, findings: NO_FINDINGS }
      const { score, reasons } = scoreOf(origin, intruders, config)
      if (score <= s.reported_score) return { state: s, findings: NO_FINDINGS }
      s.incident_ts ??= origin.first
      s.reported_score = score
      const finding = toFinding(s, slot, origin, intruders, score, reasons, config)
      return { state: s, findings: [finding] }
    },
    expiry: (state) => (state.last ?? latestOf(state.sightings)) + config.windowMs,
  }
}

function latestOf(sightings: Sighting[]): number {
  let last = Number.NEGATIVE_INFINITY
  for (const x of sightings) if (x.last > last) last = x.last
  return last
}

function isKnown(event: AuthEvent, net: string, known: Set<string>): boolean {
  return event.net_flags.includes('corporate') || known.has(net) || (event.asn != null && known.has('AS' + event.asn)) ||
    (!!event.ip_prefix && known.has(event.ip_prefix))
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
 * Network changes that are no evidence at all: the tenant's own egress with the same client, and a dual-stack
 * client seen once by its IPv4 and once by its IPv6 prefix when no ASN says whether they are one provider.
 */
function excused(origin: Sighting, x: Sighting): boolean {
  if (!samePerson(origin, x)) return false
  if (x.known) return true
  const family = (p: string) => (p.includes(':') ? 6 : 4)
  return origin.asn === null && x.asn === null && family(origin.prefix) !== family(x.prefix)
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
  const flapping = person && (origin.mobile || intruders.some((x) => x.mobile))
  const concurrent = !flapping && ([origin, ...intruders].some((x) => x.interleaved) ||
    intruders.some((x) => x.first - origin.last < 0 && origin.last - x.first <= config.concurrentMs))
  if (concurrent) { score += 0.2; reasons.push('networks used alternately (concurrent use, not a handover)') }
  // One browser on one device cannot sit on two fixed lines of different operators at once, back and forth:
  // that is a copy of it (a residential proxy replaying a cookie with the user agent and device id copied).
  // Phones (radio flapping), anonymising exits and the tenant's own egress are kept out above and here.
  if (concurrent && person && [origin, ...intruders].every((x) => !x.mobile && !x.anon && !x.known)) {
    score += 0.2
    reasons.push('the same client alternating between fixed lines of different operators: a copy of it')
  }
  if (intruders.length >= 2) { score += 0.05; reasons.push('three or more networks') }
  if (person && !concurrent) {
    // Handover, travel, a VPN switched on: the same browser and device on a new road is recorded, not alerted.
    score = Math.min(score, 0.45)
    reasons.push('same client and device throughout: a handover or a VPN, recorded only')
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
    summary: `${slot.startsWith('t:') ? 'token' : 'session'} used from ${all.length} networks (${all.map((x) => x.net).join(', ')}) within ${Math.round(config.windowMs / 60_000)} min`,
    evidence,
    first_malicious_ts: intruders[0]!.first,
  }
}
