import type { AuthEvent } from '../../../schemas/model.js'

/**
 * What a format parser makes of one input record, before the collector fingerprints tokens,
 * derives a missing event_id and enriches the address. `token` and `parent_token` are raw secrets:
 * the normaliser turns them into fingerprints and drops them, so they never leave the collector.
 */
export type DraftEvent = Partial<Omit<AuthEvent, 'kind' | 'action' | 'ts' | 'source'>> &
  Pick<AuthEvent, 'kind' | 'action' | 'ts' | 'source'> & {
    token?: string | null
    parent_token?: string | null
  }

/** Closed list of reasons a record is rejected. */
export const REJECT_CODES = [
  'BAD_JSON',
  'NOT_AN_OBJECT',
  'MISSING_FIELD',
  'BAD_FIELD',
  'LINE_TOO_LONG',
  'BAD_ENCODING',
  'UNKNOWN_FORMAT',
  'UNPARSEABLE',
] as const
export type RejectCode = (typeof REJECT_CODES)[number]

export type ParseResult =
  | { ok: true; events: DraftEvent[] }
  | { ok: false; code: RejectCode; reason: string }

export interface LogFormat {
  /** The name users pass to --format and in the `sw-format` header. */
  readonly name: string
  readonly description: string
  /** Parses one line (or one JSON document). Never throws on bad input: returns a rejection. */
  parse(line: string): ParseResult
}

export function reject(code: RejectCode, reason: string): ParseResult {
  return { ok: false, code, reason }
}

export function accept(...events: DraftEvent[]): ParseResult {
  return { ok: true, events }
}

const JSON_ERROR_POSITION = /position (\d+)/

/**
 * A BAD_JSON rejection that says where, not what: V8's JSON.parse messages quote the text around the
 * error, which may be part of a cookie or token.
 */
export function rejectBadJson(error: unknown): ParseResult {
  const at = error instanceof Error ? JSON_ERROR_POSITION.exec(error.message) : null
  return reject('BAD_JSON', at ? `not JSON (error at position ${at[1]})` : 'not JSON')
}
