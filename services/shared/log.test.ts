import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { createLogger } from './log.js'

test('credentials in logged objects are redacted, channel secrets of the alert policy included', () => {
  const lines: string[] = []
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done() } })
  const log = createLogger({ level: 'info' }, sink as never)
  const secrets = { bot_token: 'xoxb-1111-2222-secret', routing_key: 'R0123456789abcdef0123456789abcde', analystToken: 'a'.repeat(40), authorization: 'Bearer eyJ.x.y' }
  log.info({ ...secrets, slack: { bot_token: secrets.bot_token }, pagerduty: { routing_key: secrets.routing_key }, kept: 'visible' }, 'policy loaded')
  const text = lines.join('')
  for (const value of Object.values(secrets)) assert.ok(!text.includes(value), `${value.slice(0, 8)}… reached the log`)
  assert.ok(text.includes('visible') && text.includes('[redacted]'))
})
