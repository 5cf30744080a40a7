// A session's API behaviour against its user's own baseline and the tenant's: peak request rate per minute,
// route entropy, routes the user never called, bulk/export routes. Robust statistics (median and median
// absolute deviation) keep one odd past session from moving the baseline. The user's baseline is compact — a
// bounded list of per-session summaries and a capped route set — and lives in one slot per user, next to the
// user's live sessions. The tenant's is the routes many of its users call (slot `g:<tenant>`): a route new to
// one user but called by many colleagues is the application's, not exploration, and a user with no baseline
// yet is judged against it. Sessions this detector reported teach neither baseline, so a scraper cannot.
import { median, medianAbsoluteDeviation } from 'simple-statistics'
import { appended, createInterner } from './compact.js'
import type { AuthEvent } from '../schemas/model.js'
import { createMachineIdentityTest, credentialKey, DEFAULT_MACHINE_SUBJECTS, createUseReader, evidenceOf, hash32, roundScore, type Use } from './signals.js'
import { NO_FINDINGS, NO_SLOTS, severityFor, type Detector, type Finding, type Peek, type StepResult } from './types.js'

export interface ApiAnomalyConfig {
  /** A session with no request for this long is over and joins the baseline. */
  sessionIdleMs: number
  /** A user's baseline is forgotten this long after their last request. */
  baselineTtlMs: number
  /** Past sessions needed before the baseline is trusted. */
  minBaselineSessions: number
  /** Robust z-score (in MADs) above which a session's peak rate is anomalous. */
  rateZ: number
  /** Peak rate below which nothing is anomalous, whatever the baseline (a page load fires dozens of calls). */
  minRatePerMinute: number
  /** Peak rate anomalous even without a baseline: no person clicks this fast. */
  absoluteRatePerMinute: number
  /** Requests before a session's route entropy is judged, and the z-score and bits it must differ by. */
  entropyMinRequests: number
  entropyZ: number
  entropyMinBits: number
  /** Distinct routes never seen for the user, in one session, that count as exploring. */
  newRoutesMin: number
  /** Route fragments that mark bulk reads: a segment equal to one of them. */
  bulkSegments: readonly string[]
  /** Machine identities run batch jobs by design: judged only when this is on. */
  includeMachineIdentities: boolean
  machineSubjects: readonly string[]
  maxLiveSessions: number
  maxBaselineSessions: number
  maxBaselineRoutes: number
  maxSessionRoutes: number
  /** Distinct users calling a route before it is the tenant's (common); routes tracked per tenant. */
  tenantRouteUsers: number
  maxTenantRoutes: number
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_API_ANOMALY: ApiAnomalyConfig = {
  sessionIdleMs: 30 * 60_000,
  baselineTtlMs: 30 * 24 * 3600_000,
  minBaselineSessions: 3,
  rateZ: 6,
  minRatePerMinute: 60,
  absoluteRatePerMinute: 300,
  entropyMinRequests: 30,
  entropyZ: 4,
  entropyMinBits: 1,
  newRoutesMin: 5,
  bulkSegments: ['export', 'exports', 'bulk', 'download', 'downloads', 'backup', 'dump', 'archive', 'batch'],
  includeMachineIdentities: false,
  machineSubjects: DEFAULT_MACHINE_SUBJECTS,
  maxLiveSessions: 6,
  maxBaselineSessions: 30,
  maxBaselineRoutes: 128,
  maxSessionRoutes: 32,
  tenantRouteUsers: 5,
  maxTenantRoutes: 2048,
  thresholds: { page: 0.8, ticket: 0.5 },
}

const OTHER_ROUTES = '…'

interface LiveSession {
  key: string
  session_id: string | null
  token_fp: string | null
  start: number
  last: number
  n: number
  /** Current one-minute bucket (epoch minute) and its count; `peak` is the busiest minute so far. */
  minute: number
  in_minute: number
  peak: number
  /**
   * Distinct routes (capped; the rest counted under OTHER_ROUTES) and their request counts, as parallel
   * arrays (plain JSON; a request bumps its route's count in place).
   */
  routes: string[]
  counts: number[]
  /** Distinct routes the user had never called (capped, for evidence); null while there are none. */
  new_routes: string[] | null
  bulk_routes: string[] | null
  /**
   * The evidence's reference use. null when the engine's record of the credential holds it (its first use,
   * usually the login): the session's first request is kept only for a credential the record did not know.
   */
  first: Use | null
  flagged: Use | null
  incident_ts: number | null
  reported_score: number
}

interface Baseline {
  sessions: number
  peaks: number[]
  entropies: number[]
  routes: string[]
  bulk: boolean
  /** Median and MAD of peaks and entropies, computed when a session is folded in (not on every request). */
  peak_median: number
  peak_mad: number
  entropy_median: number
  entropy_mad: number
}

export interface ApiAnomalyState {
  subject: string
  /** null until the first of the user's sessions is over. */
  baseline: Baseline | null
  live: LiveSession[]
  last: number
}

/**
 * `g:<tenant>`: routes the tenant's users call, each with up to `tenantRouteUsers` distinct users (32-bit name
 * hashes); a route with that many is common. Parallel arrays, plain JSON.
 */
export interface TenantRoutes {
  tenant: true
  routes: string[]
  users: number[][]
  last: number
}

export type ApiAnomalySlotState = ApiAnomalyState | TenantRoutes

export function createApiAnomalyDetector(config: ApiAnomalyConfig = DEFAULT_API_ANOMALY): Detector<ApiAnomalySlotState> {
  const read = createUseReader()
  const isMachine = createMachineIdentityTest(config.machineSubjects)
  const bulkSegments = new Set(config.bulkSegments.map((x) => x.toLowerCase()))
  const isBulk = (route: string) => route.toLowerCase().split(/[/?.]/).some((seg) => bulkSegments.has(seg))
  // Routes repeat across every user's sessions: each distinct one is kept once.
  const intern = createInterner(1 << 16)

  // The slots an event touches, reused: the engine reads the list before the next call.
  const two = ['', '']
  return {
    name: 'api_anomaly',
    slots(event) {
      if (event.kind !== 'VALIDATE' || event.result !== 'OK' || !event.route || !event.subject) return NO_SLOTS
      if (!config.includeMachineIdentities && isMachine(event)) return NO_SLOTS
      // A request that names neither a session nor a token (no credentialKey) has no session to judge.
      if (!event.session_id && !event.token_fp) return NO_SLOTS
      // The user is judged first, against what the tenant knew before this request; then the tenant learns.
      two[0] = 'u:' + event.subject
      two[1] = tenantSlot(event.source.tenant ?? '')
      return two
    },
    step: function apiAnomaly(state, event, slot, context, peek): StepResult<ApiAnomalySlotState> {
      if (slot.startsWith('g:')) return { state: learnTenant(state as TenantRoutes | undefined, event, peek), findings: NO_FINDINGS }
      const tenant = peek?.(tenantSlot(event.source.tenant ?? '')) as TenantRoutes | undefined
      const common = (r: string) => tenant !== undefined && usersOf(tenant, r) >= config.tenantRouteUsers
      const tenantReady = () => tenant !== undefined && isTenantReady(tenant, config)
      // The record's copies of the subject and fingerprint are shared rather than the event's kept.
      const s: ApiAnomalyState = (state as ApiAnomalyState | undefined) ??
        { subject: context?.subject != null && context.subject === event.subject ? context.subject : event.subject!, baseline: null, live: [], last: event.ts }
      if (event.ts > s.last) s.last = event.ts
      foldFinished(s, config)
      const known = context !== undefined && context.uses > 0
      const key = known ? context.key : credentialKey(event)!
      const route = intern(event.route)!
      let live: LiveSession | undefined
      for (const x of s.live) if (x.key === key) { live = x; break }
      if (!live) {
        const fp = event.token_fp ?? null
        live = {
          key, session_id: event.session_id ?? null, token_fp: known && context.tokenFp === fp ? context.tokenFp : fp, start: event.ts, last: event.ts, n: 0,
          minute: Math.floor(event.ts / 60_000), in_minute: 0, peak: 0, routes: [], counts: [], new_routes: null, bulk_routes: null,
          first: known ? null : read.useOf(event, context), flagged: null, incident_ts: null, reported_score: 0,
        }
        // Lists grow by exact copies (compact.ts): a user has a few live sessions of a few routes each.
        s.live = appended(s.live, live)
      }
      count(live, event, route, s.baseline, config, isBulk, common, tenantReady)
      if (s.live.length > config.maxLiveSessions) {
        // The least recently active session is over as far as memory goes: it joins the baseline.
        s.live.sort((a, b) => b.last - a.last)
        for (const old of s.live.splice(config.maxLiveSessions)) fold(s, old, config)
      }

      const judged = judge(live, s.baseline, config)
      if (!judged || judged.score <= live.reported_score) return { state: s, findings: NO_FINDINGS }
      live.flagged ??= read.useOf(event, context)
      live.incident_ts ??= event.ts
      live.reported_score = judged.score
      const first = live.first ?? (context?.key === live.key ? context.first() : null) ?? live.flagged
      return { state: s, findings: [toFinding(s, live, first, judged, config)] }
    },
    expiry: (state) => state.last + config.baselineTtlMs,
  }

  /** The tenant learns a route's users from requests of sessions this detector has not reported. */
  function learnTenant(state: TenantRoutes | undefined, event: AuthEvent, peek: Peek<ApiAnomalySlotState> | undefined): TenantRoutes {
    const t: TenantRoutes = state ?? { tenant: true, routes: [], users: [], last: event.ts }
    if (event.ts > t.last) t.last = event.ts
    const route = event.route!
    let at = indexOf(t).get(route)
    // Common already: nothing more to learn (most requests).
    if (at !== undefined && t.users[at]!.length >= config.tenantRouteUsers) return t
    const user = peek?.('u:' + event.subject) as ApiAnomalyState | undefined
    const key = credentialKey(event)
    if (user?.live.some((x) => x.key === key && x.reported_score >= config.thresholds.ticket)) return t
    if (at === undefined) {
      if (t.routes.length >= config.maxTenantRoutes) return t
      t.routes = appended(t.routes, route)
      t.users = appended(t.users, [])
      at = t.routes.length - 1
      indexOf(t).set(route, at)
    }
    const users = t.users[at]!
    const h = hash32(event.subject!)
    if (!users.includes(h)) users.push(h)
    return t
  }

  function usersOf(tenant: TenantRoutes, route: string): number {
    const at = indexOf(tenant).get(route)
    return at === undefined ? 0 : tenant.users[at]!.length
  }

  /** Enough of the tenant seen to call a route rare in it: some routes are common already. */
  function isTenantReady(tenant: TenantRoutes, config: ApiAnomalyConfig): boolean {
    let common = 0
    for (const users of tenant.users) if (users.length >= config.tenantRouteUsers && ++common >= 3) return true
    return false
  }
}

/**
 * Route → position in a tenant state's lists, built on first use and kept beside the state (not in it: the state
 * stays plain JSON for checkpoints). Only this detector writes the lists, and it updates the index as it does.
 */
const routeIndex = new WeakMap<TenantRoutes, Map<string, number>>()
function indexOf(tenant: TenantRoutes): Map<string, number> {
  let index = routeIndex.get(tenant)
  if (!index) {
    index = new Map(tenant.routes.map((r, i) => [r, i]))
    routeIndex.set(tenant, index)
  }
  return index
}

/** 'g:<tenant>', built once per tenant name. */
const tenantSlots = new Map<string, string>()
function tenantSlot(tenant: string): string {
  let slot = tenantSlots.get(tenant)
  if (slot === undefined) {
    if (tenantSlots.size >= 1024) tenantSlots.clear()
    slot = 'g:' + tenant
    tenantSlots.set(tenant, slot)
  }
  return slot
}

function count(
  live: LiveSession, event: AuthEvent, route: string, baseline: Baseline | null, config: ApiAnomalyConfig, isBulk: (r: string) => boolean,
  common: (r: string) => boolean, tenantReady: () => boolean,
): void {
  live.n++
  live.last = Math.max(live.last, event.ts)
  const minute = Math.floor(event.ts / 60_000)
  if (minute === live.minute) live.in_minute++
  else if (minute > live.minute) { live.minute = minute; live.in_minute = 1 }
  // A late event for an earlier minute is counted in no bucket: the peak stays a lower bound.
  live.peak = Math.max(live.peak, live.in_minute)
  let at = live.routes.indexOf(route)
  if (at < 0) {
    const name = live.routes.length < config.maxSessionRoutes ? route : OTHER_ROUTES
    at = live.routes.indexOf(name)
    if (at < 0) {
      live.routes = appended(live.routes, name)
      live.counts = appended(live.counts, 0)
      at = live.routes.length - 1
    }
    // New to the user (against the user's baseline, or the tenant's while the user has none) and not one the
    // tenant's users commonly call: exploring.
    const userReady = baseline !== null && baseline.sessions >= config.minBaselineSessions
    if ((userReady ? !baseline.routes.includes(route) : tenantReady()) && !common(route) &&
      (live.new_routes?.length ?? 0) < 2 * config.newRoutesMin && !live.new_routes?.includes(route)) {
      live.new_routes = appended(live.new_routes ?? [], route)
    }
    // A bulk route many colleagues call (a weekly export) is part of the job.
    if (isBulk(route) && !common(route) && !live.bulk_routes?.includes(route) && (live.bulk_routes?.length ?? 0) < 4) live.bulk_routes = appended(live.bulk_routes ?? [], route)
  }
  live.counts[at]!++
}

/** Shannon entropy, in bits, of the session's route distribution. */
export function routeEntropy(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0)
  if (total === 0) return 0
  let h = 0
  for (const c of counts) h -= (c / total) * Math.log2(c / total)
  return h
}

const EMPTY_BASELINE: Baseline = Object.freeze(emptyBaseline()) as Baseline

function emptyBaseline(): Baseline {
  return { sessions: 0, peaks: [], entropies: [], routes: [], bulk: false, peak_median: 0, peak_mad: 0, entropy_median: 0, entropy_mad: 0 }
}

/**
 * How many MADs (scaled to a standard deviation, ×1.4826, as for normal data) a value lies from the median;
 * the spread is floored so a perfectly regular user does not make every deviation infinite.
 */
function robustZ(value: number, med: number, mad: number, floor: number): number {
  return (value - med) / Math.max(1.4826 * mad, floor)
}

interface Judged {
  score: number
  reasons: string[]
  signals: number
}

function judge(live: LiveSession, baseline: Baseline | null, config: ApiAnomalyConfig): Judged | null {
  const b = baseline ?? EMPTY_BASELINE
  const ready = b.sessions >= config.minBaselineSessions && b.peaks.length > 0
  const reasons: string[] = []
  let score = 0
  let signals = 0
  if (live.peak >= config.minRatePerMinute) {
    if (ready) {
      const med = b.peak_median
      const mad = b.peak_mad
      const z = robustZ(live.peak, med, mad, Math.max(1, 0.1 * med))
      if (z >= config.rateZ) {
        score += z >= 2 * config.rateZ ? 0.55 : 0.45
        signals++
        reasons.push(`peak ${live.peak} requests/min against the user's median ${med} (MAD ${mad}): ${Math.round(z)} deviations`)
      }
    } else if (live.peak >= config.absoluteRatePerMinute) {
      score += 0.45
      signals++
      reasons.push(`peak ${live.peak} requests/min (no baseline yet; ${config.absoluteRatePerMinute}/min is beyond any person)`)
    }
  }
  // Entropy moves slowly: judged every tenth request once there are enough.
  if (ready && live.n >= config.entropyMinRequests && live.n % 10 === 0 && b.entropies.length >= config.minBaselineSessions) {
    const h = routeEntropy(live.counts)
    const med = b.entropy_median
    const z = robustZ(h, med, b.entropy_mad, 0.25)
    if (Math.abs(z) >= config.entropyZ && Math.abs(h - med) >= config.entropyMinBits) {
      score += 0.2
      signals++
      reasons.push(`route entropy ${h.toFixed(2)} bits against the user's median ${med.toFixed(2)}: ${h > med ? 'crawling many routes' : 'hammering few routes'}`)
    }
  }
  if (live.new_routes !== null && live.new_routes.length >= config.newRoutesMin) {
    score += 0.25
    signals++
    reasons.push(`${live.new_routes.length} routes this user never called, and few of the tenant's users do: ${live.new_routes.slice(0, 5).join(', ')}`)
  }
  if (live.bulk_routes !== null && live.bulk_routes.length > 0) {
    if (ready && !b.bulk) {
      score += 0.3
      signals++
      reasons.push(`bulk route never used by this user before: ${live.bulk_routes.join(', ')}`)
    } else if (!ready) {
      score += 0.2
      reasons.push(`bulk route: ${live.bulk_routes.join(', ')}`)
    }
  }
  if (score === 0) return null
  return { score: roundScore(score), reasons, signals }
}

/** Sessions idle for the configured time are over: their summary joins the baseline. */
function foldFinished(s: ApiAnomalyState, config: ApiAnomalyConfig): void {
  let idle = false
  for (const x of s.live) if (s.last - x.last > config.sessionIdleMs) { idle = true; break }
  if (!idle) return
  const done = s.live.filter((x) => s.last - x.last > config.sessionIdleMs)
  s.live = s.live.filter((x) => !done.includes(x))
  for (const x of done) fold(s, x, config)
}

function fold(s: ApiAnomalyState, x: LiveSession, config: ApiAnomalyConfig): void {
  // A session this detector reported is not normal behaviour, whoever it turns out to be.
  if (x.reported_score >= config.thresholds.ticket) return
  const b = (s.baseline ??= emptyBaseline())
  b.sessions++
  b.peaks = [...b.peaks, x.peak].slice(-config.maxBaselineSessions)
  b.peak_median = median(b.peaks)
  b.peak_mad = medianAbsoluteDeviation(b.peaks)
  if (x.n >= config.entropyMinRequests) {
    b.entropies = [...b.entropies, routeEntropy(x.counts)].slice(-config.maxBaselineSessions)
    b.entropy_median = median(b.entropies)
    b.entropy_mad = medianAbsoluteDeviation(b.entropies)
  }
  const routes = new Set(b.routes)
  for (const r of x.routes) if (r !== OTHER_ROUTES && routes.size < config.maxBaselineRoutes) routes.add(r)
  b.routes = [...routes]
  b.bulk ||= x.bulk_routes !== null && x.bulk_routes.length > 0
}

function toFinding(s: ApiAnomalyState, live: LiveSession, first: Use | null, j: Judged, config: ApiAnomalyConfig): Finding {
  const score = j.score
  return {
    detector: 'api_anomaly',
    // The incident is the session; the slot is the user's.
    key: live.key,
    incident_ts: live.incident_ts!,
    severity: severityFor(score, config.thresholds),
    score,
    // Behaviour alone is never decisive; three independent behaviour signals agreeing is.
    confirmed: j.signals >= 3 && score >= config.thresholds.page,
    subject: s.subject,
    session_id: live.session_id,
    token_fp: live.token_fp,
    summary: `session API behaviour unlike ${s.subject}'s own (${j.reasons.length} signal${j.reasons.length === 1 ? '' : 's'})`,
    evidence: evidenceOf(first ? [first, live.flagged!] : [live.flagged!], j.reasons),
    first_malicious_ts: live.incident_ts!,
  }
}
