// What the gateway access-log parsers (envoy, kong, nginx, traefik, caddy, aws-apigw) share: their options,
// container envelopes, log-field tokenising, times, client addresses, route templates, status → result and,
// above all, which credential a request presented. Each vendor file only maps its own field names onto
// RequestFacts; everything that decides what an AuthEvent says lives here, once.
import { isIPv6 } from 'node:net'
import { z } from 'zod'
import type { TokenKind, ValidateResult } from '../../../schemas/model.js'
import { ConfigError } from '../../shared/errors.js'
import { ipv4Number } from '../network.js'
import { bearer } from './canonical.js'
import { rejectBadJson, type DraftEvent, type ParseResult, type RejectCode } from './types.js'

// ---------------------------------------------------------------------------------------------------------
// Options

/**
 * Cookie names taken as session credentials when no Authorization header carries a token, first match wins.
 * The framework defaults: express-session, Java servlet, PHP, ASP.NET, Rails, Laravel, Django, and the
 * RFC 6265bis `__Host-`/`__Secure-` prefixed forms apps use for hardened session cookies.
 */
export const DEFAULT_SESSION_COOKIES: readonly string[] = Object.freeze([
  'session',
  'sessionid',
  'sid',
  'connect.sid',
  'JSESSIONID',
  'PHPSESSID',
  'ASP.NET_SessionId',
  '_session_id',
  'laravel_session',
  '__Host-session',
  '__Secure-session',
  'auth_token',
])

/** `x-api-key` is the de-facto header (AWS API Gateway, many SaaS APIs); `apikey` is Kong key-auth's default key_names. */
export const DEFAULT_API_KEY_HEADERS: readonly string[] = Object.freeze(['x-api-key', 'apikey'])

/** RFC 6750 §2.3 puts bearer tokens in `access_token`; Kong key-auth also reads `apikey` from the query. */
export const DEFAULT_API_KEY_PARAMS: readonly string[] = Object.freeze(['apikey', 'api_key'])

// RFC 9110 §5.6.2 token characters: what a header or cookie name may be made of.
const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'not a valid header/cookie name')

const clientAddressSchema = z.union([
  z.literal('xff-first'),
  z.literal('remote'),
  z.strictObject({ trustedHops: z.number().int().min(0).max(32) }),
])

export const gatewayOptionsSchema = z.strictObject({
  /** Cookies that carry a session credential, in priority order. */
  sessionCookies: z.array(headerName).max(64).optional(),
  /** Headers that carry an API key. */
  apiKeyHeaders: z.array(headerName).max(32).optional(),
  /** Query parameters that carry an API key (besides RFC 6750 `access_token`). */
  apiKeyParams: z.array(z.string().min(1).max(64)).max(32).optional(),
  /** Whether a credential in the query string counts when no header or cookie carries one. */
  queryCredentials: z.boolean().optional(),
  /** Header whose value identifies the device (not a secret). */
  deviceIdHeader: headerName.optional(),
  /** Headers whose value is a session *identifier* distinct from the credential (not a secret). */
  sessionIdHeaders: z.array(headerName).max(16).optional(),
  /** Cookies whose value is a session identifier distinct from the credential (not a secret). */
  sessionIdCookies: z.array(headerName).max(16).optional(),
  /** A fixed validator name for every event of this format, instead of the one read from the line. */
  validator: z.string().min(1).max(256).optional(),
  tenant: z.string().min(1).max(128).optional(),
  /**
   * Which address is the client: the first X-Forwarded-For hop (what the client claims; spoofable unless
   * the edge strips incoming XFF), the downstream peer, or the hop before `trustedHops` proxies of yours
   * (Envoy's xff_num_trusted_hops reasoning). Formats whose gateway already resolves the client (Kong
   * client_ip, Caddy client_ip, API Gateway sourceIp) ignore this.
   */
  clientAddress: clientAddressSchema.optional(),
  /** Longer lines are rejected before any parsing (LINE_TOO_LONG). */
  maxLineLength: z.number().int().min(256).max(16 * 1024 * 1024).optional(),
})

export type GatewayOptions = z.infer<typeof gatewayOptionsSchema>
export type ClientAddressMode = z.infer<typeof clientAddressSchema>

export interface ResolvedGatewayOptions {
  readonly sessionCookies: readonly string[]
  readonly apiKeyHeaders: readonly string[]
  readonly apiKeyParams: ReadonlySet<string>
  readonly queryCredentials: boolean
  readonly deviceIdHeader: string
  readonly sessionIdHeaders: readonly string[]
  readonly sessionIdCookies: readonly string[]
  /** Every cookie name any rule reads, so the Cookie header is scanned once. */
  readonly wantedCookies: ReadonlySet<string>
  readonly validator: string | undefined
  readonly tenant: string | undefined
  readonly clientAddress: ClientAddressMode
  readonly maxLineLength: number
}

/**
 * Validates options once, at factory time, with a user-facing error (a bad option is a configuration
 * mistake, not bad input: it throws). `extraShape` adds a vendor's own options to the common ones.
 */
export function resolveGatewayOptions<S extends z.ZodRawShape>(
  format: string,
  raw: unknown,
  extraShape: S,
): { common: ResolvedGatewayOptions; extra: z.infer<z.ZodObject<S>> } {
  const parsed = gatewayOptionsSchema.extend(extraShape).safeParse(raw ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ConfigError(`${format} format options: ${issue.path.join('.') || '(options)'}: ${issue.message}`)
  }
  const o = parsed.data as GatewayOptions
  const lower = (names: readonly string[]) => Object.freeze(names.map((n) => n.toLowerCase()))
  const sessionCookies = Object.freeze([...(o.sessionCookies ?? DEFAULT_SESSION_COOKIES)])
  const sessionIdCookies = Object.freeze([...(o.sessionIdCookies ?? [])])
  const common: ResolvedGatewayOptions = Object.freeze({
    sessionCookies,
    apiKeyHeaders: lower(o.apiKeyHeaders ?? DEFAULT_API_KEY_HEADERS),
    apiKeyParams: new Set(o.apiKeyParams ?? DEFAULT_API_KEY_PARAMS),
    queryCredentials: o.queryCredentials ?? true,
    deviceIdHeader: (o.deviceIdHeader ?? 'x-device-id').toLowerCase(),
    sessionIdHeaders: lower(o.sessionIdHeaders ?? []),
    sessionIdCookies,
    wantedCookies: new Set([...sessionCookies, ...sessionIdCookies]),
    validator: o.validator,
    tenant: o.tenant,
    clientAddress: o.clientAddress ?? 'xff-first',
    maxLineLength: o.maxLineLength ?? 256 * 1024,
  })
  return { common, extra: parsed.data as z.infer<z.ZodObject<S>> }
}

// ---------------------------------------------------------------------------------------------------------
// Results

export type Rejection = Extract<ParseResult, { ok: false }>

export function fail(code: RejectCode, reason: string): Rejection {
  return { ok: false, code, reason }
}

export function missing(field: string): Rejection {
  return fail('MISSING_FIELD', `${field}: required`)
}

/** A BAD_JSON rejection that says where, not what (formats/types.ts: V8's messages quote the input). */
export function badJson(error: unknown): Rejection {
  return rejectBadJson(error) as Rejection
}

// ---------------------------------------------------------------------------------------------------------
// Container envelopes

// CRI (containerd, CRI-O) log lines: `<RFC 3339 nano time> <stream> <P|F> <content>` (kubelet CRI logging
// spec). P marks a fragment of a line the runtime split; only the reassembled (F) line is a record.
const CRI_PREFIX = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}) (?:stdout|stderr) ([FP])(?: |$)/

/**
 * The record inside a container runtime's envelope, or the line itself. Docker's json-file driver wraps
 * every line as {"log":"…\n","stream":…,"time":…} and splits lines over 16 KiB into entries without the
 * trailing newline; such a fragment cannot be parsed alone and is rejected rather than misread.
 */
export function unwrapContainerLine(line: string, maxLineLength: number): string | Rejection {
  if (line.length > maxLineLength) return fail('LINE_TOO_LONG', `line of ${line.length} characters exceeds ${maxLineLength}`)
  let text = line
  if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1)
  const c0 = text.charCodeAt(0)
  if (c0 >= 48 && c0 <= 57) {
    const cri = CRI_PREFIX.exec(text)
    if (cri) {
      if (cri[1] === 'P') return fail('UNPARSEABLE', 'partial CRI log line (P): the runtime split it; reassemble before parsing')
      text = text.slice(cri[0].length)
    }
  } else if (text.startsWith('{"log":')) {
    let envelope: unknown
    try {
      envelope = JSON.parse(text)
    } catch (error) {
      return badJson(error)
    }
    const log = (envelope as { log?: unknown }).log
    if (typeof log === 'string' && typeof (envelope as { stream?: unknown }).stream === 'string') {
      if (!log.endsWith('\n')) return fail('UNPARSEABLE', 'partial Docker json-file entry (no trailing newline): reassemble before parsing')
      text = log.endsWith('\r\n') ? log.slice(0, -2) : log.slice(0, -1)
    }
  }
  return text
}

export type JsonRead = { ok: true; value: unknown } | Rejection

/** One JSON document, out of its container envelope; parsed once on the common path. */
export function readJsonLine(line: string, maxLineLength: number): JsonRead {
  const text = unwrapContainerLine(line, maxLineLength)
  if (typeof text !== 'string') return text
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (error) {
    return badJson(error)
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// ---------------------------------------------------------------------------------------------------------
// Field values

const EMPTY_MARKERS = new Set(['', '-', 'null', 'undefined']) // none longer than 9

/**
 * A log value as text, or undefined when the gateway wrote its "no value" marker: "-" (Envoy, NGINX,
 * API Gateway), an empty string (NGINX escape=json), or null. Numbers become text (typed JSON formats).
 */
export function text(value: unknown, max = 4096): string | undefined {
  let s: string
  if (typeof value === 'string') s = value
  else if (typeof value === 'number' && Number.isFinite(value)) s = String(value)
  else return undefined
  s = s.trim()
  // The length test first: a Set lookup hashes the whole string, and tokens run to kilobytes.
  if (s.length > max || (s.length <= 9 && EMPTY_MARKERS.has(s))) return undefined
  return s
}

/** The first value of a header that a log records as a string or as an array of values (Kong, Caddy). */
export function headerValue(value: unknown, joinWith?: string): string | undefined {
  if (typeof value === 'string') return text(value, 16384)
  if (Array.isArray(value)) {
    if (joinWith !== undefined) {
      const parts = value.filter((v): v is string => typeof v === 'string')
      return parts.length ? text(parts.join(joinWith), 16384) : undefined
    }
    return typeof value[0] === 'string' ? text(value[0], 16384) : undefined
  }
  return undefined
}

/** A nested value by path, each step only through plain objects. */
export function dig(value: unknown, ...path: string[]): unknown {
  let current = value
  for (const key of path) {
    if (!isRecord(current)) return undefined
    current = current[key]
  }
  return current
}

export function parseStatus(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d{3}\s*$/.test(value) ? Number(value) : NaN
  return Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined
}

const METHOD = /^[A-Z][A-Z0-9_-]{0,15}$/

export function parseMethod(value: unknown): string | undefined {
  const s = text(value, 32)
  if (!s) return undefined
  const upper = s.toUpperCase()
  return METHOD.test(upper) ? upper : undefined
}

/** The start line's parts, `METHOD target PROTOCOL`; anything else (TLS bytes on a plain port) gives none. */
export function parseRequestLine(line: string | undefined): { method?: string; target?: string } {
  if (!line) return {}
  const first = line.indexOf(' ')
  if (first < 0) return {}
  const method = parseMethod(line.slice(0, first))
  if (!method) return {}
  const rest = line.slice(first + 1)
  const second = rest.indexOf(' ')
  return { method, target: second < 0 ? rest : rest.slice(0, second) }
}

// ---------------------------------------------------------------------------------------------------------
// Times

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 }
// Common Log Format time, `10/Oct/2000:13:55:36 -0700` (NGINX $time_local, API Gateway $context.requestTime).
const CLF_TIME = /^(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? ([+-])(\d{2})(\d{2})$/
const ISO_LIKE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/
const FRACTION = /\.(\d{3})\d+/
const NUMERIC = /^\d+(?:\.\d+)?$/
// Sanity window for event time: anything outside is a unit mistake or garbage, not a request.
const MIN_TS = Date.UTC(2000, 0, 1)
const MAX_TS = Date.UTC(2100, 0, 1)

/** `10/Oct/2000:13:55:36 -0700` → epoch ms, honouring the offset. */
export function parseClfTime(s: string): number | undefined {
  const m = CLF_TIME.exec(s)
  if (!m) return undefined
  const month = MONTHS[m[2]!.toLowerCase()]
  if (month === undefined) return undefined
  const ms = m[7] ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0
  const local = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), ms)
  const offset = (Number(m[9]) * 60 + Number(m[10])) * 60_000 * (m[8] === '-' ? -1 : 1)
  return inRange(local - offset)
}

/**
 * An event time as epoch ms, from: epoch numbers (seconds, ms, µs or ns, told apart by magnitude, since
 * vendors differ — API Gateway's requestTimeEpoch is ms on REST APIs and seconds on HTTP APIs), numeric
 * strings, RFC 3339 (any fraction length: Go writes nanoseconds), or Common Log Format.
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return fromEpoch(value)
  if (typeof value !== 'string') return undefined
  const s = value.trim()
  if (NUMERIC.test(s)) return fromEpoch(Number(s))
  if (ISO_LIKE.test(s)) {
    const t = Date.parse(s.replace(FRACTION, '.$1'))
    return Number.isNaN(t) ? undefined : inRange(t)
  }
  if (s.length >= 26 && s.length <= 36) return parseClfTime(s)
  return undefined
}

function fromEpoch(n: number): number | undefined {
  if (!Number.isFinite(n) || n <= 0) return undefined
  const ms = n < 1e11 ? n * 1000 : n < 1e14 ? n : n < 1e17 ? n / 1e3 : n / 1e6
  return inRange(Math.round(ms))
}

function inRange(ms: number): number | undefined {
  return ms >= MIN_TS && ms < MAX_TS ? ms : undefined
}

/** A duration in seconds as a log writes it (NGINX $request_time "0.123", Caddy duration 0.0123). */
export function parseSeconds(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && NUMERIC.test(value.trim()) ? Number(value) : NaN
  return Number.isFinite(n) && n >= 0 && n < 86_400 ? n : undefined
}

// ---------------------------------------------------------------------------------------------------------
// Text log lines

/**
 * Splits an access-log line into fields: bare words, [bracketed] times and "quoted" values. A quote
 * closes only before a space or the end, because Envoy does not escape quotes inside values; NGINX
 * escapes them (and bytes outside printable ASCII) as \xHH, which is decoded back to UTF-8.
 */
export function splitLogFields(line: string, maxFields = 96): string[] | undefined {
  const out: string[] = []
  const n = line.length
  let i = 0
  while (i < n) {
    while (i < n && line.charCodeAt(i) === 32) i++
    if (i >= n) break
    if (out.length >= maxFields) return undefined
    const c = line.charCodeAt(i)
    if (c === 34) {
      let j = i + 1
      let escaped = false
      for (; j < n; j++) {
        const ch = line.charCodeAt(j)
        if (ch === 92) {
          escaped = true
          j++
        } else if (ch === 34 && (j + 1 === n || line.charCodeAt(j + 1) === 32)) break
      }
      if (j >= n) return undefined
      const raw = line.slice(i + 1, j)
      out.push(escaped ? unescapeLogValue(raw) : raw)
      i = j + 1
    } else if (c === 91) {
      const j = line.indexOf(']', i + 1)
      if (j < 0) return undefined
      out.push(line.slice(i + 1, j))
      i = j + 1
    } else {
      let j = line.indexOf(' ', i)
      if (j < 0) j = n
      out.push(line.slice(i, j))
      i = j
    }
  }
  return out
}

const HEX_ESCAPE = /\\x([0-9A-Fa-f]{2})|\\(["\\])/g
const WIDE_CHAR = /[^\u0000-\u00ff]/

function unescapeLogValue(raw: string): string {
  if (!raw.includes('\\x') || WIDE_CHAR.test(raw)) return raw.replace(/\\(["\\])/g, '$1')
  // \xHH are the bytes of UTF-8 text (NGINX log escaping): rebuild the bytes, then decode them.
  const latin1 = raw.replace(HEX_ESCAPE, (_m, hex: string | undefined, ch: string | undefined) => (hex ? String.fromCharCode(parseInt(hex, 16)) : ch!))
  return Buffer.from(latin1, 'latin1').toString('utf8')
}

// ---------------------------------------------------------------------------------------------------------
// Addresses

/** An address without port or brackets (`10.0.0.1:5432`, `[2001:db8::1]:443`), or undefined if not an IP. */
export function addressOnly(value: string | undefined): string | undefined {
  if (!value) return undefined
  let s = value.trim()
  if (s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1)
  if (s.startsWith('[')) {
    const end = s.indexOf(']')
    s = end > 0 ? s.slice(1, end) : s
  } else {
    const colon = s.indexOf(':')
    if (colon > 0 && colon === s.lastIndexOf(':')) s = s.slice(0, colon)
  }
  const zone = s.indexOf('%')
  const bare = zone > 0 ? s.slice(0, zone) : s
  return ipv4Number(bare) >= 0 || isIPv6(bare) ? s : undefined
}

/**
 * The client address from X-Forwarded-For and the downstream peer, per the configured mode. Each proxy
 * appends the address it received from (RFC 7239 §5.2 for Forwarded, same practice for XFF), so with N
 * trusted proxies of yours the client is the N-th address from the right of [...xff, peer].
 */
export function clientAddress(xff: string | undefined, peer: string | undefined, mode: ClientAddressMode): string | undefined {
  const remote = addressOnly(peer)
  if (mode === 'remote' || !xff) return remote
  const hops = xff.split(',', 64)
  if (mode === 'xff-first') {
    for (const hop of hops) {
      const ip = addressOnly(hop)
      if (ip) return ip
    }
    return remote
  }
  const chain = remote ? [...hops, remote] : hops
  const index = Math.max(0, chain.length - 1 - mode.trustedHops)
  return addressOnly(chain[index]) ?? remote
}

// ---------------------------------------------------------------------------------------------------------
// Routes

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const DIGITS = /^\d+$/
const LONG_HEX = /^[0-9a-f]{16,}$/i
const TOKEN_CHARS = /^[A-Za-z0-9._~+=%-]+$/
const HAS_DIGIT = /\d/
const HAS_LETTER = /[A-Za-z]/
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i
const MAX_ROUTE = 2048
const MAX_SEGMENTS = 64

/**
 * A path segment that names one object rather than a kind of resource: numbers, UUIDs, long hex,
 * anything with an @ (emails), and long mixed letter/digit strings (ULIDs, base64 ids, and tokens that
 * apps wrongly put in paths, which must never reach the route field).
 */
function isIdSegment(s: string): boolean {
  if (DIGITS.test(s) || UUID.test(s) || LONG_HEX.test(s) || s.includes('@')) return true
  return s.length >= 24 && TOKEN_CHARS.test(s) && HAS_DIGIT.test(s) && HAS_LETTER.test(s)
}

/**
 * A route template from a request target: the path only (scheme and authority of an absolute-form
 * target, query string and fragment dropped, since queries may hold access_token=…), `;` path
 * parameters dropped (servlet containers put `;jsessionid=` there), ids collapsed to `{id}`.
 */
export function templateRoute(target: string | undefined): string | undefined {
  if (!target) return undefined
  let path = target
  const cut = firstIndexOf(path, '?', '#')
  if (cut >= 0) path = path.slice(0, cut)
  if (SCHEME.test(path)) {
    const slash = path.indexOf('/', path.indexOf('//') + 2)
    path = slash < 0 ? '/' : path.slice(slash)
  }
  if (path === '*') return '*'
  if (path.charCodeAt(0) !== 47) return undefined
  const segments = path.split('/', MAX_SEGMENTS + 1)
  for (let i = 1; i < segments.length; i++) {
    let segment = segments[i]!
    const semi = segment.indexOf(';')
    if (semi >= 0) segment = segment.slice(0, semi)
    segments[i] = isIdSegment(segment) ? '{id}' : segment
  }
  const route = segments.slice(0, MAX_SEGMENTS + 1).join('/')
  return route.length > MAX_ROUTE ? route.slice(0, MAX_ROUTE) : route
}

/** A template the gateway itself matched (`/pets/{petId}`): kept as is, minus any query string. */
export function cleanTemplate(template: string | undefined): string | undefined {
  if (!template) return undefined
  const cut = firstIndexOf(template, '?', '#')
  const path = cut >= 0 ? template.slice(0, cut) : template
  if (path.charCodeAt(0) !== 47) return undefined
  return path.length > MAX_ROUTE ? path.slice(0, MAX_ROUTE) : path
}

function firstIndexOf(s: string, a: string, b: string): number {
  const i = s.indexOf(a)
  const j = s.indexOf(b)
  return i < 0 ? j : j < 0 ? i : Math.min(i, j)
}

// ---------------------------------------------------------------------------------------------------------
// Status → result

const INVALID_TOKEN = /error\s*=\s*"?invalid_token/i
const EXPIRED = /expired/i

export interface FailureHints {
  /** The WWW-Authenticate response header (RFC 6750 §3: error="invalid_token", error_description="…expired…"). */
  wwwAuthenticate?: string
  /** A gateway's own reason, e.g. Envoy response_code_details `jwt_authn_access_denied{Jwt_is_expired}`. */
  detail?: string
}

/**
 * What the gateway decided about the credential, read from the status: 1xx–3xx accepted, 401 invalid
 * (expired when the challenge or the gateway's reason says so), 403 denied, 419/440 (Laravel, IIS
 * "session expired") expired. Other statuses say nothing about the credential and leave result unset.
 */
export function resultFromStatus(status: number | undefined, hints: FailureHints = {}): ValidateResult | undefined {
  if (status === undefined) return undefined
  if (status < 400) return 'OK'
  if (status === 401) {
    const challenge = hints.wwwAuthenticate
    if (challenge && INVALID_TOKEN.test(challenge) && EXPIRED.test(challenge)) return 'EXPIRED'
    if (hints.detail && EXPIRED.test(hints.detail)) return 'EXPIRED'
    return 'INVALID'
  }
  if (status === 403) return 'DENIED'
  if (status === 419 || status === 440) return 'EXPIRED'
  return undefined
}

// ---------------------------------------------------------------------------------------------------------
// Credentials

/** Reads one request header by lower-case name, however the vendor logged it. */
export type HeaderLookup = (name: string) => string | undefined

export interface CredentialSources {
  header: HeaderLookup
  /** Individual cookies a log records apart from the Cookie header (NGINX `$cookie_<name>`). */
  cookie?: (name: string) => string | undefined
  /** The raw request target, for credentials in the query string. */
  target?: string
}

export interface PresentedCredential {
  /** The raw secret: the normaliser fingerprints and drops it. */
  token: string
  token_kind: TokenKind
  session_id?: string
  device_id?: string
}

// Redaction placeholders gateways write instead of a secret (Kong, Caddy and Traefik write "REDACTED").
const PLACEHOLDER = /^(?:-|redacted|\[redacted\]|<redacted>|\[filtered\]|\*+|null|undefined|none)$/i
const BASIC = /^\s*basic(?:\s|$)/i
const NO_SPACE_OR_CONTROL = /^[^\s\u0000-\u001f\u007f]+$/

function plausibleSecret(value: string | undefined): value is string {
  return value !== undefined && value.length >= 8 && value.length <= 16384 && !PLACEHOLDER.test(value) && NO_SPACE_OR_CONTROL.test(value)
}

function plausibleId(value: string | undefined, max: number): string | undefined {
  return value !== undefined && value.length <= max && !PLACEHOLDER.test(value) && NO_SPACE_OR_CONTROL.test(value) ? value : undefined
}

/**
 * The wanted cookies of a Cookie header (RFC 6265 §4.2.1: `name=value` pairs joined by "; "). Names are
 * case-sensitive; the first occurrence wins, as browsers send the most specific path first (§5.4).
 */
export function readCookies(header: string | undefined, wanted: ReadonlySet<string>): Map<string, string> | undefined {
  if (!header || wanted.size === 0) return undefined
  let found: Map<string, string> | undefined
  let start = 0
  const n = header.length
  while (start < n) {
    let end = header.indexOf(';', start)
    if (end < 0) end = n
    const eq = header.indexOf('=', start)
    if (eq > start && eq < end) {
      const name = header.slice(start, eq).trim()
      if (wanted.has(name) && !found?.has(name)) {
        let value = header.slice(eq + 1, end).trim()
        if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) value = value.slice(1, -1)
        ;(found ??= new Map()).set(name, value)
      }
    }
    start = end + 1
  }
  return found
}

/**
 * The credential a request presented, in the order gateways and apps authenticate: the Authorization
 * header (Bearer or DPoP, RFC 6750 / RFC 9449; Basic is a password, not a session, and is passed over),
 * then a session cookie, then an API-key header, then (RFC 6750 §2.3) a token in the query string.
 * Undefined when there is none: such a request says nothing about any session.
 */
export function readCredential(sources: CredentialSources, o: ResolvedGatewayOptions): PresentedCredential | undefined {
  const { header } = sources
  let token: string | undefined
  let kind: TokenKind | undefined
  const authorization = header('authorization')
  if (authorization && !BASIC.test(authorization)) {
    const candidate = bearer(authorization)
    if (plausibleSecret(candidate)) {
      token = candidate
      kind = 'access'
    }
  }
  let cookies: Map<string, string> | undefined
  let cookiesRead = false
  const cookie = (name: string): string | undefined => {
    const own = sources.cookie?.(name)
    if (own !== undefined) return own
    if (!cookiesRead) {
      cookies = readCookies(header('cookie'), o.wantedCookies)
      cookiesRead = true
    }
    return cookies?.get(name)
  }
  if (!token) {
    for (const name of o.sessionCookies) {
      const value = cookie(name)
      if (plausibleSecret(value)) {
        token = value
        kind = 'session_cookie'
        break
      }
    }
  }
  if (!token) {
    for (const name of o.apiKeyHeaders) {
      const value = header(name)
      if (plausibleSecret(value)) {
        token = value
        kind = 'api_key'
        break
      }
    }
  }
  if (!token && o.queryCredentials && sources.target) {
    const fromQuery = queryCredential(sources.target, o.apiKeyParams)
    if (fromQuery) ({ token, kind } = fromQuery)
  }
  if (!token || !kind) return undefined
  const credential: PresentedCredential = { token, token_kind: kind }
  for (const name of o.sessionIdHeaders) {
    const id = plausibleId(header(name), 512)
    if (id) {
      credential.session_id = id
      break
    }
  }
  if (!credential.session_id) {
    for (const name of o.sessionIdCookies) {
      const id = plausibleId(cookie(name), 512)
      if (id) {
        credential.session_id = id
        break
      }
    }
  }
  const device = plausibleId(header(o.deviceIdHeader), 256)
  if (device) credential.device_id = device
  return credential
}

function queryCredential(target: string, apiKeyParams: ReadonlySet<string>): { token: string; kind: TokenKind } | undefined {
  const q = target.indexOf('?')
  if (q < 0) return undefined
  const end = target.indexOf('#', q)
  const query = target.slice(q + 1, end < 0 ? undefined : end)
  let apiKey: string | undefined
  for (const pair of query.split('&', 128)) {
    const eq = pair.indexOf('=')
    if (eq <= 0) continue
    const name = pair.slice(0, eq)
    const isAccess = name === 'access_token'
    if (!isAccess && !apiKeyParams.has(name)) continue
    const value = decodeQueryValue(pair.slice(eq + 1))
    if (!plausibleSecret(value)) continue
    if (isAccess) return { token: value, kind: 'access' }
    apiKey ??= value
  }
  return apiKey ? { token: apiKey, kind: 'api_key' } : undefined
}

function decodeQueryValue(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------------------
// The event

/** What a gateway line says about one request, in the vendor-neutral terms the event is built from. */
export interface RequestFacts {
  ts: number
  method?: string
  /** The raw request target (path and query) as the client sent it. */
  target?: string
  /** A route template the gateway matched; preferred over templating the target. */
  route?: string
  status?: number
  validator?: string
  ip?: string
  userAgent?: string
  /** An id the gateway generated for the request (never one a client can choose). */
  requestId?: string
  /** The client's JA4 TLS fingerprint, where a gateway build computes one. */
  ja4?: string
  hints?: FailureHints
}

export interface FormatIdentity {
  /** The format name, also the event_id prefix. */
  name: string
  /** The producing system, for source.system and the default validator. */
  system: string
}

const REQUEST_ID = /^[\x21-\x7e]{1,200}$/
// JA4 (FoxIO spec): `t13d1516h2_8daaf6152771_b186095e22b6`, protocol t/q/d, then two truncated SHA-256 parts.
const JA4 = /^[tqd][0-9a-z]{9}_[0-9a-f]{12}_[0-9a-f]{12}$/

/** The VALIDATE event for one gateway request that presented a credential. */
export function validateEvent(format: FormatIdentity, facts: RequestFacts, credential: PresentedCredential | undefined, o: ResolvedGatewayOptions): DraftEvent {
  const event: DraftEvent = {
    kind: 'VALIDATE',
    action: 'request',
    ts: facts.ts,
    source: o.tenant ? { system: format.system, tenant: o.tenant, format: format.name } : { system: format.system, format: format.name },
    validator: o.validator ?? clip(facts.validator, 256) ?? format.system,
  }
  if (facts.requestId && REQUEST_ID.test(facts.requestId)) event.event_id = `${format.name}:${facts.requestId}`
  if (facts.method) event.method = facts.method
  const route = facts.route ?? templateRoute(facts.target)
  if (route) event.route = route
  if (facts.status !== undefined) {
    event.status = facts.status
    const result = resultFromStatus(facts.status, facts.hints)
    if (result) event.result = result
  }
  if (facts.ip) event.ip = facts.ip
  const userAgent = clip(facts.userAgent, 2048)
  if (userAgent) event.user_agent = userAgent
  if (facts.ja4 && JA4.test(facts.ja4)) event.ja4 = facts.ja4
  if (credential) {
    event.token = credential.token
    event.token_kind = credential.token_kind
    if (credential.session_id) event.session_id = credential.session_id
    if (credential.device_id) event.device_id = credential.device_id
  }
  return event
}

function clip(value: string | undefined, max: number): string | undefined {
  if (!value) return undefined
  return value.length > max ? value.slice(0, max) : value
}

/** Go's canonical header form (net/textproto.CanonicalMIMEHeaderKey), as Traefik and Caddy log names. */
export function canonicalHeaderName(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((part) => (part ? part[0]!.toUpperCase() + part.slice(1) : part))
    .join('-')
}
