import type { ParseArgsConfig } from 'node:util'
import type { Writable, Readable } from 'node:stream'
import type { Config, Env } from '../shared/config.js'
import type { Logger } from '../shared/log.js'

export interface CommandContext {
  env: Env
  stdout: Writable
  stderr: Writable
  stdin: Readable
  /** Parsed once, on first use: commands that need no configuration never fail on it. */
  config(): Readonly<Config>
  log(): Logger
  /** Resolves when the user asks the process to stop (SIGINT, SIGTERM). */
  stopSignal: Promise<string>
}

export interface Command {
  name: string
  summary: string
  usage: string
  options: NonNullable<ParseArgsConfig['options']>
  run(values: Record<string, string | boolean | string[] | undefined>, positionals: string[], ctx: CommandContext): Promise<number>
}
