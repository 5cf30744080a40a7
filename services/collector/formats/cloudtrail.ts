// AWS CloudTrail: one event record per line, a log file ({"Records": […]}), or an EventBridge event
// ("AWS API Call via CloudTrail" / "AWS Console Sign In via CloudTrail", the record being its `detail`).
// Record fields follow the CloudTrail record contents and userIdentity element references
// (docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html,
// …/cloudtrail-event-reference-user-identity.html) and the STS/sign-in examples of the AWS STS and
// "CloudTrail console sign-in events" guides.
//
// Temporary credentials are the tokens here: their access key id (ASIA…) is not secret, is returned by the
// STS call that issues them (responseElements.credentials.accessKeyId) and is recorded in
// userIdentity.accessKeyId of every call made with them. token_fp "cloudtrail:<access key id>" joins the two.
import { isIP } from 'node:net'
import type { ValidateResult } from '../../../schemas/model.js'
import { accept, reject, type DraftEvent, type LogFormat, type ParseResult } from './types.js'
import { isObject, obj, text, isoTime, type Json } from './fields.js'

const FORMAT = 'cloudtrail'

// STS calls that hand out temporary credentials, and the action their ISSUE event carries.
const ISSUING_CALLS: ReadonlyMap<string, string> = new Map([
  ['AssumeRole', 'assume_role'],
  ['AssumeRoleWithSAML', 'assume_role_saml'],
  ['AssumeRoleWithWebIdentity', 'assume_role_web_identity'],
  ['GetSessionToken', 'get_session_token'],
  ['GetFederationToken', 'get_federation_token'],
])

// errorCode values that say what became of the credentials presented; any other error means the
// credentials were accepted and the call failed for its own reasons.
const ERROR_RESULT: ReadonlyMap<string, ValidateResult> = new Map([
  ['AccessDenied', 'DENIED'],
  ['AccessDeniedException', 'DENIED'],
  ['UnauthorizedOperation', 'DENIED'],
  ['UnauthorizedAccess', 'DENIED'],
  ['ExpiredToken', 'EXPIRED'],
  ['ExpiredTokenException', 'EXPIRED'],
  ['RequestExpired', 'EXPIRED'],
  ['InvalidClientTokenId', 'INVALID'],
  ['InvalidToken', 'INVALID'],
  ['UnrecognizedClientException', 'INVALID'],
  ['AuthFailure', 'INVALID'],
  ['SignatureDoesNotMatch', 'INVALID'],
])

const MONTHS: ReadonlyMap<string, number> = new Map(
  ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map((m, i) => [m, i]),
)

export function createCloudTrailFormat(): LogFormat {
  return {
    name: FORMAT,
    description: 'AWS CloudTrail records (one per line, {"Records": […]} files, or EventBridge events)',
    parse: function parseCloudTrail(line: string): ParseResult {
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (error) {
        return reject('BAD_JSON', `not JSON: ${(error as Error).message}`)
      }
      if (!isObject(value)) return reject('NOT_AN_OBJECT', 'a line must be a CloudTrail record or a {"Records": […]} file')
      if (value.Records !== undefined) {
        if (!Array.isArray(value.Records)) return reject('BAD_FIELD', 'Records: not an array')
        const events: DraftEvent[] = []
        for (let i = 0; i < value.Records.length; i++) {
          const record: unknown = value.Records[i]
          if (!isObject(record)) return reject('NOT_AN_OBJECT', `Records[${i}]: not a record object`)
          const result = parseRecord(record, `Records[${i}].`)
          if (!result.ok) return result
          for (const event of result.events) events.push(event)
        }
        return { ok: true, events }
      }
      if (typeof value['detail-type'] === 'string' && isObject(value.detail)) return parseRecord(value.detail, 'detail.')
      return parseRecord(value, '')
    },
  }
}

function parseRecord(r: Json, at: string): ParseResult {
  if (r.eventName === undefined || r.eventName === null) return reject('MISSING_FIELD', `${at}eventName: required`)
  if (typeof r.eventName !== 'string') return reject('BAD_FIELD', `${at}eventName: not a string`)
  if (r.eventTime === undefined || r.eventTime === null) return reject('MISSING_FIELD', `${at}eventTime: required`)
  const ts = isoTime(r.eventTime)
  if (ts === undefined) return reject('BAD_FIELD', `${at}eventTime: not an ISO 8601 time`)

  const identity = obj(r.userIdentity) ?? {}
  if (identity.type === 'AWSService') return accept() // a service acting on its own behalf, no user token
  const eventSource = text(r.eventSource, 128)
  const errorCode = text(r.errorCode, 128)?.replace(/^(?:Client|Server)\./, '')
  const callerKey = temporaryKey(identity.accessKeyId)
  const attributes = obj(obj(identity.sessionContext)?.attributes)
  const eventId = text(r.eventID, 128)
  const common: Omit<DraftEvent, 'kind' | 'action'> = {
    event_id: eventId ? `${FORMAT}:${eventId}` : undefined,
    ts,
    source: { system: 'aws', tenant: text(r.recipientAccountId, 32) ?? text(identity.accountId, 32), format: FORMAT },
    subject: text(identity.arn, 2048),
    // sourceIPAddress is a service name ("ec2.amazonaws.com", "AWS Internal") when a service made the call.
    ip: address(r.sourceIPAddress),
    user_agent: text(r.userAgent, 2048),
    amr: attributes?.mfaAuthenticated === 'true' ? ['mfa'] : [],
    scopes: [],
  }

  if (r.eventName === 'ConsoleLogin') return consoleLogin(r, identity, common)
  const issuing = eventSource === 'sts.amazonaws.com' ? ISSUING_CALLS.get(r.eventName) : undefined
  if (issuing && !errorCode) return issue(r, issuing, callerKey, common)
  // Only calls signed with temporary credentials are token presentations; long-term keys (AKIA…) are not sessions.
  if (!callerKey && !issuing) return accept()
  return accept({
    ...common,
    kind: 'VALIDATE',
    action: issuing ?? 'request',
    token_kind: callerKey ? 'access' : undefined,
    ...(callerKey ? { jti: callerKey, token_fp: `${FORMAT}:${callerKey}` } : {}),
    issued_at: isoTime(attributes?.creationDate),
    validator: eventSource ?? 'aws',
    route: eventSource ? `${eventSource}/${r.eventName}` : r.eventName,
    result: errorCode ? (ERROR_RESULT.get(errorCode) ?? (issuing ? 'DENIED' : 'OK')) : 'OK',
  })
}

function consoleLogin(r: Json, identity: Json, common: Omit<DraftEvent, 'kind' | 'action'>): ParseResult {
  const outcome = text(obj(r.responseElements)?.ConsoleLogin, 32)
  const mfa = obj(r.additionalEventData)?.MFAUsed === 'Yes'
  // IAM users and the root user sign in with a password; federated and SSO sign-ins do not.
  const password = identity.type === 'IAMUser' || identity.type === 'Root'
  const amr = [...(password ? ['pwd'] : []), ...(mfa ? ['mfa'] : [])]
  const subject = common.subject ?? accountUser(identity)
  if (outcome === 'Success') return accept({ ...common, subject, kind: 'ISSUE', action: 'login', token_kind: 'session_cookie', amr })
  if (outcome !== 'Failure' && r.errorMessage === undefined) return accept()
  return accept({ ...common, subject, kind: 'VALIDATE', action: 'login', amr, result: 'DENIED', validator: 'signin.amazonaws.com' })
}

function issue(r: Json, action: string, callerKey: string | undefined, common: Omit<DraftEvent, 'kind' | 'action'>): ParseResult {
  const response = obj(r.responseElements)
  const credentials = obj(response?.credentials)
  const issuedKey = text(credentials?.accessKeyId, 128)
  const request = obj(r.requestParameters)
  // The issued credentials act as the role session (assumed-role/…/session) or federated user they name;
  // GetSessionToken's act as the caller itself.
  const subject = text(obj(response?.assumedRoleUser)?.arn, 2048) ?? text(obj(response?.federatedUser)?.arn, 2048) ?? common.subject
  const mfa = common.amr?.includes('mfa') || (request !== undefined && text(request.serialNumber) !== undefined)
  return accept({
    ...common,
    kind: 'ISSUE',
    action,
    subject,
    token_kind: 'access',
    ...(issuedKey ? { jti: issuedKey, token_fp: `${FORMAT}:${issuedKey}` } : {}),
    // Role chaining: credentials issued to a caller that itself used temporary credentials.
    parent_token_fp: callerKey ? `${FORMAT}:${callerKey}` : undefined,
    issued_at: common.ts,
    expires_at: stsTime(credentials?.expiration),
    amr: mfa ? ['mfa'] : [],
  })
}

function accountUser(identity: Json): string | undefined {
  const account = text(identity.accountId, 32)
  const user = text(identity.userName, 256)
  return account && user ? `${account}:${user}` : undefined
}

/** Access key ids of temporary credentials start with ASIA; long-term ones with AKIA. */
function temporaryKey(value: unknown): string | undefined {
  const key = text(value, 128)
  return key && key.startsWith('ASIA') ? key : undefined
}

function address(value: unknown): string | undefined {
  const ip = text(value, 64)
  return ip && isIP(ip) ? ip : undefined
}

/** credentials.expiration: "Jan 22, 2021 12:46:28 AM" (UTC) in STS records, ISO 8601 in some others. */
function stsTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined
  if (/^\d{4}-/.test(value)) return isoTime(value)
  const m = /^([A-Z][a-z]{2}) (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2}) ([AP]M)$/.exec(value)
  const month = m ? MONTHS.get(m[1]!) : undefined
  if (!m || month === undefined) return undefined
  const hour = (Number(m[4]) % 12) + (m[7] === 'PM' ? 12 : 0)
  const ms = Date.UTC(Number(m[3]), month, Number(m[2]), hour, Number(m[5]), Number(m[6]))
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined
}

