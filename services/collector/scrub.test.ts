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

test('a long run of letters before a credential is scrubbed in one pass (no quadratic backtracking)', () => {
  const text = 'a'.repeat(200_000) + ' token=abcdefgh'
  const out = scrubSecrets(text)
  assert.ok(!out.includes('abcdefgh'))
  assert.ok(out.startsWith('a'.repeat(200_000) + ' token='))
})

test('keys that merely contain a secret word in the middle are left alone, credential keys are not', () => {
  assert.equal(scrubSecrets('{"tokenizer":"bpe"}'), '{"tokenizer":"bpe"}')
  assert.equal(scrubSecrets('{"access_token":"at1"}'), '{"access_token":"[scrubbed]"}')
  assert.equal(scrubSecrets('x-api-key: k123'), 'x-api-key: "[scrubbed]"')
})
