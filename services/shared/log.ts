import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

// Field names that may hold credentials anywhere in a logged object. pino replaces them before serialising.
const REDACT_PATHS = [
  'token', '*.token', 'raw_token', '*.raw_token',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'cookie', '*.cookie', 'headers.cookie', 'req.headers.cookie', 'set-cookie', '*.set-cookie',
  'secret', '*.secret', 'password', '*.password', 'apiToken', '*.apiToken', 'fingerprintKey', '*.fingerprintKey',
  'webhookSecret', '*.webhookSecret', 'intakeToken', '*.intakeToken', 'analystToken', '*.analystToken',
  // Alert policy channel secrets (Slack bot token, PagerDuty routing key), should a policy object be logged.
  'bot_token', '*.bot_token', 'routing_key', '*.routing_key',
]

export function createLogger(options: { level: string; name?: string }, destination?: DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      name: options.name ?? 'sessionwatch',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination(2),
  )
}
