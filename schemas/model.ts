// TypeScript mirror of schemas/*.avsc. Absent optional fields may be undefined (when built in code)
// or null (when decoded from Avro); code reads them with `?? fallback`.

export type EventKind = 'ISSUE' | 'REVOKE' | 'VALIDATE'
export type TokenKind = 'access' | 'refresh' | 'id' | 'session_cookie' | 'api_key' | 'service_account'
export type RevokeScope = 'token' | 'session' | 'user' | 'client'
export type ValidateResult = 'OK' | 'EXPIRED' | 'REVOKED' | 'INVALID' | 'DENIED'
export type Severity = 'info' | 'ticket' | 'page'

export const EVENT_KINDS: readonly EventKind[] = ['ISSUE', 'REVOKE', 'VALIDATE']
export const TOKEN_KINDS: readonly TokenKind[] = ['access', 'refresh', 'id', 'session_cookie', 'api_key', 'service_account']
export const REVOKE_SCOPES: readonly RevokeScope[] = ['token', 'session', 'user', 'client']
export const VALIDATE_RESULTS: readonly ValidateResult[] = ['OK', 'EXPIRED', 'REVOKED', 'INVALID', 'DENIED']
export const SEVERITIES: readonly Severity[] = ['info', 'ticket', 'page']

type Opt<T> = T | null | undefined

export interface EventSource {
  system: string
  tenant?: Opt<string>
  format?: Opt<string>
}

/** Times are epoch milliseconds. */
export interface AuthEvent {
  event_id: string
  kind: EventKind
  action: string
  ts: number
  ingest_ts: number
  source: EventSource
  subject?: Opt<string>
  session_id?: Opt<string>
  token_fp?: Opt<string>
  token_kind?: Opt<TokenKind>
  parent_token_fp?: Opt<string>
  jti?: Opt<string>
  client_id?: Opt<string>
  scopes: string[]
  amr: string[]
  acr?: Opt<string>
  issued_at?: Opt<number>
  expires_at?: Opt<number>
  revoke_scope?: Opt<RevokeScope>
  claims_unverified: boolean
  ip?: Opt<string>
  ip_prefix?: Opt<string>
  asn?: Opt<number>
  asn_org?: Opt<string>
  country?: Opt<string>
  city?: Opt<string>
  lat?: Opt<number>
  lon?: Opt<number>
  geo_accuracy_km?: Opt<number>
  net_flags: string[]
  user_agent?: Opt<string>
  ua_family?: Opt<string>
  os_family?: Opt<string>
  device_type?: Opt<string>
  device_id?: Opt<string>
  ja4?: Opt<string>
  dpop_jkt?: Opt<string>
  validator?: Opt<string>
  method?: Opt<string>
  route?: Opt<string>
  status?: Opt<number>
  result?: Opt<ValidateResult>
}

export interface Evidence {
  event_ids: string[]
  ips: string[]
  prefixes: string[]
  asns: number[]
  places: string[]
  user_agents: string[]
  times: number[]
  reasons: string[]
}

export interface Detection {
  detection_id: string
  detector: string
  severity: Severity
  score: number
  confirmed: boolean
  subject?: Opt<string>
  session_id?: Opt<string>
  token_fp?: Opt<string>
  summary: string
  evidence: Evidence
  first_malicious_ts: number
  detected_ts: number
  /** Route of the triggering event (VALIDATE events carry one), for privileged.routes; null when it had none. */
  route?: Opt<string>
}

export interface DlqRecord {
  reason: string
  code: string
  origin: string
  format?: Opt<string>
  input: string
  input_bytes: number
  ts: number
}

/** One delivery attempt (or a decision not to send) of the alerter: schemas/alert-delivery.avsc. */
export interface AlertDelivery {
  delivery_id: string
  incident_id: string
  idempotency_key: string
  detection_id: string
  detector: string
  subject?: Opt<string>
  /** webhook, pagerduty, slack, rfc7009, http_action, ssf, policy */
  channel: string
  /** The configured endpoint's name; never its URL, which may hold a token. */
  endpoint: string
  /** trigger, update, acknowledge, resolve, response */
  kind: string
  /** page, ticket, log */
  action: string
  attempt: number
  /** delivered, http_error, network_error, circuit_open, rate_limited, dead_lettered, suppressed, monitor */
  outcome: string
  status?: Opt<number>
  error?: Opt<string>
  duration_ms: number
  ts: number
}

export type Verdict = 'true_positive' | 'false_positive'
export type FeedbackScope = 'user' | 'tenant'
export const VERDICTS: readonly Verdict[] = ['true_positive', 'false_positive']
export const FEEDBACK_SCOPES: readonly FeedbackScope[] = ['user', 'tenant']

/** Networks, places and clients of some uses of a credential. */
export interface FeedbackFacts {
  asns: number[]
  /** Address prefixes as the collector writes them (/24, /64); never raw addresses. */
  prefixes: string[]
  countries: string[]
  /** browser family/OS family/device type, e.g. 'Chrome/Windows/desktop'. */
  clients: string[]
  user_agents: string[]
}

export interface FeedbackEvidence {
  event_ids: string[]
  /** Every use the detection showed. */
  uses: FeedbackFacts
  /** The uses it blamed (all but the reference use). */
  suspicious: FeedbackFacts
}

/** An analyst's verdict on a detection, with the pattern it saw: schemas/detection-feedback.avsc. */
export interface DetectionFeedback {
  feedback_id: string
  detection_id: string
  verdict: Verdict
  scope: FeedbackScope
  note?: Opt<string>
  analyst?: Opt<string>
  ts: number
  detector: string
  detectors: string[]
  subject?: Opt<string>
  session_id?: Opt<string>
  token_fp?: Opt<string>
  score: number
  severity: string
  evidence: FeedbackEvidence
}
