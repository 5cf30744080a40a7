import assert from 'node:assert/strict'
import { test } from 'node:test'
import { incidentId } from './incident.js'
import { createIncidentBook } from './incident-book.js'
import { DEFAULT_POLICY } from './policy.js'
import { sampleDetection } from './test-fixtures.js'

test('ten detections of one stolen session are one trigger and nine updates with distinct keys', () => {
  const book = createIncidentBook(DEFAULT_POLICY.incidents)
  const notices = Array.from({ length: 10 }, (_, i) => book.apply(sampleDetection({ detection_id: `det_${i}` }), 'page')!)
  assert.deepEqual(notices.map((n) => n.kind), ['trigger', ...Array(9).fill('update')])
  const id = incidentId(sampleDetection())
  assert.ok(notices.every((n) => n.incident.id === id))
  assert.equal(notices[0]!.idempotencyKey, id)
  assert.deepEqual(notices.slice(1).map((n) => n.idempotencyKey), Array.from({ length: 9 }, (_, i) => `${id}:${i + 1}`))
})

test('the same detection again is no notice, the same detection with a new score is an update', () => {
  const book = createIncidentBook(DEFAULT_POLICY.incidents)
  assert.equal(book.apply(sampleDetection(), 'page')!.kind, 'trigger')
  assert.equal(book.apply(sampleDetection(), 'page'), undefined)
  assert.equal(book.apply(sampleDetection({ score: 1 }), 'page')!.kind, 'update')
})

test('a ticket that later pages is an escalated update', () => {
  const book = createIncidentBook(DEFAULT_POLICY.incidents)
  book.apply(sampleDetection({ detection_id: 'a' }), 'ticket')
  const n = book.apply(sampleDetection({ detection_id: 'b' }), 'page')!
  assert.equal(n.kind, 'update')
  assert.equal(n.escalated, true)
  assert.equal(n.incident.action, 'page')
})

test('grouped per user, a second session within the window joins the open incident; outside it opens a new one', () => {
  const book = createIncidentBook({ ...DEFAULT_POLICY.incidents, group_by: 'user', user_window_minutes: 10 })
  const first = book.apply(sampleDetection({ detection_id: 'a', session_id: 's-1', detected_ts: 0 }), 'page')!
  const second = book.apply(sampleDetection({ detection_id: 'b', session_id: 's-2', detected_ts: 5 * 60_000 }), 'page')!
  const third = book.apply(sampleDetection({ detection_id: 'c', session_id: 's-3', detected_ts: 30 * 60_000 }), 'page')!
  assert.equal(second.incident.id, first.incident.id)
  assert.equal(second.kind, 'update')
  assert.notEqual(third.incident.id, first.incident.id)
  assert.equal(third.kind, 'trigger')
})

test('a book restored from its snapshots continues the numbering, and a rolled back batch leaves no trace', () => {
  const book = createIncidentBook(DEFAULT_POLICY.incidents)
  book.apply(sampleDetection({ detection_id: 'a' }), 'page')
  book.apply(sampleDetection({ detection_id: 'b' }), 'page')
  const snapshots = book.takeDirty().map((s) => JSON.parse(JSON.stringify(s)))
  const restarted = createIncidentBook(DEFAULT_POLICY.incidents)
  snapshots.forEach((s) => restarted.restore(s))
  assert.equal(restarted.apply(sampleDetection({ detection_id: 'b' }), 'page'), undefined, 'already sent before the restart')
  restarted.begin()
  const n = restarted.apply(sampleDetection({ detection_id: 'c' }), 'page')!
  assert.equal(n.seq, 2)
  restarted.rollback()
  assert.equal(restarted.apply(sampleDetection({ detection_id: 'c' }), 'page')!.seq, 2, 'the same key again after the rollback')
})

test('idle incidents expire', () => {
  const book = createIncidentBook({ ...DEFAULT_POLICY.incidents, ttl_days: 1 })
  const n = book.apply(sampleDetection({ detected_ts: 0 }), 'page')!
  assert.deepEqual(book.expire(2 * 86_400_000), [n.incident.id])
  assert.equal(book.incidents.size, 0)
})

test('each channel gets its own trigger first: a page-only channel sees an escalated incident as a trigger', () => {
  const book = createIncidentBook(DEFAULT_POLICY.incidents)
  const ticket = book.apply(sampleDetection({ detection_id: 'a' }), 'ticket')!
  assert.equal(book.forChannel(ticket, 'slack').kind, 'trigger')
  const page = book.apply(sampleDetection({ detection_id: 'b' }), 'page')!
  assert.equal(page.kind, 'update')
  assert.deepEqual([book.forChannel(page, 'slack').kind, book.forChannel(page, 'slack').idempotencyKey], ['update', `${page.incident.id}:1`])
  const pd = book.forChannel(page, 'pagerduty')
  assert.deepEqual([pd.kind, pd.idempotencyKey], ['trigger', page.incident.id])
  assert.equal(book.forChannel(book.apply(sampleDetection({ detection_id: 'c' }), 'page')!, 'pagerduty').kind, 'update')
})

test('an acknowledge and a resolve are each carried out once; an acknowledge after the resolve adds nothing', () => {
  const book = createIncidentBook(DEFAULT_POLICY.incidents)
  const id = book.apply(sampleDetection(), 'page')!.incident.id
  const command = (action: 'acknowledge' | 'resolve', by = 'alice') => ({ incident_id: id, action, by, reason: '', ts: 1 })
  book.takeDirty()
  assert.equal(book.markCommand(command('acknowledge')), true)
  assert.deepEqual(book.takeDirty().map((s) => s.commands?.acknowledge?.by), ['alice'], 'written to the book topic')
  assert.equal(book.markCommand(command('acknowledge', 'bob')), false)
  assert.equal(book.markCommand(command('resolve')), true)
  assert.equal(book.markCommand(command('resolve')), false)
  const fresh = createIncidentBook(DEFAULT_POLICY.incidents)
  const other = fresh.apply(sampleDetection(), 'page')!.incident.id
  assert.equal(fresh.markCommand({ ...command('resolve'), incident_id: other }), true)
  assert.equal(fresh.markCommand({ ...command('acknowledge'), incident_id: other }), false)
  assert.equal(fresh.markCommand({ ...command('resolve'), incident_id: `inc_${'f'.repeat(32)}` }), false, 'unknown incident')
})

test('a Slack thread is the first message only, survives a restore and a rolled-back batch', () => {
  const book = createIncidentBook(DEFAULT_POLICY.incidents)
  book.begin()
  const id = book.apply(sampleDetection(), 'page')!.incident.id
  book.setThread(id, 'slack', { channel: 'C1', ts: '1.000001' })
  book.setThread(id, 'slack', { channel: 'C1', ts: '1.000002' })
  assert.equal(book.incidents.get(id)!.threads!.slack!.ts, '1.000001', 'replies name the parent, never another reply')
  // The batch fails after the page went out: the incident is undone, the message in Slack is not.
  book.rollback()
  assert.equal(book.incidents.has(id), false)
  book.begin()
  assert.equal(book.apply(sampleDetection(), 'page')!.incident.threads?.slack?.ts, '1.000001')
  const restarted = createIncidentBook(DEFAULT_POLICY.incidents)
  restarted.restore(JSON.parse(JSON.stringify(book.incidents.get(id))))
  assert.equal(restarted.incidents.get(id)!.threads!.slack!.ts, '1.000001')
})
