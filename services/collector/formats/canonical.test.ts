import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createCanonicalFormat } from './canonical.js'
import { REJECT_CODES } from './types.js'

const format = createCanonicalFormat()
const DESIGN_EXAMPLE = '{"event_id":"ev-81f2","kind":"VALIDATE","action":"request","ts":"2026-11-20T10:15:02.120Z","source":{"system":"gateway"},"subject":"u10042@acme.example","session_id":"s-9c1e","token_fp":"tfp_3b9d0c","token_kind":"session_cookie","validator":"edge-2","method":"GET","route":"/api/inbox/{id}","status":200,"result":"OK","ip":"203.0.113.7","user_agent":"Mozilla/5.0","device_id":"d-5e0a"}'

test('the example line of the design document parses field for field', () => {
  const r = format.parse(DESIGN_EXAMPLE)
  assert.ok(r.ok)
  const e = r.events[0]!
  assert.equal(e.event_id, 'ev-81f2')
  assert.equal(e.kind, 'VALIDATE')
  assert.equal(e.ts, Date.parse('2026-11-20T10:15:02.120Z'))
  assert.deepEqual(e.source, { system: 'gateway', tenant: undefined, format: 'canonical' })
  assert.equal(e.token_fp, 'tfp_3b9d0c')
  assert.equal(e.route, '/api/inbox/{id}')
  assert.equal(e.status, 200)
  assert.equal(e.result, 'OK')
})

test('a raw token or an Authorization header becomes the draft token, nothing else', () => {
  const withToken = format.parse('{"kind":"ISSUE","ts":1763633702120,"subject":"u1","token":"sc_raw"}')
  assert.ok(withToken.ok)
  assert.equal(withToken.events[0]!.token, 'sc_raw')
  assert.equal(withToken.events[0]!.action, 'login')
  const withHeader = format.parse('{"kind":"VALIDATE","ts":"2026-11-20T10:15:02Z","authorization":"Bearer at_raw_value"}')
  assert.ok(withHeader.ok)
  assert.equal(withHeader.events[0]!.token, 'at_raw_value')
  assert.equal('authorization' in withHeader.events[0]!, false)
})

test('fields the contract does not know are dropped, so nothing unexpected passes through', () => {
  const r = format.parse('{"kind":"VALIDATE","ts":"2026-11-20T10:15:02Z","session_id":"s","cookie":"session=abc","password":"x"}')
  assert.ok(r.ok)
  assert.equal('cookie' in r.events[0]!, false)
  assert.equal('password' in r.events[0]!, false)
})

test('bad lines are rejected with a code and a reason naming the field', () => {
  const cases: [string, string, RegExp][] = [
    ['{"kind":', 'BAD_JSON', /not JSON/],
    ['{"kind":sc_secretcookie}', 'BAD_JSON', /^not JSON( \(error at position \d+\))?$/],
    ['[1,2]', 'NOT_AN_OBJECT', /one JSON object/],
    ['{"ts":"2026-11-20T10:15:02Z","subject":"u"}', 'MISSING_FIELD', /kind/],
    ['{"kind":"VALIDATE","subject":"u"}', 'MISSING_FIELD', /^ts/],
    ['{"kind":"VALIDATE","ts":"2026-11-20T10:15:02Z","subject":"u","source":"gw"}', 'BAD_FIELD', /source/],
    ['{"kind":"LOGIN","ts":"2026-11-20T10:15:02Z","subject":"u"}', 'BAD_FIELD', /kind/],
    ['{"kind":"VALIDATE","ts":"yesterday","subject":"u"}', 'BAD_FIELD', /ts/],
    ['{"kind":"VALIDATE","ts":"2026-11-20T10:15:02Z","subject":"u","status":"200"}', 'BAD_FIELD', /status/],
    ['{"kind":"VALIDATE","ts":"2026-11-20T10:15:02Z"}', 'MISSING_FIELD', /subject, session_id, token/],
  ]
  for (const [line, code, reason] of cases) {
    const r = format.parse(line)
    assert.equal(r.ok, false, line)
    if (!r.ok) {
      assert.equal(r.code, code, line)
      assert.match(r.reason, reason, line)
    }
  }
})

test('random and mutated input never throws and always yields a known result', () => {
  let seed = 42
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  const pieces = ['{', '}', '"kind"', ':', '"VALIDATE"', ',', '"ts"', '1e309', 'null', '[', ']', '"\\u0000"', '"x"', '-1', 'true', '{"a":{"b":{"c":[]}}}']
  for (let i = 0; i < 5000; i++) {
    const line = i % 2 === 0
      ? Array.from({ length: Math.floor(rnd() * 20) }, () => pieces[Math.floor(rnd() * pieces.length)]).join('')
      : DESIGN_EXAMPLE.slice(0, Math.floor(rnd() * DESIGN_EXAMPLE.length)) + pieces[Math.floor(rnd() * pieces.length)]
    const r = format.parse(line)
    if (!r.ok) assert.ok((REJECT_CODES as readonly string[]).includes(r.code))
  }
})
