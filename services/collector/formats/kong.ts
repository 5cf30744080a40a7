// Kong Gateway log-plugin objects (file-log, http-log, tcp-log, udp-log share one serializer; Kong docs,
// "Log format"). One JSON object per request, or an array of them when http-log batches (max_batch_size > 1).
// Quirks: Kong replaces the Authorization header with "REDACTED" and offers no switch to keep it (Kong
// support note "Showing Authorization headers in the Kong log plugins"), so such a request counts only
// through a session cookie or API key; started_at is epoch ms; client_ip is already resolved through
// trusted_ips/real_ip; request.id exists from Kong 3.5 on, x-kong-request-id before that.
import {
  cleanTemplate,
  dig,
  fail,
  headerValue,
  isRecord,
  missing,
  parseMethod,
  parseStatus,
  parseTimestamp,
  readCredential,
  readJsonLine,
  resolveGatewayOptions,
  templateRoute,
  text,
  validateEvent,
  type FormatIdentity,
  type GatewayOptions,
  type ResolvedGatewayOptions,
} from './gateway-common.js'
import { accept, type DraftEvent, type LogFormat, type ParseResult } from './types.js'

export type KongFormatOptions = GatewayOptions

const FORMAT: FormatIdentity = { name: 'kong', system: 'kong' }
const MAX_BATCH = 10_000

export function createKongFormat(options: KongFormatOptions = {}): LogFormat {
  const { common: o } = resolveGatewayOptions(FORMAT.name, options, {})
  return {
    name: FORMAT.name,
    description: 'Kong Gateway log plugins (file-log, http-log, tcp-log, udp-log): one JSON object per request, or a batch array',
    parse: function parseKong(line: string): ParseResult {
      const read = readJsonLine(line, o.maxLineLength)
      if (!read.ok) return read
      const value = read.value
      if (!Array.isArray(value)) return fromEntry(value, o)
      if (value.length > MAX_BATCH) return fail('BAD_FIELD', `batch of ${value.length} entries exceeds ${MAX_BATCH}`)
      const events: DraftEvent[] = []
      for (let i = 0; i < value.length; i++) {
        const one = fromEntry(value[i], o)
        if (!one.ok) return { ...one, reason: `[${i}] ${one.reason}` }
        events.push(...one.events)
      }
      return accept(...events)
    },
  }
}

function fromEntry(entry: unknown, o: ResolvedGatewayOptions): ParseResult {
  if (!isRecord(entry)) return fail('NOT_AN_OBJECT', 'a Kong log entry is a JSON object')
  if (entry.started_at === undefined || entry.started_at === null) return missing('started_at')
  const ts = parseTimestamp(entry.started_at)
  if (ts === undefined) return fail('BAD_FIELD', 'started_at: not epoch milliseconds')
  const request = isRecord(entry.request) ? entry.request : {}
  const response = isRecord(entry.response) ? entry.response : {}
  const requestHeaders = isRecord(request.headers) ? request.headers : {}
  const responseHeaders = isRecord(response.headers) ? response.headers : {}
  // ngx.req.get_headers() keys are lower-case; a repeated header is logged as an array of values.
  const header = (name: string) => headerValue(requestHeaders[name], name === 'cookie' ? '; ' : undefined)
  const target = text(request.uri, 16384) ?? pathOf(text(request.url, 16384))
  const credential = readCredential({ header, target }, o)
  if (!credential) return accept()
  const event = validateEvent(
    FORMAT,
    {
      ts,
      method: parseMethod(request.method),
      target,
      route: routeOf(entry.route, target),
      status: parseStatus(response.status),
      validator: text(dig(entry, 'service', 'name'), 256) ?? text(entry.workspace_name, 256),
      ip: text(entry.client_ip, 64),
      userAgent: header('user-agent'),
      requestId: text(request.id, 256) ?? headerValue(responseHeaders['x-kong-request-id']),
      hints: { wwwAuthenticate: headerValue(responseHeaders['www-authenticate']) },
    },
    credential,
    o,
  )
  // The consumer is the identity Kong itself authenticated (key-auth, jwt, oauth2 plugins): an API client.
  const consumer = isRecord(entry.consumer) ? entry.consumer : undefined
  const clientId = consumer && (text(consumer.username, 256) ?? text(consumer.custom_id, 256) ?? text(consumer.id, 256))
  if (clientId) event.client_id = clientId
  return accept(event)
}

/**
 * Kong route `paths` are prefixes (or `~` regexes), not templates: the longest plain prefix of the
 * request path is kept verbatim as configured, the rest is templated like any path.
 */
function routeOf(route: unknown, target: string | undefined): string | undefined {
  const templated = templateRoute(target)
  const paths = isRecord(route) && Array.isArray(route.paths) ? route.paths : undefined
  if (!paths || !target) return templated
  const path = target.split('?', 1)[0]!
  let best: string | undefined
  for (const p of paths) {
    if (typeof p !== 'string' || p.startsWith('~') || !path.startsWith(p)) continue
    const boundary = p.endsWith('/') || path.length === p.length || path.charCodeAt(p.length) === 47
    if (boundary && (!best || p.length > best.length)) best = p
  }
  if (!best || best === '/') return templated
  const rest = templateRoute('/' + path.slice(best.length).replace(/^\//, ''))
  const prefix = cleanTemplate(best.replace(/\/$/, ''))
  return prefix && rest ? (rest === '/' ? prefix : prefix + rest) : templated
}

function pathOf(url: string | undefined): string | undefined {
  if (!url) return undefined
  const scheme = url.indexOf('://')
  if (scheme < 0) return url
  const slash = url.indexOf('/', scheme + 3)
  return slash < 0 ? '/' : url.slice(slash)
}
