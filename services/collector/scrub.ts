// Removes credentials from text that leaves the collector without being parsed (DLQ payloads, error
// logs). Errs on the side of over-scrubbing: a rejected line only has to stay recognisable.

const PATTERNS: [RegExp, string][] = [
  // "token": "...", "authorization": "...", "cookie": "...", refresh_token=..., and the like, JSON or key=value
  [/("?(?:[A-Za-z_-]*token|authorization|cookie|set-cookie|password|secret|client_secret|api[_-]?key|x-api-key)"?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|[^\s,;&}]+)/gi, '$1"[scrubbed]"'],
  // Authorization schemes wherever they appear
  [/\b(Bearer|Basic|DPoP|Token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [scrubbed]'],
  // anything shaped like a JWT
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[scrubbed-jwt]'],
]

export function scrubSecrets(text: string): string {
  let out = text
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement)
  return out
}

/** Scrubs, then keeps at most maxChars characters so a huge rejected line cannot flood the DLQ. */
export function dlqExcerpt(text: string, maxChars = 4096): string {
  const head = text.length > maxChars * 4 ? text.slice(0, maxChars * 4) : text
  const scrubbed = scrubSecrets(head)
  return scrubbed.length > maxChars ? scrubbed.slice(0, maxChars) + `…[${text.length - maxChars} more chars]` : scrubbed
}
