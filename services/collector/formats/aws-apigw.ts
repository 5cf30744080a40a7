// Amazon API Gateway access logs in JSON (REST and HTTP APIs; AWS docs "Variables for access logging for
// API Gateway" and "Customize HTTP API access logs"). The operator writes the JSON template, so each value
// is looked up under the names in use: the console/CDK presets' short keys (`ip`, `httpMethod`, …), the
// $context path as a flat dotted key (`"authorizer.claims.sub"`) or as nested objects.
// Quirks: absent values are "-"; numbers are strings unless the template leaves them unquoted;
// requestTimeEpoch is ms on REST APIs but seconds on HTTP APIs; requestId can be chosen by the client
// (a UUID in x-amzn-RequestId), extendedRequestId cannot, so the latter makes the event id.
// Access logs carry no request headers: the credential is seen through what the authorizer verified
// (Cognito/JWT claims, a Lambda authorizer's principalId) or, for API-key methods, identity.apiKey.
import {
  cleanTemplate,
  fail,
  isRecord,
  missing,
  parseMethod,
  parseStatus,
  parseTimestamp,
  readJsonLine,
  resolveGatewayOptions,
  text,
  addressOnly,
  validateEvent,
  type FormatIdentity,
  type GatewayOptions,
  type PresentedCredential,
} from './gateway-common.js'
import type { ValidateResult } from '../../../schemas/model.js'
import { accept, type LogFormat, type ParseResult } from './types.js'

export type AwsApiGatewayFormatOptions = GatewayOptions

const FORMAT: FormatIdentity = { name: 'aws-apigw', system: 'aws-apigw' }

// Gateway response types (AWS docs "Gateway response types") that tell what happened to the credential;
// EXPIRED_TOKEN is a 403 by default, so the type outranks the status.
const RESPONSE_TYPE_RESULT = new Map<string, ValidateResult>([
  ['EXPIRED_TOKEN', 'EXPIRED'],
  ['ACCESS_DENIED', 'DENIED'],
  ['AUTHORIZER_FAILURE', 'INVALID'],
  ['INVALID_SIGNATURE', 'INVALID'],
  ['UNAUTHORIZED', 'INVALID'],
  ['INVALID_API_KEY', 'INVALID'],
])

// Cognito REST authorizers render dates as Java's Date.toString: `Fri Nov 20 10:15:02 UTC 2026`.
const JAVA_DATE = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) UTC (\d{4})$/
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

export function createAwsApiGatewayFormat(options: AwsApiGatewayFormatOptions = {}): LogFormat {
  const { common: o } = resolveGatewayOptions(FORMAT.name, options, {})
  return {
    name: FORMAT.name,
    description: 'Amazon API Gateway access logs, JSON ($context variables; REST and HTTP APIs)',
    parse: function parseApiGateway(line: string): ParseResult {
      const read = readJsonLine(line, o.maxLineLength)
      if (!read.ok) return read
      const entry = read.value
      if (!isRecord(entry)) return fail('NOT_AN_OBJECT', 'an API Gateway JSON access log line is one JSON object')
      const get = (...names: string[]) => lookup(entry, names)
      const epoch = get('requestTimeEpoch')
      const clf = get('requestTime')
      if (epoch === undefined && clf === undefined) return missing('requestTime')
      const ts = parseTimestamp(epoch ?? clf)
      if (ts === undefined) return fail('BAD_FIELD', `${epoch !== undefined ? 'requestTimeEpoch' : 'requestTime'}: not a time API Gateway writes`)

      const claims = claimsOf(entry)
      const principal = text(get('authorizer.principalId', 'principalId'), 512)
      const apiKey = text(get('identity.apiKey', 'apiKey'), 16384)
      const subject = claims.sub ?? claims.username ?? claims['cognito:username'] ?? principal
      // No raw token reaches an access log; what identifies the credential is what the authorizer saw.
      const verifiedIdentity = Boolean(subject || claims.jti)
      let credential: PresentedCredential | undefined
      if (!verifiedIdentity) {
        if (!apiKey || apiKey.length < 8) return accept()
        credential = { token: apiKey, token_kind: 'api_key' }
      }

      const status = parseStatus(get('status'))
      const event = validateEvent(
        FORMAT,
        {
          ts,
          method: parseMethod(get('httpMethod', 'method', 'http.method')),
          target: text(get('path'), 16384),
          route: cleanTemplate(text(get('resourcePath'), 2048)) ?? routeKeyTemplate(text(get('routeKey'), 2048)),
          status,
          validator: apiName(get),
          ip: addressOnly(text(get('ip', 'sourceIp', 'identity.sourceIp'), 64)),
          userAgent: text(get('userAgent', 'identity.userAgent'), 4096),
          requestId: text(get('extendedRequestId'), 256) ?? text(get('requestId'), 256),
        },
        credential,
        o,
      )
      const responseType = text(get('error.responseType', 'responseType'), 64)
      const typed = responseType ? RESPONSE_TYPE_RESULT.get(responseType) : undefined
      if (typed && status !== undefined && status >= 400) event.result = typed

      if (!credential) {
        // The authorizer verified these claims before API Gateway logged them.
        event.claims_unverified = false
        event.token_kind = claims.token_use === 'id' ? 'id' : 'access'
        if (subject) event.subject = subject.slice(0, 512)
        if (claims.jti) event.jti = claims.jti.slice(0, 256)
        // Cognito's origin_jti is shared by every token minted from one sign-in's refresh token: a session.
        const session = claims.sid ?? claims.origin_jti
        if (session) event.session_id = session.slice(0, 512)
        const client = claims.client_id ?? claims.azp
        if (client) event.client_id = client.slice(0, 256)
        const amr = listClaim(claims.amr)
        if (amr.length) event.amr = amr
        const scopes = listClaim(claims.scope ?? claims.scp)
        if (scopes.length) event.scopes = scopes
        const iat = claimTime(claims.iat)
        if (iat !== undefined) event.issued_at = iat
        const exp = claimTime(claims.exp)
        if (exp !== undefined) event.expires_at = exp
      }
      return accept(event)
    },
  }
}

/** A value by any of its names: a flat key as written, then the same dotted path through nested objects. */
function lookup(entry: Record<string, unknown>, names: string[]): string | number | undefined {
  for (const name of names) {
    let value: unknown = entry[name]
    if (value === undefined && name.includes('.')) value = nested(entry, name)
    if (value === undefined) {
      // Templates often keep the variable's own spelling: "$context.identity.sourceIp" → "identity.sourceIp" → "sourceIp".
      const last = name.lastIndexOf('.')
      if (last > 0) value = entry[name.slice(last + 1)]
    }
    if ((typeof value === 'string' || typeof value === 'number') && text(value) !== undefined) return value
  }
  return undefined
}

function nested(entry: Record<string, unknown>, path: string): unknown {
  let current: unknown = entry
  for (const key of path.split('.')) {
    if (!isRecord(current)) return undefined
    current = current[key]
  }
  return current
}

/** Authorizer claims, from `authorizer.claims.<name>` flat keys, nested objects, or a `claims` object. */
function claimsOf(entry: Record<string, unknown>): Record<string, string | undefined> {
  // No prototype: claim names come from the line, and `constructor` or `__proto__` must be plain keys.
  const out: Record<string, string | undefined> = Object.create(null)
  const take = (name: string, value: unknown) => {
    const s = typeof value === 'string' ? text(value, 2048) : typeof value === 'number' ? String(value) : Array.isArray(value) ? value.filter((v) => typeof v === 'string').join(' ') : undefined
    if (s !== undefined && out[name] === undefined) out[name] = s
  }
  for (const source of [nested(entry, 'authorizer.claims'), entry.claims]) {
    if (isRecord(source)) for (const name in source) take(name, source[name])
  }
  for (const key in entry) {
    for (const prefix of ['authorizer.claims.', 'claims.']) {
      if (key.startsWith(prefix)) take(key.slice(prefix.length), entry[key])
    }
  }
  return out
}

/** amr and scope as API Gateway renders lists: "[pwd mfa]", "[pwd, mfa]", "pwd mfa" or a JSON array. */
function listClaim(value: string | undefined): string[] {
  if (!value) return []
  return value
    .replace(/^\[|\]$/g, '')
    .split(/[\s,"]+/)
    .filter(Boolean)
    .slice(0, 64)
    .map((item) => item.slice(0, 256))
}

function claimTime(value: string | undefined): number | undefined {
  if (!value) return undefined
  const epoch = parseTimestamp(value)
  if (epoch !== undefined) return epoch
  const m = JAVA_DATE.exec(value)
  if (!m) return undefined
  const month = MONTHS.indexOf(m[1]!)
  return month < 0 ? undefined : Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]))
}

/** HTTP API route keys are `METHOD /path/{param}`; `$default` matches anything and names no route. */
function routeKeyTemplate(routeKey: string | undefined): string | undefined {
  if (!routeKey || routeKey === '$default') return undefined
  const space = routeKey.indexOf(' ')
  return cleanTemplate(space > 0 ? routeKey.slice(space + 1) : routeKey)
}

function apiName(get: (...names: string[]) => string | number | undefined): string | undefined {
  const api = text(get('apiId'), 128)
  const stage = text(get('stage'), 128)
  if (api) return stage ? `${api}/${stage}` : api
  return text(get('domainName'), 256)
}
