// Analyst feedback (issue 4: "mark a detection true or false positive through the api … lowers future scores for
// the same benign pattern"). A false-positive verdict teaches a *benign pattern*: this detector, this user (or
// every user, tenant-wide), and the networks, countries and clients the detection saw. A later detection that
// falls entirely within a pattern is lowered; one that brings anything new (another network, country or client)
// is not, since that new thing is exactly what a hijack looks like. A true-positive verdict on a detection a
// pattern would have lowered cancels the pattern: an attack came through what was believed benign. Patterns
// expire, so a verdict given once does not silence a user's sessions forever.
//
// Pure: the book is built from records, time is an input, nothing here does I/O. The detector service and the
// backtest feed it the records of the compacted detector.feedback topic (or a file) and wrap the engine with it.
import type { AuthEvent, Detection, DetectionFeedback, FeedbackEvidence, FeedbackFacts, FeedbackScope } from '../schemas/model.js'
import type { DetectionEngine } from './engine.js'
import { severityFor } from './types.js'

const DAY_MS = 24 * 3600_000

export interface FeedbackConfig {
  /** How long a false-positive verdict keeps lowering, from when it was given. */
  expiryMs: number
  /** A matching detection's score is multiplied by this. */
  factor: number
  thresholds: { page: number; ticket: number }
}

/**
 * 0.4 puts even a score of 1 below the ticket threshold (0.5): a benign pattern is recorded (info), never a
 * ticket or a page, and — below the corroboration's `minScore` — takes no part in a corroboration either.
 */
export const DEFAULT_FEEDBACK: FeedbackConfig = { expiryMs: 90 * DAY_MS, factor: 0.4, thresholds: { page: 0.8, ticket: 0.5 } }

/** One use's network, place and client, as an AuthEvent or an auth_events row carries them. */
export interface UseFacts {
  asn?: number | null
  ip_prefix?: string | null
  country?: string | null
  ua_family?: string | null
  os_family?: string | null
  device_type?: string | null
  user_agent?: string | null
}

/** What a detection shows, in the terms patterns are made of. */
export interface Observation {
  detectors: readonly string[]
  subject: string | null
  uses: FeedbackFacts
  /** The use(s) that made it suspicious; empty when unknown. */
  suspicious: FeedbackFacts
}

interface PreparedFacts {
  asns: Set<number>
  prefixes: Set<string>
  countries: Set<string>
  clients: Set<string>
  /** User agents with their version numbers blanked: a browser upgrade is the same client. */
  shapes: Set<string>
}

export interface BenignPattern {
  detection_id: string
  feedback_id: string
  scope: FeedbackScope
  subject: string | null
  detectors: ReadonlySet<string>
  uses: PreparedFacts
  suspicious: PreparedFacts
  ts: number
  expires: number
  analyst: string | null
}

export function emptyFacts(): FeedbackFacts {
  return { asns: [], prefixes: [], countries: [], clients: [], user_agents: [] }
}

/** Browser family/OS family/device type, in the form the detectors compare clients (detectors/signals.ts). */
export function clientOfUse(use: UseFacts): string | null {
  if (!use.ua_family && !use.os_family && !use.device_type) return null
  return `${use.ua_family ?? '?'}/${use.os_family ?? '?'}/${use.device_type ?? '?'}`
}

function add<T>(list: T[], value: T | null | undefined) {
  if (value != null && value !== '' && !list.includes(value)) list.push(value)
}

/** Facts of some uses, each value once, in the order met. */
export function factsOfUses(uses: readonly UseFacts[]): FeedbackFacts {
  const f = emptyFacts()
  for (const u of uses) {
    add(f.asns, u.asn)
    add(f.prefixes, u.ip_prefix)
    add(f.countries, u.country)
    add(f.clients, clientOfUse(u))
    add(f.user_agents, u.user_agent)
  }
  return f
}

export function mergeFacts(into: FeedbackFacts, more: FeedbackFacts): FeedbackFacts {
  for (const a of more.asns) add(into.asns, a)
  for (const p of more.prefixes) add(into.prefixes, p)
  for (const c of more.countries) add(into.countries, c)
  for (const c of more.clients) add(into.clients, c)
  for (const u of more.user_agents) add(into.user_agents, u)
  return into
}

/**
 * What a Detection's own evidence says (places are 'City, CC' or 'CC'; clients it does not name). Evidence read
 * back from JSON may leave empty lists out (the canonical NDJSON form does).
 */
export function factsOfDetection(d: Pick<Detection, 'evidence'>): FeedbackFacts {
  const f = emptyFacts()
  const e = d.evidence
  for (const a of e.asns ?? []) add(f.asns, a)
  for (const p of e.prefixes ?? []) add(f.prefixes, p)
  for (const place of e.places ?? []) add(f.countries, place.split(', ').at(-1))
  for (const ua of e.user_agents ?? []) add(f.user_agents, ua)
  return f
}

const MEMBER = /^([a-z][a-z0-9_]*) scored [0-9.]+$/

/**
 * The detectors a verdict covers: the detection's own, and for a corroboration also the detectors that agreed
 * (its reasons read '<detector> scored <score>', detectors/corroboration.ts). A false positive on a
 * corroboration is a verdict on its parts: they are lowered before they can agree again.
 */
export function detectorsOf(d: Pick<Detection, 'detector' | 'evidence'>): string[] {
  const out = [d.detector]
  if (d.detector === 'corroboration') for (const r of d.evidence.reasons ?? []) add(out, MEMBER.exec(r)?.[1])
  return out
}

function isUse(event: AuthEvent): boolean {
  return event.kind !== 'REVOKE' && (event.asn != null || !!event.ip_prefix)
}

/**
 * A detection coming out of the engine, with the event that set it off: that event is the use that made it
 * suspicious (a revocation arriving late names no use of its own).
 */
export function observe(d: Detection, trigger?: AuthEvent): Observation {
  const uses = factsOfDetection(d)
  const suspicious = trigger && isUse(trigger) ? factsOfUses([trigger]) : emptyFacts()
  return { detectors: [d.detector], subject: d.subject ?? null, uses: mergeFacts(uses, suspicious), suspicious }
}

export function observationOf(r: DetectionFeedback): Observation {
  return { detectors: r.detectors, subject: r.subject ?? null, uses: r.evidence.uses, suspicious: r.evidence.suspicious }
}

export function uaShape(ua: string): string {
  return ua.replace(/\d+(?:[._]\d+)*/g, '#')
}

function prepare(f: FeedbackFacts): PreparedFacts {
  return {
    asns: new Set(f.asns), prefixes: new Set(f.prefixes), countries: new Set(f.countries), clients: new Set(f.clients),
    shapes: new Set(f.user_agents.map(uaShape)),
  }
}

/**
 * Every network, country and client the observation names is in the pattern's. Networks are ASNs where the
 * observation knows any, else address prefixes. A pattern that recorded no client triple is compared by user
 * agent shape only. An unknown value on the observation's side is no evidence either way.
 */
function within(o: FeedbackFacts, p: PreparedFacts, needNetwork: boolean): boolean {
  if (o.asns.length > 0) {
    for (const a of o.asns) if (!p.asns.has(a)) return false
  } else if (o.prefixes.length > 0) {
    for (const x of o.prefixes) if (!p.prefixes.has(x)) return false
  } else if (needNetwork) {
    return false
  }
  for (const c of o.countries) if (!p.countries.has(c)) return false
  if (p.clients.size > 0) for (const c of o.clients) if (!p.clients.has(c)) return false
  for (const ua of o.user_agents) if (!p.shapes.has(uaShape(ua))) return false
  return true
}

const hasNetwork = (p: PreparedFacts) => p.asns.size > 0 || p.prefixes.size > 0

/**
 * User scope: the same subject, and everything the detection shows — and the use that set it off, compared
 * exactly — within what the analyst judged benign. Tenant scope: any subject, and the use that set it off within
 * the uses the analyst's detection blamed (the reference use is each user's own home, not part of the pattern).
 */
export function covers(p: BenignPattern, o: Observation): boolean {
  if (!o.detectors.some((d) => p.detectors.has(d))) return false
  if (p.scope === 'tenant') return within(o.suspicious, p.suspicious, true)
  return p.subject !== null && o.subject === p.subject &&
    within(o.uses, p.uses, hasNetwork(p.uses)) && within(o.suspicious, p.uses, false)
}

export interface FeedbackBook {
  /** A verdict; the latest per detection id wins (as on the compacted topic). */
  add(record: DetectionFeedback): void
  /** A tombstone: the verdicts on this detection are withdrawn. */
  remove(detectionId: string): void
  /** Verdicts held (one per detection). */
  readonly records: number
  /** No benign pattern at all: the fast path. */
  readonly empty: boolean
  /** Benign patterns in force at `at`. */
  patterns(at: number): BenignPattern[]
  match(o: Observation, at: number): BenignPattern | undefined
  /**
   * The detection lowered when a pattern covers it, else the same object. Each detection object is judged once,
   * so wrapping the engine both inside and outside the corroboration never lowers twice.
   */
  judge(d: Detection, trigger: AuthEvent | undefined, at: number): { detection: Detection; pattern?: BenignPattern }
}

export function createFeedbackBook(config: FeedbackConfig = DEFAULT_FEEDBACK): FeedbackBook {
  const records = new Map<string, DetectionFeedback>()
  // Folded from the records on first use after a change. User-scope patterns are filed by subject, so a
  // detection (and a confirmation) is compared with its own user's patterns and the tenant-wide ones only.
  let folded: { all: BenignPattern[]; bySubject: Map<string, BenignPattern[]>; tenant: BenignPattern[] } | undefined
  const judged = new WeakSet<Detection>()

  function fold() {
    if (folded) return folded
    const ordered = [...records.values()].sort((a, b) => a.ts - b.ts || (a.feedback_id < b.feedback_id ? -1 : 1))
    const bySubject = new Map<string, BenignPattern[]>()
    let tenant: BenignPattern[] = []
    for (const r of ordered) {
      if (r.verdict === 'false_positive') {
        if (r.scope === 'user' && !r.subject) continue
        const p: BenignPattern = {
          detection_id: r.detection_id, feedback_id: r.feedback_id, scope: r.scope, subject: r.subject ?? null,
          detectors: new Set(r.detectors.length > 0 ? r.detectors : [r.detector]), uses: prepare(r.evidence.uses),
          suspicious: prepare(r.evidence.suspicious), ts: r.ts, expires: r.ts + config.expiryMs, analyst: r.analyst ?? null,
        }
        if (p.scope === 'tenant') tenant.push(p)
        else bySubject.set(p.subject!, [...(bySubject.get(p.subject!) ?? []), p])
      } else {
        // A confirmed attack the pattern would have lowered: the pattern was wrong.
        const o = observationOf(r)
        tenant = tenant.filter((p) => !covers(p, o))
        const own = o.subject === null ? undefined : bySubject.get(o.subject)
        if (own) bySubject.set(o.subject!, own.filter((p) => !covers(p, o)))
      }
    }
    const all = [...tenant, ...[...bySubject.values()].flat()].sort((a, b) => a.ts - b.ts)
    return (folded = { all, bySubject, tenant })
  }

  function match(o: Observation, at: number): BenignPattern | undefined {
    const f = fold()
    const own = o.subject === null ? undefined : f.bySubject.get(o.subject)
    if (own) for (const p of own) if (at <= p.expires && covers(p, o)) return p
    for (const p of f.tenant) if (at <= p.expires && covers(p, o)) return p
    return undefined
  }

  return {
    add(record) {
      const held = records.get(record.detection_id)
      if (held && (held.ts > record.ts || (held.ts === record.ts && held.feedback_id >= record.feedback_id))) return
      records.set(record.detection_id, record)
      folded = undefined
    },
    remove(detectionId) {
      if (records.delete(detectionId)) folded = undefined
    },
    get records() {
      return records.size
    },
    get empty() {
      return fold().all.length === 0
    },
    patterns: (at) => fold().all.filter((p) => at <= p.expires),
    match,
    judge(d, trigger, at) {
      if (judged.has(d)) return { detection: d }
      judged.add(d)
      const pattern = match(observe(d, trigger), at)
      if (!pattern) return { detection: d }
      const lowered = lower(d, pattern, config)
      judged.add(lowered)
      return { detection: lowered, pattern }
    },
  }
}

/** The score times the factor, severity recomputed, never confirmed, and a reason naming the verdict. */
export function lower(d: Detection, p: BenignPattern, config: FeedbackConfig): Detection {
  const score = Math.round(d.score * config.factor * 100) / 100
  const who = p.scope === 'tenant' ? 'tenant-wide' : `for ${p.subject}`
  const reason = `analyst feedback: benign pattern ${who} (false positive ${p.detection_id}` +
    `${p.analyst ? ` by ${p.analyst}` : ''}, ${new Date(p.ts).toISOString()}): score ${d.score} × ${config.factor} = ${score}`
  return {
    ...d,
    score,
    severity: severityFor(score, config.thresholds),
    confirmed: false,
    evidence: { ...d.evidence, reasons: [...d.evidence.reasons, reason] },
  }
}

/**
 * Wraps an engine so that its detections are judged against the book. In the pipeline and the backtest it sits
 * on both sides of the corroboration wrapper: inside, so a benign finding is lowered (below the corroboration's
 * minScore with the default factor) before it can agree with another and page as a corroboration; outside, for a
 * verdict given on a corroboration detection itself. The book judges each detection object once.
 */
export function withFeedback(engine: DetectionEngine, book: FeedbackBook, onLowered?: (d: Detection, p: BenignPattern) => void): DetectionEngine {
  return {
    get size() {
      return engine.size
    },
    get watermark() {
      return engine.watermark
    },
    get credentials() {
      return engine.credentials
    },
    get frozen() {
      return engine.frozen
    },
    footprint: () => engine.footprint(),
    close: () => engine.close(),
    process(event, detectedTs) {
      const found = engine.process(event, detectedTs)
      if (found.length === 0 || book.empty) return found
      const at = detectedTs ?? event.ts
      let out: Detection[] | undefined
      for (let i = 0; i < found.length; i++) {
        const { detection, pattern } = book.judge(found[i]!, event, at)
        if (!pattern) continue
        out ??= [...found]
        out[i] = detection
        onLowered?.(detection, pattern)
      }
      return out ?? found
    },
    takeChanges: () => engine.takeChanges(),
    restore: (entries) => engine.restore(entries),
  }
}

/**
 * The evidence of a verdict: what the detection itself names, completed with the uses behind its event ids
 * (`uses` by event id, as far as they could be found). The first event id is the reference use (issuance, first
 * use: docs/detectors.md "Evidence"); the others are the uses it blamed.
 */
export function feedbackEvidence(d: Pick<Detection, 'evidence'>, uses: ReadonlyMap<string, UseFacts>): FeedbackEvidence {
  const ids = d.evidence.event_ids ?? []
  const blamed = ids.length > 1 ? ids.slice(1) : ids
  const found = (list: readonly string[]) => list.flatMap((id) => (uses.has(id) ? [uses.get(id)!] : []))
  return {
    event_ids: [...ids],
    uses: mergeFacts(factsOfDetection(d), factsOfUses(found(ids))),
    suspicious: factsOfUses(found(blamed)),
  }
}
