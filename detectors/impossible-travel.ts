// One token or session used from two places no traveller could connect in the time between the uses.
// Distances are great-circle (haversine) minus the geolocation error of both ends, so an address located
// "somewhere in the region" never makes a jump; addresses that say nothing about where the person is
// (VPN exits, relays, data centres, CGNAT and private ranges) are not used as locations at all.
import type { AuthEvent } from '../schemas/model.js'
import {
  agrees, clientsDiffer, createMachineIdentityTest, credentialKey, DEFAULT_MACHINE_SUBJECTS, differs, evidenceOf,
  createUseReader, haversineKm, isLocatable, isMobileNetwork, plainUse, roundScore, type Use } from './signals.js'
import { CHANGED_LOCATION, USE_LOCATABLE, USE_MOBILE } from './credential-book.js'
import { NO_FINDINGS, NO_SLOTS, severityFor, type CredentialContext, type Detector, type Finding, type StepResult } from './types.js'

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
  // A carrier address geolocates to the carrier's gateway, often another region of the country: continental error.
  mobileAccuracyKm: 2500,
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
  /** Latest `last` of the places kept: the expiry without a scan. Absent in states checkpointed before it. */
  last?: number
}

export function createImpossibleTravelDetector(config: ImpossibleTravelConfig = DEFAULT_IMPOSSIBLE_TRAVEL): Detector<ImpossibleTravelState> {
  const read = createUseReader()
  const isMachine = createMachineIdentityTest(config.machineSubjects)
  // The one slot an event touches, reused: the engine reads it before the next call.
  const one = ['']
  return {
    name: 'impossible_travel',
    slots(event) {
      if (event.kind === 'REVOKE' || (event.result && event.result !== 'OK')) return NO_SLOTS
      if (!isLocatable(event) || isMachine(event)) return NO_SLOTS
      const key = credentialKey(event)
      if (!key) return NO_SLOTS
      one[0] = key
      return one
    },
    step: function impossibleTravel(state, event, slot, context): StepResult<ImpossibleTravelState> {
      // Every located use so far at the first use's coordinates (the engine's credential record): nothing to keep.
      if (!state && context?.key === slot && (context.uses === 0 || ((context.firstFlags & USE_LOCATABLE) !== 0 &&
        (context.changed & CHANGED_LOCATION) === 0 && event.lat === context.firstLat && event.lon === context.firstLon))) return { state, findings: NO_FINDINGS }
      const s: ImpossibleTravelState = state ?? fromContext(context, slot) ?? { subject: null, session_id: null, token_fp: null, fixes: [], incident_ts: null, reported_score: 0, last: event.ts }
      s.subject ??= event.subject ?? null
      s.session_id ??= event.session_id ?? null
      s.token_fp ??= event.token_fp ?? null
      const ts = event.ts
      const lat = event.lat!
      const lon = event.lon!
      const acc = accuracyOf(event, config)
      const fixes = s.fixes
      // A use joins a place it is consistent with (the circles overlap); otherwise it is a new place.
      let fix: Fix | undefined
      for (let i = 0; i < fixes.length; i++) {
        const f = fixes[i]!
        if (haversineKm(f.lat, f.lon, lat, lon) - f.acc - acc <= 0) { fix = f; break }
      }
      if (fix) {
        if (ts < fix.first) { fix.first = ts; fix.use = read.useOf(event, context) }
        if (ts > fix.last) fix.last = ts
      } else {
        fix = { lat, lon, acc, first: ts, last: ts, use: read.useOf(event, context) }
        fixes.push(fix)
      }
      let kept = 0
      let sorted = true
      for (let i = 0; i < fixes.length; i++) {
        const f = fixes[i]!
        if (f !== fix && ts - f.last > config.windowMs) continue
        if (kept > 0 && fixes[kept - 1]!.first > f.first) sorted = false
        fixes[kept++] = f
      }
      fixes.length = kept
      // Stable: places first used at the same time keep their order (sorting a sorted list changes nothing).
      if (!sorted) fixes.sort((a, b) => a.first - b.first)
      if (fixes.length > config.maxPlaces) fixes.splice(1, fixes.length - config.maxPlaces)
      let last = fixes[0]!.last
      for (let i = 1; i < fixes.length; i++) if (fixes[i]!.last > last) last = fixes[i]!.last
      s.last = last

      const jump = worstJump(fix, fixes, config)
      if (!jump) return { state: s, findings: NO_FINDINGS }
      const { score, reasons, confirmed } = scoreOf(jump, config)
      if (score <= s.reported_score) return { state: s, findings: NO_FINDINGS }
      s.incident_ts ??= jump.to.first
      s.reported_score = score
      return { state: s, findings: [toFinding(s, slot, jump, score, reasons, confirmed, config)] }
    },
    expiry: (state) => (state.last ?? latestOf(state.fixes)) + config.windowMs,
  }

  /** The first place from the record, when the credential shows up somewhere else. */
  function fromContext(context: CredentialContext | undefined, slot: string): ImpossibleTravelState | null {
    if (!context || context.key !== slot || context.uses === 0 || (context.firstFlags & USE_LOCATABLE) === 0 || Number.isNaN(context.stayedUntil)) return null
    const f = context.first()!
    const given = f.accuracy_km ?? config.defaultAccuracyKm
    const acc = (f.flags & USE_MOBILE) !== 0 ? Math.max(given, config.mobileAccuracyKm) : given
    const use = plainUse(f)
    const last = context.stayedUntil
    return {
      subject: context.subject, session_id: slot.startsWith('s:') ? slot.slice(2) : null, token_fp: context.tokenFp,
      fixes: [{ lat: f.lat!, lon: f.lon!, acc, first: f.ts, last, use }], incident_ts: null, reported_score: 0, last,
    }
  }
}

function latestOf(fixes: Fix[]): number {
  let last = Number.NEGATIVE_INFINITY
  for (const f of fixes) if (f.last > last) last = f.last
  return last
}

function accuracyOf(event: AuthEvent, config: ImpossibleTravelConfig): number {
  const given = event.geo_accuracy_km ?? config.defaultAccuracyKm
  return isMobileNetwork(event) ? Math.max(given, config.mobileAccuracyKm) : given
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
