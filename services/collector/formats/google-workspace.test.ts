import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { EVENT_KINDS } from '../../../schemas/model.js'
import { fixturePath } from '../../../test/support/paths.js'
import { createGoogleWorkspaceFormat } from './google-workspace.js'
import { REJECT_CODES, type DraftEvent, type LogFormat, type ParseResult } from './types.js'

const google = createGoogleWorkspaceFormat()
const fixture = (name: string) => readFileSync(fixturePath('formats', 'google-workspace', name), 'utf8')
const lines = fixture('login-activities.ndjson').split('\n').filter(Boolean)

function events(result: ParseResult): DraftEvent[] {
  assert.ok(result.ok, result.ok ? '' : `rejected: ${result.code} ${result.reason}`)
  return result.events
}

function one(line: string): DraftEvent {
  const parsed = events(google.parse(line))
  assert.equal(parsed.length, 1)
  return parsed[0]!
}

function rejection(result: ParseResult): { code: string; reason: string } {
  assert.ok(!result.ok, 'expected a reject')
  return { code: result.code, reason: result.reason }
}

test('login_success is a login ISSUE identified by the activity time and unique qualifier', () => {
  const e = one(lines[0]!)
  assert.equal(e.kind, 'ISSUE')
  assert.equal(e.action, 'login')
  assert.equal(e.event_id, 'google-workspace:2026-11-20T09:58:41.317Z:-4518237464518906931')
  assert.equal(e.ts, Date.parse('2026-11-20T09:58:41.317Z'))
  assert.deepEqual(e.source, { system: 'google-workspace', tenant: 'C03az79cb', format: 'google-workspace' })
  assert.equal(e.subject, 'alice@acme.example')
  assert.equal(e.ip, '198.51.100.23')
  assert.equal(e.token_kind, 'session_cookie')
  assert.deepEqual(e.amr, ['pwd', 'otp', 'mfa'], 'login_challenge_method multiValue')
  assert.deepEqual(e.net_flags, [])
})

test('login_failure is a denied login, flagged when Google found it suspicious', () => {
  const e = one(lines[1]!)
  assert.equal(e.kind, 'VALIDATE')
  assert.equal(e.action, 'login')
  assert.equal(e.result, 'DENIED')
  assert.deepEqual(e.amr, ['pwd'])
  assert.deepEqual(e.net_flags, ['idp_suspicious'])
  assert.equal(e.ip, '185.220.101.47')
})

test('an activity holding several events yields one event each, with distinct ids', () => {
  const [challenge, suspicious] = events(google.parse(lines[2]!))
  assert.equal(challenge!.action, 'challenge')
  assert.equal(challenge!.result, 'DENIED', 'login_challenge_status "Challenge Failed"')
  assert.deepEqual(challenge!.amr, ['sms', 'mfa'])
  assert.equal(challenge!.event_id, 'google-workspace:2026-11-20T10:02:30.100Z:-903347561200983712:0')
  assert.equal(suspicious!.action, 'suspicious_login')
  assert.equal(suspicious!.result, undefined)
  assert.deepEqual(suspicious!.net_flags, ['idp_suspicious'])
  assert.equal(suspicious!.event_id, 'google-workspace:2026-11-20T10:02:30.100Z:-903347561200983712:1')
})

test('logout is a session-scoped revoke', () => {
  const e = one(lines[3]!)
  assert.equal(e.kind, 'REVOKE')
  assert.equal(e.action, 'logout')
  assert.equal(e.revoke_scope, 'session')
  assert.equal(e.subject, 'alice@acme.example')
})

test('activities of other applications are accepted and skipped', () => {
  assert.deepEqual(events(google.parse(lines[4]!)), [])
})

test('an activities.list page yields every activity in items', () => {
  assert.deepEqual(
    events(google.parse(fixture('activities-page.json'))).map((e) => [e.kind, e.action]),
    [
      ['ISSUE', 'login'],
      ['REVOKE', 'logout'],
    ],
  )
})

test('bad input is rejected with a code and a reason naming the field', () => {
  const activity = JSON.parse(lines[0]!) as Record<string, unknown>
  const id = activity.id as Record<string, unknown>
  assert.equal(rejection(google.parse('{"kind":"admin#reports#activity"')).code, 'BAD_JSON')
  assert.deepEqual(rejection(google.parse(JSON.stringify({ ...activity, id: { ...id, time: undefined } }))), { code: 'MISSING_FIELD', reason: 'id.time: required' })
  assert.deepEqual(rejection(google.parse(JSON.stringify({ ...activity, id: { ...id, time: 'now' } }))), { code: 'BAD_FIELD', reason: 'id.time: not an RFC 3339 time' })
  assert.deepEqual(rejection(google.parse(JSON.stringify({ ...activity, events: undefined }))), { code: 'MISSING_FIELD', reason: 'events: required' })
  assert.deepEqual(rejection(google.parse(JSON.stringify({ ...activity, events: [{ type: 'login' }] }))), { code: 'MISSING_FIELD', reason: 'events[0].name: required string' })
  assert.deepEqual(rejection(google.parse('{"kind":"admin#reports#activities","items":{}}')), { code: 'BAD_FIELD', reason: 'items: not an array' })
})

test('2000 damaged lines never throw and always end in events or a known reject code', () => {
  assertSurvives(google, garbage([...lines, fixture('activities-page.json')], 2000, 23))
})

// ---- garbage input (the same generator sits beside each IdP parser's tests) ----

/** Deterministic damage to valid lines: cuts, type swaps, deep nesting, huge strings, noise. */
function garbage(seeds: string[], count: number, seed: number): string[] {
  let state = seed
  const rand = (n: number) => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state % n
  }
  const odd: unknown[] = [null, 0, -1, 1.5e308, '', 'null', 'unknown', true, [], {}, [[{}]], 'x'.repeat(200_000), '\u0000\ud800', { length: 1 }, '__proto__', 'constructor']
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    const line = seeds[rand(seeds.length)]!
    switch (i % 8) {
      case 0:
        out.push(line.slice(0, rand(line.length + 1)))
        break
      case 1:
      case 2:
      case 3:
        out.push(swapJson(line, odd[rand(odd.length)], rand) ?? line.replace(/[=":,]/, '\u0000'))
        break
      case 4:
        out.push(rand(2) ? '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000) : '['.repeat(50_000 + rand(10)))
        break
      case 5:
        out.push(Array.from({ length: rand(400) }, () => String.fromCharCode(rand(0x3000))).join(''))
        break
      case 6: {
        const at = rand(line.length + 1)
        out.push(line.slice(0, at) + String.fromCharCode(rand(128)) + line.slice(at + 1))
        break
      }
      default:
        out.push(line.replace(/"[^"]{1,40}"/, JSON.stringify('y'.repeat(100_000 + rand(1000)))))
    }
  }
  return out
}

/** Replaces one value somewhere inside a JSON line; undefined when the line is not JSON. */
function swapJson(line: string, value: unknown, rand: (n: number) => number): string | undefined {
  let root: unknown
  try {
    root = JSON.parse(line)
  } catch {
    return undefined
  }
  const holders: (Record<string, unknown> | unknown[])[] = []
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()
    if (typeof node !== 'object' || node === null) continue
    holders.push(node as Record<string, unknown>)
    for (const child of Object.values(node)) stack.push(child)
  }
  const holder = holders[rand(holders.length)]
  if (!holder) return JSON.stringify(value)
  const keys = Object.keys(holder)
  if (keys.length === 0) return JSON.stringify(value)
  ;(holder as Record<string, unknown>)[keys[rand(keys.length)]!] = value
  return JSON.stringify(root)
}

function assertSurvives(format: LogFormat, lines: string[]): void {
  for (const line of lines) {
    const result = format.parse(line)
    if (result.ok) {
      for (const event of result.events) {
        assert.ok(EVENT_KINDS.includes(event.kind), `kind ${String(event.kind)} from ${line.slice(0, 120)}`)
        assert.ok(Number.isFinite(event.ts) && event.ts >= 0, `ts ${event.ts} from ${line.slice(0, 120)}`)
        assert.equal(event.source.format, format.name)
      }
    } else {
      assert.ok(REJECT_CODES.includes(result.code), `code ${result.code}`)
      assert.equal(typeof result.reason, 'string')
    }
  }
}
