import { createHash, type Hash } from 'node:crypto'

/** Keyed HMAC-SHA256 of a token. The key comes from configuration; the raw token is never kept. */
export type Fingerprinter = (rawToken: string) => string

const BLOCK = 64

/**
 * HMAC-SHA256 per RFC 2104, with the keyed inner and outer hash states computed once and copied per call:
 * the same digest as crypto.createHmac, without re-deriving the key pads for every event.
 */
export function createFingerprinter(key: string): Fingerprinter {
  let keyBytes = Buffer.from(key, 'utf8')
  if (keyBytes.length > BLOCK) keyBytes = createHash('sha256').update(keyBytes).digest()
  const padded = Buffer.alloc(BLOCK)
  keyBytes.copy(padded)
  const inner: Hash = createHash('sha256').update(padded.map((b) => b ^ 0x36))
  const outer: Hash = createHash('sha256').update(padded.map((b) => b ^ 0x5c))
  return function fingerprint(rawToken) {
    const innerDigest = inner.copy().update(rawToken, 'utf8').digest()
    return 'tfp_' + outer.copy().update(innerDigest).digest('hex').slice(0, 40)
  }
}
