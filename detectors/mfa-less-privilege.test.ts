import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AuthEvent } from '../schemas/model.js'
import { datacenter, eventBuilder, MIN, pythonRequests, runAcrossRestart, runDetector } from './fixtures.js'
import { createMfaLessPrivilegeDetector, DEFAULT_MFA_LESS_PRIVILEGE } from './mfa-less-privilege.js'

const run = (events: AuthEvent[], config = DEFAULT_MFA_LESS_PRIVILEGE) => runDetector(createMfaLessPrivilegeDetector(config) as never, events)
const login = (amr: string[]): Partial<AuthEvent> => ({ kind: 'ISSUE', action: 'login', amr, validator: null, result: null, route: null })

test('an admin route called with a password-only session tickets', () => {
  const event = eventBuilder({ amr: [] })
  const ds = run([event({ ts: 0, ...login(['pwd']) }), event({ ts: MIN, route: '/admin/users' })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'ticket')
  assert.ok(ds[0]!.evidence.reasons[0]!.includes('pwd only'))
})

test('a password-only session writing to role assignments from another network and client pages, confirmed', () => {
  const event = eventBuilder({ amr: [] })
  const ds = run([event({ ts: 0, ...login(['pwd']) }), event({ ts: MIN, route: '/api/users/{id}/roles', method: 'PUT', ...datacenter, ...pythonRequests })])
  assert.equal(ds.length, 1)
  assert.equal(ds[0]!.severity, 'page')
  assert.equal(ds[0]!.confirmed, true)
})

test('a session that logged in with a second factor uses admin routes quietly', () => {
  const event = eventBuilder({ amr: [] })
  assert.deepEqual(run([event({ ts: 0, ...login(['pwd', 'otp']) }), event({ ts: MIN, route: '/admin' }), event({ ts: 2 * MIN, route: '/api/export', method: 'POST' })]), [])
})

test('a step-up with a second factor before the privileged call is honoured', () => {
  const event = eventBuilder({ amr: [] })
  assert.deepEqual(run([event({ ts: 0, ...login(['pwd']) }), event({ ts: MIN, action: 'mfa', amr: ['mfa'], route: null }), event({ ts: 2 * MIN, route: '/admin' })]), [])
})

test('the methods on the presentation itself (the token amr claim) are judged first', () => {
  const event = eventBuilder()
  assert.deepEqual(run([event({ ts: 0, route: '/admin', amr: ['pwd', 'hwk'] })]), [])
  assert.equal(run([event({ ts: 0, route: '/admin', amr: ['pwd'] })]).length, 1)
})

test('privileged scopes count like privileged routes', () => {
  const event = eventBuilder({ amr: ['pwd'] })
  assert.equal(run([event({ ts: 0, route: '/api/inbox', scopes: ['openid', 'files.write'] })]).length, 1)
  assert.deepEqual(run([event({ ts: 0, route: '/api/inbox', scopes: ['openid', 'files.read'] })]), [])
})

test('route patterns match segment by segment, placeholders match any one segment', () => {
  const event = eventBuilder({ amr: ['pwd'] })
  assert.equal(run([event({ ts: 0, route: '/api/users/42/roles' })]).length, 1)
  assert.deepEqual(run([event({ ts: 0, route: '/api/users/42/profile' })]), [])
  assert.deepEqual(run([event({ ts: 0, route: '/administrator-guide' })]), [])
})

test('a credential whose methods are unknown, and service accounts, are not judged', () => {
  assert.deepEqual(run([eventBuilder({ amr: [] })({ ts: 0, route: '/admin' })]), [])
  assert.deepEqual(run([eventBuilder({ amr: ['pwd'], subject: 'svc-export', token_kind: 'service_account' })({ ts: 0, route: '/api/export' })]), [])
})

test('the same history gives the same detections, once per session, across a restart', () => {
  const event = eventBuilder({ amr: [] })
  const history = [event({ ts: 0, ...login(['pwd']) }), event({ ts: MIN, route: '/admin' }), event({ ts: 2 * MIN, route: '/admin/users' }), event({ ts: 3 * MIN, route: '/admin', method: 'DELETE', ...datacenter })]
  const { straight, restarted } = runAcrossRestart(() => createMfaLessPrivilegeDetector() as never, history, 2)
  assert.deepEqual(restarted, straight)
  assert.equal(new Set(straight.map((d) => d.detection_id)).size, 1)
  assert.equal(straight.at(-1)!.severity, 'page')
})
