import type { AuthEvent, Detection } from '../../schemas/model.js'

const TIME_FIELDS = new Set(['ts', 'ingest_ts', 'issued_at', 'expires_at', 'first_malicious_ts', 'detected_ts'])

/** The canonical NDJSON form: RFC 3339 times, absent (null, empty) fields left out. */
export function toCanonical(value: AuthEvent | Detection): Record<string, unknown> {
  return clean(value as unknown as Record<string, unknown>)
}

function clean(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(record)) {
    if (value === null || value === undefined) continue
    if (Array.isArray(value) && value.length === 0) continue
    if (TIME_FIELDS.has(key) && typeof value === 'number') out[key] = new Date(value).toISOString()
    else if (key === 'times' && Array.isArray(value)) out[key] = value.map((t) => new Date(t as number).toISOString())
    else if (typeof value === 'object' && !Array.isArray(value)) out[key] = clean(value as Record<string, unknown>)
    else out[key] = value
  }
  return out
}
