#!/usr/bin/env node
// sessionwatch command line: parses arguments, builds configuration and logging once, runs one command.
import { parseArgs } from 'node:util'
import { describeSettings, loadConfig, processEnv, type Config, type Env } from '../shared/config.js'
import { SessionwatchError, UsageError } from '../shared/errors.js'
import { createLogger, type Logger } from '../shared/log.js'
import type { Command, CommandContext } from './command.js'
import { demoCommand } from './commands/demo.js'
import { generateCommand } from './commands/generate.js'
import { backtestCommand, parseCommand } from './commands/offline.js'
import { queryCommand } from './commands/query.js'
import { replayCommand } from './commands/replay.js'
import { runCommand, upCommand } from './commands/up.js'
import { formatsCommand } from './commands/formats.js'
import { incidentCommand } from './commands/incident.js'
import { dlqCommand } from './commands/dlq.js'

const COMMANDS: Command[] = [upCommand, runCommand, replayCommand, parseCommand, backtestCommand, queryCommand, incidentCommand, dlqCommand, generateCommand, demoCommand, formatsCommand]

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return [
    'sessionwatch — catches session hijacking in identity-provider and API-gateway logs',
    '',
    'usage: sessionwatch <command> [options]   (sessionwatch <command> --help for its options)',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'configuration (environment variables, with defaults):',
    ...describeSettings().map((s) => `  ${s.name}${s.default ? `=${s.default}` : ''}`),
    '  SW_LOCAL_SECRETS=1 generates missing secrets once into <SW_DATA_DIR>/secrets.env (local trials only)',
  ].join('\n')
}

function commandHelp(c: Command): string {
  const opts = Object.entries(c.options).map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}${o.default !== undefined ? ` (default ${String(o.default)})` : ''}`)
  return [`${c.summary}`, '', `usage: ${c.usage}`, ...(opts.length ? ['', 'options:', ...opts] : [])].join('\n')
}

export async function main(argv: string[], env: Env, io: Pick<CommandContext, 'stdout' | 'stderr' | 'stdin'>): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(mainHelp() + '\n')
    return name ? 0 : 2
  }
  const command = COMMANDS.find((c) => c.name === name)
  if (!command) {
    io.stderr.write(`unknown command '${name}'\n\n${mainHelp()}\n`)
    return 2
  }
  let parsed
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${commandHelp(command)}\n`)
    return 2
  }
  if (parsed.values.help) {
    io.stdout.write(commandHelp(command) + '\n')
    return 0
  }
  let config: Readonly<Config> | undefined
  let log: Logger | undefined
  const stopSignal = new Promise<string>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal))
  })
  const ctx: CommandContext = {
    ...io,
    env,
    stopSignal,
    config: () => (config ??= loadConfig(env)),
    log: () => (log ??= createLogger({ level: ctx.config().log.level })),
  }
  try {
    return await command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals, ctx)
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${error.message}\n\n${commandHelp(command)}\n`)
      return 2
    }
    if (error instanceof SessionwatchError) {
      io.stderr.write(`sessionwatch ${name}: ${error.message} [${error.code}]\n`)
      return 1
    }
    throw error
  }
}

// A closed pipe (`sessionwatch parse … | head`) ends the output, not the process with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})
const exitCode = await main(process.argv.slice(2), processEnv(), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin })
process.exitCode = exitCode
