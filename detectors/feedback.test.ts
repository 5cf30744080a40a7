import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { AuthEvent, Detection, DetectionFeedback, FeedbackScope, Verdict } from '../schemas/model.js'
import { withCorroboration } from './corroboration.js'
import { createDetectionEngine, type DetectionEngine } from './engine.js'
import { createFeedbackBook, DEFAULT_FEEDBACK, detectorsOf, feedbackEvidence, withFeedback, type FeedbackBook } from './feedback.js'
import { carrier, chromeOnWindows, datacenter, eventBuilder, firefoxOnLinux, foreignResidential, home, HOUR, MIN, type Place } from './fixtures.js'
import { createDetectors } from './index.js'

const DAY = 24 * HOUR
const T0 = Date.parse('2026-11-20T08:00:00Z')

/** The stack the detector service and the backtest run: feedback inside and outside the corroboration. */
function pipeline(book: FeedbackBook): DetectionEngine {
  const engine = createDetectionEngine(createDetectors({ windowMs: 30 * MIN }), { latenessMs: 5 * MIN, sweepEveryMs: MIN, trackChanges: false })
  return withFeedback(withCorroboration(withFeedback(engine, book)), book)
}

/**
 * One session of `subject`: a login and requests at home with Chrome, then requests from `elsewhere` with
 * `client` (the pattern an analyst will judge), starting at `start`.
 */
function session(event: ReturnType<typeof eventBuilder>, subject: string, id: string, start: number, elsewhere: Place, client: Partial<AuthEvent>): AuthEvent[] {
  const own = { subject, session_id: id, token_fp: `tfp_${id}` }
  return [
    event({ ...own, kind: 'ISSUE', action: 'login', ts: start, ...home, ...chromeOnWindows }),
    event({ ...own, ts: start + MIN, ...home, ...chromeOnWindows }),
    event({ ...own, ts: start + 5 * MIN, ...elsewhere, ...client }),
    event({ ...own, ts: start + 6 * MIN, ...elsewhere, ...client }),
    event({ ...own, ts: start + 7 * MIN, ...home, ...chromeOnWindows }),
  ]
}

/** Latest version of each detection of a run (detectors re-report an incident when its score rises). */
function run(engine: DetectionEngine, events: AuthEvent[]): Detection[] {
  const latest = new Map<string, Detection>()
  for (const e of events) for (const d of engine.process(e)) latest.set(d.detection_id, d)
  return [...latest.values()]
}

function verdict(d: Detection, events: AuthEvent[], v: Verdict, ts: number, scope: FeedbackScope = 'user'): DetectionFeedback {
  return {
    feedback_id: `fb-${d.detection_id}-${ts}`, detection_id: d.detection_id, verdict: v, scope, note: null, analyst: 'alice', ts,
    detector: d.detector, detectors: detectorsOf(d), subject: d.subject, session_id: d.session_id, token_fp: d.token_fp,
    score: d.score, severity: d.severity, evidence: feedbackEvidence(d, new Map(events.map((e) => [e.event_id, e]))),
  }
}

const paging = (ds: Detection[]) => ds.filter((d) => d.severity === 'page')
const maxScore = (ds: Detection[]) => Math.max(0, ...ds.map((d) => d.score))

describe('a benign pattern learned from false-positive verdicts', () => {
  // The analyst's case: u1 works from home and, with Firefox on a Linux box, from a data-centre jump host.
  // Every detection of that session is marked false positive (scope per test).
  function learn(scope: FeedbackScope = 'user', at = T0 + HOUR) {
    const event = eventBuilder()
    const book = createFeedbackBook()
    const first = session(event, 'u1', 's1', T0, datacenter, firefoxOnLinux)
    const found = run(pipeline(book), first)
    assert.ok(paging(found).length > 0, 'the first sighting of the pattern pages')
    for (const d of found) book.add(verdict(d, first, 'false_positive', at, scope))
    return { event, book, found }
  }

  test('the same user on the same networks with the same clients is lowered by the factor, below a ticket, unconfirmed, naming the verdict', () => {
    const { event, book, found } = learn()
    const again = run(pipeline(book), session(event, 'u1', 's2', T0 + DAY, datacenter, firefoxOnLinux))
    assert.ok(again.length > 0, 'the detectors still see it')
    assert.deepEqual(paging(again), [])
    for (const d of again) {
      assert.equal(d.severity, 'info')
      assert.equal(d.confirmed, false)
      assert.match(d.evidence.reasons.at(-1)!, /^analyst feedback: benign pattern for u1 \(false positive det_[0-9a-f]{32} by alice, 2026-11-20T09:00:00.000Z\): score [0-9.]+ × 0.4 = [0-9.]+$/)
    }
    const original = new Map(found.map((d) => [d.detector, d.score]))
    const mn = again.find((d) => d.detector === 'multi_network')!
    assert.equal(mn.score, Math.round(original.get('multi_network')! * DEFAULT_FEEDBACK.factor * 100) / 100)
    assert.equal(again.some((d) => d.detector === 'corroboration'), false, 'lowered findings no longer corroborate each other')
  })

  test('the same user from a network the pattern does not hold still pages', () => {
    const { event, book } = learn()
    const other = run(pipeline(book), session(event, 'u1', 's2', T0 + DAY, foreignResidential, firefoxOnLinux))
    assert.ok(paging(other).length > 0)
    assert.ok(other.every((d) => !d.evidence.reasons.some((r) => r.startsWith('analyst feedback'))))
  })

  test('the same user and networks with a client the pattern does not hold still pages', () => {
    const { event, book } = learn()
    const tool = { user_agent: 'python-requests/2.32.3', ua_family: 'python-requests', os_family: null, device_type: 'automation', device_id: null }
    assert.ok(paging(run(pipeline(book), session(event, 'u1', 's2', T0 + DAY, datacenter, tool))).length > 0)
  })

  test('a user-scope verdict does not lower another user on the same pattern', () => {
    const { event, book } = learn('user')
    assert.ok(paging(run(pipeline(book), session(event, 'u2', 's2', T0 + DAY, datacenter, firefoxOnLinux))).length > 0)
  })

  test('a tenant-scope verdict lowers any user whose suspicious use is on the pattern, and no one elsewhere', () => {
    const { event, book } = learn('tenant')
    const other = run(pipeline(book), session(event, 'u2', 's2', T0 + DAY, datacenter, firefoxOnLinux))
    assert.ok(other.length > 0)
    assert.deepEqual(paging(other), [])
    assert.ok(other.every((d) => d.evidence.reasons.at(-1)!.startsWith('analyst feedback: benign pattern tenant-wide')))
    assert.ok(paging(run(pipeline(book), session(event, 'u3', 's3', T0 + DAY, foreignResidential, firefoxOnLinux))).length > 0)
  })

  test('a browser upgrade on the same client is still the pattern', () => {
    const { event, book } = learn()
    const upgraded = { ...firefoxOnLinux, user_agent: firefoxOnLinux.user_agent!.replaceAll('133.0', '134.0') }
    assert.deepEqual(paging(run(pipeline(book), session(event, 'u1', 's2', T0 + DAY, datacenter, upgraded))), [])
  })

  test('a pattern expires: lowered up to its expiry, paging after it', () => {
    const given = T0 + HOUR
    const { event, book } = learn('user', given)
    const before = run(pipeline(book), session(event, 'u1', 's2', given + DEFAULT_FEEDBACK.expiryMs - HOUR, datacenter, firefoxOnLinux))
    assert.deepEqual(paging(before), [])
    const afterwards = run(pipeline(book), session(event, 'u1', 's3', given + DEFAULT_FEEDBACK.expiryMs + HOUR, datacenter, firefoxOnLinux))
    assert.ok(paging(afterwards).length > 0)
    assert.deepEqual(book.patterns(given + DEFAULT_FEEDBACK.expiryMs + 1), [])
  })

  test('a true-positive verdict on a detection within the pattern cancels it; given before the false positive it does not', () => {
    const { event, book } = learn('user', T0 + HOUR)
    const attackEvents = session(event, 'u1', 's2', T0 + DAY, datacenter, firefoxOnLinux)
    // What the stack would have paged without the book: the detection the analyst confirms.
    const attack = run(pipeline(createFeedbackBook()), attackEvents).find((d) => d.detector === 'multi_network')!
    const earlier = verdict(attack, attackEvents, 'true_positive', T0 + 30 * MIN)
    book.add(earlier)
    assert.equal(book.patterns(T0 + DAY).length > 0, true, 'a confirmation older than the verdict leaves the pattern')
    assert.deepEqual(paging(run(pipeline(book), session(event, 'u1', 's3', T0 + 2 * DAY, datacenter, firefoxOnLinux))), [])

    book.add({ ...earlier, feedback_id: 'later', ts: T0 + DAY + HOUR })
    assert.equal(book.patterns(T0 + 2 * DAY).some((p) => p.detectors.has('multi_network')), false)
    const later = run(pipeline(book), session(event, 'u1', 's4', T0 + 2 * DAY, datacenter, firefoxOnLinux))
    assert.ok(later.find((d) => d.detector === 'multi_network')!.score > 0.5)
  })

  test('a true positive on something the pattern would not have lowered leaves it standing', () => {
    const { event, book } = learn()
    const elsewhere = session(event, 'u1', 's2', T0 + DAY, foreignResidential, firefoxOnLinux)
    for (const d of run(pipeline(createFeedbackBook()), elsewhere)) book.add(verdict(d, elsewhere, 'true_positive', T0 + DAY))
    assert.deepEqual(paging(run(pipeline(book), session(event, 'u1', 's3', T0 + 2 * DAY, datacenter, firefoxOnLinux))), [])
  })

  test('the latest verdict on a detection wins, and a withdrawn verdict lowers nothing', () => {
    const { event, book, found } = learn()
    const first = session(event, 'u1', 's1', T0, datacenter, firefoxOnLinux)
    for (const d of found) book.add(verdict(d, first, 'true_positive', T0 + 2 * HOUR))
    // An older record redelivered does not take the place of the newer one.
    for (const d of found) book.add(verdict(d, first, 'false_positive', T0 + HOUR))
    assert.deepEqual(book.patterns(T0 + DAY), [])
    const fresh = createFeedbackBook()
    for (const d of found) fresh.add(verdict(d, first, 'false_positive', T0 + HOUR))
    for (const d of found) fresh.remove(d.detection_id)
    assert.equal(fresh.records, 0)
    assert.ok(paging(run(pipeline(fresh), session(event, 'u1', 's2', T0 + DAY, datacenter, firefoxOnLinux))).length > 0)
  })

  test('a false positive on a corroboration covers the detectors that agreed', () => {
    const event = eventBuilder()
    const first = session(event, 'u1', 's1', T0, carrier, firefoxOnLinux)
    const found = run(pipeline(createFeedbackBook()), first)
    const corroboration = found.find((d) => d.detector === 'corroboration')
    assert.ok(corroboration, 'the scenario corroborates')
    assert.deepEqual(detectorsOf(corroboration).sort(), ['corroboration', ...found.filter((d) => d.detector !== 'corroboration' && d.score >= 0.5).map((d) => d.detector)].sort())
    const book = createFeedbackBook()
    book.add(verdict(corroboration, first, 'false_positive', T0 + HOUR))
    const again = run(pipeline(book), session(event, 'u1', 's2', T0 + DAY, carrier, firefoxOnLinux))
    assert.deepEqual(paging(again), [])
    assert.ok(maxScore(again) < 0.5)
  })

  test('each detection is lowered once, though the book judges on both sides of the corroboration', () => {
    const { event, book, found } = learn()
    const again = run(pipeline(book), session(event, 'u1', 's2', T0 + DAY, datacenter, firefoxOnLinux))
    for (const d of again) assert.equal(d.evidence.reasons.filter((r) => r.startsWith('analyst feedback')).length, 1)
    assert.ok(found.length > 0)
  })
})
