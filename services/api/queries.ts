import type { UseFacts } from '../../detectors/feedback.js'
import type { ClickHouseClient } from '../shared/clickhouse.js'
import type { DetectionRow } from './feedback.js'

// Every query takes its input as a ClickHouse query parameter; the database name is a validated identifier.

export type TimelineKind = 'token' | 'session' | 'user'

const TIMELINE_COLUMN: Record<TimelineKind, string> = { token: 'token_fp', session: 'session_id', user: 'subject' }

const FEEDBACK_COLUMNS = `feedback_id, detection_id, verdict, scope, analyst, note, detector, detectors, subject, session_id, token_fp,
  detection_score, detection_severity, evidence, toUnixTimestamp64Milli(ts) AS ts_ms`

const DAY_MS = 24 * 3600_000

const EVENT_COLUMNS = `event_id, kind, action, toUnixTimestamp64Milli(ts) AS ts_ms, subject, session_id, token_fp, token_kind, client_id,
  ip, ip_prefix, asn, asn_org, country, city, user_agent, ua_family, os_family, device_type, device_id, validator, method, route, status, result, source_system`

export function createQueries(client: ClickHouseClient, database: string) {
  async function rows<T>(query: string, params: Record<string, unknown>): Promise<T[]> {
    const rs = await client.query({ query, query_params: params, format: 'JSONEachRow' })
    return (await rs.json()) as T[]
  }
  return {
    timeline(kind: TimelineKind, id: string, limit: number) {
      return rows<Record<string, unknown>>(
        `SELECT ${EVENT_COLUMNS} FROM ${database}.auth_events FINAL WHERE ${TIMELINE_COLUMN[kind]} = {id:String} ORDER BY ts, event_id LIMIT {limit:UInt32}`,
        { id, limit },
      )
    },
    detections(filter: { subject?: string; severity?: string }, limit: number) {
      return rows<Record<string, unknown>>(
        `SELECT detection_id, detector, severity, score, confirmed, subject, session_id, token_fp, summary, event_ids,
           evidence, toUnixTimestamp64Milli(first_malicious_ts) AS first_malicious_ts_ms, toUnixTimestamp64Milli(detected_ts) AS detected_ts_ms
         FROM ${database}.detections FINAL
         WHERE ({subject:String} = '' OR subject = {subject:String}) AND ({severity:String} = '' OR severity = {severity:String})
         ORDER BY detected_ts DESC LIMIT {limit:UInt32}`,
        { subject: filter.subject ?? '', severity: filter.severity ?? '', limit },
      )
    },
    async detection(id: string): Promise<(DetectionRow & { times: number[] }) | undefined> {
      const found = await rows<DetectionRow & { first_malicious_ts_ms: string }>(
        `SELECT detection_id, detector, severity, score, subject, session_id, token_fp, evidence,
           toUnixTimestamp64Milli(first_malicious_ts) AS first_malicious_ts_ms
         FROM ${database}.detections FINAL WHERE detection_id = {id:String} LIMIT 1`,
        { id },
      )
      const row = found[0]
      if (!row) return undefined
      const evidence = JSON.parse(row.evidence) as { times?: number[] }
      return { ...row, times: [...(evidence.times ?? []), Number(row.first_malicious_ts_ms)] }
    },
    /**
     * The network, place and client of the events a detection names. auth_events is ordered by (subject, ts):
     * the subject and the evidence's time span (a day either side) keep this to a few granules.
     */
    async uses(subject: string, eventIds: string[], times: number[]): Promise<Map<string, UseFacts>> {
      if (eventIds.length === 0 || times.length === 0) return new Map()
      const found = await rows<UseFacts & { event_id: string; asn: number | null }>(
        `SELECT event_id, asn, ip_prefix, country, ua_family, os_family, device_type, user_agent
         FROM ${database}.auth_events FINAL
         WHERE subject = {subject:String} AND event_id IN {ids:Array(String)}
           AND ts BETWEEN fromUnixTimestamp64Milli({from:Int64}) AND fromUnixTimestamp64Milli({to:Int64})`,
        { subject, ids: eventIds.slice(0, 256), from: Math.min(...times) - DAY_MS, to: Math.max(...times) + DAY_MS },
      )
      return new Map(found.map((r) => [r.event_id, r]))
    },
    /** Every verdict on a detection, newest first. */
    feedback(detectionId: string, limit: number) {
      return rows<Record<string, unknown>>(
        `SELECT ${FEEDBACK_COLUMNS} FROM ${database}.detection_feedback FINAL WHERE detection_id = {id:String}
         ORDER BY ts DESC, feedback_id DESC LIMIT {limit:UInt32}`,
        { id: detectionId, limit },
      )
    },
    /** The latest verdict per detection (what the detector applies), newest first; optionally of some detections only. */
    latestFeedback(filter: { verdict?: string; detectionIds?: string[] }, limit: number) {
      return rows<Record<string, unknown>>(
        `SELECT * FROM (
           SELECT ${FEEDBACK_COLUMNS} FROM ${database}.detection_feedback FINAL
           WHERE (length({ids:Array(String)}) = 0 OR has({ids:Array(String)}, detection_id))
           ORDER BY ts DESC, feedback_id DESC LIMIT 1 BY detection_id)
         WHERE ({verdict:String} = '' OR verdict = {verdict:String})
         ORDER BY ts_ms DESC LIMIT {limit:UInt32}`,
        { ids: filter.detectionIds ?? [], verdict: filter.verdict ?? '', limit },
      )
    },
    async counts(): Promise<Record<string, number>> {
      const r = await rows<{ t: string; n: string }>(
        `SELECT 'auth_events' AS t, count() AS n FROM ${database}.auth_events FINAL
         UNION ALL SELECT 'detections', count() FROM ${database}.detections FINAL
         UNION ALL SELECT 'dlq', count() FROM ${database}.dlq FINAL
         UNION ALL SELECT 'detection_feedback', count() FROM ${database}.detection_feedback FINAL`,
        {},
      )
      return Object.fromEntries(r.map((x) => [x.t, Number(x.n)]))
    },
    async detectionsBySeverity(): Promise<Record<string, number>> {
      const r = await rows<{ severity: string; n: string }>(`SELECT severity, count() AS n FROM ${database}.detections FINAL GROUP BY severity`, {})
      return Object.fromEntries(r.map((x) => [x.severity, Number(x.n)]))
    },
  }
}

export type Queries = ReturnType<typeof createQueries>
