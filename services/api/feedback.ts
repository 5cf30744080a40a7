// An analyst's verdict, from the HTTP request to the record on detector.feedback: the request is validated
// (bounded, closed fields), the detection is looked up so that the record carries the pattern it saw — its
// detector, subject, networks, countries and clients (detectors/feedback.ts makes patterns of them) — and the
// record is built here once, so the detector, the sink and the backtest all read the same thing.
import { z } from 'zod'
import type { Detection, DetectionFeedback, Evidence } from '../../schemas/model.js'
import { detectorsOf, feedbackEvidence, type UseFacts } from '../../detectors/feedback.js'

export const MAX_NOTE_CHARS = 2000
export const MAX_ANALYST_CHARS = 200
/** Far above any valid request (a verdict, a note of MAX_NOTE_CHARS, a name): a larger body is 413. */
export const FEEDBACK_BODY_LIMIT = 16 * 1024

const printable = /^[^\u0000-\u001f\u007f]*$/

export const feedbackRequest = z.object({
  verdict: z.enum(['true_positive', 'false_positive']),
  note: z.string().max(MAX_NOTE_CHARS).optional(),
  analyst: z.string().min(1).max(MAX_ANALYST_CHARS).regex(printable, 'no control characters').optional(),
  scope: z.enum(['user', 'tenant']).default('user'),
}).strict()

export type FeedbackRequest = z.infer<typeof feedbackRequest>

/** A detection id as the engine makes them (detectors/engine.ts detectionId). */
export const DETECTION_ID = /^det_[0-9a-f]{32}$/

/** A detections row as queries.detection returns it. */
export interface DetectionRow {
  detection_id: string
  detector: string
  severity: string
  score: number
  subject: string
  session_id: string
  token_fp: string
  evidence: string
}

export type BuiltFeedback = { ok: true; record: DetectionFeedback } | { ok: false; status: number; error: string }

/**
 * The record for one verdict. `uses` are the auth events behind the detection's event ids, as far as ClickHouse
 * still holds them; the detection's own evidence fills in the rest.
 */
export function buildFeedback(row: DetectionRow, uses: ReadonlyMap<string, UseFacts>, request: FeedbackRequest, feedbackId: string, now: number): BuiltFeedback {
  const evidence = JSON.parse(row.evidence) as Evidence
  const detection: Pick<Detection, 'detector' | 'evidence'> = { detector: row.detector, evidence }
  const pattern = feedbackEvidence(detection, uses)
  const subject = row.subject || null
  if (request.scope === 'user' && !subject) {
    return { ok: false, status: 422, error: 'the detection names no subject: a user-scope verdict has no user to apply to (use scope "tenant")' }
  }
  const suspicious = pattern.suspicious
  if (request.verdict === 'false_positive' && request.scope === 'tenant' && suspicious.asns.length === 0 && suspicious.prefixes.length === 0) {
    return { ok: false, status: 422, error: 'the uses this detection blamed are no longer in the trail (or name no network): a tenant-wide pattern needs their networks' }
  }
  return {
    ok: true,
    record: {
      feedback_id: feedbackId,
      detection_id: row.detection_id,
      verdict: request.verdict,
      scope: request.scope,
      note: request.note ?? null,
      analyst: request.analyst ?? null,
      ts: now,
      detector: row.detector,
      detectors: detectorsOf(detection),
      subject,
      session_id: row.session_id || null,
      token_fp: row.token_fp || null,
      score: Number(row.score),
      severity: row.severity,
      evidence: pattern,
    },
  }
}

/** A detection_feedback row (queries.feedback) back into the record it was stored from. */
export function feedbackFromRow(row: Record<string, unknown>): DetectionFeedback {
  const s = (v: unknown) => (v === '' || v == null ? null : String(v))
  return {
    feedback_id: String(row.feedback_id),
    detection_id: String(row.detection_id),
    verdict: row.verdict as DetectionFeedback['verdict'],
    scope: row.scope as DetectionFeedback['scope'],
    note: s(row.note),
    analyst: s(row.analyst),
    ts: Number(row.ts_ms),
    detector: String(row.detector),
    detectors: row.detectors as string[],
    subject: s(row.subject),
    session_id: s(row.session_id),
    token_fp: s(row.token_fp),
    score: Number(row.detection_score),
    severity: String(row.detection_severity),
    evidence: JSON.parse(String(row.evidence)),
  }
}
