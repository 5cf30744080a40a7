// Wires every service into one process (`sessionwatch up`) or one of them (`sessionwatch run <service>`).
// Everything is built here once, at start-up; the services only receive the slices they need.
import { createApi } from './api/api.js'
import { createConfiguredNormalizer } from './collector/setup.js'
import { createQueries } from './api/queries.js'
import { createAlerter } from './alerter/alerter.js'
import { createCollector } from './collector/collector.js'
import { createFormatRegistry } from './collector/formats/index.js'
import { createDetectorService } from './detector/detector.js'
import { createSink } from './sink/sink.js'
import { createCodecs } from './shared/avro.js'
import { applySchema, createClickHouse, type ClickHouseClient } from './shared/clickhouse.js'
import type { Config } from './shared/config.js'
import { createKafka, ensureTopics, topicNames, topicSpecs } from './shared/kafka.js'
import type { Logger } from './shared/log.js'
import { createMetrics } from './shared/metrics.js'
import { retry } from './shared/retry.js'

export const SERVICES = ['collector', 'detector', 'sink', 'alerter', 'api'] as const
export type ServiceName = (typeof SERVICES)[number]

interface Service {
  start(): Promise<void>
  stop(): Promise<void>
}

export function createPipeline(config: Readonly<Config>, log: Logger, only: readonly ServiceName[] = SERVICES) {
  const now = () => Date.now()
  const kafka = createKafka(config.kafka, log)
  const topics = topicNames(config.kafka.topicPrefix)
  const codecs = createCodecs()
  const metrics = createMetrics()
  const group = (name: string) => serviceGroup(config, name)
  const needsClickHouse = only.includes('sink') || only.includes('api')
  let clickhouse: ClickHouseClient | undefined
  const started: Service[] = []
  const services: Partial<Record<ServiceName, Service>> = {}

  const build: Record<ServiceName, (ch: ClickHouseClient | undefined) => Service> = {
    collector: () => createCollector({
      config: config.collector, kafka, topics, codecs, formats: createFormatRegistry(),
      normalize: createConfiguredNormalizer(config.collector, now),
      log, now, rawFormats: config.collector.rawFormats, groupId: group('collector'),
    }),
    detector: () => createDetectorService({ config: config.detector, kafka, topics, codecs, log, metrics, now, groupId: group('detector') }),
    sink: (ch) => createSink({ config: config.sink, database: config.clickhouse.database, kafka, clickhouse: ch!, topics, codecs, log, metrics, groupId: group('sink') }),
    alerter: () => createAlerter({ config: config.alerter, kafka, topics, codecs, log, metrics, now, groupId: group('alerter') }),
    api: (ch) => createApi({ config: config.api, queries: createQueries(ch!, config.clickhouse.database), metrics, log, kafka, topics, codecs, now }),
  }

  return {
    topics,
    metrics,
    services,
    get clickhouse() {
      return clickhouse
    },
    async start() {
      await retry(() => ensureTopics(kafka, topicSpecs(config.kafka, topics)), {
        tries: 10, initialMs: 500, maxMs: 5000,
        onRetry: (error, attempt) => log.warn({ attempt, err: error }, 'kafka not ready, retrying'),
      })
      if (needsClickHouse) {
        clickhouse = await createClickHouse(config.clickhouse)
        await applySchema(clickhouse, config.clickhouse)
      }
      // Readers first, so nothing produced during start-up waits on a consumer that is not there yet.
      for (const name of ['api', 'sink', 'alerter', 'detector', 'collector'] as const) {
        if (!only.includes(name)) continue
        const service = build[name](clickhouse)
        await service.start()
        services[name] = service
        started.push(service)
      }
      log.info({ services: only, topics: config.kafka.topicPrefix || '(no prefix)' }, 'sessionwatch started')
    },
    /** Stops in reverse order: the collector stops taking input first, the sink flushes last. */
    async stop() {
      for (const service of started.reverse()) {
        try {
          await service.stop()
        } catch (error) {
          log.error({ err: error }, 'service did not stop cleanly')
        }
      }
      started.length = 0
      await clickhouse?.close()
      log.info('sessionwatch stopped')
    },
  }
}

export type Pipeline = ReturnType<typeof createPipeline>

/** The consumer group of a service (`sessionwatch-<name>` under the topic prefix). */
export function serviceGroup(config: Pick<Config, 'kafka'>, name: string): string {
  return `${config.kafka.topicPrefix}sessionwatch-${name}`
}
