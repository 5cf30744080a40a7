import { createHmac, timingSafeEqual } from 'node:crypto'

// Webhook signing, documented in README "Receiving alerts": the signature is HMAC-SHA256 over
// "<timestamp>.<raw body>" with the shared secret, sent as `x-sessionwatch-signature: v1=<hex>` next to
// `x-sessionwatch-timestamp: <unix seconds>`. Receivers reject stale timestamps to stop replays.

export const SIGNATURE_HEADER = 'x-sessionwatch-signature'
export const TIMESTAMP_HEADER = 'x-sessionwatch-timestamp'
export const IDEMPOTENCY_HEADER = 'idempotency-key'

export function signBody(secret: string, timestampSeconds: number, body: string): string {
  return 'v1=' + createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'missing_headers' | 'stale_timestamp' | 'bad_signature' }

export function verifySignature(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): VerifyResult {
  const signature = headers[SIGNATURE_HEADER]
  const timestamp = Number(headers[TIMESTAMP_HEADER])
  if (typeof signature !== 'string' || !Number.isFinite(timestamp)) return { ok: false, reason: 'missing_headers' }
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, reason: 'stale_timestamp' }
  const expected = Buffer.from(signBody(secret, timestamp, body))
  const given = Buffer.from(signature)
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'bad_signature' }
  return { ok: true }
}
