// Events and places for the detectors' unit tests: an honest user at home in Denver with Chrome on Windows,
// the places honest noise comes from, and where attackers replay from. Used only by *.test.ts.
import assert from 'node:assert/strict'
import type { AuthEvent, Detection } from '../schemas/model.js'
import { createDetectionEngine, type StateEntry } from './engine.js'
import type { Detector } from './types.js'

export const SEC = 1000
export const MIN = 60 * SEC
export const HOUR = 60 * MIN

export const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

export type Place = Partial<AuthEvent>

export const home: Place = {
  ip: '73.14.1.10', ip_prefix: '73.14.1.0/24', asn: 7922, asn_org: 'Comcast Cable Communications, LLC', country: 'US', city: 'Denver',
  lat: 39.74, lon: -104.99, geo_accuracy_km: 20, net_flags: [],
}
/** The same user's phone on a carrier, which geolocates to its regional gateway. */
export const carrier: Place = {
  ip: '172.58.10.4', ip_prefix: '172.58.10.0/24', asn: 21928, asn_org: 'T-Mobile USA, Inc.', country: 'US', city: 'Salt Lake City',
  lat: 40.76, lon: -111.89, geo_accuracy_km: 100, net_flags: [],
}
export const commercialVpn: Place = {
  ip: '185.159.157.9', ip_prefix: '185.159.157.0/24', asn: 209103, asn_org: 'Proton AG', country: 'CH', city: 'Zurich',
  lat: 47.37, lon: 8.54, geo_accuracy_km: 10, net_flags: ['vpn', 'hosting'],
}
export const hotelAmsterdam: Place = {
  ip: '84.241.20.7', ip_prefix: '84.241.20.0/24', asn: 33915, asn_org: 'Vodafone Libertel B.V.', country: 'NL', city: 'Amsterdam',
  lat: 52.37, lon: 4.9, geo_accuracy_km: 25, net_flags: [],
}
/** A residential proxy abroad, the infostealer operator's exit. */
export const foreignResidential: Place = {
  ip: '89.40.11.5', ip_prefix: '89.40.11.0/24', asn: 12389, asn_org: 'Rostelecom', country: 'RU', city: 'Moscow',
  lat: 55.75, lon: 37.62, geo_accuracy_km: 20, net_flags: [],
}
export const datacenter: Place = {
  ip: '167.99.1.2', ip_prefix: '167.99.1.0/24', asn: 14061, asn_org: 'DigitalOcean, LLC', country: 'NL', city: 'Amsterdam',
  lat: 52.37, lon: 4.9, geo_accuracy_km: 10, net_flags: ['hosting'],
}

export const chromeOnWindows: Partial<AuthEvent> = { user_agent: CHROME, ua_family: 'Chrome', os_family: 'Windows', device_type: 'desktop', device_id: 'd1' }
export const pythonRequests: Partial<AuthEvent> = { user_agent: 'python-requests/2.32.3', ua_family: 'python-requests', os_family: null, device_type: 'automation', device_id: null }
export const firefoxOnLinux: Partial<AuthEvent> = {
  user_agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', ua_family: 'Firefox', os_family: 'Linux', device_type: 'desktop', device_id: 'd9',
}

/** Builds events with increasing ids; a fresh builder per test keeps ids independent of test order. */
export function eventBuilder(defaults: Partial<AuthEvent> = {}) {
  let n = 0
  return function event(over: Partial<AuthEvent>): AuthEvent {
    return {
      event_id: `e${++n}`, kind: 'VALIDATE', action: 'request', ts: 0, ingest_ts: 0, source: { system: 'test', tenant: 'acme' },
      subject: 'u1', session_id: 's1', token_fp: 'tfp_1', token_kind: 'session_cookie', scopes: [], amr: ['pwd', 'otp'],
      claims_unverified: false, validator: 'edge-1', method: 'GET', route: '/api/inbox', status: 200, result: 'OK',
      ...home, ...chromeOnWindows, ...defaults, ...over,
    } as AuthEvent
  }
}

/** Runs one detector through the real engine, as the pipeline and the backtest do. */
export function runDetector(detector: Detector<unknown>, events: AuthEvent[]): Detection[] {
  const engine = createDetectionEngine([detector], { latenessMs: 10 * MIN, sweepEveryMs: MIN })
  return events.flatMap((e) => engine.process(e))
}

/**
 * Runs the history twice: straight through, and stopped after `cut` events, checkpointed through JSON (as the
 * detector.state topic does) and restored into a fresh engine. Both must give the same detections, and every
 * state must survive JSON unchanged (no Maps, Sets, undefined fields, Infinity).
 */
export function runAcrossRestart(create: () => Detector<unknown>, events: AuthEvent[], cut: number): { straight: Detection[]; restarted: Detection[] } {
  const config = { latenessMs: 10 * MIN, sweepEveryMs: MIN }
  const straight = runDetector(create(), events)
  const before = createDetectionEngine([create()], config)
  const first = events.slice(0, cut).flatMap((e) => before.process(e))
  const changes = before.takeChanges()
  for (const { state } of changes) if (state !== undefined) assert.deepStrictEqual(JSON.parse(JSON.stringify(state)), state)
  const after = createDetectionEngine([create()], config)
  after.restore(changes.map((c) => JSON.parse(JSON.stringify(c)) as StateEntry))
  return { straight, restarted: [...first, ...events.slice(cut).flatMap((e) => after.process(e))] }
}
