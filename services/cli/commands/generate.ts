import { writeFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { UsageError } from '../../shared/errors.js'
import { generate } from '../../generator/generate.js'
import type { Command } from '../command.js'

export const generateCommand: Command = {
  name: 'generate',
  summary: 'write labeled synthetic traffic (canonical NDJSON) and its ground truth',
  usage: 'sessionwatch generate --out <file> [--users 300] [--attacks 2] [--requests 20] [--seed 1] [--start 2026-11-20T08:00:00Z]',
  options: {
    out: { type: 'string' },
    users: { type: 'string', default: '300' },
    attacks: { type: 'string', default: '2' },
    requests: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    start: { type: 'string', default: '2026-11-20T08:00:00Z' },
  },
  async run(values, _positionals, ctx) {
    const out = values.out
    if (typeof out !== 'string') throw new UsageError('--out <file> is required')
    const int = (name: string) => {
      const n = Number(values[name])
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer`)
      return n
    }
    const startMs = Date.parse(String(values.start))
    if (Number.isNaN(startMs)) throw new UsageError('--start must be an RFC 3339 time')
    const result = generate({ users: int('users'), attacks: int('attacks'), requestsPerSession: int('requests'), seed: int('seed'), startMs })
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, result.lines.join('\n') + '\n')
    const truthFile = out.replace(/(\.ndjson)?$/, '.truth.json')
    writeFileSync(truthFile, JSON.stringify({ sessions: result.sessions, attacks: result.truth }, null, 2) + '\n')
    ctx.stderr.write(`wrote ${result.lines.length} events (${result.sessions} sessions, ${result.truth.length} planted attacks) to ${out}; truth in ${truthFile}\n`)
    return 0
  },
}
