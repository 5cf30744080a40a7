// Google Workspace login audit: Admin SDK Reports API activities of application "login", one activity per
// line ({"kind": "admin#reports#activity", "id": {time, uniqueQualifier, applicationName, customerId}, "actor",
// "ipAddress", "events": [{type, name, parameters: [{name, value | multiValue | boolValue | intValue}]}]}) or a
// page of activities.list ({"kind": "admin#reports#activities", "items": […]}).
// Event and parameter names follow the "Login" activity events of the Reports API
// (developers.google.com/admin-sdk/reports/v1/appendix/activity/login and guides/manage-audit-login).
import type { EventKind, RevokeScope, TokenKind, ValidateResult } from '../../../schemas/model.js'
import { accept, reject, type DraftEvent, type LogFormat, type ParseResult } from './types.js'
import { isObject, obj, text, isoTime, type Json } from './fields.js'

const FORMAT = 'google-workspace'

interface Rule {
  kind: EventKind
  action: string
  tokenKind?: TokenKind
  scope?: RevokeScope
  /** A fixed result, or 'challenge': Passed/Failed read from login_challenge_status. */
  result?: ValidateResult | 'challenge'
  suspicious?: true
  mfa?: true
}

const suspicious: Rule = { kind: 'VALIDATE', action: 'suspicious_login', suspicious: true }

const RULES: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ['login_success', { kind: 'ISSUE', action: 'login', tokenKind: 'session_cookie' }],
  ['login_failure', { kind: 'VALIDATE', action: 'login', result: 'DENIED' }],
  ['login_challenge', { kind: 'VALIDATE', action: 'challenge', result: 'challenge' }],
  ['login_verification', { kind: 'VALIDATE', action: 'mfa', result: 'challenge', mfa: true }],
  ['logout', { kind: 'REVOKE', action: 'logout', scope: 'session' }],
  ['suspicious_login', suspicious],
  ['suspicious_login_less_secure_app', suspicious],
  ['suspicious_programmatic_login', suspicious],
])

// login_challenge_method values, as RFC 8176 amr values.
const METHOD_AMR: ReadonlyMap<string, string> = new Map([
  ['password', 'pwd'],
  ['google_authenticator', 'otp'],
  ['totp', 'otp'],
  ['backup_code', 'otp'],
  ['offline_otp', 'otp'],
  ['idv_preregistered_phone', 'sms'],
  ['idv_any_phone', 'sms'],
  ['security_key', 'hwk'],
  ['passkey', 'hwk'],
  ['google_prompt', 'swk'],
  ['internal_two_factor', 'swk'],
])

export function createGoogleWorkspaceFormat(): LogFormat {
  return {
    name: FORMAT,
    description: 'Google Workspace login audit (Admin SDK Reports API activities)',
    parse: function parseGoogleWorkspace(line: string): ParseResult {
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (error) {
        return reject('BAD_JSON', `not JSON: ${(error as Error).message}`)
      }
      if (!isObject(value)) return reject('NOT_AN_OBJECT', 'a line must be an activity object or an activities page')
      if (value.items === undefined || value.id !== undefined) return parseActivity(value, '')
      if (!Array.isArray(value.items)) return reject('BAD_FIELD', 'items: not an array')
      const events: DraftEvent[] = []
      for (let i = 0; i < value.items.length; i++) {
        const item: unknown = value.items[i]
        if (!isObject(item)) return reject('NOT_AN_OBJECT', `items[${i}]: not an activity object`)
        const result = parseActivity(item, `items[${i}].`)
        if (!result.ok) return result
        for (const event of result.events) events.push(event)
      }
      return { ok: true, events }
    },
  }
}

function parseActivity(a: Json, at: string): ParseResult {
  const id = obj(a.id)
  if (!id || id.time === undefined || id.time === null) return reject('MISSING_FIELD', `${at}id.time: required`)
  const ts = isoTime(id.time)
  if (ts === undefined) return reject('BAD_FIELD', `${at}id.time: not an RFC 3339 time`)
  if (a.events === undefined || a.events === null) return reject('MISSING_FIELD', `${at}events: required`)
  if (!Array.isArray(a.events)) return reject('BAD_FIELD', `${at}events: not an array`)
  const application = text(id.applicationName, 64)
  if (application !== undefined && application !== 'login') return accept()

  const actor = obj(a.actor)
  const qualifier = text(id.uniqueQualifier, 64)
  const base = {
    ts,
    source: { system: 'google-workspace', tenant: text(id.customerId, 64), format: FORMAT },
    subject: text(actor?.email, 320)?.toLowerCase() ?? text(actor?.profileId, 64),
    ip: text(a.ipAddress, 64),
    scopes: [],
  }
  const events: DraftEvent[] = []
  for (let i = 0; i < a.events.length; i++) {
    const e: unknown = a.events[i]
    if (!isObject(e)) return reject('NOT_AN_OBJECT', `${at}events[${i}]: not an event object`)
    if (typeof e.name !== 'string') return reject(e.name === undefined ? 'MISSING_FIELD' : 'BAD_FIELD', `${at}events[${i}].name: required string`)
    const rule = RULES.get(e.name)
    if (!rule) continue
    const params = parameters(e.parameters)
    // One activity may hold several events; each gets its own id, stable across replays.
    const suffix = a.events.length > 1 ? `:${i}` : ''
    events.push({
      ...base,
      event_id: qualifier ? `${FORMAT}:${id.time as string}:${qualifier}${suffix}` : undefined,
      kind: rule.kind,
      action: rule.action,
      token_kind: rule.tokenKind,
      revoke_scope: rule.scope,
      result: rule.result === 'challenge' ? challengeResult(params) : rule.result,
      validator: rule.kind === 'VALIDATE' ? 'google' : undefined,
      amr: amrOf(params, rule),
      net_flags: rule.suspicious || params.get('is_suspicious')?.boolValue === true ? ['idp_suspicious'] : [],
    })
  }
  return accept(...events)
}

/** The parameters array as a map by name; a parameter holds value, multiValue, boolValue or intValue. */
function parameters(list: unknown): Map<string, Json> {
  const params = new Map<string, Json>()
  if (!Array.isArray(list)) return params
  for (const p of list) if (isObject(p) && typeof p.name === 'string') params.set(p.name, p)
  return params
}

function challengeResult(params: Map<string, Json>): ValidateResult | undefined {
  const status = text(params.get('login_challenge_status')?.value, 64)?.toLowerCase()
  if (status === undefined) return undefined
  return status.includes('passed') ? 'OK' : status.includes('failed') ? 'DENIED' : undefined
}

function amrOf(params: Map<string, Json>, rule: Rule): string[] {
  const methods = params.get('login_challenge_method')
  const values = Array.isArray(methods?.multiValue) ? methods.multiValue : methods?.value !== undefined ? [methods.value] : []
  const amr = new Set<string>()
  for (const v of values.slice(0, 16)) {
    const mapped = typeof v === 'string' ? METHOD_AMR.get(v) : undefined
    if (mapped) amr.add(mapped)
  }
  const secondFactor = [...amr].some((m) => m !== 'pwd') || params.get('is_second_factor')?.boolValue === true
  if (rule.mfa || secondFactor) amr.add('mfa')
  return [...amr]
}

