import { UsageError } from '../../shared/errors.js'
import { createPipeline, SERVICES, type ServiceName } from '../../pipeline.js'
import type { Command } from '../command.js'

async function runServices(only: readonly ServiceName[], ctx: Parameters<Command['run']>[2]): Promise<number> {
  const log = ctx.log()
  const pipeline = createPipeline(ctx.config(), log, only)
  const startOrStop = Promise.race([pipeline.start().then(() => 'started'), ctx.stopSignal])
  const first = await startOrStop
  if (first !== 'started') {
    await pipeline.stop()
    return 0
  }
  const signal = await ctx.stopSignal
  log.info({ signal }, 'stopping: finishing the current batches, committing, closing')
  await pipeline.stop()
  return 0
}

export const upCommand: Command = {
  name: 'up',
  summary: 'run every service in one process (collector, detector, sink, alerter, api)',
  usage: 'sessionwatch up [--only collector,detector,...]',
  options: { only: { type: 'string' } },
  async run(values, _positionals, ctx) {
    const only = typeof values.only === 'string' ? values.only.split(',').map((s) => s.trim()) : [...SERVICES]
    const unknown = only.filter((s) => !(SERVICES as readonly string[]).includes(s))
    if (unknown.length > 0) throw new UsageError(`unknown service(s): ${unknown.join(', ')} (services: ${SERVICES.join(', ')})`)
    return runServices(only as ServiceName[], ctx)
  },
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run one service (scale by starting more processes)',
  usage: `sessionwatch run <${SERVICES.join('|')}>`,
  options: {},
  async run(_values, positionals, ctx) {
    const name = positionals[0]
    if (!name || !(SERVICES as readonly string[]).includes(name)) throw new UsageError(`name one service: ${SERVICES.join(', ')}`)
    return runServices([name as ServiceName], ctx)
  },
}
