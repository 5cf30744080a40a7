// Shared Signals (SSF 1.0) / CAEP Security Event Tokens (RFC 8417). A line is the SET as a transmitter pushes
// it (RFC 8935: the compact JWS itself), its decoded JSON payload, or a poll response (RFC 8936:
// {"sets": {"<jti>": "<JWS>", …}}). Signatures are NOT verified here: the claims only serve to group and
// order events and every event is marked claims_unverified. Encrypted SETs (JWE) are refused.
// Subjects are read as SSF 1.0 §3 describes them: a top-level sub_id holding an RFC 9493 subject identifier
// (email, iss_sub, opaque, phone_number, account, did, uri, aliases) or a complex subject
// ({"format": "complex", "user", "session", "device", "tenant", …}; drafts left "format" out), and the legacy
// CAEP `subject` member inside the event. Event types follow OpenID CAEP 1.0 §3.
import { accept, reject, type DraftEvent, type LogFormat, type ParseResult } from './types.js'
import { isObject, obj, text, type Json } from './fields.js'

const FORMAT = 'ssf'

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/'

interface Rule {
  action: string
  /** session-revoked is session-scoped when its subject names a session; the others always reach the user. */
  sessionScoped?: true
}

const RULES: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  [`${CAEP}session-revoked`, { action: 'session_revoked', sessionScoped: true }],
  [`${CAEP}credential-change`, { action: 'credential_change' }],
  [`${CAEP}token-claims-change`, { action: 'token_claims_change' }],
])

/** What a subject identifier tells: whose it is, which session, or which JWT (SSF §3.5 jwt_id). */
interface Subject {
  user?: string
  session?: string
  jti?: string
}

export function createSsfFormat(): LogFormat {
  return {
    name: FORMAT,
    description: 'Shared Signals / CAEP Security Event Tokens (compact JWS, JSON payload or RFC 8936 poll response)',
    parse: function parseSsf(line: string): ParseResult {
      const input = line.trim()
      if (input[0] !== '{') return fromJws(input, '')
      let value: unknown
      try {
        value = JSON.parse(input)
      } catch (error) {
        return reject('BAD_JSON', `not JSON: ${(error as Error).message}`)
      }
      if (!isObject(value)) return reject('NOT_AN_OBJECT', 'a JSON line must be a SET payload object')
      if (value.events === undefined && isObject(value.sets)) return fromPollResponse(value.sets)
      return fromPayload(value, '')
    },
  }
}

function fromPollResponse(sets: Json): ParseResult {
  const events: DraftEvent[] = []
  for (const [jti, jws] of Object.entries(sets)) {
    const at = `sets[${JSON.stringify(jti.slice(0, 64))}].`
    if (typeof jws !== 'string') return reject('BAD_FIELD', `${at.slice(0, -1)}: not a compact JWS string`)
    const result = fromJws(jws, at)
    if (!result.ok) return result
    for (const event of result.events) events.push(event)
  }
  return { ok: true, events }
}

function fromJws(jws: string, at: string): ParseResult {
  const parts = jws.split('.')
  if (parts.length === 5) return reject('UNPARSEABLE', `${at}encrypted SETs (JWE) are not read`)
  if (parts.length !== 3 || !/^[A-Za-z0-9_-]+$/.test(parts[1]!)) return reject('UNPARSEABLE', `${at}neither a compact JWS nor a JSON payload`)
  let payload: unknown
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'))
  } catch (error) {
    return reject('BAD_JSON', `${at}payload: not JSON: ${(error as Error).message}`)
  }
  if (!isObject(payload)) return reject('NOT_AN_OBJECT', `${at}payload: not a claims object`)
  return fromPayload(payload, at)
}

function fromPayload(set: Json, at: string): ParseResult {
  if (set.events === undefined || set.events === null) return reject('MISSING_FIELD', `${at}events: required`)
  if (!isObject(set.events)) return reject('BAD_FIELD', `${at}events: not an object`)
  const jti = text(set.jti, 256)
  const topSubject = subjectOf(set.sub_id) ?? (typeof set.sub === 'string' ? { user: text(set.sub) } : undefined)
  const matched: [string, Rule, Json][] = []
  for (const [type, payload] of Object.entries(set.events)) {
    const rule = RULES.get(type)
    if (rule) matched.push([type, rule, obj(payload) ?? {}])
  }
  if (matched.length === 0) return accept()

  const events: DraftEvent[] = []
  for (const [type, rule, payload] of matched) {
    // event_timestamp is when the event happened; iat when the SET was made (both NumericDate, seconds).
    const seconds = numericDate(payload.event_timestamp) ?? numericDate(set.iat)
    if (seconds === undefined) {
      const absent = payload.event_timestamp === undefined && set.iat === undefined
      return reject(absent ? 'MISSING_FIELD' : 'BAD_FIELD', `${at}iat: required NumericDate (or event_timestamp)`)
    }
    const subject = subjectOf(payload.subject) ?? topSubject ?? {}
    if (!subject.user && !subject.session && !subject.jti) return reject('MISSING_FIELD', `${at}sub_id: no subject the event applies to`)
    const scope = subject.jti ? 'token' : rule.sessionScoped && subject.session ? 'session' : 'user'
    const name = type.slice(type.lastIndexOf('/') + 1)
    events.push({
      event_id: jti ? `${FORMAT}:${jti}${matched.length > 1 ? `:${name}` : ''}` : undefined,
      kind: 'REVOKE',
      action: rule.action,
      ts: Math.round(seconds * 1000),
      source: { system: 'ssf', tenant: text(set.iss, 256), format: FORMAT },
      subject: subject.user,
      session_id: scope === 'session' ? subject.session : undefined,
      jti: subject.jti,
      revoke_scope: scope,
      claims_unverified: true,
      scopes: [],
      amr: [],
    })
  }
  return accept(...events)
}

/** An RFC 9493 / SSF subject identifier, simple or complex; nesting is bounded (complex → aliases → simple). */
function subjectOf(value: unknown, depth = 0): Subject | undefined {
  if (!isObject(value) || depth > 3) return undefined
  // Early CAEP drafts named the format "subject_type".
  const format = text(value.format, 64) ?? text(value.subject_type, 64)
  switch (format) {
    case 'email':
      return { user: text(value.email, 320)?.toLowerCase() }
    case 'iss_sub':
    case 'iss-sub':
      return { user: text(value.sub) }
    case 'opaque':
      return { user: text(value.id) }
    case 'phone_number':
      return { user: text(value.phone_number, 64) }
    case 'account': {
      const uri = text(value.uri)
      return { user: uri?.startsWith('acct:') ? uri.slice(5).toLowerCase() : uri }
    }
    case 'did':
    case 'uri':
      return { user: text(value.url) ?? text(value.uri) }
    case 'jwt_id':
      return { jti: text(value.jti, 256) }
    case 'aliases': {
      if (!Array.isArray(value.identifiers)) return undefined
      for (const alias of value.identifiers.slice(0, 16)) {
        const s = subjectOf(alias, depth + 1)
        if (s?.user || s?.jti) return s
      }
      return undefined
    }
    case 'complex':
    case undefined: {
      const user = subjectOf(value.user, depth + 1)
      const session = subjectOf(value.session, depth + 1)
      if (!user && !session) return undefined
      // A session member is itself a subject identifier (usually opaque): its value is the session id.
      return { user: user?.user, session: session?.user }
    }
    default:
      return undefined
  }
}

function numericDate(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value < 1e11 ? value : undefined
}

