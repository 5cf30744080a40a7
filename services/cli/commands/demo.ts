import { mkdirSync, writeFileSync } from 'node:fs'
import { createConfiguredNormalizer } from '../../collector/setup.js'
import { join } from 'node:path'
import { startWebhookReceiver } from '../../alerter/receiver.js'
import { createQueries } from '../../api/queries.js'
import { createFormatRegistry } from '../../collector/formats/index.js'
import { createIngestor } from '../../collector/ingest.js'
import { replayFiles } from '../../collector/replay.js'
import { generate } from '../../generator/generate.js'
import { createPipeline, serviceGroup } from '../../pipeline.js'
import { createCodecs } from '../../shared/avro.js'
import { loadConfig, requireSecret } from '../../shared/config.js'
import { groupCaughtUp } from '../../shared/consume.js'
import { createKafka, createProducer } from '../../shared/kafka.js'
import { createLogger } from '../../shared/log.js'
import type { Command } from '../command.js'
import { createProgress } from '../progress.js'
import { waitFor } from '../wait-for.js'

const DAY_MS = 24 * 3600_000

export const DEMO_DATABASE = 'sessionwatch_demo'

/**
 * The whole product in one command: generated traffic with planted stolen-cookie replays goes through a
 * real broker and the embedded ClickHouse; the page arrives, signed, at a local receiver.
 */
export const demoCommand: Command = {
  name: 'demo',
  summary: 'replay a generated scenario through every service and show the page arriving',
  usage: 'sessionwatch demo [--users 300] [--attacks 2] [--timeout 180]',
  options: { users: { type: 'string', default: '300' }, attacks: { type: 'string', default: '2' }, timeout: { type: 'string', default: '180' } },
  async run(values, _positionals, ctx) {
    const say = (text: string) => ctx.stdout.write(text + '\n')
    const base = ctx.config()
    const runId = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
    const receiverSecret = requireSecret(base.alerter.webhookSecret, 'SW_WEBHOOK_SECRET')
    const receiver = await startWebhookReceiver({ secret: receiverSecret })
    const config = loadConfig({
      ...ctx.env,
      SW_TOPIC_PREFIX: `demo-${runId}.`,
      CLICKHOUSE_DATABASE: DEMO_DATABASE,
      SW_WEBHOOK_URL: receiver.url,
      SW_API_PORT: ctx.env.SW_API_PORT ?? '0',
      SW_INTAKE_PORT: ctx.env.SW_INTAKE_PORT ?? '0',
      // The demo narrates on stdout; service logs would drown it unless asked for.
      SW_LOG_LEVEL: ctx.env.SW_LOG_LEVEL ?? 'warn',
    })
    const log = createLogger({ level: config.log.level })
    // Yesterday morning (UTC): ClickHouse keeps SW_RETENTION_DAYS of event time, so a fixed date would age out.
    const yesterday = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS
    const scenario = generate({ users: Number(values.users), attacks: Number(values.attacks), requestsPerSession: 20, seed: 7, startMs: yesterday + 8 * 3600_000 })
    const dir = join(config.dataDir, 'demo')
    mkdirSync(dir, { recursive: true })
    const file = join(dir, 'scenario.ndjson')
    writeFileSync(file, scenario.lines.join('\n') + '\n')
    writeFileSync(join(dir, 'scenario.truth.json'), JSON.stringify({ sessions: scenario.sessions, attacks: scenario.truth }, null, 2) + '\n')
    say(`1/4 generated ${scenario.lines.length} events: ${scenario.sessions} honest sessions, ${scenario.truth.length} stolen-cookie replays (${file})`)

    const pipeline = createPipeline(config, log)
    await pipeline.start()
    // Earlier demo runs leave their rows; start the demo tables empty so the summary speaks of this run.
    for (const table of ['auth_events', 'detections', 'dlq']) await pipeline.clickhouse!.command({ query: `TRUNCATE TABLE IF EXISTS ${DEMO_DATABASE}.${table}` })
    say(`2/4 started collector, detector, sink, alerter and api against Kafka ${config.kafka.brokers.join(',')} and the embedded ClickHouse (${config.clickhouse.embeddedPath})`)
    try {
      const kafka = createKafka(config.kafka, log)
      const producer = createProducer(kafka)
      await producer.connect()
      const now = () => Date.now()
      const ingestor = createIngestor({
        formats: createFormatRegistry(),
        normalize: createConfiguredNormalizer(config.collector, now),
        codecs: createCodecs(), topics: pipeline.topics, producer, now,
      })
      const progress = createProgress(ctx.stderr, 'replay')
      const counts = await replayFiles(ingestor, [file], { format: 'canonical', maxLineBytes: config.collector.maxLineBytes, batchLines: 2000, onProgress: (c) => progress.update(c.lines) })
      progress.done(counts.lines)
      await producer.disconnect()
      say(`3/4 replayed: ${counts.issue} to auth.issue, ${counts.revoke} to auth.revoke, ${counts.validate} to auth.validate, ${counts.dlq} to auth.dlq`)

      const queries = createQueries(pipeline.clickhouse!, DEMO_DATABASE)
      const expected = counts.issue + counts.revoke + counts.validate
      const timeoutMs = Number(values.timeout) * 1000
      // Settled: every event stored, the pages in, and the detector and the sink through every record, so the
      // counts below are final rather than a snapshot of a sink still writing.
      const group = (name: string) => serviceGroup(config, name)
      const topics = pipeline.topics
      await waitFor(async () => (await queries.counts()).auth_events === expected && receiver.accepted.length >= scenario.truth.length &&
        (await groupCaughtUp(kafka, group('detector'), [topics.issue, topics.revoke, topics.validate])) &&
        (await groupCaughtUp(kafka, group('sink'), [topics.detections])), { timeoutMs, what: 'events in ClickHouse, pages at the receiver, detector and sink caught up' })
      const tables = await queries.counts()
      const bySeverity = await queries.detectionsBySeverity()
      say('4/4 pages delivered to the local webhook receiver (signature verified):')
      for (const alert of receiver.accepted) {
        const b = alert.body as { severity: string; score: number; subject: string; session_id: string; summary: string; evidence: { ips: string[] } }
        say(`    [${b.severity}] score ${b.score} ${b.subject} session ${b.session_id}: ${b.summary}; addresses ${b.evidence.ips.join(', ')}`)
      }
      const caught = scenario.truth.filter((t) => receiver.accepted.some((a) => (a.body as { session_id?: string }).session_id === t.session_id)).length
      say('')
      say('summary')
      say(`  events in:            ${counts.lines} lines → ${expected} auth events, ${counts.dlq} rejected`)
      say(`  per topic:            auth.issue ${counts.issue}, auth.revoke ${counts.revoke}, auth.validate ${counts.validate}, auth.dlq ${counts.dlq}`)
      say(`  detections:           ${Object.entries(bySeverity).map(([s, n]) => `${s} ${n}`).join(', ') || 'none'}`)
      say(`  ClickHouse rows:      ${Object.entries(tables).map(([t, n]) => `${t} ${n}`).join(', ')}`)
      say(`  pages delivered:      ${receiver.accepted.length} (${caught}/${scenario.truth.length} planted hijacks paged, ${receiver.rejected.length} rejected by the receiver)`)
      const example = scenario.truth[0]
      say('')
      say('query the trail (the demo keeps its data in its own database):')
      if (example) {
        say(`  CLICKHOUSE_DATABASE=${DEMO_DATABASE} bin/sessionwatch query session ${example.session_id}`)
        say(`  CLICKHOUSE_DATABASE=${DEMO_DATABASE} bin/sessionwatch query user ${example.subject}`)
      }
      say(`  CLICKHOUSE_DATABASE=${DEMO_DATABASE} bin/sessionwatch query detections --severity page`)
      return caught === scenario.truth.length ? 0 : 1
    } finally {
      await pipeline.stop()
      await receiver.close()
      const admin = createKafka(config.kafka, log).admin()
      await admin.connect()
      await admin.deleteTopics({ topics: Object.values(pipeline.topics) }).catch(() => undefined)
      await admin.disconnect()
    }
  },
}
