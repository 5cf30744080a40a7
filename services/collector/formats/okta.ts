// Okta System Log. One LogEvent per line (log streaming, SIEM exports), a JSON array of them (a page of
// GET /api/v1/logs), an event hook delivery ({"eventType": "com.okta.event_hook", "data": {"events": […]}}),
// or the EventBridge envelope of Okta log streaming ({"detail-type", "detail"}).
// Field names follow the LogEvent object of the System Log API
// (developer.okta.com/docs/reference/api/system-log/#logevent-object); event types follow the Event Types
// catalog (developer.okta.com/docs/reference/api/event-types/) and the token reuse events named in
// "Refresh token rotation" (developer.okta.com/docs/guides/refresh-tokens/).
import type { EventKind, RevokeScope, TokenKind, ValidateResult } from '../../../schemas/model.js'
import { accept, reject, type DraftEvent, type LogFormat, type ParseResult } from './types.js'
import { isObject, obj, text as plainText, isoTime, coordinate, type Json } from './fields.js'

const FORMAT = 'okta'

/** Where the user an event is about is found: the actor, a User target (admin actions) or the token target. */
type SubjectFrom = 'actor' | 'target' | 'token'

interface Rule {
  kind: EventKind
  action: string
  subject: SubjectFrom
  scope?: RevokeScope
  tokenKind?: TokenKind
  /** The event names an OAuth token in target[] (type access_token, refresh_token or id_token). */
  token?: true
  /** A fixed VALIDATE result; otherwise it follows outcome.result. */
  result?: ValidateResult
  /** Authentication events: the credential type becomes amr, plus "mfa" for a second factor. */
  amr?: 'credential' | 'mfa'
}

const grant: Rule = { kind: 'ISSUE', action: 'token_grant', subject: 'token', token: true }
const revoke: Rule = { kind: 'REVOKE', action: 'token_revoke', subject: 'token', scope: 'token', token: true }
const implicitRevoke: Rule = { ...revoke, action: 'implicit_revoke' }
const reuse: Rule = { kind: 'VALIDATE', action: 'refresh_reuse', subject: 'token', token: true, tokenKind: 'refresh', result: 'INVALID' }

const RULES: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ['user.session.start', { kind: 'ISSUE', action: 'login', subject: 'actor', tokenKind: 'session_cookie', amr: 'credential' }],
  ['user.session.end', { kind: 'REVOKE', action: 'logout', subject: 'actor', scope: 'session' }],
  // An admin's "Clear user sessions": the user is the target, the actor is the admin (Identity Threat Protection events).
  ['user.session.clear', { kind: 'REVOKE', action: 'admin_revoke', subject: 'target', scope: 'user' }],
  ['user.session.impersonation.initiate', { kind: 'ISSUE', action: 'impersonation', subject: 'target', tokenKind: 'session_cookie' }],
  ['user.session.impersonation.end', { kind: 'REVOKE', action: 'impersonation_end', subject: 'target', scope: 'session' }],
  ['user.session.impersonation.revoke', { kind: 'REVOKE', action: 'impersonation_revoke', subject: 'target', scope: 'user' }],
  ['user.session.access_admin_app', { kind: 'VALIDATE', action: 'admin_app', subject: 'actor' }],
  ['user.authentication.sso', { kind: 'VALIDATE', action: 'sso', subject: 'actor' }],
  ['user.authentication.auth_via_mfa', { kind: 'VALIDATE', action: 'mfa', subject: 'actor', amr: 'mfa' }],
  ['user.authentication.verify', { kind: 'VALIDATE', action: 'mfa', subject: 'actor', amr: 'mfa' }],
  ['policy.evaluate_sign_on', { kind: 'VALIDATE', action: 'policy', subject: 'actor' }],
  // Custom authorization servers log app.oauth2.as.*, the org authorization server app.oauth2.*.
  ['app.oauth2.as.token.grant', grant],
  ['app.oauth2.as.token.grant.access_token', { ...grant, tokenKind: 'access' }],
  ['app.oauth2.as.token.grant.id_token', { ...grant, tokenKind: 'id' }],
  ['app.oauth2.as.token.grant.refresh_token', { ...grant, tokenKind: 'refresh' }],
  ['app.oauth2.token.grant', grant],
  ['app.oauth2.token.grant.access_token', { ...grant, tokenKind: 'access' }],
  ['app.oauth2.token.grant.id_token', { ...grant, tokenKind: 'id' }],
  ['app.oauth2.token.grant.refresh_token', { ...grant, tokenKind: 'refresh' }],
  ['app.oauth2.as.token.revoke', revoke],
  ['app.oauth2.token.revoke', revoke],
  ['app.oauth2.token.revoke.implicit.as', implicitRevoke],
  ['app.oauth2.token.revoke.implicit.client', implicitRevoke],
  ['app.oauth2.token.revoke.implicit.user', implicitRevoke],
  ['app.oauth2.as.token.detect_reuse', reuse],
  ['app.oauth2.token.detect_reuse', reuse],
])

const TOKEN_TARGETS: ReadonlyMap<string, TokenKind> = new Map([
  ['access_token', 'access'],
  ['refresh_token', 'refresh'],
  ['id_token', 'id'],
])

// authenticationContext.credentialType values, as RFC 8176 amr values where one exists.
const CREDENTIAL_AMR: ReadonlyMap<string, string> = new Map([
  ['PASSWORD', 'pwd'],
  ['OTP', 'otp'],
  ['SMS', 'sms'],
  ['IWA', 'wia'],
  ['CERTIFICATE', 'sc'],
  ['EMAIL', 'email'],
])

const OUTCOME_RESULT: ReadonlyMap<string, ValidateResult> = new Map([
  ['SUCCESS', 'OK'],
  ['ALLOW', 'OK'],
  ['FAILURE', 'DENIED'],
  ['DENY', 'DENIED'],
])

export interface OktaFormatOptions {
  /** The Okta org, for source.tenant: LogEvents do not name the org they come from. */
  tenant?: string
}

export function createOktaFormat(options: OktaFormatOptions = {}): LogFormat {
  const tenant = options.tenant
  return {
    name: FORMAT,
    description: 'Okta System Log LogEvents (one per line, /api/v1/logs pages, event hook deliveries)',
    parse: function parseOkta(line: string): ParseResult {
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (error) {
        return reject('BAD_JSON', `not JSON: ${(error as Error).message}`)
      }
      if (Array.isArray(value)) return parseMany(value, tenant)
      if (!isObject(value)) return reject('NOT_AN_OBJECT', 'a line must be a LogEvent object or an array of them')
      const hook = value.eventType === 'com.okta.event_hook' ? obj(value.data)?.events : undefined
      if (Array.isArray(hook)) return parseMany(hook, tenant)
      // Okta log streaming to Amazon EventBridge wraps each LogEvent as the event's detail.
      if (typeof value['detail-type'] === 'string' && isObject(value.detail)) return parseLogEvent(value.detail, '', tenant)
      return parseLogEvent(value, '', tenant)
    },
  }
}

function parseMany(items: unknown[], tenant: string | undefined): ParseResult {
  const events: DraftEvent[] = []
  for (let i = 0; i < items.length; i++) {
    const item = items[i]
    if (!isObject(item)) return reject('NOT_AN_OBJECT', `[${i}]: not a LogEvent object`)
    const result = parseLogEvent(item, `[${i}].`, tenant)
    if (!result.ok) return result
    for (const event of result.events) events.push(event)
  }
  return { ok: true, events }
}

function parseLogEvent(e: Json, at: string, tenant: string | undefined): ParseResult {
  if (e.eventType === undefined || e.eventType === null) return reject('MISSING_FIELD', `${at}eventType: required`)
  if (typeof e.eventType !== 'string') return reject('BAD_FIELD', `${at}eventType: not a string`)
  if (e.published === undefined || e.published === null) return reject('MISSING_FIELD', `${at}published: required`)
  const ts = isoTime(e.published)
  if (ts === undefined) return reject('BAD_FIELD', `${at}published: not an ISO 8601 time`)
  const rule = RULES.get(e.eventType)
  if (!rule) return accept()

  const outcome = text(obj(e.outcome)?.result)
  let kind = rule.kind
  let result = rule.result
  if (rule.kind === 'ISSUE' && outcome !== 'SUCCESS') {
    // A refused login or token request issued nothing; it still tells of a presentation that was denied.
    if (outcome !== 'FAILURE' && outcome !== 'DENY') return accept()
    kind = 'VALIDATE'
    result = 'DENIED'
  } else if (rule.kind === 'REVOKE' && outcome !== undefined && outcome !== 'SUCCESS') {
    return accept()
  } else if (rule.kind === 'VALIDATE') {
    result ??= outcome === undefined ? undefined : OUTCOME_RESULT.get(outcome)
  }

  const debug = debugData(e)
  const tokenTarget = rule.token ? findTokenTarget(e.target) : undefined
  const tokenId = text(tokenTarget?.id)
  const uuid = text(e.uuid)
  const draft: DraftEvent = {
    event_id: uuid ? `${FORMAT}:${uuid}` : undefined,
    kind,
    action: tokenAction(rule, text(debug?.grantType)),
    ts,
    source: { system: 'okta', tenant, format: FORMAT },
    subject: subjectOf(e, rule.subject, tokenTarget),
    session_id: sessionId(e, debug),
    amr: amrOf(e, rule),
    scopes: rule.token ? scopesOf(debug) : [],
    revoke_scope: kind === 'REVOKE' ? rule.scope : undefined,
    result: kind === 'VALIDATE' ? result : undefined,
    validator: kind === 'VALIDATE' ? 'okta' : undefined,
    net_flags: [],
  }
  // On admin actions (user.session.clear, impersonation) client, device and place are the admin's, not the user's.
  if (rule.subject !== 'target') {
    Object.assign(draft, place(e))
    draft.client_id = text(obj(e.client)?.id) ?? (rule.action === 'sso' ? appInstance(e.target) : undefined)
    draft.device_id = text(debug?.dtHash) ?? text(obj(e.device)?.id)
    draft.user_agent = text(obj(obj(e.client)?.userAgent)?.rawUserAgent, 2048)
    draft.net_flags = netFlags(e, debug)
  }
  if (rule.token) {
    const kindFromTarget = tokenTarget ? TOKEN_TARGETS.get(String(tokenTarget.type)) : undefined
    draft.token_kind = rule.tokenKind ?? kindFromTarget
    if (tokenId) {
      draft.jti = tokenId
      draft.token_fp = `${FORMAT}:${tokenId}`
    }
    draft.expires_at = isoTime(obj(tokenTarget?.detailEntry)?.expires)
  } else if (rule.tokenKind) {
    draft.token_kind = rule.tokenKind
  }
  return accept(draft)
}

/** A grant through the refresh_token grant type is a rotation, not a new grant. */
function tokenAction(rule: Rule, grantType: string | undefined): string {
  return rule.action === 'token_grant' && grantType === 'refresh_token' ? 'refresh' : rule.action
}

function subjectOf(e: Json, from: SubjectFrom, tokenTarget: Json | undefined): string | undefined {
  // The Okta user id (00u…) is the subject everywhere: token events name the user only by id, and one
  // identifier per user keeps all of a user's events on one partition.
  if (from === 'target') return userTarget(e.target)
  const actor = obj(e.actor)
  const actorUser = actor && actor.type === 'User' ? text(actor.id) : undefined
  if (from === 'token') return text(obj(tokenTarget?.detailEntry)?.subject) ?? actorUser
  return actorUser
}

function userTarget(targets: unknown): string | undefined {
  if (!Array.isArray(targets)) return undefined
  for (const t of targets) if (isObject(t) && t.type === 'User') return text(t.id)
  return undefined
}

function appInstance(targets: unknown): string | undefined {
  if (!Array.isArray(targets)) return undefined
  for (const t of targets) if (isObject(t) && t.type === 'AppInstance') return text(t.id)
  return undefined
}

function findTokenTarget(targets: unknown): Json | undefined {
  if (!Array.isArray(targets)) return undefined
  for (const t of targets) if (isObject(t) && typeof t.type === 'string' && TOKEN_TARGETS.has(t.type)) return t
  return undefined
}

function sessionId(e: Json, debug: Json | undefined): string | undefined {
  // externalSessionId is "the proxy for the actor's session ID"; Okta writes "unknown" when there is none.
  const external = text(obj(e.authenticationContext)?.externalSessionId)
  if (external && external !== 'unknown') return external
  return text(debug?.rootSessionId)
}

function amrOf(e: Json, rule: Rule): string[] {
  if (!rule.amr) return []
  const credential = text(obj(e.authenticationContext)?.credentialType)
  const mapped = credential ? CREDENTIAL_AMR.get(credential) : undefined
  const amr = mapped ? [mapped] : []
  if (rule.amr === 'mfa') amr.push('mfa')
  return amr
}

function scopesOf(debug: Json | undefined): string[] {
  const scopes = text(debug?.grantedScopes, 4096) ?? text(debug?.requestedScopes, 4096)
  return scopes ? scopes.split(/[\s,]+/).filter(Boolean).slice(0, 64) : []
}

/** Address, place and network facts Okta resolved itself (client.geographicalContext, securityContext). */
function place(e: Json): Partial<DraftEvent> {
  const client = obj(e.client)
  // client.ipAddress is the address Okta trusts (behind trusted proxies); ipChain[0] is the first hop it saw.
  const ipChain = obj(e.request)?.ipChain
  const chain = Array.isArray(ipChain) ? obj(ipChain[0]) : undefined
  const fromClient = text(client?.ipAddress, 64)
  const ip = fromClient ?? text(chain?.ip, 64)
  const geo = obj(fromClient ? client?.geographicalContext : chain?.geographicalContext)
  const location = obj(geo?.geolocation)
  const security = obj(e.securityContext)
  return {
    ip,
    city: text(geo?.city, 128),
    country: text(geo?.country, 64),
    lat: coordinate(location?.lat, 90),
    lon: coordinate(location?.lon, 180),
    asn: asn(security?.asNumber),
    asn_org: text(security?.asOrg, 256),
  }
}

function netFlags(e: Json, debug: Json | undefined): string[] {
  const flags: string[] = []
  // securityContext.isProxy: "the event's request is from a known proxy" (anonymisers, VPN exits, Tor).
  if (obj(e.securityContext)?.isProxy === true) flags.push('vpn')
  const risk = mapValue(debug?.risk)
  if (risk && typeof risk.level === 'string' && risk.level.toUpperCase() === 'HIGH') flags.push('idp_risk_high')
  const behaviors = mapValue(debug?.behaviors)
  if (behaviors?.['New Device'] === 'POSITIVE') flags.push('idp_new_device')
  if (behaviors?.Velocity === 'POSITIVE') flags.push('idp_velocity')
  return flags
}

/** debugContext.debugData: an object, or the same flattened to a "{k=v, k2=v2}" string by some forwarders. */
function debugData(e: Json): Json | undefined {
  const data = obj(e.debugContext)?.debugData
  return isObject(data) ? data : mapValue(data)
}

/**
 * Okta prints some debugData values (risk, behaviors) as Java map strings: "{level=HIGH, reasons=…}".
 * Values that themselves contain ", " are cut short, which is fine for the keys read here.
 */
function mapValue(value: unknown): Json | undefined {
  if (isObject(value)) return value
  if (typeof value !== 'string' || value.length < 2 || value.length > 8192) return undefined
  if (value[0] !== '{' || value[value.length - 1] !== '}') return undefined
  const map: Json = {}
  for (const part of value.slice(1, -1).split(', ')) {
    const eq = part.indexOf('=')
    if (eq > 0) map[part.slice(0, eq).trim()] = part.slice(eq + 1).trim()
  }
  return map
}

/** Like the shared reader, and the word "null" (which this vendor writes for absent values) is absent too. */
function text(value: unknown, max = 512): string | undefined {
  const s = plainText(value, max)
  return s === 'null' ? undefined : s
}

function asn(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 2 ** 32 ? n : undefined
}
