import type { ClickHouseClient } from '../shared/clickhouse.js'

// Every query takes its input as a ClickHouse query parameter; the database name is a validated identifier.

export type TimelineKind = 'token' | 'session' | 'user'

const TIMELINE_COLUMN: Record<TimelineKind, string> = { token: 'token_fp', session: 'session_id', user: 'subject' }

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
    async counts(): Promise<Record<string, number>> {
      const r = await rows<{ t: string; n: string }>(
        `SELECT 'auth_events' AS t, count() AS n FROM ${database}.auth_events FINAL
         UNION ALL SELECT 'detections', count() FROM ${database}.detections FINAL
         UNION ALL SELECT 'dlq', count() FROM ${database}.dlq FINAL`,
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
