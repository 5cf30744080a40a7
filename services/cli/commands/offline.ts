import type { AuthEvent } from '../../../schemas/model.js'
import { createConfiguredNormalizer } from '../../collector/setup.js'
import { createFormatRegistry } from '../../collector/formats/index.js'
import { toCanonical } from '../canonical-json.js'
import type { Command, CommandContext } from '../command.js'
import { parseInputs, readFeedbackFile, runBacktest, type ParseStats } from '../offline.js'

function offlineDeps(ctx: CommandContext) {
  const config = ctx.config()
  const now = () => Date.now()
  return {
    formats: createFormatRegistry(),
    normalize: createConfiguredNormalizer(config.collector, now),
    now,
    maxLineBytes: config.collector.maxLineBytes,
  }
}

function reportRejects(ctx: CommandContext, stats: ParseStats) {
  const byCode = Object.entries(stats.rejectsByCode).map(([code, n]) => `${code} ${n}`).join(', ')
  ctx.stderr.write(`${stats.lines} lines: ${stats.events} events, ${stats.rejected} rejected${byCode ? ` (${byCode})` : ''}, ${stats.skipped} skipped\n`)
}

/** Buffers stdout writes: one write per line would dominate the time of a large backtest. */
function lineWriter(ctx: CommandContext) {
  let buffer: string[] = []
  return {
    write(line: string) {
      buffer.push(line)
      if (buffer.length >= 1000) this.flush()
    },
    flush() {
      if (buffer.length > 0) ctx.stdout.write(buffer.join('\n') + '\n')
      buffer = []
    },
  }
}

export const parseCommand: Command = {
  name: 'parse',
  summary: 'print canonical NDJSON for log files (stdin if none); rejects are counted on stderr',
  usage: 'sessionwatch parse --format <name> [--show-rejects] [file|dir...]',
  options: { format: { type: 'string', default: 'canonical' }, 'show-rejects': { type: 'boolean', default: false } },
  async run(values, files, ctx) {
    const out = lineWriter(ctx)
    const stats = await parseInputs(offlineDeps(ctx), String(values.format), files, ctx.stdin,
      (event) => out.write(JSON.stringify(toCanonical(event))),
      values['show-rejects'] ? (code, reason, origin) => ctx.stderr.write(`${origin}: ${code}: ${reason}\n`) : undefined)
    out.flush()
    reportRejects(ctx, stats)
    return 0
  },
}

export const backtestCommand: Command = {
  name: 'backtest',
  summary: 'run the detectors over log files in event-time order; prints one Detection per line',
  usage: 'sessionwatch backtest [--format canonical] [--feedback verdicts.ndjson] [file|dir...]\n' +
    '  --feedback: analyst verdicts, one per line as GET /v1/feedback lists them; their benign patterns lower detections',
  options: { format: { type: 'string', default: 'canonical' }, feedback: { type: 'string' } },
  async run(values, files, ctx) {
    const feedback = typeof values.feedback === 'string' ? await readFeedbackFile(values.feedback) : []
    const events: AuthEvent[] = []
    const parseStarted = performance.now()
    const stats = await parseInputs(offlineDeps(ctx), String(values.format), files, ctx.stdin, (event) => events.push(event))
    const detectStarted = performance.now()
    const out = lineWriter(ctx)
    let lowered = 0
    const detections = runBacktest(events, ctx.config().detector, (d) => out.write(JSON.stringify(toCanonical(d))), feedback, () => lowered++)
    out.flush()
    const detectSeconds = (performance.now() - detectStarted) / 1000
    const parseSeconds = (detectStarted - parseStarted) / 1000
    reportRejects(ctx, stats)
    ctx.stderr.write(
      `backtest: ${stats.events} events, ${detections} detections; parse ${parseSeconds.toFixed(2)} s (${Math.round(stats.events / parseSeconds)} events/s), ` +
      `detect ${detectSeconds.toFixed(2)} s (${Math.round(stats.events / detectSeconds)} events/s)\n`,
    )
    if (values.feedback !== undefined) ctx.stderr.write(`feedback: ${feedback.length} verdicts, ${lowered} detections lowered by their benign patterns\n`)
    return 0
  },
}
