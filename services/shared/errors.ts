// One error base for infrastructure failures. Bad input is never thrown: it is a Reject result.
// Retry decisions read `retriable` and `code`, never `message`.

export const ERROR_CODES = [
  'CONFIG_INVALID',
  'KAFKA_UNAVAILABLE',
  'KAFKA_PRODUCE_FAILED',
  'CLICKHOUSE_UNAVAILABLE',
  'CLICKHOUSE_QUERY_FAILED',
  'WEBHOOK_REJECTED',
  'WEBHOOK_UNAVAILABLE',
  'CIRCUIT_OPEN',
  'RATE_LIMITED',
  'STATE_RESTORE_FAILED',
  'INPUT_UNREADABLE',
  'USAGE',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export class SessionwatchError extends Error {
  readonly code: ErrorCode
  readonly retriable: boolean

  constructor(code: ErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = 'SessionwatchError'
    this.code = code
    this.retriable = options.retriable ?? false
  }
}

export class ConfigError extends SessionwatchError {
  constructor(message: string, cause?: unknown) {
    super('CONFIG_INVALID', message, { retriable: false, cause })
    this.name = 'ConfigError'
  }
}

export class UsageError extends SessionwatchError {
  constructor(message: string) {
    super('USAGE', message, { retriable: false })
    this.name = 'UsageError'
  }
}

const PROGRAMMER_ERRORS = [TypeError, RangeError, SyntaxError, ReferenceError]

/** An error chain is retriable only if every SessionwatchError in it says so and no link is a programmer error. */
export function isRetriable(error: unknown): boolean {
  let sawRetriable = false
  let current: unknown = error
  for (let depth = 0; current != null && depth < 16; depth++) {
    if (PROGRAMMER_ERRORS.some((kind) => current instanceof kind)) return false
    if (current instanceof SessionwatchError) {
      if (!current.retriable) return false
      sawRetriable = true
    }
    current = current instanceof Error ? current.cause : undefined
  }
  return sawRetriable
}
