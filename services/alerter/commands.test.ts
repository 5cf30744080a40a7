import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseIncidentCommand } from './commands.js'

const id = `inc_${'a1'.repeat(16)}`

test('an incident command is JSON with an incident id, acknowledge or resolve, who, and when', () => {
  const parsed = parseIncidentCommand(Buffer.from(JSON.stringify({ incident_id: id, action: 'resolve', by: 'api:analyst@acme.example', ts: 1_700_000_000_000 })))
  assert.deepEqual(parsed, { ok: true, command: { incident_id: id, action: 'resolve', reason: '', by: 'api:analyst@acme.example', ts: 1_700_000_000_000 } })
})

test('anything else is a reason, never an exception', () => {
  const reason = (value: string | null) => {
    const parsed = parseIncidentCommand(value)
    assert.equal(parsed.ok, false)
    return parsed.ok ? '' : parsed.reason
  }
  assert.equal(reason(null), 'empty record')
  assert.equal(reason('ack'), 'not JSON')
  assert.match(reason(JSON.stringify({ incident_id: 'inc_1', action: 'resolve', by: 'a', ts: 1 })), /incident_id: an incident id/)
  assert.match(reason(JSON.stringify({ incident_id: id, action: 'snooze', by: 'a', ts: 1 })), /^action: /)
  assert.match(reason(JSON.stringify({ incident_id: id, action: 'resolve', by: '', ts: 1 })), /^by: /)
  assert.match(reason(JSON.stringify({ incident_id: id, action: 'resolve', by: 'a', ts: '2026-01-01' })), /^ts: /)
  assert.match(reason(JSON.stringify({ incident_id: id, action: 'resolve', by: 'a', ts: 1, extra: true })), /extra/)
  assert.match(reason('[]'), /\(command\)/)
})
