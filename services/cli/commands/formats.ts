import { createFormatRegistry } from '../../collector/formats/index.js'
import type { Command } from '../command.js'

export const formatsCommand: Command = {
  name: 'formats',
  summary: 'list the log formats the collector understands',
  usage: 'sessionwatch formats',
  options: {},
  async run(_values, _positionals, ctx) {
    for (const f of createFormatRegistry().values()) ctx.stdout.write(`${f.name.padEnd(18)} ${f.description}\n`)
    return 0
  },
}
