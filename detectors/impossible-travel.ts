// One token or session used from two places no traveller could connect in the time between the uses.
// Distances are great-circle (haversine) minus the geolocation error of both ends, so an address located
// "somewhere in the region" never makes a jump; addresses that say nothing about where the person is
// (VPN exits, relays, data centres, CGNAT and private ranges) are not used as locations at all.
import type { AuthEvent } from '../schemas/model.js'
import {
  agrees, clientsDiffer, createMachineIdentityTest, credentialKey, DEFAULT_MACHINE_SUBJECTS, differs, evidenceOf,
  createUseReader, isLocatable, isMobileNetwork, roundScore, type Use,
} from './signals.js'
import { severityFor, type Detector, type Finding, type StepResult } from './types.js'

export interface ImpossibleTravelConfig {
  /** Uses further apart than this are not compared (and the slot is forgotten after it). */
  windowMs: number
  /** Ground speed above which two uses cannot be one traveller: a long-haul flight is ~900 km/h. */
  maxSpeedKmh: number
  /** Jumps shorter than this (after the accuracy allowance) are never judged: ground travel, geo-database error. */
  minDistanceKm: number
  /** Accuracy assumed when the geo database gives none. */
  defaultAccuracyKm: number
  /** Accuracy assumed for mobile carriers, which locate a whole region at one gateway. */
  mobileAccuracyKm: number
  /** Distinct places kept per slot; the first (the issuance place) is always kept. */
  maxPlaces: number
  machineSubjects: readonly string[]
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_IMPOSSIBLE_TRAVEL: ImpossibleTravelConfig = {
  windowMs: 24 * 3600_000,
  maxSpeedKmh: 900,
  minDistanceKm: 300,
  defaultAccuracyKm: 50,
  mobileAccuracyKm: 500,
  maxPlaces: 6,
  machineSubjects: DEFAULT_MACHINE_SUBJECTS,
  thresholds: { page: 0.8, ticket: 0.5 },
}

/** A place the credential was used from: a circle (centre, accuracy) and the span of time it was used there. */
interface Fix {
  lat: number
  lon: number
  acc: number
  first: number
  last: number
  use: Use
}

export interface ImpossibleTravelState {
  subject: string | null
  session_id: string | null
  token_fp: string | null
  fixes: Fix[]
  incident_ts: number | null
  reported_score: number
}

export function createImpossibleTravelDetector(config: ImpossibleTravelConfig = DEFAULT_IMPOSSIBLE_TRAVEL): Detector<ImpossibleTravelState> {
  const read = createUseReader()
  const isMachine = createMachineIdentityTest(config.machineSubjects)
  return {
    name: 'impossible_travel',
    slots(event) {
      if (event.kind === 'REVOKE' || (event.result && event.result !== 'OK')) return []
      if (!isLocatable(event) || isMachine(event)) return []
      const key = credentialKey(event)
      return key ? [key] : []
    },
    step: function impossibleTravel(state, event, slot): StepResult<ImpossibleTravelState> {
      const s: ImpossibleTravelState = state
        ? { ...state, fixes: state.fixes.map((f) => ({ ...f })) }
        : { subject: null, session_id: null, token_fp: null, fixes: [], incident_ts: null, reported_score: 0 }
      s.subject ??= event.subject ?? null
      s.session_id ??= event.session_id ?? null
      s.token_fp ??= event.token_fp ?? null
      const here: Fix = { lat: event.lat!, lon: event.lon!, acc: accuracyOf(event, config), first: event.ts, last: event.ts, use: read.useOf(event) }
      // A use joins a place it is consistent with (the circles overlap); otherwise it is a new place.
      let fix = s.fixes.find((f) => gapKm(f, here) <= 0)
      if (fix) {
        if (event.ts < fix.first) { fix.first = event.ts; fix.use = here.use }
        fix.last = Math.max(fix.last, event.ts)
      } else {
        fix = here
        s.fixes.push(fix)
      }
      s.fixes = s.fixes.filter((f) => f === fix || event.ts - f.last <= config.windowMs)
      s.fixes.sort((a, b) => a.first - b.first)
      if (s.fixes.length > config.maxPlaces) s.fixes.splice(1, s.fixes.length - config.maxPlaces)

      const jump = worstJump(fix, s.fixes, config)
      if (!jump) return { state: s, findings: [] }
      const { score, reasons, confirmed } = scoreOf(jump, config)
      if (score <= s.reported_score) return { state: s, findings: [] }
      s.incident_ts ??= jump.to.first
      s.reported_score = score
      return { state: s, findings: [toFinding(s, slot, jump, score, reasons, confirmed, config)] }
    },
    expiry: (state) => Math.max(...state.fixes.map((f) => f.last)) + config.windowMs,
  }
}

function accuracyOf(event: AuthEvent, config: ImpossibleTravelConfig): number {
  const given = event.geo_accuracy_km ?? config.defaultAccuracyKm
  return isMobileNetwork(event) ? Math.max(given, config.mobileAccuracyKm) : given
}

/** Great-circle distance in km (haversine, mean Earth radius 6371 km). */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180
  const dLat = (lat2 - lat1) * rad
  const dLon = (lon2 - lon1) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)))
}

/** The distance that must have been travelled at least: centre distance minus both accuracy radii. */
function gapKm(a: Fix, b: Fix): number {
  return haversineKm(a.lat, a.lon, b.lat, b.lon) - a.acc - b.acc
}

interface Jump {
  from: Fix
  to: Fix
  km: number
  hours: number
  kmh: number
  /** Both places were in use during overlapping spans: two users at once, not one traveller. */
  overlapping: boolean
}

/** The fastest impossible jump between the place just used and any other place, or none. */
function worstJump(fix: Fix, fixes: Fix[], config: ImpossibleTravelConfig): Jump | null {
  let worst: Jump | null = null
  for (const other of fixes) {
    if (other === fix) continue
    const km = gapKm(fix, other)
    if (km < config.minDistanceKm) continue
    const [from, to] = other.first <= fix.first ? [other, fix] : [fix, other]
    // Time between the two spans of use; zero when they overlap (alternating between the places).
    const overlapping = from.last >= to.first
    const hours = overlapping ? 0 : (to.first - from.last) / 3600_000
    const kmh = hours === 0 ? Number.POSITIVE_INFINITY : km / hours
    if (kmh <= config.maxSpeedKmh) continue
    if (!worst || kmh > worst.kmh) worst = { from, to, km, hours, kmh, overlapping }
  }
  return worst
}

function scoreOf(jump: Jump, config: ImpossibleTravelConfig): { score: number; reasons: string[]; confirmed: boolean } {
  const a = jump.from.use
  const b = jump.to.use
  const speed = Number.isFinite(jump.kmh) ? `${Math.round(jump.kmh)} km/h` : 'no time at all'
  const reasons = [`${Math.round(jump.km)} km beyond geolocation error in ${speed} (limit ${config.maxSpeedKmh} km/h)`]
  let score = 0.55
  if (jump.kmh > 3 * config.maxSpeedKmh) { score += 0.1; reasons.push('faster than any flight') }
  if (jump.overlapping) { score += 0.15; reasons.push('both places in use during the same span (concurrent use)') }
  const otherClient = clientsDiffer(a.client, b.client)
  const otherDevice = differs(a.device, b.device)
  if (otherClient) { score += 0.2; reasons.push('different client (browser, OS or device type)') }
  if (otherDevice) { score += 0.15; reasons.push('different device id') }
  if (!otherClient && !otherDevice) {
    if (agrees(a.net, b.net)) {
      // One operator's egress in two cities (a secure web gateway, a carrier): the places are the operator's, not the person's.
      score = Math.min(score, 0.4)
      reasons.push('same network operator at both places (egress pool): recorded only')
    } else {
      // Geography alone, with the same browser and device, asks for a look, not a page.
      score = Math.min(score, config.thresholds.page - 0.05)
    }
  }
  score = roundScore(score)
  return { score, reasons, confirmed: score >= config.thresholds.page && (otherClient || otherDevice) }
}

function toFinding(s: ImpossibleTravelState, slot: string, jump: Jump, score: number, reasons: string[], confirmed: boolean, config: ImpossibleTravelConfig): Finding {
  const evidence = evidenceOf([jump.from.use, jump.to.use], reasons)
  return {
    detector: 'impossible_travel',
    key: slot,
    incident_ts: s.incident_ts!,
    severity: severityFor(score, config.thresholds),
    score,
    confirmed,
    subject: s.subject,
    session_id: s.session_id,
    token_fp: s.token_fp,
    summary: `${slot.startsWith('t:') ? 'token' : 'session'} used in ${jump.from.use.place ?? 'one place'} and ${jump.to.use.place ?? 'another'} ${Math.round(jump.km)} km apart, ${speed(jump)}`,
    evidence,
    first_malicious_ts: jump.to.first,
  }
}

function speed(jump: Jump): string {
  return Number.isFinite(jump.kmh) ? `at ${Math.round(jump.kmh)} km/h` : 'at the same time'
}
