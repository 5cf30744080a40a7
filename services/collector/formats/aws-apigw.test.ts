import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fixturePath } from '../../../test/support/paths.js'
import { createAwsApiGatewayFormat } from './aws-apigw.js'
import type { DraftEvent, ParseResult } from './types.js'

const lines = (file: string) => readFileSync(fixturePath('formats', 'aws-apigw', file), 'utf8').split('\n').filter(Boolean)
const access = lines('access.ndjson')

function only(result: ParseResult): DraftEvent {
  assert.ok(result.ok, result.ok ? '' : `${result.code}: ${result.reason}`)
  assert.equal(result.events.length, 1)
  return result.events[0]!
}

test('a REST API line with Cognito authorizer claims in flat dotted keys carries the verified identity', () => {
  const event = only(createAwsApiGatewayFormat().parse(access[0]!))
  assert.equal(event.kind, 'VALIDATE')
  assert.equal(event.action, 'request')
  assert.equal(event.ts, 1795169702120, 'requestTimeEpoch in ms on REST APIs')
  assert.equal(event.method, 'GET')
  assert.equal(event.route, '/inbox/{messageId}', 'resourcePath is the matched template')
  assert.equal(event.status, 200)
  assert.equal(event.result, 'OK')
  assert.equal(event.ip, '203.0.113.7')
  assert.equal(event.subject, '6f1c2e3d-4b5a-4978-8a6b-5c4d3e2f1a0b')
  assert.equal(event.jti, '8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968')
  assert.equal(event.session_id, '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', 'Cognito origin_jti')
  assert.equal(event.client_id, '5ab1cd2ef3gh4ij5kl6mn7op8q')
  assert.deepEqual(event.scopes, ['openid', 'inbox/read'])
  assert.equal(event.token_kind, 'access')
  assert.equal(event.token, undefined, 'access logs carry no raw token')
  assert.equal(event.claims_unverified, false)
  assert.equal(event.expires_at, Date.parse('2026-11-20T11:05:00Z'), "Java Date.toString as Cognito's REST authorizer renders it")
  assert.equal(event.issued_at, Date.parse('2026-11-20T10:05:00Z'))
  assert.equal(event.event_id, 'aws-apigw:Vx1AbF3ZIAMFabc=', 'extendedRequestId, which a client cannot choose')
  assert.equal(event.validator, 'a1b2c3d4e5/prod')
})

test('an HTTP API line with nested JWT claims, epoch seconds and a denying authorizer is DENIED', () => {
  const event = only(createAwsApiGatewayFormat().parse(access[1]!))
  assert.equal(event.ts, 1795169760000, 'requestTimeEpoch in seconds on HTTP APIs')
  assert.equal(event.route, '/orders/{orderId}/cancel', 'routeKey without its method')
  assert.equal(event.method, 'POST')
  assert.equal(event.status, 403)
  assert.equal(event.result, 'DENIED')
  assert.equal(event.subject, 'u10042@acme.example')
  assert.equal(event.session_id, 's-9c1e')
  assert.deepEqual(event.amr, ['pwd', 'mfa'])
  assert.equal(event.expires_at, 1795172700000)
  assert.equal(event.event_id, 'aws-apigw:Kz4bQhXyoAMEc2Q=')
})

test('an API-key method gives the raw key as an api_key token, with a CLF time at a negative offset', () => {
  const event = only(createAwsApiGatewayFormat().parse(access[2]!))
  assert.equal(event.token, 'Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Df3Gh5Jk7')
  assert.equal(event.token_kind, 'api_key')
  assert.equal(event.ts, Date.parse('2026-11-20T10:17:00Z'))
  assert.equal(event.ip, '192.0.2.44')
  assert.equal(event.user_agent, 'python-requests/2.32.3')
  assert.equal(event.route, '/reports')
})

test('a request to a public route, with "-" for every authorizer value, is skipped', () => {
  assert.deepEqual(createAwsApiGatewayFormat().parse(access[3]!), { ok: true, events: [] })
})

test('an expired-token gateway response outranks its 403 status', () => {
  const line = JSON.parse(access[1]!)
  line.error.responseType = 'EXPIRED_TOKEN'
  assert.equal(only(createAwsApiGatewayFormat().parse(JSON.stringify(line))).result, 'EXPIRED')
})

test('rejects: no request time names requestTime, truncation is BAD_JSON, a time not in CLF is BAD_FIELD', () => {
  const [noTime, truncated, badTime] = lines('rejects.txt').map((l) => createAwsApiGatewayFormat().parse(l))
  assert.deepEqual(!noTime!.ok && [noTime!.code, noTime!.reason], ['MISSING_FIELD', 'requestTime: required'])
  assert.equal(!truncated!.ok && truncated!.code, 'BAD_JSON')
  assert.equal(!badTime!.ok && badTime!.code, 'BAD_FIELD')
})
