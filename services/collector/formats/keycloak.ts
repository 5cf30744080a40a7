// Keycloak login and admin events, in three shapes:
// - JSON event representations (EventRepresentation / AdminEventRepresentation: time, type, realmId, clientId,
//   userId, sessionId, ipAddress, error, details), as written by JSON event-listener SPIs and the admin REST API;
// - lines of the built-in jboss-logging listener (org.keycloak.events.log.JBossLoggingEventListenerProvider):
//   "type=LOGIN, realmId=…, clientId=…, userId=…, ipAddress=…, auth_method=openid-connect, …", values bare,
//   'quoted when they hold a space' (before Keycloak 23) or quoted with the character of the listener's `quotes`
//   option (default ", "none" for bare), after whatever the log handler prints first (date, level, logger);
// - Quarkus JSON console logging, where that same line is the "message" and the time is "timestamp".
// Event types are org.keycloak.events.EventType; token details follow org.keycloak.events.Details.
import type { EventKind, RevokeScope, TokenKind, ValidateResult } from '../../../schemas/model.js'
import { accept, reject, type DraftEvent, type LogFormat, type ParseResult } from './types.js'
import { isObject, obj, text as plainText, isoTime, type Json } from './fields.js'

const FORMAT = 'keycloak'

/** One event in a common shape, whichever of the three inputs it came from. */
interface KeycloakEvent {
  id?: string
  ts: number
  type?: string
  operationType?: string
  realm?: string
  clientId?: string
  userId?: string
  sessionId?: string
  ipAddress?: string
  error?: string
  resourcePath?: string
  details: Json
}

interface Rule {
  kind: EventKind
  action: string
  tokenKind?: TokenKind
  scope?: RevokeScope
  result?: ValidateResult
  /** What the *_ERROR variant becomes; absent: the error variant is skipped (a failed logout revoked nothing). */
  onError?: { action: string; result: ValidateResult; tokenKind?: TokenKind }
}

const issue = (action: string, tokenKind: TokenKind, error: Rule['onError']): Rule => ({ kind: 'ISSUE', action, tokenKind, onError: error })

const RULES: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ['LOGIN', issue('login', 'session_cookie', { action: 'login', result: 'DENIED' })],
  ['CODE_TO_TOKEN', issue('token_grant', 'access', { action: 'token_grant', result: 'INVALID' })],
  ['REFRESH_TOKEN', issue('refresh', 'access', { action: 'refresh', result: 'INVALID', tokenKind: 'refresh' })],
  ['TOKEN_EXCHANGE', issue('token_exchange', 'access', { action: 'token_exchange', result: 'DENIED' })],
  ['CLIENT_LOGIN', issue('client_credentials', 'service_account', { action: 'client_credentials', result: 'DENIED' })],
  ['IMPERSONATE', issue('impersonation', 'session_cookie', undefined)],
  ['INTROSPECT_TOKEN', { kind: 'VALIDATE', action: 'introspect', result: 'OK', onError: { action: 'introspect', result: 'INVALID' } }],
  ['USER_INFO_REQUEST', { kind: 'VALIDATE', action: 'userinfo', tokenKind: 'access', result: 'OK', onError: { action: 'userinfo', result: 'INVALID' } }],
  // The token revocation endpoint (RFC 7009) and the account console's "remove access" both log REVOKE_GRANT.
  ['REVOKE_GRANT', { kind: 'REVOKE', action: 'token_revoke', scope: 'client' }],
  ['LOGOUT', { kind: 'REVOKE', action: 'logout', scope: 'session' }],
])

// Keycloak's error codes (org.keycloak.events.Errors) where the generic result of the rule says too little.
const ERROR_RESULT: ReadonlyMap<string, ValidateResult> = new Map([
  ['expired_code', 'EXPIRED'],
  ['session_expired', 'EXPIRED'],
  ['invalid_token', 'INVALID'],
  ['invalid_code', 'INVALID'],
  ['user_session_not_found', 'INVALID'],
  ['user_disabled', 'DENIED'],
  ['user_temporarily_disabled', 'DENIED'],
  ['invalid_user_credentials', 'DENIED'],
  ['invalid_client_credentials', 'DENIED'],
  ['not_allowed', 'DENIED'],
  ['access_denied', 'DENIED'],
])

// TokenManager refuses a rotated refresh token with "Maximum allowed refresh token reuse exceeded"
// (older releases: "Stale token"); newer releases copy that text into the event's `reason` detail.
const REUSE = /refresh token reuse|stale token/i

export interface KeycloakFormatOptions {
  /** The time of lines that carry no date (jboss-logging to a handler whose format prints none). */
  now?: () => number
}

export function createKeycloakFormat(options: KeycloakFormatOptions = {}): LogFormat {
  const now = options.now ?? Date.now
  return {
    name: FORMAT,
    description: 'Keycloak events: JSON representations and jboss-logging listener lines',
    parse: function parseKeycloak(line: string): ParseResult {
      const start = line.trimStart()[0]
      let event: KeycloakEvent | ParseResult
      if (start === '{' || start === '[') {
        let value: unknown
        try {
          value = JSON.parse(line)
        } catch (error) {
          return reject('BAD_JSON', `not JSON: ${(error as Error).message}`)
        }
        if (!isObject(value)) return reject('NOT_AN_OBJECT', 'a JSON line must be one event object')
        event = typeof value.message === 'string' && value.type === undefined && value.operationType === undefined
          ? fromLoggedLine(value.message, isoTime(value.timestamp) ?? now())
          : fromJson(value)
      } else {
        event = fromLoggedLine(line, undefined, now)
      }
      if ('ok' in event) return event
      return event.operationType !== undefined ? adminEvent(event) : userEvent(event)
    },
  }
}

function fromJson(v: Json): KeycloakEvent | ParseResult {
  if (v.type === undefined && v.operationType === undefined) return reject('MISSING_FIELD', 'type: required')
  if (v.type !== undefined && typeof v.type !== 'string') return reject('BAD_FIELD', 'type: not a string')
  if (v.time === undefined || v.time === null) return reject('MISSING_FIELD', 'time: required')
  const ts = epochMillis(v.time)
  if (ts === undefined) return reject('BAD_FIELD', 'time: not epoch milliseconds')
  const auth = obj(v.authDetails) // admin events name the caller here
  return {
    id: text(v.id),
    ts,
    type: text(v.type, 64),
    operationType: text(v.operationType, 64),
    realm: text(v.realmName) ?? text(v.realmId) ?? text(auth?.realmId),
    clientId: text(v.clientId) ?? text(auth?.clientId),
    userId: text(v.userId) ?? text(auth?.userId),
    sessionId: text(v.sessionId),
    ipAddress: text(v.ipAddress, 64) ?? text(auth?.ipAddress, 64),
    error: text(v.error, 128),
    resourcePath: text(v.resourcePath, 1024),
    details: obj(v.details) ?? {},
  }
}

/** A jboss-logging listener line, after the log handler's own prefix (date, level, logger, thread). */
function fromLoggedLine(line: string, ts: number | undefined, now?: () => number): KeycloakEvent | ParseResult {
  const start = keyStart(line, 'type=') ?? keyStart(line, 'operationType=')
  if (start === undefined) return reject('MISSING_FIELD', 'type: no "type=" or "operationType=" in the line')
  const fields = keyValues(line, start)
  const time = ts ?? prefixTime(line.slice(0, start)) ?? now?.()
  if (time === undefined) return reject('MISSING_FIELD', 'timestamp: required')
  const { type, operationType, realmId, realmName, clientId, userId, sessionId, ipAddress, error, resourcePath, ...details } = fields
  if (!type && !operationType) return reject('MISSING_FIELD', 'type: empty')
  return {
    ts: time,
    type: text(type, 64),
    operationType: text(operationType, 64),
    realm: text(realmName) ?? text(realmId),
    clientId: text(clientId),
    userId: text(userId),
    sessionId: text(sessionId),
    ipAddress: text(ipAddress, 64),
    error: text(error, 128),
    resourcePath: text(resourcePath, 1024),
    details,
  }
}

function userEvent(e: KeycloakEvent): ParseResult {
  if (!e.type) return reject('MISSING_FIELD', 'type: required')
  const errorType = e.type.endsWith('_ERROR')
  const rule = RULES.get(errorType ? e.type.slice(0, -'_ERROR'.length) : e.type)
  const failed = errorType || e.error !== undefined
  if (!rule) return accept()
  const d = e.details
  const base: DraftEvent = {
    event_id: e.id ? `${FORMAT}:${e.id}` : undefined,
    kind: rule.kind,
    action: rule.action,
    ts: e.ts,
    source: { system: 'keycloak', tenant: e.realm, format: FORMAT },
    subject: e.userId,
    // A user session takes the id of the authentication session that created it (code_id); a failed
    // login created no session, so its code_id names nothing to follow.
    session_id: e.sessionId ?? (failed ? undefined : text(d.code_id)),
    client_id: e.clientId,
    ip: e.ipAddress,
    scopes: scopes(d.scope),
    amr: [],
  }
  const tokenId = text(d.token_id)
  const refreshId = text(d.refresh_token_id)

  if (failed) {
    if (!rule.onError) return accept()
    const reuse = rule.action === 'refresh' && REUSE.test(`${text(d.reason, 1024) ?? ''} ${text(d.error_description, 1024) ?? ''}`)
    return accept({
      ...base,
      kind: 'VALIDATE',
      action: reuse ? 'refresh_reuse' : rule.onError.action,
      result: reuse ? 'INVALID' : ((e.error ? ERROR_RESULT.get(e.error) : undefined) ?? rule.onError.result),
      validator: 'keycloak',
      token_kind: rule.onError.tokenKind,
      ...tokenIds(rule.action === 'refresh' ? refreshId : tokenId),
    })
  }

  if (rule.kind === 'VALIDATE') {
    return accept({ ...base, result: rule.result, validator: 'keycloak', token_kind: rule.tokenKind, ...tokenIds(tokenId) })
  }
  if (rule.kind === 'REVOKE') {
    // A revocation that names its token revokes that token; otherwise the client's grant (consent) as a whole.
    const revoked = refreshId ?? tokenId
    return accept({ ...base, revoke_scope: revoked ? 'token' : rule.scope, token_kind: refreshId ? 'refresh' : undefined, ...tokenIds(revoked) })
  }

  // ISSUE: the access token (token_id) and, when one came with it, the refresh token. A refresh names the
  // token it consumed (refresh_token_id) and, when rotation is on, the one it handed out (updated_refresh_token_id).
  const events: DraftEvent[] = []
  const rotated = rule.action === 'refresh'
  const parent = rotated && refreshId ? `${FORMAT}:${refreshId}` : undefined
  events.push({ ...base, token_kind: rule.tokenKind, parent_token_fp: parent, ...tokenIds(tokenId) })
  const newRefresh = rotated ? text(d.updated_refresh_token_id) : refreshId
  if (newRefresh && (!rotated || newRefresh !== refreshId)) {
    events.push({
      ...base,
      event_id: base.event_id ? `${base.event_id}:refresh` : undefined,
      token_kind: 'refresh',
      parent_token_fp: parent,
      ...tokenIds(newRefresh),
    })
  }
  return accept(...events)
}

/**
 * Admin REST calls that end sessions: POST users/{id}/logout (all of a user's sessions) and
 * DELETE sessions/{id} (one session). Other admin events are not about sessions or tokens.
 */
function adminEvent(e: KeycloakEvent): ParseResult {
  if (e.error || !e.resourcePath) return accept()
  const path = e.resourcePath.split('/')
  const base = { ts: e.ts, source: { system: 'keycloak', tenant: e.realm, format: FORMAT }, scopes: [], amr: [] }
  const event_id = e.id ? `${FORMAT}:${e.id}` : undefined
  if (e.operationType === 'ACTION' && path.length === 3 && path[0] === 'users' && path[2] === 'logout') {
    return accept({ ...base, event_id, kind: 'REVOKE', action: 'admin_revoke', subject: text(path[1]), revoke_scope: 'user' })
  }
  if (e.operationType === 'DELETE' && path.length === 2 && path[0] === 'sessions') {
    return accept({ ...base, event_id, kind: 'REVOKE', action: 'admin_revoke', session_id: text(path[1]), revoke_scope: 'session' })
  }
  return accept()
}

function tokenIds(id: string | undefined): Pick<DraftEvent, 'jti' | 'token_fp'> {
  return id ? { jti: id, token_fp: `${FORMAT}:${id}` } : {}
}

/** Where `key` starts as a key of its own (not the tail of refresh_token_type=, resourceType=, …). */
function keyStart(line: string, key: string): number | undefined {
  for (let at = line.indexOf(key); at >= 0; at = line.indexOf(key, at + 1)) {
    const before = at === 0 ? ' ' : line[at - 1]!
    if (before === ' ' || before === '\t' || before === ')' || before === ']' || before === ':' || before === ',') return at
  }
  return undefined
}

/**
 * Reads "k=v, k2='v 2', k3=\"v3\"" from `start`. A quoted value ends at its quote followed by ", " (or the end
 * of the line), so quotes inside a value survive; an unterminated quote (a cut line) runs to the end.
 */
function keyValues(line: string, start: number): Record<string, string> {
  const fields: Record<string, string> = {}
  const s = line.trimEnd()
  let at = start
  while (at < s.length) {
    const eq = s.indexOf('=', at)
    if (eq < 0) break
    const key = s.slice(at, eq).trim()
    const quote = s[eq + 1]
    let value: string
    let next: number
    if (quote === '"' || quote === "'") {
      const close = s.indexOf(quote + ', ', eq + 2)
      const end = close >= 0 ? close : s.length - (s.endsWith(quote) && s.length - 1 > eq + 1 ? 1 : 0)
      value = s.slice(eq + 2, end)
      next = close >= 0 ? close + 3 : s.length
    } else {
      const comma = s.indexOf(', ', eq + 1)
      value = s.slice(eq + 1, comma < 0 ? s.length : comma)
      next = comma < 0 ? s.length : comma + 2
    }
    // "null" is how the listener prints an absent userId, sessionId or detail.
    if (key.length > 0 && key.length <= 64 && value !== 'null' && value.length > 0) fields[key] = value
    at = next
  }
  return fields
}

/** The date a log handler printed before the event ("2024-05-14 09:26:11,392 DEBUG [org.keycloak.events] …"). */
function prefixTime(prefix: string): number | undefined {
  const m = /(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?/.exec(prefix)
  if (!m) return undefined
  const fraction = (m[3] ?? '0').slice(0, 3).padEnd(3, '0')
  // Handlers print local server time without an offset; sessionwatch reads such times as UTC.
  const ms = Date.parse(`${m[1]}T${m[2]}.${fraction}${m[4] ?? 'Z'}`)
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined
}

function scopes(value: unknown): string[] {
  const s = text(value, 4096)
  return s ? s.split(/\s+/).filter(Boolean).slice(0, 64) : []
}

function epochMillis(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

/** Like the shared reader, and the word "null" (which this vendor writes for absent values) is absent too. */
function text(value: unknown, max = 512): string | undefined {
  const s = plainText(value, max)
  return s === 'null' ? undefined : s
}

