import assert from 'node:assert/strict'
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto'
import { test } from 'node:test'
import { createCodecs } from '../shared/avro.js'
import { createIncidentBook } from './incident-book.js'
import { DEFAULT_POLICY, parsePolicy } from './policy.js'
import { createResponseActions, fillTemplate, revokeEvent, wantsResponse } from './response.js'
import { publicJwk, SESSION_REVOKED } from './ssf.js'
import { sampleDetection } from './test-fixtures.js'

const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string

function response(document: unknown) {
  const parsed = parsePolicy({ response: document })
  if (!parsed.ok) throw new Error(parsed.problems.join('; '))
  return parsed.policy.response
}

const notice = () => createIncidentBook(DEFAULT_POLICY.incidents).apply(sampleDetection(), 'page')!

test('templates percent-encode into URLs and JSON-escape into bodies', () => {
  const vars = { subject: 'a/../b?x=1', session_id: 's"}' }
  assert.equal(fillTemplate('https://idp/users/{subject}/sessions', vars, encodeURIComponent), 'https://idp/users/a%2F..%2Fb%3Fx%3D1/sessions')
  assert.equal(fillTemplate('{"sid":"{session_id}"}', vars, (v) => JSON.stringify(v).slice(1, -1)), '{"sid":"s\\"}"}')
})

test('the RFC 7009 request is a form POST with client authentication and the configured identifier as token', () => {
  const r = response({ mode: 'enforce', revocation: { url: 'https://idp.example/oauth2/revoke', client_id: 'sw', client_secret: 'client-secret-1234', token: 'session_id', token_type_hint: 'refresh_token' } })
  const [action] = createResponseActions(r, { now: () => 0 })
  const req = action!.request(sampleDetection(), notice())
  assert.equal(req.method, 'POST')
  assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded')
  assert.equal(req.headers.authorization, 'Basic ' + Buffer.from('sw:client-secret-1234').toString('base64'))
  assert.deepEqual(Object.fromEntries(new URLSearchParams(req.body)), { token: 's-1', token_type_hint: 'refresh_token' })
  assert.ok(action!.endpoint.secrets.includes('client-secret-1234'))
})

test('an Okta-style action clears the sessions of the user named in the URL', () => {
  const r = response({ http_actions: [{ name: 'okta-clear-sessions', method: 'DELETE', url: 'https://acme.okta.com/api/v1/users/{subject}/sessions', headers: { authorization: 'SSWS okta-token-123456' } }] })
  const req = createResponseActions(r, { now: () => 0 })[0]!.request(sampleDetection(), notice())
  assert.equal(req.method, 'DELETE')
  assert.equal(req.url, 'https://acme.okta.com/api/v1/users/u1%40acme.example/sessions')
  assert.equal(req.body, undefined)
})

test('the CAEP session-revoked SET is an ES256 JWS that verifies with the published JWK', () => {
  const r = response({ ssf: { issuer: 'https://sw.acme.example', receivers: [{ name: 'idp', url: 'https://idp.example/ssf/push', audience: 'https://idp.example' }] } })
  const [action] = createResponseActions(r, { ssfSigningKeyPem: pem, now: () => 1_700_000_100_000 })
  const req = action!.request(sampleDetection(), notice())
  assert.equal(req.headers['content-type'], 'application/secevent+jwt')
  const [h, p, s] = req.body!.split('.')
  const header = JSON.parse(Buffer.from(h!, 'base64url').toString())
  const claims = JSON.parse(Buffer.from(p!, 'base64url').toString())
  const jwk = publicJwk(pem)
  assert.deepEqual(header, { alg: 'ES256', typ: 'secevent+jwt', kid: jwk.kid })
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' })
  assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s!, 'base64url')))
  assert.equal(claims.iss, 'https://sw.acme.example')
  assert.equal(claims.aud, 'https://idp.example')
  assert.equal(claims.iat, 1_700_000_100)
  assert.deepEqual(claims.sub_id, { format: 'complex', user: { format: 'opaque', id: 'u1@acme.example' }, session: { format: 'opaque', id: 's-1' } })
  assert.equal(claims.events[SESSION_REVOKED].initiating_entity, 'policy')
  assert.equal(action!.request(sampleDetection(), notice()).body!.split('.')[1], p, 'deterministic jti: a redelivery is the same SET')
})

test('responses run for confirmed pages once per incident, and the REVOKE event encodes as an AuthEvent', () => {
  const n = notice()
  assert.equal(wantsResponse(DEFAULT_POLICY.response, sampleDetection(), n), true)
  assert.equal(wantsResponse(DEFAULT_POLICY.response, sampleDetection({ confirmed: false }), n), false)
  assert.equal(wantsResponse(DEFAULT_POLICY.response, sampleDetection(), { ...n, incident: { ...n.incident, responded: true } }), false)
  const event = revokeEvent(sampleDetection(), n.incident.id, 'rfc7009', 1_700_000_000_000)
  assert.equal(createCodecs().authEvent.check(event), undefined)
  assert.equal(event.kind, 'REVOKE')
  assert.equal(event.revoke_scope, 'session')
  assert.equal(revokeEvent(sampleDetection(), n.incident.id, 'rfc7009', 5).event_id, event.event_id)
})
