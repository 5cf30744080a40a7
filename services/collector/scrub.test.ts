import assert from 'node:assert/strict'
import { test } from 'node:test'
import { dlqExcerpt, scrubSecrets } from './scrub.js'

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlLXZhbHVl'

test('token fields, Authorization values, cookies and JWTs are scrubbed from rejected text', () => {
  const text = `{"token":"sc_secretvalue1234","ts":"nope","headers":{"authorization":"Bearer abcdefghijklmnop"},"cookie":"session=zzzzzzzzzz"} refresh_token=rt_abcdef123456 ${JWT}`
  const out = scrubSecrets(text)
  for (const secret of ['sc_secretvalue1234', 'abcdefghijklmnop', 'zzzzzzzzzz', 'rt_abcdef123456', JWT]) assert.ok(!out.includes(secret), `${secret} left in ${out}`)
  assert.match(out, /"ts":"nope"/)
})

test('an unterminated token value at the cut is still scrubbed', () => {
  const out = dlqExcerpt('{"kind":"VALIDATE","token":"sc_' + 'a'.repeat(50000), 100)
  assert.ok(!out.includes('aaaaaaaaaa'))
})

test('excerpts are bounded and say how much was cut', () => {
  const out = dlqExcerpt('x'.repeat(10_000), 100)
  assert.ok(out.length < 150)
  assert.match(out, /9900 more chars/)
})
