// The same token or session presented from two or more networks within a sliding event-time window.
// Networks are compared by ASN when known, else by address prefix (/24 IPv4, /48 IPv6), never by raw
// address: an honest client changes addresses inside one provider all the time.
import type { AuthEvent } from '../schemas/model.js'
import { widerPrefixOf } from './network-key.js'
import { emptyEvidence, severityFor, type Detector, type Finding, type StepResult } from './types.js'

export interface MultiNetworkConfig {
  windowMs: number
  /** Two networks used alternately within this span count as concurrent use, not a handover. */
  concurrentMs: number
  maxSightings: number
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_MULTI_NETWORK: MultiNetworkConfig = {
  windowMs: 30 * 60_000,
  concurrentMs: 2 * 60_000,
  maxSightings: 8,
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
  place: string | null
  first: number
  last: number
  event_id: string
  /** Sightings of other networks seen between this one's first and last use: interleaving. */
  interleaved: boolean
}

export interface MultiNetworkState {
  subject: string | null
  session_id: string | null
  token_fp: string | null
  incident_ts: number | null
  reported_score: number
  sightings: Sighting[]
}

export function createMultiNetworkDetector(config: MultiNetworkConfig = DEFAULT_MULTI_NETWORK): Detector<MultiNetworkState> {
  return {
    name: 'multi_network',
    slots(event) {
      if (event.kind === 'REVOKE' || !event.ip_prefix) return []
      if (event.result && event.result !== 'OK') return []
      // One incident per session (or per token when there is no session): a stolen cookie must page once,
      // not once for the cookie and again for its session.
      if (event.session_id) return ['s:' + event.session_id]
      return event.token_fp ? ['t:' + event.token_fp] : []
    },
    step: function multiNetwork(state, event, slot): StepResult<MultiNetworkState> {
      const s: MultiNetworkState = state
        ? { ...state, sightings: state.sightings.map((x) => ({ ...x })) }
        : { subject: null, session_id: null, token_fp: null, incident_ts: null, reported_score: 0, sightings: [] }
      s.subject ??= event.subject ?? null
      s.session_id ??= event.session_id ?? null
      s.token_fp ??= event.token_fp ?? null
      const net = networkOf(event)
      const ts = event.ts
      let own = s.sightings.find((x) => x.net === net)
      if (own) {
        if (s.sightings.some((x) => x !== own && x.last > own!.last && x.last <= ts)) own.interleaved = true
        own.first = Math.min(own.first, ts)
        own.last = Math.max(own.last, ts)
        own.ua ??= event.user_agent ?? null
      } else {
        own = {
          net, ip: event.ip ?? '', prefix: event.ip_prefix ?? '', asn: event.asn ?? null, ua: event.user_agent ?? null,
          client: clientOf(event), device: event.device_id ?? null, place: placeOf(event), first: ts, last: ts,
          event_id: event.event_id, interleaved: false,
        }
        s.sightings.push(own)
      }
      // Forget networks that fell out of the window, and keep the list bounded.
      s.sightings = s.sightings.filter((x) => Math.abs(ts - x.last) <= config.windowMs || x === own)
      if (s.sightings.length > config.maxSightings) s.sightings.splice(1, s.sightings.length - config.maxSightings)
      if (s.sightings.length < 2) {
        if (s.sightings.length === 1) s.incident_ts = null
        return { state: s, findings: [] }
      }
      const ordered = [...s.sightings].sort((a, b) => a.first - b.first)
      const origin = ordered[0]!
      const intruders = ordered.slice(1)
      const { score, reasons } = scoreOf(origin, intruders, config)
      if (score <= s.reported_score) return { state: s, findings: [] }
      s.incident_ts ??= origin.first
      s.reported_score = score
      const finding = toFinding(s, slot, origin, intruders, score, reasons, config)
      return { state: s, findings: [finding] }
    },
    expiry: (state) => Math.max(...state.sightings.map((x) => x.last)) + config.windowMs,
  }
}

function networkOf(event: AuthEvent): string {
  if (event.asn != null) return 'AS' + event.asn
  return widerPrefixOf(event.ip_prefix!)
}

function clientOf(event: AuthEvent): string | null {
  if (!event.ua_family && !event.os_family) return null
  return `${event.ua_family ?? '?'}/${event.os_family ?? '?'}/${event.device_type ?? '?'}`
}

function placeOf(event: AuthEvent): string | null {
  return event.country ? [event.city, event.country].filter(Boolean).join(', ') : null
}

function scoreOf(origin: Sighting, intruders: Sighting[], config: MultiNetworkConfig): { score: number; reasons: string[] } {
  const reasons = ['token or session used from more than one network']
  let score = 0.45
  const differs = (pick: (x: Sighting) => string | null) => intruders.some((x) => pick(x) && pick(origin) && pick(x) !== pick(origin))
  if (differs((x) => x.client)) { score += 0.25; reasons.push('different client (browser, OS or device type)') }
  if (differs((x) => x.device)) { score += 0.15; reasons.push('different device id') }
  if (differs((x) => x.place?.split(', ').at(-1) ?? null)) { score += 0.1; reasons.push('different country') }
  const concurrent = [origin, ...intruders].some((x) => x.interleaved) ||
    intruders.some((x) => x.first - origin.last < 0 && origin.last - x.first <= config.concurrentMs)
  if (concurrent) { score += 0.2; reasons.push('networks used alternately (concurrent use, not a handover)') }
  if (intruders.length >= 2) { score += 0.05; reasons.push('three or more networks') }
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
