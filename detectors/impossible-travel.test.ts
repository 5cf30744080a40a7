import assert from 'node:assert/strict'
import { test } from 'node:test'
import { carrier, commercialVpn, datacenter, eventBuilder, foreignResidential, home, hotelAmsterdam, HOUR, MIN, pythonRequests, runAcrossRestart, runDetector } from './fixtures.js'
import { createImpossibleTravelDetector } from './impossible-travel.js'
import { haversineKm } from './signals.js'

const run = (events: Parameters<typeof runDetector>[1]) => runDetector(createImpossibleTravelDetector() as never, events)

test('haversine gives the great-circle distance (Denver to Amsterdam is about 7,800 km)', () => {
  assert.ok(Math.abs(haversineKm(39.74, -104.99, 52.37, 4.9) - 7800) < 100)
})

test('a session used from Denver and then Moscow ten minutes later with another client pages, confirmed', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0, kind: 'ISSUE', action: 'login' }), event({ ts: 5 * MIN }), event({ ts: 15 * MIN, ...foreignResidential, ...pythonRequests })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'page')
  assert.equal(ds[0]!.confirmed, true)
  assert.equal(ds[0]!.first_malicious_ts, 15 * MIN)
  assert.deepEqual(ds[0]!.evidence.places, ['Denver, US', 'Moscow, RU'])
})

test('a jump with the same browser and device asks for a ticket, not a page', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0 }), event({ ts: 20 * MIN, ...foreignResidential })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'ticket')
  assert.equal(ds[0]!.confirmed, false)
})

test('a laptop that flies to Amsterdam and keeps its cookie raises nothing', () => {
  const event = eventBuilder()
  assert.deepEqual(run([event({ ts: 0 }), event({ ts: 10 * HOUR, ...hotelAmsterdam })]), [])
})

test('a phone handed between home Wi-Fi and a carrier that locates it in another state raises nothing', () => {
  const event = eventBuilder()
  const phone = { device_type: 'mobile', os_family: 'iOS', ua_family: 'Mobile Safari' }
  assert.deepEqual(run([event({ ts: 0, ...phone }), event({ ts: MIN, ...carrier, ...phone }), event({ ts: 2 * MIN, ...phone })]), [])
})

test('VPN exits, data centres and carrier-grade NAT are not used as locations', () => {
  const event = eventBuilder()
  const cgnat = { ...foreignResidential, ip: '100.72.1.9', ip_prefix: '100.72.1.0/24', net_flags: ['cgnat'] }
  assert.deepEqual(run([event({ ts: 0 }), event({ ts: MIN, ...commercialVpn }), event({ ts: 2 * MIN, ...datacenter, ...pythonRequests }), event({ ts: 3 * MIN, ...cgnat })]), [])
})

test('one operator egressing in two cities is recorded at most, never ticketed', () => {
  const event = eventBuilder()
  const egress = (city: string, lat: number, lon: number) => ({ asn: 22616, asn_org: 'ZSCALER, INC.', ip: '165.225.1.1', ip_prefix: '165.225.1.0/24', city, lat, lon, country: 'US', net_flags: [] })
  const ds = run([event({ ts: 0, ...egress('New York', 40.71, -74.0) }), event({ ts: MIN, ...egress('Los Angeles', 34.05, -118.24) }), event({ ts: 2 * MIN, ...egress('New York', 40.71, -74.0) })])
  assert.ok(ds.every((d) => d.severity === 'info'))
})

test('service accounts calling from many regions are not judged', () => {
  const event = eventBuilder({ subject: 'svc-backup', token_kind: 'service_account' })
  assert.deepEqual(run([event({ ts: 0 }), event({ ts: MIN, ...foreignResidential, ...pythonRequests })]), [])
})

test('alternating between two continents scores above a single jump', () => {
  const event = eventBuilder()
  const single = run([event({ ts: 0 }), event({ ts: 10 * MIN, ...foreignResidential, ...pythonRequests })])
  const alternating = run([
    event({ ts: 0 }), event({ ts: 10 * MIN, ...foreignResidential, ...pythonRequests }), event({ ts: 11 * MIN }), event({ ts: 12 * MIN, ...foreignResidential, ...pythonRequests }),
  ])
  assert.ok(alternating.at(-1)!.score > single[0]!.score)
  assert.ok(alternating.at(-1)!.evidence.reasons.some((r) => r.includes('concurrent')))
})

test('a late event (older event time) is still compared with the places around it', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0 }), event({ ts: 30 * MIN }), event({ ts: 10 * MIN, ...foreignResidential, ...pythonRequests })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.first_malicious_ts, 10 * MIN)
})

test('the same history gives the same detections, also across a checkpoint and restore', () => {
  const event = eventBuilder()
  const history = [event({ ts: 0 }), event({ ts: 5 * MIN }), event({ ts: 10 * MIN, ...foreignResidential, ...pythonRequests }), event({ ts: 11 * MIN, ...home }), event({ ts: 12 * MIN, ...foreignResidential, ...pythonRequests })]
  const { straight, restarted } = runAcrossRestart(() => createImpossibleTravelDetector() as never, history, 3)
  assert.ok(straight.length >= 1)
  assert.deepEqual(restarted, straight)
  assert.deepEqual(run(history), straight)
  assert.equal(new Set(straight.map((d) => d.detection_id)).size, 1, 'one incident, updated as it escalates')
})
