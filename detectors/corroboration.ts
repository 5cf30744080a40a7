// Independent signals agreeing about one session. Each detector scores its own evidence; a session that two
// or more different detectors hold suspicious (ticket or above) is more than either says alone: a copied
// user agent can keep client drift quiet and a residential proxy can keep a network change at a ticket, but
// the same session also teleporting or scraping is not an honest user. The combined score is the chance that
// at least one of them is right, 1 − Π(1 − sᵢ), and the finding is confirmed (issue 4: "independent signals
// agree"). Wraps the engine so its state is checkpointed and restored with the detectors' own.
import type { Detection } from '../schemas/model.js'
import { detectionId, type DetectionEngine, type StateEntry } from './engine.js'
import { severityFor } from './types.js'

export interface CorroborationConfig {
  /** A detector's finding takes part from this score (the ticket threshold). */
  minScore: number
  /** How long after its last detection a session's agreement is remembered, in event time. */
  memoryMs: number
  thresholds: { page: number; ticket: number }
}

export const DEFAULT_CORROBORATION: CorroborationConfig = { minScore: 0.5, memoryMs: 2 * 3600_000, thresholds: { page: 0.8, ticket: 0.5 } }

const NAME = 'corroboration'
const PREFIX = NAME + '|'
const MAX_IDS = 32

interface Agreement {
  subject: string | null
  session_id: string | null
  token_fp: string | null
  /** Highest score per detector. */
  scores: Record<string, number>
  reported: number
  incident_ts: number
  first_malicious_ts: number
  last: number
  event_ids: string[]
  ips: string[]
  asns: number[]
  places: string[]
  user_agents: string[]
}

export function withCorroboration(engine: DetectionEngine, config: CorroborationConfig = DEFAULT_CORROBORATION): DetectionEngine {
  const agreements = new Map<string, Agreement>()
  const changed = new Set<string>()

  function consider(d: Detection, out: Detection[], detectedTs: number | undefined) {
    if (d.score < config.minScore) return
    const key = d.session_id ? 's:' + d.session_id : d.token_fp ? 't:' + d.token_fp : null
    if (!key) return
    let a = agreements.get(key)
    if (!a) {
      a = {
        subject: d.subject ?? null, session_id: d.session_id ?? null, token_fp: d.token_fp ?? null, scores: {}, reported: 0,
        incident_ts: d.first_malicious_ts, first_malicious_ts: d.first_malicious_ts, last: d.detected_ts,
        event_ids: [], ips: [], asns: [], places: [], user_agents: [],
      }
      agreements.set(key, a)
    }
    a.scores[d.detector] = Math.max(a.scores[d.detector] ?? 0, d.score)
    a.first_malicious_ts = Math.min(a.first_malicious_ts, d.first_malicious_ts)
    a.last = Math.max(a.last, d.first_malicious_ts, d.detected_ts)
    merge(a.event_ids, d.evidence.event_ids)
    merge(a.ips, d.evidence.ips)
    merge(a.asns, d.evidence.asns)
    merge(a.places, d.evidence.places)
    merge(a.user_agents, d.evidence.user_agents)
    changed.add(key)
    const agreeing = Object.entries(a.scores).sort(([x], [y]) => (x < y ? -1 : 1))
    if (agreeing.length < 2) return
    const score = Math.round((1 - agreeing.reduce((p, [, s]) => p * (1 - s), 1)) * 100) / 100
    if (score <= a.reported) return
    a.reported = score
    out.push({
      detection_id: detectionId(NAME, a.subject, key, a.incident_ts),
      detector: NAME,
      severity: severityFor(score, config.thresholds),
      score,
      confirmed: true,
      subject: a.subject,
      session_id: a.session_id,
      token_fp: a.token_fp,
      summary: `${agreeing.length} independent detectors agree: ${agreeing.map(([n, s]) => `${n} ${s}`).join(', ')}`,
      evidence: {
        event_ids: [...a.event_ids], ips: [...a.ips], prefixes: [], asns: [...a.asns], places: [...a.places],
        user_agents: [...a.user_agents], times: [a.first_malicious_ts], reasons: agreeing.map(([n, s]) => `${n} scored ${s}`),
      },
      first_malicious_ts: a.first_malicious_ts,
      detected_ts: detectedTs ?? d.detected_ts,
      route: d.route ?? null,
    })
  }

  function forget(watermark: number) {
    for (const [key, a] of agreements) {
      if (a.last + config.memoryMs < watermark) {
        agreements.delete(key)
        changed.add(key)
      }
    }
  }

  let lastSweep = 0
  return {
    get size() {
      return engine.size + agreements.size
    },
    get credentials() {
      return engine.credentials
    },
    get frozen() {
      return engine.frozen
    },
    footprint: () => engine.footprint(),
    close: () => engine.close(),
    get watermark() {
      return engine.watermark
    },
    process(event, detectedTs) {
      const found = engine.process(event, detectedTs)
      if (engine.watermark - lastSweep > config.memoryMs / 4) {
        forget(engine.watermark)
        lastSweep = engine.watermark
      }
      if (found.length === 0) return found
      const out = [...found]
      for (const d of found) consider(d, out, detectedTs)
      return out
    },
    takeChanges() {
      const entries: StateEntry[] = engine.takeChanges()
      for (const key of changed) entries.push({ key: PREFIX + key, state: agreements.get(key) })
      changed.clear()
      return entries
    },
    restore(entries) {
      const own: StateEntry[] = []
      const rest: StateEntry[] = []
      for (const e of entries) (e.key.startsWith(PREFIX) ? own : rest).push(e)
      engine.restore(rest)
      for (const { key, state } of own) {
        if (state === undefined) agreements.delete(key.slice(PREFIX.length))
        else agreements.set(key.slice(PREFIX.length), state as Agreement)
      }
    },
  }
}

function merge<T>(into: T[], more: readonly T[]) {
  for (const x of more) if (into.length < MAX_IDS && !into.includes(x)) into.push(x)
}
