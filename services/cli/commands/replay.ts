import { createFormatRegistry } from '../../collector/formats/index.js'
import { createConfiguredNormalizer } from '../../collector/setup.js'
import { createIngestor, type IngestCounts } from '../../collector/ingest.js'
import { followFile, replayFiles } from '../../collector/replay.js'
import { createCodecs } from '../../shared/avro.js'
import { UsageError } from '../../shared/errors.js'
import { createKafka, createProducer, ensureTopics, topicNames, topicSpecs } from '../../shared/kafka.js'
import type { Command } from '../command.js'
import { createProgress } from '../progress.js'

export const replayCommand: Command = {
  name: 'replay',
  summary: 'send log files (or folders, .gz too) through the collector into Kafka',
  usage: 'sessionwatch replay [--format canonical] [--batch 2000] <file|dir>...\n       sessionwatch replay --follow [--from-end] [--format envoy] <file>   (like tail -F, until Ctrl-C)',
  options: {
    format: { type: 'string', default: 'canonical' },
    batch: { type: 'string', default: '2000' },
    follow: { type: 'boolean', default: false },
    'from-end': { type: 'boolean', default: false },
  },
  async run(values, files, ctx) {
    if (files.length === 0) throw new UsageError('name at least one file or folder to replay')
    if (values.follow && files.length !== 1) throw new UsageError('--follow takes exactly one file')
    const batchLines = Number(values.batch)
    if (!Number.isInteger(batchLines) || batchLines < 1) throw new UsageError('--batch must be a positive integer')
    const config = ctx.config()
    const log = ctx.log()
    const kafka = createKafka(config.kafka, log)
    const topics = topicNames(config.kafka.topicPrefix)
    await ensureTopics(kafka, topicSpecs(config.kafka, topics))
    const producer = createProducer(kafka)
    await producer.connect()
    const now = () => Date.now()
    const ingestor = createIngestor({
      formats: createFormatRegistry(),
      normalize: createConfiguredNormalizer(config.collector, now),
      codecs: createCodecs(), topics, producer, now,
    })
    const progress = createProgress(ctx.stderr, 'replay')
    try {
      const common = {
        format: String(values.format), maxLineBytes: config.collector.maxLineBytes, batchLines,
        onProgress: (c: IngestCounts, file: string) => progress.update(c.lines, `${file}: issue ${c.issue}, revoke ${c.revoke}, validate ${c.validate}, dlq ${c.dlq}, skipped ${c.skipped}`),
      }
      let counts: IngestCounts
      if (values.follow) {
        const stop = new AbortController()
        void ctx.stopSignal.then(() => stop.abort())
        counts = await followFile(ingestor, files[0]!, { ...common, signal: stop.signal, fromEnd: Boolean(values['from-end']), flushMs: 500 })
      } else {
        counts = await replayFiles(ingestor, files, common)
      }
      progress.done(counts.lines)
      ctx.stdout.write(JSON.stringify(counts) + '\n')
      return 0
    } finally {
      await producer.disconnect()
    }
  },
}
