// Reads JWT claims WITHOUT verifying the signature (RFC 7519 §7.2 steps 1-8 only). Whatever comes out
// is marked claims_unverified by the caller: good enough to group events, never to trust identity.

export interface JwtClaims {
  sub?: string
  sid?: string
  jti?: string
  exp?: number
  iat?: number
  amr?: string[]
  acr?: string
  client_id?: string
  scope?: string
  cnf_jkt?: string
}

const JWT_SHAPE = /^[A-Za-z0-9_-]{2,}\.([A-Za-z0-9_-]{2,})\.[A-Za-z0-9_-]*$/

export function readJwtClaims(token: string): JwtClaims | undefined {
  const m = JWT_SHAPE.exec(token)
  if (!m) return undefined
  let payload: unknown
  try {
    payload = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof payload !== 'object' || payload === null) return undefined
  const p = payload as Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 512 ? v : undefined)
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
  const cnf = p.cnf as Record<string, unknown> | undefined
  return {
    sub: str(p.sub),
    sid: str(p.sid),
    jti: str(p.jti),
    exp: num(p.exp),
    iat: num(p.iat),
    amr: Array.isArray(p.amr) ? p.amr.filter((a): a is string => typeof a === 'string').slice(0, 16) : undefined,
    acr: str(p.acr),
    client_id: str(p.client_id) ?? str(p.azp),
    scope: str(p.scope) ?? str(p.scp),
    cnf_jkt: cnf && typeof cnf === 'object' ? str(cnf.jkt) : undefined,
  }
}
