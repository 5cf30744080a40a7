// Removes credentials from text that leaves the collector without being parsed (DLQ payloads, error
// logs). Errs on the side of over-scrubbing: a rejected line only has to stay recognisable.

// A key that names a credential: "token", "refresh_token", "authorization", "cookie", "x-api-key", ...
const SECRET_KEY = /(?:token|authorization|cookie|password|secret|api[_-]?key)$/i

// key = value or "key": "value". The key must start a word (the lookbehind) and is at most 64 characters,
// so a long run of letters costs linear time, not quadratic: rejected lines are attacker-controlled.
const KEY_VALUE = /(?<![A-Za-z0-9_.-])("?)([A-Za-z0-9_.-]{1,64})("?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|[^\s,;&}]+)/g

const PATTERNS: [RegExp, string][] = [
  // Authorization schemes wherever they appear
  [/\b(Bearer|Basic|DPoP|Token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [scrubbed]'],
  // anything shaped like a JWT
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[scrubbed-jwt]'],
]

export function scrubSecrets(text: string): string {
  let out = text.replace(KEY_VALUE, (match, q1: string, key: string, sep: string) => (SECRET_KEY.test(key) ? `${q1}${key}${sep}"[scrubbed]"` : match))
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement)
  return out
}

/** Scrubs, then keeps at most maxChars characters so a huge rejected line cannot flood the DLQ. */
export function dlqExcerpt(text: string, maxChars = 4096): string {
  const head = text.length > maxChars * 4 ? text.slice(0, maxChars * 4) : text
  const scrubbed = scrubSecrets(head)
  return scrubbed.length > maxChars ? scrubbed.slice(0, maxChars) + `…[${text.length - maxChars} more chars]` : scrubbed
}
