import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AuthEvent } from '../schemas/model.js'
import { createApiAnomalyDetector, routeEntropy } from './api-anomaly.js'
import { datacenter, eventBuilder, HOUR, MIN, pythonRequests, runAcrossRestart, runDetector, SEC } from './fixtures.js'

const run = (events: AuthEvent[]) => runDetector(createApiAnomalyDetector() as never, events)
const ROUTES = ['/api/inbox', '/api/inbox/{id}', '/api/profile', '/api/calendar']

/** `count` ordinary requests of one session spread over ~20 minutes, cycling through the user's usual routes. */
function ordinary(event: ReturnType<typeof eventBuilder>, session: string, start: number, count = 40): AuthEvent[] {
  return Array.from({ length: count }, (_, i) => event({ ts: start + i * 30 * SEC, session_id: session, token_fp: 't-' + session, route: ROUTES[i % ROUTES.length]! }))
}

/** Three past sessions a day apart: the user's baseline. */
function history(event: ReturnType<typeof eventBuilder>): AuthEvent[] {
  return [0, 1, 2].flatMap((d) => ordinary(event, `past${d}`, d * 24 * HOUR))
}

test('route entropy is zero for one route and two bits for four equally used routes', () => {
  assert.equal(routeEntropy([10]), 0)
  assert.equal(routeEntropy([1, 1, 1, 1]), 2)
})

test("a session scraping at hundreds of requests a minute through new and bulk routes pages, confirmed", () => {
  const event = eventBuilder()
  const start = 3 * 24 * HOUR
  const scrape = Array.from({ length: 400 }, (_, i) => event({
    ts: start + i * 100, session_id: 'scraped', token_fp: 't-scraped', route: i % 50 === 0 ? '/api/export' : `/api/files/${i % 9}/content`, ...datacenter, ...pythonRequests,
  }))
  const ds = run([...history(event), ...scrape])
  assert.ok(ds.length >= 1)
  const last = ds.at(-1)!
  assert.equal(last.session_id, 'scraped')
  assert.equal(last.severity, 'page')
  assert.equal(last.confirmed, true)
  assert.ok(last.evidence.reasons.some((r) => r.startsWith('peak')), last.evidence.reasons.join('; '))
  assert.equal(new Set(ds.map((d) => d.detection_id)).size, 1, 'one incident, escalated')
})

test('another ordinary session raises nothing against the baseline', () => {
  const event = eventBuilder()
  assert.deepEqual(run([...history(event), ...ordinary(event, 'today', 3 * 24 * HOUR)]), [])
})

test('a first session with no baseline is judged only by absolute limits', () => {
  const event = eventBuilder()
  const busyPageLoads = Array.from({ length: 50 }, (_, i) => event({ ts: i * 500, route: `/api/widget/${i}` }))
  assert.deepEqual(run(busyPageLoads), [])
})

test('one export in a session with no baseline is recorded, not ticketed', () => {
  const event = eventBuilder()
  const ds = run([event({ ts: 0 }), event({ ts: MIN, route: '/api/export' })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'info')
})

test('service accounts running batch jobs are not judged', () => {
  const event = eventBuilder({ subject: 'svc-sync', token_kind: 'service_account' })
  assert.deepEqual(run(Array.from({ length: 500 }, (_, i) => event({ ts: i * 50, route: '/api/bulk/export' }))), [])
})

test('a reported session never joins the baseline', () => {
  const event = eventBuilder()
  const start = 3 * 24 * HOUR
  const scrape = (session: string, at: number) => Array.from({ length: 400 }, (_, i) => event({ ts: at + i * 100, session_id: session, token_fp: 't-' + session, route: `/api/files/${i % 9}/content` }))
  const ds = run([...history(event), ...scrape('first', start), ...scrape('second', start + 2 * HOUR)])
  assert.ok(ds.some((d) => d.session_id === 'second' && d.severity !== 'info'))
})

test('the same history gives the same detections across a checkpoint and restore', () => {
  const event = eventBuilder()
  const start = 3 * 24 * HOUR
  const scrape = Array.from({ length: 300 }, (_, i) => event({ ts: start + i * 100, session_id: 'scraped', token_fp: 't-scraped', route: `/api/x/${i % 20}` }))
  const all = [...history(event), ...scrape]
  const { straight, restarted } = runAcrossRestart(() => createApiAnomalyDetector() as never, all, 150)
  assert.ok(straight.length >= 1)
  assert.deepEqual(restarted, straight)
})
