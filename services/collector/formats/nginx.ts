// NGINX access logs, two formats over the same NGINX variables:
// - `nginx`: the predefined `combined` log_format (ngx_http_log_module docs), optionally followed by extra
//   fields the operator appended, named in order by `extraFields` (e.g. `$http_authorization`);
// - `nginx-json`: the `sessionwatch` JSON log_format defined in docs/formats-gateway.md (escape=json),
//   whose keys are the variable names.
// NGINX writes a line when the request ends: $time_local and $msec are that end time, so the start is
// found by subtracting $request_time when the line has it. In the default escaping, NGINX writes `"`,
// `\` and bytes outside printable ASCII as \xHH; those are decoded back to UTF-8.
import { z } from 'zod'
import {
  clientAddress,
  fail,
  isRecord,
  missing,
  parseClfTime,
  parseMethod,
  parseRequestLine,
  parseSeconds,
  parseStatus,
  parseTimestamp,
  readCredential,
  readJsonLine,
  resolveGatewayOptions,
  splitLogFields,
  text,
  unwrapContainerLine,
  validateEvent,
  type FormatIdentity,
  type GatewayOptions,
  type Rejection,
  type ResolvedGatewayOptions,
} from './gateway-common.js'
import { accept, type LogFormat, type ParseResult } from './types.js'

export interface NginxFormatOptions extends GatewayOptions {
  /**
   * Variables appended after the combined fields, in order, with or without `$`: e.g.
   * ["$http_authorization", "$http_cookie", "$http_x_forwarded_for", "$request_time", "$request_id"].
   */
  extraFields?: string[]
}

export type NginxJsonFormatOptions = GatewayOptions

const NGINX: FormatIdentity = { name: 'nginx', system: 'nginx' }
const NGINX_JSON: FormatIdentity = { name: 'nginx-json', system: 'nginx' }

// `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`
const COMBINED_FIELDS = ['remote_addr', 'ident', 'remote_user', 'time_local', 'request', 'status', 'body_bytes_sent', 'http_referer', 'http_user_agent']
const COMMON_FIELD_COUNT = 7
const STATUS = /^\d{3}$/
const VARIABLE = /^\$?([A-Za-z_][A-Za-z0-9_]{0,127})$/

const extraShape = {
  extraFields: z.array(z.string().regex(VARIABLE, 'an NGINX variable name such as $http_authorization')).max(48).optional(),
}

/** Reads one NGINX variable by name (without `$`). */
type Variables = (name: string) => string | undefined

export function createNginxFormat(options: NginxFormatOptions = {}): LogFormat {
  const { common: o, extra } = resolveGatewayOptions(NGINX.name, options, extraShape)
  const extras = (extra.extraFields ?? []).map((name) => VARIABLE.exec(name)![1]!.toLowerCase())
  const names = [...COMBINED_FIELDS, ...extras]
  return {
    name: NGINX.name,
    description: 'NGINX combined log format, optionally followed by the extra fields named in extraFields',
    parse: function parseNginxCombined(line: string): ParseResult {
      const inner = unwrapContainerLine(line, o.maxLineLength)
      if (typeof inner !== 'string') return inner
      const tokens = splitLogFields(inner)
      // $status is always three digits, which tells a combined line from any other text of as many words.
      if (!tokens || (tokens.length < COMBINED_FIELDS.length && tokens.length !== COMMON_FIELD_COUNT) || !STATUS.test(tokens[5]!)) {
        return fail('UNPARSEABLE', 'not NGINX combined: $remote_addr - $remote_user [$time_local] "$request" $status …')
      }
      const values = new Map<string, string>()
      const count = Math.min(tokens.length, names.length)
      for (let i = 0; i < count; i++) values.set(names[i]!, tokens[i]!)
      return fromVariables((name) => text(values.get(name), 16384), NGINX, 'time_local', o)
    },
  }
}

export function createNginxJsonFormat(options: NginxJsonFormatOptions = {}): LogFormat {
  const { common: o } = resolveGatewayOptions(NGINX_JSON.name, options, {})
  return {
    name: NGINX_JSON.name,
    description: 'NGINX with the sessionwatch JSON log_format (docs/formats-gateway.md)',
    parse: function parseNginxJson(line: string): ParseResult {
      const read = readJsonLine(line, o.maxLineLength)
      if (!read.ok) return read
      const entry = read.value
      if (!isRecord(entry)) return fail('NOT_AN_OBJECT', 'an nginx-json line is one JSON object')
      return fromVariables((name) => text(entry[name], 16384), NGINX_JSON, 'msec', o)
    },
  }
}

function fromVariables(v: Variables, format: FormatIdentity, timeField: string, o: ResolvedGatewayOptions): ParseResult {
  const end = endTime(v, timeField)
  if (!end.ok) return end
  const requestTime = parseSeconds(v('request_time'))
  const ts = requestTime === undefined ? end.ts : Math.round(end.ts - requestTime * 1000)
  const line = parseRequestLine(v('request'))
  const target = v('request_uri') ?? line.target
  const header = (name: string) => v('http_' + name.replace(/-/g, '_'))
  const cookie = (name: string) => v('cookie_' + name)
  const credential = readCredential({ header, cookie, target }, o)
  if (!credential) return accept()
  return accept(
    validateEvent(
      format,
      {
        ts,
        method: parseMethod(v('request_method')) ?? line.method,
        target,
        // $status is what the client got; $upstream_status ("502, 401" across retries) only stands in.
        status: parseStatus(v('status')) ?? parseStatus(lastUpstreamStatus(v('upstream_status'))),
        // $hostname is the machine; $host would be the client's Host header, which a client chooses.
        validator: v('hostname') ?? v('server_name'),
        ip: clientAddress(v('http_x_forwarded_for'), v('remote_addr'), o.clientAddress),
        userAgent: v('http_user_agent'),
        // $request_id is 16 random bytes NGINX generates per request (ngx_http_core_module docs).
        requestId: v('request_id'),
        // Not a stock variable: third-party JA4 modules expose one; read only if the operator logged it.
        ja4: v('ssl_ja4'),
        hints: { wwwAuthenticate: v('sent_http_www_authenticate') },
      },
      credential,
      o,
    ),
  )
}

function endTime(v: Variables, timeField: string): { ok: true; ts: number } | Rejection {
  const msec = v('msec')
  const iso = v('time_iso8601')
  const local = v('time_local')
  if (msec === undefined && iso === undefined && local === undefined) return missing(timeField)
  const ts = msec !== undefined ? parseTimestamp(msec) : iso !== undefined ? parseTimestamp(iso) : parseClfTime(local!)
  if (ts === undefined) {
    const field = msec !== undefined ? 'msec' : iso !== undefined ? 'time_iso8601' : 'time_local'
    return fail('BAD_FIELD', `${field}: not a time NGINX writes`)
  }
  return { ok: true, ts }
}

function lastUpstreamStatus(value: string | undefined): string | undefined {
  if (!value) return undefined
  const parts = value.split(/[,:]\s*/)
  return parts[parts.length - 1]
}
