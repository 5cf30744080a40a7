// Shared Signals Framework / CAEP: a signed Security Event Token (RFC 8417) carrying a CAEP session-revoked
// event, pushed to receivers per RFC 8935 (POST, Content-Type application/secevent+jwt, 202 on success).
// Signed with ES256 (RFC 7518 §3.4: the raw r||s signature, not DER); the public key is served as a JWKS by
// the api at /.well-known/jwks.json, its kid the RFC 7638 thumbprint.
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto'

export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked'
export const SET_CONTENT_TYPE = 'application/secevent+jwt'

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url')

export interface PublicJwk {
  kty: string
  crv?: string
  x?: string
  y?: string
  kid: string
  alg: 'ES256'
  use: 'sig'
}

/** The public half of a P-256 signing key as a JWK with its RFC 7638 thumbprint as kid. */
export function publicJwk(pem: string): PublicJwk {
  const jwk = createPublicKey(pem).export({ format: 'jwk' }) as { kty: string; crv?: string; x?: string; y?: string }
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw new Error('the SSF signing key must be an EC P-256 key (ES256)')
  // RFC 7638 §3.2: the required members, in lexicographic order, no whitespace.
  const thumbprint = createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url')
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: thumbprint, alg: 'ES256', use: 'sig' }
}

export interface SessionRevokedInput {
  jti: string
  audience: string
  subject: string | null
  sessionId: string | null
  eventTimestampMs: number
  reason: string
}

export function createSetSigner(options: { pem: string; issuer: string; now: () => number }) {
  const key: KeyObject = createPrivateKey(options.pem)
  const { kid } = publicJwk(options.pem)
  const header = b64url(JSON.stringify({ alg: 'ES256', typ: 'secevent+jwt', kid }))
  return {
    kid,
    /** A compact JWS. sub_id is a CAEP "complex" subject: the user and, when known, the session (opaque ids). */
    sessionRevoked(input: SessionRevokedInput): string {
      const subId: Record<string, unknown> = { format: 'complex' }
      if (input.subject) subId.user = { format: 'opaque', id: input.subject }
      if (input.sessionId) subId.session = { format: 'opaque', id: input.sessionId }
      const claims = {
        iss: options.issuer,
        jti: input.jti,
        iat: Math.floor(options.now() / 1000),
        aud: input.audience,
        sub_id: subId,
        events: {
          [SESSION_REVOKED]: {
            event_timestamp: Math.floor(input.eventTimestampMs / 1000),
            initiating_entity: 'policy',
            reason_admin: { en: input.reason.slice(0, 500) },
          },
        },
      }
      const signingInput = `${header}.${b64url(JSON.stringify(claims))}`
      const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' })
      return `${signingInput}.${b64url(signature)}`
    },
  }
}
