// The canonical NDJSON form of an AuthEvent (shared/DESIGN.md): field names as in the Avro schema,
// times as RFC 3339 strings (epoch milliseconds accepted too), absent fields left out. A line may carry
// a raw `token` (or an `authorization` header value) instead of `token_fp`; the collector fingerprints it.
import { z } from 'zod'
import { EVENT_KINDS, REVOKE_SCOPES, TOKEN_KINDS, VALIDATE_RESULTS } from '../../../schemas/model.js'
import { accept, reject, type LogFormat, type ParseResult } from './types.js'

const time = z.union([
  z.number().int().nonnegative(),
  z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not an RFC 3339 time').transform((s) => Date.parse(s)),
])
const text = (max = 1024) => z.string().min(1).max(max)
const list = z.union([z.array(text(256)).max(64), z.string().transform((s) => s.split(/[\s,]+/).filter(Boolean))])

const canonicalSchema = z.object({
  event_id: text(256).optional(),
  kind: z.enum(EVENT_KINDS as [string, ...string[]]).transform((k) => k as (typeof EVENT_KINDS)[number]),
  action: text(64).optional(),
  ts: time,
  source: z.object({ system: text(64), tenant: text(128).optional() }).optional(),
  subject: text(512).optional(),
  session_id: text(512).optional(),
  token: z.string().min(1).max(16384).optional(),
  authorization: z.string().min(1).max(16384).optional(),
  token_fp: text(128).optional(),
  token_kind: z.enum(TOKEN_KINDS as [string, ...string[]]).optional(),
  parent_token: z.string().min(1).max(16384).optional(),
  parent_token_fp: text(128).optional(),
  jti: text(256).optional(),
  client_id: text(256).optional(),
  scopes: list.optional(),
  amr: list.optional(),
  acr: text(256).optional(),
  issued_at: time.optional(),
  expires_at: time.optional(),
  revoke_scope: z.enum(REVOKE_SCOPES as [string, ...string[]]).optional(),
  claims_unverified: z.boolean().optional(),
  ip: text(64).optional(),
  asn: z.number().int().nonnegative().optional(),
  asn_org: text(256).optional(),
  country: text(64).optional(),
  city: text(128).optional(),
  lat: z.number().min(-90).max(90).optional(),
  lon: z.number().min(-180).max(180).optional(),
  geo_accuracy_km: z.number().nonnegative().optional(),
  net_flags: z.array(text(32)).max(16).optional(),
  user_agent: text(2048).optional(),
  device_id: text(256).optional(),
  ja4: text(128).optional(),
  dpop_jkt: text(128).optional(),
  validator: text(256).optional(),
  method: text(16).optional(),
  route: text(2048).optional(),
  status: z.number().int().min(100).max(599).optional(),
  result: z.enum(VALIDATE_RESULTS as [string, ...string[]]).optional(),
})

const DEFAULT_ACTION = { ISSUE: 'login', REVOKE: 'logout', VALIDATE: 'request' } as const

export function createCanonicalFormat(): LogFormat {
  return {
    name: 'canonical',
    description: 'sessionwatch canonical NDJSON (one AuthEvent per line)',
    parse: function parseCanonical(line: string): ParseResult {
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (error) {
        return reject('BAD_JSON', `not JSON: ${(error as Error).message}`)
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return reject('NOT_AN_OBJECT', 'a line must be one JSON object')
      const parsed = canonicalSchema.safeParse(value)
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!
        const field = issue.path.join('.') || '(line)'
        const missing = issue.code === 'invalid_type' && (value as Record<string, unknown>)[String(issue.path[0])] === undefined
        return reject(missing ? 'MISSING_FIELD' : 'BAD_FIELD', `${field}: ${missing ? 'required' : issue.message}`)
      }
      const e = parsed.data
      const token = e.token ?? bearer(e.authorization)
      if (!e.subject && !e.session_id && !e.token_fp && !token && !e.jti) {
        return reject('MISSING_FIELD', 'one of subject, session_id, token, token_fp or jti is required')
      }
      const { authorization: _authorization, scopes, amr, token_kind, revoke_scope, result, ...rest } = e
      return accept({
        ...rest,
        token,
        action: e.action ?? DEFAULT_ACTION[e.kind],
        source: { system: e.source?.system ?? 'canonical', tenant: e.source?.tenant, format: 'canonical' },
        scopes: scopes ?? [],
        amr: amr ?? [],
        token_kind: token_kind as never,
        revoke_scope: revoke_scope as never,
        result: result as never,
      })
    },
  }
}

/** The credential in an Authorization header value (Bearer, DPoP or a bare token). */
export function bearer(header: string | undefined | null): string | undefined {
  if (!header) return undefined
  const m = /^\s*(?:bearer|dpop|token)\s+(\S+)\s*$/i.exec(header)
  if (m) return m[1]
  return /^\S+$/.test(header.trim()) ? header.trim() : undefined
}
