import { createHmac } from 'node:crypto'

/** Keyed HMAC-SHA256 of a token. The key comes from configuration; the raw token is never kept. */
export type Fingerprinter = (rawToken: string) => string

export function createFingerprinter(key: string): Fingerprinter {
  return function fingerprint(rawToken) {
    return 'tfp_' + createHmac('sha256', key).update(rawToken).digest('hex').slice(0, 40)
  }
}
