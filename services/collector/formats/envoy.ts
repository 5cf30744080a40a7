// Envoy access logs, which also covers Istio and Envoy Gateway (both are Envoy). Two layouts:
// - JSON from a `json_format` dictionary. Its keys are the operator's choice, so the spellings in common use
//   (Istio's and Envoy Gateway's defaults, the command operators' own names) are all recognised after
//   folding case, `-`, `.` and a leading `:` (docs/formats-gateway.md lists them);
// - the built-in default text format (Envoy docs, "Default format string"), optionally followed by extra
//   fields the operator appended, named by `extraFields`, since the default carries no credential at all.
// Either may sit inside a CRI or Docker json-file envelope when Envoy runs in a container.
import { z } from 'zod'
import {
  badJson,
  clientAddress,
  fail,
  isRecord,
  missing,
  parseMethod,
  parseRequestLine,
  parseStatus,
  parseTimestamp,
  readCredential,
  resolveGatewayOptions,
  splitLogFields,
  text,
  unwrapContainerLine,
  validateEvent,
  type FormatIdentity,
  type GatewayOptions,
  type HeaderLookup,
} from './gateway-common.js'
import { accept, type LogFormat, type ParseResult } from './types.js'

export interface EnvoyFormatOptions extends GatewayOptions {
  /**
   * Fields appended after the default text format, in order, each as its command operator
   * (`%REQ(AUTHORIZATION)%`, `%RESP(WWW-AUTHENTICATE)%`, `%UPSTREAM_CLUSTER%`) or a plain name (`cookie`).
   */
  extraFields?: string[]
}

const extraShape = { extraFields: z.array(z.string().min(1).max(128)).max(32).optional() }

const FORMAT: FormatIdentity = { name: 'envoy', system: 'envoy' }

const TIME_KEYS = ['start_time', 'starttime', 'timestamp', 'time', '@timestamp']
const METHOD_KEYS = ['method', 'request_method', 'req_method']
// X-ENVOY-ORIGINAL-PATH comes first in Envoy's own default: the path before any route rewrite.
const PATH_KEYS = ['path', 'x_envoy_original_path', 'x_envoy_origin_path', 'request_path', 'uri']
const STATUS_KEYS = ['response_code', 'status', 'status_code']
const DETAIL_KEYS = ['response_code_details']
const XFF_KEYS = ['x_forwarded_for', 'xff']
const UA_KEYS = ['user_agent']
const REQUEST_ID_KEYS = ['request_id', 'x_request_id']
const CLUSTER_KEYS = ['upstream_cluster', 'upstream_cluster_name']
const PEER_KEYS = ['downstream_remote_address', 'client_address', 'remote_address']
const CHALLENGE_KEYS = ['www_authenticate', 'resp_www_authenticate', 'response_www_authenticate']
const JA4_KEYS = ['ja4', 'tls_ja4_fingerprint', 'downstream_tls_ja4']

// The default format string's fields, in order (Envoy docs, "Default format string").
const DEFAULT_TEXT_FIELDS = [
  'start_time',
  'request',
  'response_code',
  'response_flags',
  'bytes_received',
  'bytes_sent',
  'duration',
  'upstream_service_time',
  'x_forwarded_for',
  'user_agent',
  'request_id',
  'authority',
  'upstream_host',
]

const KEY_CACHE_LIMIT = 4096
const PLAN_LIMIT = 8

/** A line's fields by folded name. */
interface Fields {
  get(name: string): unknown
}

/** How one json_format dictionary spells its keys: each folded name's key in the line (the last that folds to it). */
interface KeyPlan {
  keys: string[]
  keyFor: Map<string, string>
}

/** The line's keys, in order, are the plan's. */
function followsPlan(value: Record<string, unknown>, plan: KeyPlan): boolean {
  const keys = plan.keys
  let i = 0
  for (const key in value) {
    if (keys[i] !== key) return false
    i++
  }
  return i === keys.length
}

const OPERATOR = /^%?(req|resp)\(([^)?]+)(?:\?[^)]*)?\)%?$/

/** `%REQ(X-API-KEY)%` → `x_api_key`, `%RESP(WWW-AUTHENTICATE)%` → `resp_www_authenticate`, `:authority` → `authority`. */
function normalizeKey(key: string): string {
  const lower = key.toLowerCase()
  const op = OPERATOR.exec(lower)
  const base = op ? (op[1] === 'resp' ? 'resp_' : '') + op[2] : lower.replace(/^%|%$/g, '')
  return base.replace(/[-.:]/g, '_').replace(/^_+/, '')
}

export function createEnvoyFormat(options: EnvoyFormatOptions = {}): LogFormat {
  const { common: o, extra } = resolveGatewayOptions(FORMAT.name, options, extraShape)
  const textFields = [...DEFAULT_TEXT_FIELDS, ...(extra.extraFields ?? []).map(normalizeKey)]
  // json_format keys repeat on every line: fold each spelling once (bounded, as keys come from input).
  const keyCache = new Map<string, string>()
  const headerKeys = new Map<string, string[]>()
  const keyOf = (key: string): string => {
    let k = keyCache.get(key)
    if (k === undefined) {
      k = normalizeKey(key)
      if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(key, k)
    }
    return k
  }
  const keysForHeader = (name: string): string[] => {
    let keys = headerKeys.get(name)
    if (!keys) {
      const n = normalizeKey(name)
      keys = [n, `req_${n}`, `request_${n}`, `http_${n}`]
      if (headerKeys.size < KEY_CACHE_LIMIT) headerKeys.set(name, keys)
    }
    return keys
  }

  // A proxy writes every line with the same json_format dictionary, so its lines have the same keys in the
  // same order: how they fold is worked out once per dictionary (the last few are kept) and each line is only
  // checked against it, instead of being copied into a Map of folded keys (about 1.5 µs a line).
  let plans: KeyPlan[] = []
  function planFor(value: Record<string, unknown>): KeyPlan {
    for (const plan of plans) if (followsPlan(value, plan)) return plan
    const plan: KeyPlan = { keys: [], keyFor: new Map() }
    for (const key in value) {
      plan.keys.push(key)
      plan.keyFor.set(keyOf(key), key)
    }
    plans = [plan, ...plans.slice(0, PLAN_LIMIT - 1)]
    return plan
  }

  function fromFields(fields: Fields): ParseResult {
    const rawTime = pick(fields, TIME_KEYS)
    if (rawTime === undefined || rawTime === null || rawTime === '' || rawTime === '-') return missing('start_time')
    const ts = parseTimestamp(rawTime)
    if (ts === undefined) return fail('BAD_FIELD', 'start_time: not a time Envoy writes (RFC 3339 or epoch)')
    const target = text(pick(fields, PATH_KEYS), 16384)
    const header: HeaderLookup = (name) => {
      for (const key of keysForHeader(name)) {
        const value = text(fields.get(key), 16384)
        if (value !== undefined) return value
      }
      return undefined
    }
    const credential = readCredential({ header, target }, o)
    if (!credential) return accept()
    return accept(
      validateEvent(
        FORMAT,
        {
          ts,
          method: parseMethod(pick(fields, METHOD_KEYS)),
          target,
          status: parseStatus(pick(fields, STATUS_KEYS)),
          validator: text(pick(fields, CLUSTER_KEYS), 256),
          ip: clientAddress(text(pick(fields, XFF_KEYS), 4096), text(pick(fields, PEER_KEYS), 256), o.clientAddress),
          userAgent: text(pick(fields, UA_KEYS), 4096),
          // Envoy generates x-request-id at the edge and sanitises a client's own (Envoy docs, "x-request-id").
          requestId: text(pick(fields, REQUEST_ID_KEYS), 256),
          ja4: text(pick(fields, JA4_KEYS), 64),
          hints: { wwwAuthenticate: text(pick(fields, CHALLENGE_KEYS), 4096), detail: text(pick(fields, DETAIL_KEYS), 1024) },
        },
        credential,
        o,
      ),
    )
  }

  function parseJson(line: string): ParseResult {
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      return badJson(error)
    }
    if (!isRecord(value)) return fail('NOT_AN_OBJECT', 'an Envoy json_format line is one JSON object')
    const record = value
    const { keyFor } = planFor(record)
    return fromFields({
      get(name) {
        const key = keyFor.get(name)
        return key === undefined ? undefined : record[key]
      },
    })
  }

  function parseText(line: string): ParseResult {
    const tokens = splitLogFields(line)
    if (!tokens || tokens.length < DEFAULT_TEXT_FIELDS.length) return fail('UNPARSEABLE', 'not Envoy default text format: [START_TIME] "METHOD PATH PROTOCOL" CODE FLAGS …')
    const fields = new Map<string, unknown>()
    const count = Math.min(tokens.length, textFields.length)
    for (let i = 0; i < count; i++) fields.set(textFields[i]!, tokens[i])
    const { method, target } = parseRequestLine(text(tokens[1], 16384))
    fields.set('method', method)
    fields.set('path', target)
    return fromFields(fields)
  }

  return {
    name: FORMAT.name,
    description: 'Envoy access log: json_format lines (Istio, Envoy Gateway) or the default text format, bare or in a CRI/Docker envelope',
    parse: function parseEnvoy(line: string): ParseResult {
      const inner = unwrapContainerLine(line, o.maxLineLength)
      if (typeof inner !== 'string') return inner
      const body = inner.trimStart()
      // The default text format opens with `[%START_TIME%]`; anything else starting with { or [ is JSON.
      const first = body.charCodeAt(0)
      const second = body.charCodeAt(1)
      if (first === 91 && second >= 48 && second <= 57) return parseText(body)
      if (first === 123 || first === 91) return parseJson(body)
      return fail('UNPARSEABLE', 'neither an Envoy JSON line nor the default text format')
    },
  }
}

function pick(fields: Fields, keys: readonly string[]): unknown {
  for (const key of keys) {
    const value = fields.get(key)
    if (value !== undefined && value !== null && value !== '-' && value !== '') return value
  }
  return undefined
}
