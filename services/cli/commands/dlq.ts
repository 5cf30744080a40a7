import type { Kafka, Producer } from 'kafkajs'
import type { DlqRecord } from '../../../schemas/model.js'
import { COMMAND_FORMAT, readIncidentStates } from '../../alerter/alerter.js'
import { createRedeliverer, describeDeadLetter, type RedeliveryOutcome } from '../../alerter/redeliver.js'
import { GATEWAY_FORMAT_NAMES } from '../../collector/formats/gateway.js'
import { createCodecs, type Codecs } from '../../shared/avro.js'
import type { Config } from '../../shared/config.js'
import { UsageError } from '../../shared/errors.js'
import { createKafka, createProducer, ensureTopics, sendAll, topicNames, topicSpecs, type TopicNames } from '../../shared/kafka.js'
import type { Logger } from '../../shared/log.js'
import type { Command, CommandContext } from '../command.js'
import { parseSince, planSpans, readSpans, savePosition, type DlqRecordRead } from './dlq-range.js'

type Target = 'alerts' | 'input'

const TARGETS: Record<string, Target> = { alerts: 'alerts', 'auth.alerts.dlq': 'alerts', input: 'input', 'auth.dlq': 'input' }

const topicOf = (topics: TopicNames, target: Target) => (target === 'alerts' ? topics.alertsDlq : topics.dlq)
const replayGroup = (config: Readonly<Config>, target: Target) => `${config.kafka.topicPrefix}sessionwatch-dlq-replay-${target}`

interface Counts {
  read: number
  replayed: number
  failed: number
  skipped: number
}

/** One status line on stderr: rewritten on a terminal every 500 ms, a new line every 10 s elsewhere. */
function createRecordProgress(ctx: CommandContext, label: string) {
  const tty = Boolean((ctx.stderr as { isTTY?: boolean }).isTTY)
  let last = 0
  const text = (c: Counts, total: number) => `${label}: ${c.read}/${total} records, ${c.replayed} replayed, ${c.failed} failed again, ${c.skipped} skipped`
  return {
    update(c: Counts, total: number) {
      const now = Date.now()
      if (now - last < (tty ? 500 : 10_000)) return
      last = now
      ctx.stderr.write(tty ? `\r\x1b[K${text(c, total)}` : text(c, total) + '\n')
    },
    done(c: Counts, total: number) {
      ctx.stderr.write(`${tty ? '\r\x1b[K' : ''}${text(c, total)}\n`)
    },
  }
}

/** Where a rejected input goes to be parsed again: the raw topic it came from, else the one for its format. */
export function inputDestination(r: DlqRecord, topics: TopicNames): { topic: string } | { skip: string } {
  if (Buffer.byteLength(r.input, 'utf8') < r.input_bytes) return { skip: 'the DLQ holds it truncated: ship the original again' }
  if (r.format === COMMAND_FORMAT) return { topic: topics.alertCommands }
  const from = /^(.*)\/\d+\/\d+$/.exec(r.origin)?.[1]
  if (from === topics.logsIdp || from === topics.logsGateway) return { topic: from }
  return { topic: (GATEWAY_FORMAT_NAMES as readonly string[]).includes(r.format ?? '') ? topics.logsGateway : topics.logsIdp }
}

function describe(codecs: Codecs, target: Target, r: DlqRecordRead): { reason: string; line: string } {
  if (target === 'alerts') {
    const d = describeDeadLetter(r)
    return { reason: `${d.endpoint}: ${d.error.slice(0, 120)}`, line: `${r.partition}/${r.offset} ${d.record} ${d.endpoint} ${d.key} — ${d.error}` }
  }
  try {
    const x = codecs.dlq.decode(r.value ?? Buffer.alloc(0))
    return { reason: x.code, line: `${r.partition}/${r.offset} ${x.code} ${x.format ?? '(default format)'} from ${x.origin} — ${x.reason}` }
  } catch {
    return { reason: 'UNDECODABLE', line: `${r.partition}/${r.offset} undecodable record` }
  }
}

async function list(ctx: CommandContext, kafka: Kafka, config: Readonly<Config>, targets: Target[], sinceMs: number | undefined, json: boolean) {
  const codecs = createCodecs()
  const topics = topicNames(config.kafka.topicPrefix)
  const rows: { topic: string; reason: string; records: number; pending: number }[] = []
  for (const target of targets) {
    const topic = topicOf(topics, target)
    const group = replayGroup(config, target)
    const { position } = await planSpans(kafka, topic, group)
    const { spans } = await planSpans(kafka, topic, `${group}-list-${process.pid}`, sinceMs ?? 0)
    const byReason = new Map<string, { records: number; pending: number }>()
    await readSpans(kafka, topic, spans, async (records) => {
      for (const r of records) {
        const { reason } = describe(codecs, target, r)
        const entry = byReason.get(reason) ?? { records: 0, pending: 0 }
        entry.records++
        if (r.offset >= (position.get(r.partition) ?? 0n)) entry.pending++
        byReason.set(reason, entry)
      }
      return records.length
    })
    for (const [reason, c] of [...byReason].sort((a, b) => b[1].records - a[1].records)) rows.push({ topic, reason, ...c })
  }
  if (json) {
    for (const r of rows) ctx.stdout.write(JSON.stringify(r) + '\n')
    return
  }
  const width = Math.min(100, Math.max(6, ...rows.map((r) => r.reason.length)))
  ctx.stdout.write(`${'records'.padStart(8)} ${'pending'.padStart(8)}  ${'reason'.padEnd(width)}  topic\n`)
  for (const r of rows) ctx.stdout.write(`${String(r.records).padStart(8)} ${String(r.pending).padStart(8)}  ${r.reason.slice(0, width).padEnd(width)}  ${r.topic}\n`)
  if (rows.length === 0) ctx.stdout.write('(empty)\n')
}

interface ReplayOptions {
  dryRun: boolean
  sinceMs?: number
  limit?: number
}

async function replay(ctx: CommandContext, kafka: Kafka, producer: Producer, config: Readonly<Config>, log: Logger, target: Target, options: ReplayOptions): Promise<Counts> {
  const codecs = createCodecs()
  const topics = topicNames(config.kafka.topicPrefix)
  const topic = topicOf(topics, target)
  const group = replayGroup(config, target)
  const { spans } = await planSpans(kafka, topic, group, options.sinceMs)
  const total = Math.min(options.limit ?? Infinity, spans.reduce((n, s) => n + Number(s.end - s.start), 0))
  const counts: Counts = { read: 0, replayed: 0, failed: 0, skipped: 0 }
  const progress = createRecordProgress(ctx, `dlq replay ${target}${options.dryRun ? ' (dry run)' : ''}`)
  const redeliverer = target === 'alerts' && !options.dryRun
    ? createRedeliverer({ config: config.alerter, codecs, topics, producer, incidents: await readIncidentStates(kafka, topics.alertIncidents, log), log, now: () => Date.now() })
    : undefined

  async function replayOne(r: DlqRecordRead): Promise<void> {
    if (options.dryRun) {
      ctx.stdout.write(describe(codecs, target, r).line + '\n')
      return
    }
    if (redeliverer) {
      let outcome: RedeliveryOutcome
      try {
        outcome = await redeliverer.redeliver(r)
      } catch (error) {
        counts.skipped++
        ctx.stderr.write(`skipped ${r.partition}/${r.offset}: ${(error as Error).message}\n`)
        return
      }
      if (outcome.outcome === 'delivered') counts.replayed++
      else {
        counts.failed++
        ctx.stderr.write(`failed again, back in the dlq: ${outcome.endpoint} ${outcome.key}: ${outcome.reason}\n`)
      }
      return
    }
    let record: DlqRecord
    try {
      record = codecs.dlq.decode(r.value ?? Buffer.alloc(0))
    } catch (error) {
      counts.skipped++
      ctx.stderr.write(`skipped ${r.partition}/${r.offset}: undecodable (${(error as Error).message})\n`)
      return
    }
    const to = inputDestination(record, topics)
    if ('skip' in to) {
      counts.skipped++
      ctx.stderr.write(`skipped ${record.origin}: ${to.skip}\n`)
      return
    }
    // The input as the DLQ holds it: already scrubbed of credentials, parsed again by the collector (or the alerter,
    // for a command); what fails again becomes a new DLQ record with the new reason.
    const headers: Record<string, string> = { 'sw-replay-of': record.origin.slice(0, 500) }
    if (record.format && to.topic !== topics.alertCommands) headers['sw-format'] = record.format
    await sendAll(producer, [{ topic: to.topic, messages: [{ key: null, value: record.input, headers }] }])
    counts.replayed++
  }

  const position = new Map<number, bigint>()
  await readSpans(kafka, topic, spans, async (records) => {
    const room = (options.limit ?? Infinity) - counts.read
    const taken = records.slice(0, Math.max(0, room))
    // Deliveries of one batch run side by side (each endpoint's queue bounds them); the position moves only past a
    // batch whose records all ended, delivered or back in the DLQ.
    if (redeliverer) {
      // Notices of one incident to one endpoint stay in their order (a trigger before its updates).
      const chains = new Map<string, Promise<void>>()
      for (const r of taken) {
        const d = describeDeadLetter(r)
        const chain = `${d.key.split(':')[0]}|${d.endpoint}`
        chains.set(chain, (chains.get(chain) ?? Promise.resolve()).then(() => replayOne(r)))
      }
      await Promise.all(chains.values())
    } else for (const r of taken) await replayOne(r)
    counts.read += taken.length
    const last = taken.at(-1)
    if (last && !options.dryRun) {
      await redeliverer?.flush()
      position.set(last.partition, last.offset + 1n)
      await savePosition(kafka, topic, group, position)
    }
    progress.update(counts, total)
    return taken.length
  })
  await redeliverer?.flush()
  progress.done(counts, total)
  return counts
}

function targetOf(name: string | undefined): Target {
  const target = name ? TARGETS[name] : undefined
  if (!target) throw new UsageError('which dlq? alerts (auth.alerts.dlq: failed deliveries) or input (auth.dlq: rejected input)')
  return target
}

export const dlqCommand: Command = {
  name: 'dlq',
  summary: 'count dead-lettered records by reason, or replay them (failed deliveries, rejected input)',
  usage: [
    'sessionwatch dlq list [alerts|input] [--since <time>] [--json]',
    '       sessionwatch dlq replay alerts|input [--dry-run] [--since <time>] [--limit <n>]',
    '',
    'alerts (auth.alerts.dlq): each failed notice or response call is sent again to its endpoint with its original',
    '  idempotency key (receivers drop what they already acted on); every try is in alert_deliveries; what fails',
    '  again goes back to the DLQ with the new reason.',
    'input (auth.dlq): the rejected input (already scrubbed of credentials) is published again to its raw topic with',
    '  its sw-format header, to be parsed again, e.g. after a parser fix; what fails again is a new DLQ record.',
    'A replay starts where the last one stopped (consumer group sessionwatch-dlq-replay-<alerts|input>), or at',
    '--since (2026-11-20T10:00:00Z, or 90s, 30m, 12h, 7d back), and reads up to the end as it was at start.',
    '--dry-run prints what would be replayed and moves nothing. list: records and still-pending records per reason.',
  ].join('\n'),
  options: {
    'dry-run': { type: 'boolean', default: false },
    since: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  async run(values, positionals, ctx) {
    const [verb, which, ...extra] = positionals
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`)
    const sinceMs = typeof values.since === 'string' ? parseSince(values.since, Date.now()) : undefined
    if (typeof values.since === 'string' && sinceMs === undefined) throw new UsageError('--since takes a time (2026-11-20T10:00:00Z) or a duration back from now (90s, 30m, 12h, 7d)')
    const limit = values.limit === undefined ? undefined : Number(values.limit)
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError('--limit must be a positive integer')
    if (verb !== 'list' && verb !== 'replay') throw new UsageError('dlq what? list or replay')
    const targets: Target[] = verb === 'list' && !which ? ['alerts', 'input'] : [targetOf(which)]
    const config = ctx.config()
    const log = ctx.log()
    const kafka = createKafka(config.kafka, log)
    await ensureTopics(kafka, topicSpecs(config.kafka, topicNames(config.kafka.topicPrefix)))
    if (verb === 'list') {
      await list(ctx, kafka, config, targets, sinceMs, Boolean(values.json))
      return 0
    }
    const producer = createProducer(kafka)
    await producer.connect()
    try {
      const counts = await replay(ctx, kafka, producer, config, log, targets[0]!, { dryRun: Boolean(values['dry-run']), sinceMs, limit })
      if (!values['dry-run']) ctx.stdout.write(JSON.stringify({ dlq: targets[0], ...counts }) + '\n')
      return counts.failed > 0 ? 1 : 0
    } finally {
      await producer.disconnect()
    }
  },
}
