// Caddy access logs (the `log` directive, JSON encoder; fields from caddyhttp's LoggableHTTPRequest and the
// "handled request" entry). Headers are objects of Go-canonical names to arrays of values. Caddy writes
// Cookie, Set-Cookie, Authorization and Proxy-Authorization as ["REDACTED"] unless the server sets
// `log_credentials`, so without it only API-key headers and query credentials are visible.
// `ts` is when the entry was written, after the response (float seconds unless time_format says otherwise):
// the request started `duration` earlier. client_ip is the client as Caddy resolved it through
// trusted_proxies; remote_ip is the TCP peer.
import {
  canonicalHeaderName,
  dig,
  fail,
  headerValue,
  isRecord,
  missing,
  parseMethod,
  parseSeconds,
  parseStatus,
  parseTimestamp,
  readCredential,
  readJsonLine,
  resolveGatewayOptions,
  addressOnly,
  text,
  validateEvent,
  type FormatIdentity,
  type GatewayOptions,
} from './gateway-common.js'
import { accept, type LogFormat, type ParseResult } from './types.js'

export type CaddyFormatOptions = GatewayOptions

const FORMAT: FormatIdentity = { name: 'caddy', system: 'caddy' }
const GO_DURATION = /^(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)$/
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, μs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 }

export function createCaddyFormat(options: CaddyFormatOptions = {}): LogFormat {
  const { common: o } = resolveGatewayOptions(FORMAT.name, options, {})
  const canonical = new Map<string, string>()
  const headerKey = (name: string): string => {
    let key = canonical.get(name)
    if (key === undefined) {
      key = canonicalHeaderName(name)
      if (canonical.size < 1024) canonical.set(name, key)
    }
    return key
  }
  return {
    name: FORMAT.name,
    description: 'Caddy access log, JSON encoder ("handled request" entries)',
    parse: function parseCaddy(line: string): ParseResult {
      const read = readJsonLine(line, o.maxLineLength)
      if (!read.ok) return read
      const entry = read.value
      if (!isRecord(entry)) return fail('NOT_AN_OBJECT', 'a Caddy log line is one JSON object')
      const request = entry.request
      if (!isRecord(request)) {
        // Caddy's own runtime logs (tls, admin, …) share the stream by default: not requests, not errors.
        if (typeof entry.logger === 'string' && !entry.logger.startsWith('http.log.access')) return accept()
        return missing('request')
      }
      if (entry.ts === undefined || entry.ts === null) return missing('ts')
      const written = parseTimestamp(entry.ts)
      if (written === undefined) return fail('BAD_FIELD', 'ts: not epoch seconds or an RFC 3339 time')
      const duration = parseDuration(entry.duration)
      const ts = duration === undefined ? written : Math.round(written - duration * 1000)
      const headers = isRecord(request.headers) ? request.headers : {}
      const header = (name: string) => headerValue(headers[headerKey(name)], name === 'cookie' ? '; ' : undefined)
      const target = text(request.uri, 16384)
      const credential = readCredential({ header, target }, o)
      if (!credential) return accept()
      return accept(
        validateEvent(
          FORMAT,
          {
            ts,
            method: parseMethod(request.method),
            target,
            status: parseStatus(entry.status),
            validator: hostOnly(text(request.host, 256)),
            ip: addressOnly(text(request.client_ip, 64)) ?? addressOnly(text(request.remote_ip, 64)),
            userAgent: header('user-agent'),
            hints: { wwwAuthenticate: headerValue(dig(entry, 'resp_headers', 'Www-Authenticate')) },
          },
          credential,
          o,
        ),
      )
    },
  }
}

/**
 * Caddy's duration_format: float seconds (default), integer nanoseconds ("nano"), or a Go duration
 * string ("string"). A whole number of 1000 or more cannot be a request's seconds, so it is nanoseconds.
 */
function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 1000 ? value / 1e9 : parseSeconds(value)
  if (typeof value !== 'string') return undefined
  const m = GO_DURATION.exec(value.trim())
  return m ? parseSeconds(Number(m[1]) * UNIT_SECONDS[m[2]!]!) : undefined
}

function hostOnly(host: string | undefined): string | undefined {
  if (!host) return undefined
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1) || undefined
  const colon = host.indexOf(':')
  return colon > 0 ? host.slice(0, colon) : host
}
