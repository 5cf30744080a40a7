// The JSON form of a DetectionFeedback record (schemas/detection-feedback.avsc): what the api answers and what
// `sessionwatch backtest --feedback <file>` reads, one record per line. The same fields as the Avro record, with
// `ts` as an RFC 3339 string (epoch milliseconds are accepted when reading).
import { z } from 'zod'
import { FEEDBACK_SCOPES, VERDICTS, type DetectionFeedback } from '../../schemas/model.js'

const MAX_LIST = 256
const text = (max: number) => z.string().max(max)
const list = <T extends z.ZodType>(item: T) => z.array(item).max(MAX_LIST)

const facts = z.object({
  asns: list(z.number().int().min(0).max(4_294_967_295)).default([]),
  prefixes: list(text(64)).default([]),
  countries: list(text(64)).default([]),
  clients: list(text(256)).default([]),
  user_agents: list(text(2048)).default([]),
})

const time = z.union([z.number().int().nonnegative(), z.string().datetime({ offset: true }).transform((s) => Date.parse(s))])

const feedbackJson = z.object({
  feedback_id: text(128).min(1),
  detection_id: text(128).min(1),
  verdict: z.enum(VERDICTS as [string, ...string[]]),
  scope: z.enum(FEEDBACK_SCOPES as [string, ...string[]]).default('user'),
  note: text(2000).nullish(),
  analyst: text(200).nullish(),
  ts: time,
  detector: text(64).min(1),
  detectors: list(text(64)).default([]),
  subject: text(512).nullish(),
  session_id: text(512).nullish(),
  token_fp: text(512).nullish(),
  score: z.number().min(0).max(1),
  severity: text(16),
  evidence: z.object({ event_ids: list(text(512)).default([]), uses: facts, suspicious: facts }),
})

export type FeedbackParse = { ok: true; record: DetectionFeedback } | { ok: false; problem: string }

/** Bad input is a result: the problem names the fields. */
export function parseFeedbackJson(value: unknown): FeedbackParse {
  const parsed = feedbackJson.safeParse(value)
  if (!parsed.success) return { ok: false, problem: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ') }
  const r = parsed.data
  const record: DetectionFeedback = {
    ...r,
    verdict: r.verdict as DetectionFeedback['verdict'],
    scope: r.scope as DetectionFeedback['scope'],
    note: r.note ?? null,
    analyst: r.analyst ?? null,
    subject: r.subject ?? null,
    session_id: r.session_id ?? null,
    token_fp: r.token_fp ?? null,
    detectors: r.detectors.length > 0 ? r.detectors : [r.detector],
  }
  return { ok: true, record }
}

export function feedbackToJson(record: DetectionFeedback): Record<string, unknown> {
  return { ...record, ts: new Date(record.ts).toISOString() }
}
