// Traefik access logs in JSON (accessLog.format=json; field names from Traefik's accesslog middleware,
// pkg/middlewares/accesslog/logdata.go). Request headers appear only when accessLog.fields.headers keeps
// them, each as `request_<Canonical-Name>` with repeated values joined by ",", and as "REDACTED" under
// the redact mode, so Authorization and Cookie must be kept for this format to see credentials.
// StartUTC is when Traefik began handling the request (RFC 3339 with nanoseconds); ClientHost is the TCP
// peer, which is why X-Forwarded-For, when kept, decides the client per the clientAddress option.
import {
  canonicalHeaderName,
  clientAddress,
  fail,
  isRecord,
  missing,
  parseMethod,
  parseStatus,
  parseTimestamp,
  readCredential,
  readJsonLine,
  resolveGatewayOptions,
  text,
  validateEvent,
  type FormatIdentity,
  type GatewayOptions,
} from './gateway-common.js'
import { accept, type LogFormat, type ParseResult } from './types.js'

export type TraefikFormatOptions = GatewayOptions

const FORMAT: FormatIdentity = { name: 'traefik', system: 'traefik' }

export function createTraefikFormat(options: TraefikFormatOptions = {}): LogFormat {
  const { common: o } = resolveGatewayOptions(FORMAT.name, options, {})
  // Header names are fixed by configuration: build their logged keys once.
  const requestKeys = new Map<string, string>()
  const requestKey = (name: string): string => {
    let key = requestKeys.get(name)
    if (key === undefined) {
      key = 'request_' + canonicalHeaderName(name)
      if (requestKeys.size < 1024) requestKeys.set(name, key)
    }
    return key
  }
  return {
    name: FORMAT.name,
    description: 'Traefik access log, JSON format (request_* header fields when kept)',
    parse: function parseTraefik(line: string): ParseResult {
      const read = readJsonLine(line, o.maxLineLength)
      if (!read.ok) return read
      const entry = read.value
      if (!isRecord(entry)) return fail('NOT_AN_OBJECT', 'a Traefik JSON access log line is one JSON object')
      // StartLocal carries the same instant with the local offset, for operators who dropped StartUTC.
      const rawStart = entry.StartUTC ?? entry.StartLocal
      if (rawStart === undefined || rawStart === null) return missing('StartUTC')
      const ts = parseTimestamp(rawStart)
      if (ts === undefined) return fail('BAD_FIELD', 'StartUTC: not an RFC 3339 time')
      const header = (name: string) => text(entry[requestKey(name)], 16384)
      const target = text(entry.RequestPath, 16384)
      const credential = readCredential({ header, target }, o)
      if (!credential) return accept()
      return accept(
        validateEvent(
          FORMAT,
          {
            ts,
            method: parseMethod(entry.RequestMethod),
            target,
            status: parseStatus(entry.DownstreamStatus),
            validator: text(entry.ServiceName, 256) ?? text(entry.RouterName, 256),
            ip: clientAddress(header('x-forwarded-for'), text(entry.ClientHost, 256) ?? text(entry.ClientAddr, 256), o.clientAddress),
            userAgent: header('user-agent'),
            // Traefik generates no request id of its own; a client-supplied one could collide on purpose.
            hints: { wwwAuthenticate: text(entry['downstream_Www-Authenticate'], 4096) ?? text(entry['origin_Www-Authenticate'], 4096) },
          },
          credential,
          o,
        ),
      )
    },
  }
}
