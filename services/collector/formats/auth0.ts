// Auth0 tenant logs, as the Management API returns them (GET /api/v2/logs) and as log streams deliver them:
// a custom webhook sends {"log_id", "data": {…}} per event (JSON lines) or a JSON array of those, Amazon
// EventBridge wraps the same as {"detail": {"log_id", "data"}}, and some exporters add {"json": {…}}.
// Event codes and fields follow "Log Event Type Codes" (auth0.com/docs/deploy-monitor/logs/log-event-type-codes)
// and the per-type JSON schemas of github.com/auth0/auth0-log-schemas (schemas/log-types/*.schema.json).
import type { EventKind, RevokeScope, TokenKind, ValidateResult } from '../../../schemas/model.js'
import { accept, reject, type DraftEvent, type LogFormat, type ParseResult } from './types.js'
import { isObject, obj, text, isoTime, coordinate, type Json } from './fields.js'

const FORMAT = 'auth0'

interface Rule {
  kind: EventKind
  action: string
  tokenKind?: TokenKind
  scope?: RevokeScope
  result?: ValidateResult
  /** Which identifier in details names the token: the issued access token's jti, the refresh token, its family. */
  token?: 'access_token_jti' | 'credential_id' | 'familyId'
  amr?: string[]
}

const login: Rule = { kind: 'ISSUE', action: 'login', tokenKind: 'session_cookie' }
const failedLogin: Rule = { kind: 'VALIDATE', action: 'login', result: 'DENIED' }
const denied = (action: string, tokenKind?: TokenKind): Rule => ({ kind: 'VALIDATE', action, tokenKind, result: 'DENIED' })

const RULES: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ['s', login], // Successful login
  ['scoa', login], // Successful cross-origin authentication
  ['sens', login], // Successful native social login
  ['f', failedLogin],
  ['fp', failedLogin], // Incorrect password
  ['fu', failedLogin], // Invalid email or username
  ['fc', failedLogin], // Failed by connector
  ['fco', failedLogin], // Origin not allowed (CORS)
  ['fcoa', failedLogin], // Failed cross-origin authentication
  ['fens', failedLogin], // Failed native social login
  // Silent authentication (prompt=none) presents the Auth0 session cookie without user interaction.
  ['ssa', { kind: 'VALIDATE', action: 'silent_auth', tokenKind: 'session_cookie', result: 'OK' }],
  ['fsa', denied('silent_auth', 'session_cookie')],
  ['seacft', { kind: 'ISSUE', action: 'token_grant', tokenKind: 'access', token: 'access_token_jti' }],
  ['feacft', denied('token_grant')],
  ['sepft', { kind: 'ISSUE', action: 'token_grant', tokenKind: 'access', token: 'access_token_jti' }],
  ['fepft', denied('token_grant')],
  ['sede', { kind: 'ISSUE', action: 'token_grant', tokenKind: 'access', token: 'access_token_jti' }],
  ['fede', denied('token_grant')],
  ['seccft', { kind: 'ISSUE', action: 'client_credentials', tokenKind: 'service_account', token: 'access_token_jti' }],
  ['feccft', denied('client_credentials', 'service_account')],
  ['sertft', { kind: 'ISSUE', action: 'refresh', tokenKind: 'access', token: 'access_token_jti' }],
  ['fertft', denied('refresh', 'refresh')],
  // "Failed Exchange of Rotating Refresh Token. This could occur when reuse is detected." (ferrt schema)
  ['ferrt', { kind: 'VALIDATE', action: 'refresh_reuse', tokenKind: 'refresh', result: 'INVALID', token: 'familyId' }],
  ['srrt', { kind: 'REVOKE', action: 'token_revoke', tokenKind: 'refresh', scope: 'token', token: 'credential_id' }],
  ['slo', { kind: 'REVOKE', action: 'logout', scope: 'session' }],
  // Written when a post-login Action calls api.session.revoke().
  ['session_revoked', { kind: 'REVOKE', action: 'session_revoke', scope: 'session' }],
  ['gd_auth_succeed', { kind: 'VALIDATE', action: 'mfa', result: 'OK', amr: ['mfa'] }],
  ['gd_auth_failed', { kind: 'VALIDATE', action: 'mfa', result: 'DENIED', amr: ['mfa'] }],
])

export function createAuth0Format(): LogFormat {
  return {
    name: FORMAT,
    description: 'Auth0 tenant log events (Management API, log stream webhooks and EventBridge)',
    parse: function parseAuth0(line: string): ParseResult {
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (error) {
        return reject('BAD_JSON', `not JSON: ${(error as Error).message}`)
      }
      if (!Array.isArray(value)) {
        return isObject(value) ? parseLog(unwrap(value), '') : reject('NOT_AN_OBJECT', 'a line must be a log event object or an array of them')
      }
      const events: DraftEvent[] = []
      for (let i = 0; i < value.length; i++) {
        const item = value[i]
        if (!isObject(item)) return reject('NOT_AN_OBJECT', `[${i}]: not a log event object`)
        const result = parseLog(unwrap(item), `[${i}].`)
        if (!result.ok) return result
        for (const event of result.events) events.push(event)
      }
      return { ok: true, events }
    },
  }
}

/** Peels the envelopes exporters put around a log event; the inner log_id wins, the outer one fills in. */
function unwrap(value: Json): Json {
  let log = value
  let outerId: unknown
  for (let depth = 0; depth < 3 && typeof log.type !== 'string'; depth++) {
    const inner = isObject(log.json) ? log.json : isObject(log.detail) ? log.detail : isObject(log.data) ? log.data : undefined
    if (!inner) break
    outerId ??= log.log_id
    log = inner
  }
  return log.log_id === undefined && outerId !== undefined ? { ...log, log_id: outerId } : log
}

function parseLog(log: Json, at: string): ParseResult {
  if (log.type === undefined || log.type === null) return reject('MISSING_FIELD', `${at}type: required`)
  if (typeof log.type !== 'string') return reject('BAD_FIELD', `${at}type: not a string`)
  if (log.date === undefined || log.date === null) return reject('MISSING_FIELD', `${at}date: required`)
  const ts = isoTime(log.date)
  if (ts === undefined) return reject('BAD_FIELD', `${at}date: not an ISO 8601 time`)
  const rule = RULES.get(log.type)
  if (!rule) return accept()

  const details = obj(log.details)
  const tokenId = rule.token ? text(details?.[rule.token]) : undefined
  const logId = text(log.log_id)
  const location = obj(log.location_info)
  const userAgent = text(log.user_agent, 2048)
  return accept({
    event_id: logId ? `${FORMAT}:${logId}` : undefined,
    kind: rule.kind,
    action: rule.action,
    ts,
    source: { system: 'auth0', tenant: text(log.tenant_name, 128), format: FORMAT },
    subject: text(log.user_id),
    session_id: text(details?.session_id) ?? text(obj(details?.refresh_token)?.session_id) ?? text(log.session_connection),
    client_id: text(log.client_id, 256),
    token_kind: rule.tokenKind,
    jti: tokenId,
    token_fp: tokenId ? `${FORMAT}:${tokenId}` : undefined,
    scopes: scopes(log.scope),
    amr: rule.amr ?? [],
    revoke_scope: rule.scope,
    result: rule.result,
    validator: rule.kind === 'VALIDATE' ? 'auth0' : undefined,
    ip: text(log.ip, 64),
    country: text(location?.country_code, 64),
    city: text(location?.city_name, 128),
    lat: coordinate(location?.latitude, 90),
    lon: coordinate(location?.longitude, 180),
    user_agent: userAgent,
    ...summarisedAgent(userAgent),
    ja4: text(obj(log.security_context)?.ja4, 128),
  })
}

/**
 * Auth0 logs a summary ("Chrome 120.0.0 / Mac OS X 10.15.7") rather than the raw User-Agent header, which a
 * user-agent parser cannot read; its two halves are already the browser and the operating system.
 */
function summarisedAgent(ua: string | undefined): Pick<DraftEvent, 'ua_family' | 'os_family'> {
  if (!ua || ua.startsWith('Mozilla/')) return {}
  const slash = ua.indexOf(' / ')
  if (slash <= 0) return {}
  return { ua_family: withoutVersion(ua.slice(0, slash)), os_family: withoutVersion(ua.slice(slash + 3)) }
}

function withoutVersion(part: string): string | undefined {
  const name = part.replace(/\s+[\d.]+$/, '').trim()
  return name.length > 0 && name.length <= 64 ? name : undefined
}

/** `scope` is an array or a space-separated string (auth0-log-schemas). */
function scopes(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string' && s.length > 0 && s.length <= 256).slice(0, 64)
  const s = text(value, 4096)
  return s ? s.split(/\s+/).filter(Boolean).slice(0, 64) : []
}

