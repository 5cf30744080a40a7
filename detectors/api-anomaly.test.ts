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

const TEAM = ['/api/reports', '/api/reports/{id}', '/api/team', '/api/wiki', '/api/wiki/{id}']
const RARE = ['/api/admin/audit', '/api/admin/keys', '/api/billing', '/api/billing/{id}', '/api/sso/config']

/** Five colleagues, each a session calling the given routes, a few hours before `at`. */
function colleagues(event: ReturnType<typeof eventBuilder>, routes: string[], at: number): AuthEvent[] {
  return [1, 2, 3, 4, 5].flatMap((c) => routes.map((route, i) => event({
    ts: at - 4 * HOUR + c * MIN + i * SEC, subject: `colleague${c}`, session_id: `c${c}`, token_fp: `t-c${c}`, route,
  })))
}

const explored = (ds: { session_id?: string | null; evidence: { reasons: string[] } }[], session: string) =>
  ds.filter((d) => d.session_id === session && d.evidence.reasons.some((r) => r.includes('never called')))

test("routes many of the tenant's users call are not exploration for a user new to them; routes nobody calls are", () => {
  const event = eventBuilder()
  const at = 3 * 24 * HOUR
  const session = (routes: string[]) => routes.map((route, i) => event({ ts: at + i * 20 * SEC, session_id: 'today', token_fp: 't-today', route }))
  assert.deepEqual(explored(run([...history(event), ...colleagues(event, TEAM, at), ...session(TEAM)]), 'today'), [])
  const rare = explored(run([...history(event), ...colleagues(event, TEAM, at), ...session(RARE)]), 'today')
  assert.equal(rare.length, 1)
  assert.ok(rare[0]!.evidence.reasons[0]!.includes('/api/admin/audit'))
})

test("a user with no baseline yet is judged against the tenant's routes", () => {
  const event = eventBuilder({ subject: 'newcomer' })
  const at = 3 * 24 * HOUR
  const tenant = colleagues(event, [...TEAM, ...ROUTES], at)
  const session = (routes: string[]) => routes.map((route, i) => event({ ts: at + i * 20 * SEC, session_id: 'first', token_fp: 't-first', route }))
  assert.deepEqual(explored(run([...tenant, ...session(TEAM)]), 'first'), [], 'the team\'s routes are the application')
  assert.equal(explored(run([...tenant, ...session(RARE)]), 'first').length, 1, 'routes no colleague calls')
  assert.deepEqual(explored(run(session(RARE)), 'first'), [], 'with nothing known of the tenant, nothing is judged')
})

test("a bulk route the tenant's users call regularly is not flagged for a user who never used it", () => {
  const event = eventBuilder()
  const at = 3 * 24 * HOUR
  const exportOnce = [event({ ts: at, session_id: 'today', token_fp: 't-today', route: '/api/inbox' }), event({ ts: at + 10 * SEC, session_id: 'today', token_fp: 't-today', route: '/api/export' })]
  const bulk = (ds: { session_id?: string | null; evidence: { reasons: string[] } }[]) => ds.filter((d) => d.session_id === 'today' && d.evidence.reasons.some((r) => r.startsWith('bulk route')))
  assert.equal(bulk(run([...history(event), ...exportOnce])).length, 1)
  assert.deepEqual(bulk(run([...history(event), ...colleagues(event, ['/api/export'], at), ...exportOnce])), [])
})

test("the tenant's routes survive a checkpoint and restore", () => {
  const event = eventBuilder()
  const at = 3 * 24 * HOUR
  const events = [...history(event), ...colleagues(event, TEAM, at), ...RARE.map((route, i) => event({ ts: at + i * 20 * SEC, session_id: 'today', token_fp: 't-today', route }))]
  const { straight, restarted } = runAcrossRestart(() => createApiAnomalyDetector() as never, events, events.length - RARE.length - 3)
  assert.deepEqual(restarted, straight)
  assert.equal(explored(straight, 'today').length, 1)
})
