// Microsoft Entra ID sign-in and audit logs, as Azure Monitor diagnostic settings export them
// ({time, tenantId, category, Level, properties: {…}} per line, or {"records": […]} blobs) and as Microsoft
// Graph returns them (signIn objects, or a {"value": […]} page of /auditLogs/signIns).
// signIn fields follow the Graph signIn resource type (learn.microsoft.com/graph/api/resources/signin) and
// the SigninLogs / AADNonInteractiveUserSignInLogs tables of the Azure Monitor reference; audit fields the
// directoryAudit resource type. Level is a string ("Informational") in some categories and a number (4) in
// others; it carries nothing sessionwatch needs and is not read.
import { isIP } from 'node:net'
import type { ValidateResult } from '../../../schemas/model.js'
import { accept, reject, type DraftEvent, type LogFormat, type ParseResult } from './types.js'
import { isObject, obj, text, coordinate, type Json } from './fields.js'

const FORMAT = 'entra'

type SignInKind = 'interactive' | 'nonInteractive' | 'servicePrincipal'

const SIGN_IN_CATEGORIES: ReadonlyMap<string, SignInKind> = new Map([
  ['SignInLogs', 'interactive'],
  ['NonInteractiveUserSignInLogs', 'nonInteractive'],
  ['ServicePrincipalSignInLogs', 'servicePrincipal'],
  ['ManagedIdentitySignInLogs', 'servicePrincipal'],
])

// signIn.signInEventTypes (beta) names the same split when the record is a bare Graph object.
const EVENT_TYPES: ReadonlyMap<string, SignInKind> = new Map([
  ['interactiveUser', 'interactive'],
  ['nonInteractiveUser', 'nonInteractive'],
  ['servicePrincipal', 'servicePrincipal'],
  ['managedIdentity', 'servicePrincipal'],
])

// Audit activities that invalidate every refresh token and session cookie of a user (Graph
// user: revokeSignInSessions and invalidateAllRefreshTokens; the admin center's "Revoke sessions").
const REVOKE_ACTIVITIES: ReadonlySet<string> = new Set(['invalidate all refresh tokens for user', 'revoke user sessions'])

// Sign-in error codes (AADSTS…) that say why a presented token or session was refused.
const ERROR_RESULT: ReadonlyMap<number, ValidateResult> = new Map([
  [70008, 'EXPIRED'], // the refresh token or code expired through inactivity
  [700082, 'EXPIRED'], // the refresh token expired through inactivity
  [50133, 'REVOKED'], // session invalid: expired or a recent password change
  [50173, 'REVOKED'], // the grant was revoked (password change, admin revoke)
])

// Sign-in interrupts: not a refusal, the flow continues interactively and logs its own outcome.
const INTERRUPTS: ReadonlySet<number> = new Set([
  50058, // silent sign-in found no session
  50074, // strong authentication required
  50076, // MFA required by policy
  50140, // "keep me signed in" prompt
])

export function createEntraFormat(): LogFormat {
  return {
    name: FORMAT,
    description: 'Microsoft Entra ID sign-in and audit logs (Azure Monitor export or Microsoft Graph)',
    parse: function parseEntra(line: string): ParseResult {
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (error) {
        return reject('BAD_JSON', `not JSON: ${(error as Error).message}`)
      }
      if (!isObject(value)) return reject('NOT_AN_OBJECT', 'a line must be one record or a {"records"|"value": […]} batch')
      const batch = Array.isArray(value.records) ? value.records : Array.isArray(value.value) ? value.value : undefined
      if (!batch) return parseRecord(value, '')
      const events: DraftEvent[] = []
      for (let i = 0; i < batch.length; i++) {
        const item = batch[i]
        if (!isObject(item)) return reject('NOT_AN_OBJECT', `[${i}]: not a record object`)
        const result = parseRecord(item, `[${i}].`)
        if (!result.ok) return result
        for (const event of result.events) events.push(event)
      }
      return { ok: true, events }
    },
  }
}

function parseRecord(r: Json, at: string): ParseResult {
  // An Azure Monitor record wraps the Graph object in `properties`; a Graph record is that object itself.
  const exported = r.properties !== undefined || r.category !== undefined
  if (exported) {
    if (r.category === undefined || r.category === null) return reject('MISSING_FIELD', `${at}category: required`)
    if (typeof r.category !== 'string') return reject('BAD_FIELD', `${at}category: not a string`)
    if (!isObject(r.properties)) return reject(r.properties === undefined ? 'MISSING_FIELD' : 'BAD_FIELD', `${at}properties: required object`)
  }
  if (!exported && r.createdDateTime === undefined && r.activityDisplayName === undefined) {
    return reject('MISSING_FIELD', `${at}category: required (or a Graph signIn with createdDateTime)`)
  }
  const p = exported ? (r.properties as Json) : r
  const category = exported ? (r.category as string) : undefined
  const tenant = text(r.tenantId, 128) ?? text(p.resourceTenantId, 128) ?? text(p.homeTenantId, 128)

  if (category === 'AuditLogs' || (!exported && p.activityDisplayName !== undefined)) {
    const ts = timeOf(p.activityDateTime ?? r.time)
    if (ts === undefined) return reject(p.activityDateTime ?? r.time ? 'BAD_FIELD' : 'MISSING_FIELD', `${at}activityDateTime: required ISO 8601 time`)
    return auditEvent(p, ts, tenant)
  }
  const kind = category !== undefined ? SIGN_IN_CATEGORIES.get(category) : signInKind(p)
  if (!kind) return accept()
  const time = p.createdDateTime ?? r.time
  if (time === undefined || time === null) return reject('MISSING_FIELD', `${at}createdDateTime: required`)
  const ts = timeOf(time)
  if (ts === undefined) return reject('BAD_FIELD', `${at}createdDateTime: not an ISO 8601 time`)
  return signInEvent(p, kind, ts, tenant, at)
}

function signInKind(p: Json): SignInKind {
  if (Array.isArray(p.signInEventTypes)) {
    for (const t of p.signInEventTypes) {
      const kind = typeof t === 'string' ? EVENT_TYPES.get(t) : undefined
      if (kind) return kind
    }
  }
  if (p.isInteractive === true) return 'interactive'
  return p.isInteractive === false ? 'nonInteractive' : 'interactive'
}

function signInEvent(p: Json, kind: SignInKind, ts: number, tenant: string | undefined, at: string): ParseResult {
  const errorCode = errorCodeOf(obj(p.status)?.errorCode)
  if (errorCode === undefined) return reject('MISSING_FIELD', `${at}status.errorCode: required (0 is success)`)
  const succeeded = errorCode === 0
  // An interrupt asks the user for more (MFA, "stay signed in?") and is followed by the real outcome.
  if (INTERRUPTS.has(errorCode)) return accept()
  const refresh = /refreshtoken/i.test(text(p.incomingTokenType, 128) ?? '')
  const uti = text(p.uniqueTokenIdentifier, 256)
  const location = obj(p.location)
  const geo = obj(location?.geoCoordinates)
  const id = text(p.id, 256)
  const correlation = text(p.correlationId, 256)
  const userId = text(p.userId, 128)

  let draft: Pick<DraftEvent, 'kind' | 'action' | 'token_kind' | 'result' | 'subject'>
  if (kind === 'servicePrincipal') {
    const subject = text(p.servicePrincipalId, 128) ?? text(p.appId, 128)
    draft = succeeded
      ? { kind: 'ISSUE', action: 'client_credentials', token_kind: 'service_account', subject }
      : { kind: 'VALIDATE', action: 'client_credentials', token_kind: 'service_account', result: 'DENIED', subject }
  } else {
    // The object id is the subject: every user sign-in and every audit target carries it. A sign-in for an
    // unknown user has none, and is then filed under the name that was typed.
    const subject = userId && userId !== '00000000-0000-0000-0000-000000000000' ? userId : text(p.userPrincipalName, 256)?.toLowerCase()
    if (kind === 'interactive') {
      draft = succeeded ? { kind: 'ISSUE', action: 'login', subject } : { kind: 'VALIDATE', action: 'login', result: 'DENIED', subject }
    } else {
      // Non-interactive sign-ins are a client presenting a refresh token, PRT or session to get new tokens.
      const action = refresh ? 'refresh' : 'request'
      const result: ValidateResult = succeeded ? 'OK' : (ERROR_RESULT.get(errorCode) ?? 'DENIED')
      draft = { kind: 'VALIDATE', action, token_kind: refresh ? 'refresh' : undefined, result, subject }
    }
  }

  return accept({
    ...draft,
    event_id: id ? `${FORMAT}:${id}` : correlation && uti ? `${FORMAT}:${correlation}:${uti}` : undefined,
    ts,
    source: { system: 'entra', tenant, format: FORMAT },
    session_id: text(p.sessionId, 256),
    jti: uti,
    token_fp: uti ? `${FORMAT}:${uti}` : undefined,
    client_id: text(p.appId, 256),
    amr: amrOf(p),
    scopes: [],
    validator: draft.kind === 'VALIDATE' ? 'entra' : undefined,
    ip: address(p.ipAddress),
    asn: asn(p.autonomousSystemNumber),
    city: text(location?.city, 128),
    country: text(location?.countryOrRegion, 64),
    lat: coordinate(geo?.latitude, 90),
    lon: coordinate(geo?.longitude, 180),
    user_agent: text(p.userAgent, 2048),
    device_id: text(obj(p.deviceDetail)?.deviceId, 256),
  })
}

function auditEvent(p: Json, ts: number, tenant: string | undefined): ParseResult {
  const activity = text(p.activityDisplayName, 256)
  if (!activity || !REVOKE_ACTIVITIES.has(activity.toLowerCase())) return accept()
  if (text(p.result, 32)?.toLowerCase() !== 'success') return accept()
  const id = text(p.id, 256)
  return accept({
    event_id: id ? `${FORMAT}:${id}` : undefined,
    kind: 'REVOKE',
    action: 'admin_revoke',
    ts,
    source: { system: 'entra', tenant, format: FORMAT },
    subject: userTarget(p.targetResources),
    revoke_scope: 'user',
    scopes: [],
    amr: [],
  })
}

function userTarget(targets: unknown): string | undefined {
  if (!Array.isArray(targets)) return undefined
  for (const t of targets) if (isObject(t) && (t.type === 'User' || t.type === undefined)) return text(t.id, 128)
  return undefined
}

/** authenticationRequirement says whether MFA was required; authenticationDetails what was performed. */
function amrOf(p: Json): string[] {
  const amr: string[] = []
  if (Array.isArray(p.authenticationDetails)) {
    for (const step of p.authenticationDetails) {
      if (isObject(step) && step.succeeded === true && step.authenticationMethod === 'Password') {
        amr.push('pwd')
        break
      }
    }
  }
  if (p.authenticationRequirement === 'multiFactorAuthentication') amr.push('mfa')
  return amr
}

function errorCodeOf(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined
}

function address(value: unknown): string | undefined {
  const ip = text(value, 64)
  return ip && isIP(ip) ? ip : undefined
}

function asn(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 2 ** 32 ? n : undefined
}

/** Entra writes seven fractional digits ("…:30.1234567Z"); Date.parse keeps the milliseconds. */
function timeOf(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length < 10 || value.length > 40) return undefined
  const s = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : value.replace(' ', 'T') + 'Z'
  const ms = Date.parse(s)
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined
}

