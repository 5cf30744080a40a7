// Small readers shared by the identity-provider parsers: every one of them must take untrusted JSON values
// apart without throwing, so each reader returns undefined for anything that is not what it expects.

export type Json = Record<string, unknown>

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function obj(value: unknown): Json | undefined {
  return isObject(value) ? value : undefined
}

/** A trimmed, non-empty string of at most `max` characters. */
export function text(value: unknown, max = 512): string | undefined {
  if (typeof value !== 'string') return undefined
  const s = value.trim()
  return s.length > 0 && s.length <= max ? s : undefined
}

/** An ISO 8601 / RFC 3339 time as epoch ms; a time without an offset is UTC, never the collector's local zone. */
export function isoTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length < 10 || value.length > 40) return undefined
  const s = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : value.replace(' ', 'T') + 'Z'
  const ms = Date.parse(s)
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined
}

/** A latitude (limit 90) or longitude (limit 180). */
export function coordinate(value: unknown, limit: number): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= limit ? value : undefined
}
