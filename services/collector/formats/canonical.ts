// The canonical NDJSON form of an AuthEvent (shared/DESIGN.md): field names as in the Avro schema,
// times as RFC 3339 strings (epoch milliseconds accepted too), absent fields left out. A line may carry
// a raw `token` (or an `authorization` header value) instead of `token_fp`; the collector fingerprints it.
// Checked by a field table rather than a schema library: this parser is on the hot path of every replay.
import { EVENT_KINDS, REVOKE_SCOPES, TOKEN_KINDS, VALIDATE_RESULTS, type EventKind } from '../../../schemas/model.js'
import { accept, reject, rejectBadJson, type DraftEvent, type LogFormat, type ParseResult } from './types.js'

type FieldType =
  | { t: 'text'; max: number }
  | { t: 'secret' }
  | { t: 'time' }
  | { t: 'int'; min: number; max: number }
  | { t: 'number'; min: number; max: number }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'list' }
  | { t: 'bool' }

const text = (max = 1024): FieldType => ({ t: 'text', max })
const FIELDS: Record<string, FieldType> = {
  event_id: text(256), action: text(64), subject: text(512), session_id: text(512),
  token: { t: 'secret' }, authorization: { t: 'secret' }, parent_token: { t: 'secret' },
  token_fp: text(128), token_kind: { t: 'enum', values: TOKEN_KINDS }, parent_token_fp: text(128), jti: text(256),
  client_id: text(256), scopes: { t: 'list' }, amr: { t: 'list' }, acr: text(256),
  issued_at: { t: 'time' }, expires_at: { t: 'time' }, revoke_scope: { t: 'enum', values: REVOKE_SCOPES },
  claims_unverified: { t: 'bool' }, ip: text(64), asn: { t: 'int', min: 0, max: 4_294_967_295 }, asn_org: text(256),
  country: text(64), city: text(128), lat: { t: 'number', min: -90, max: 90 }, lon: { t: 'number', min: -180, max: 180 },
  geo_accuracy_km: { t: 'number', min: 0, max: 40_000 }, net_flags: { t: 'list' }, user_agent: text(2048),
  device_id: text(256), ja4: text(128), dpop_jkt: text(128), validator: text(256), method: text(16), route: text(2048),
  status: { t: 'int', min: 100, max: 599 }, result: { t: 'enum', values: VALIDATE_RESULTS },
}
const FIELD_NAMES = Object.keys(FIELDS)
const DEFAULT_ACTION: Record<EventKind, string> = { ISSUE: 'login', REVOKE: 'logout', VALIDATE: 'request' }

/** Returns the checked value, or a string saying what is wrong with it. */
function check(type: FieldType, value: unknown): { v: unknown } | string {
  switch (type.t) {
    case 'text':
      return typeof value === 'string' && value.length > 0 && value.length <= type.max ? { v: value } : `a string of 1 to ${type.max} characters`
    case 'secret':
      return typeof value === 'string' && value.length > 0 && value.length <= 16384 ? { v: value } : 'a non-empty string'
    case 'time': {
      const ms = readTime(value)
      return ms === undefined ? 'an RFC 3339 time or epoch milliseconds' : { v: ms }
    }
    case 'int':
      return Number.isInteger(value) && (value as number) >= type.min && (value as number) <= type.max ? { v: value } : `an integer from ${type.min} to ${type.max}`
    case 'number':
      return typeof value === 'number' && value >= type.min && value <= type.max ? { v: value } : `a number from ${type.min} to ${type.max}`
    case 'enum':
      return typeof value === 'string' && type.values.includes(value) ? { v: value } : `one of ${type.values.join(', ')}`
    case 'list':
      if (typeof value === 'string') return { v: value.split(/[\s,]+/).filter(Boolean) }
      return Array.isArray(value) && value.length <= 64 && value.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 256) ? { v: value } : 'a list of strings'
    case 'bool':
      return typeof value === 'boolean' ? { v: value } : 'true or false'
  }
}

function readTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value < 8.64e15 ? value : undefined
  if (typeof value !== 'string' || value.length < 10 || value.length > 40) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

export function createCanonicalFormat(): LogFormat {
  return {
    name: 'canonical',
    description: 'sessionwatch canonical NDJSON (one AuthEvent per line)',
    parse: function parseCanonical(line: string): ParseResult {
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (error) {
        return rejectBadJson(error)
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return reject('NOT_AN_OBJECT', 'a line must be one JSON object')
      const record = value as Record<string, unknown>
      if (record.kind === undefined) return reject('MISSING_FIELD', 'kind: required')
      if (typeof record.kind !== 'string' || !(EVENT_KINDS as readonly string[]).includes(record.kind)) return reject('BAD_FIELD', `kind: must be one of ${EVENT_KINDS.join(', ')}`)
      if (record.ts === undefined) return reject('MISSING_FIELD', 'ts: required')
      const ts = readTime(record.ts)
      if (ts === undefined) return reject('BAD_FIELD', 'ts: must be an RFC 3339 time or epoch milliseconds')
      const source = readSource(record.source)
      if (typeof source === 'string') return reject('BAD_FIELD', `source: ${source}`)
      const kind = record.kind as EventKind
      const draft: DraftEvent = { kind, action: DEFAULT_ACTION[kind], ts, source, scopes: [], amr: [] }
      const out = draft as unknown as Record<string, unknown>
      for (const name of FIELD_NAMES) {
        const raw = record[name]
        if (raw === undefined || raw === null) continue
        const checked = check(FIELDS[name]!, raw)
        if (typeof checked === 'string') return reject('BAD_FIELD', `${name}: must be ${checked}`)
        out[name] = checked.v
      }
      if (out.authorization !== undefined) {
        draft.token ??= bearer(out.authorization as string)
        delete out.authorization
      }
      if (!draft.subject && !draft.session_id && !draft.token_fp && !draft.token && !draft.jti) {
        return reject('MISSING_FIELD', 'one of subject, session_id, token, token_fp or jti is required')
      }
      return accept(draft)
    },
  }
}

function readSource(value: unknown): DraftEvent['source'] | string {
  if (value === undefined || value === null) return { system: 'canonical', format: 'canonical' }
  if (typeof value !== 'object' || Array.isArray(value)) return 'must be an object with a system name'
  const { system, tenant } = value as Record<string, unknown>
  if (typeof system !== 'string' || system.length === 0 || system.length > 64) return 'system must be a string of 1 to 64 characters'
  if (tenant !== undefined && (typeof tenant !== 'string' || tenant.length > 128)) return 'tenant must be a string of up to 128 characters'
  return { system, tenant: tenant as string | undefined, format: 'canonical' }
}

/** The credential in an Authorization header value (Bearer, DPoP or a bare token). */
export function bearer(header: string | undefined | null): string | undefined {
  if (!header) return undefined
  const m = /^\s*(?:bearer|dpop|token)\s+(\S+)\s*$/i.exec(header)
  if (m) return m[1]
  return /^\S+$/.test(header.trim()) ? header.trim() : undefined
}
