import { Kafka, logLevel, Partitioners, type Consumer, type ITopicConfig, type LogEntry, type Producer, type Message } from 'kafkajs'
import { coPartitionedAssigner } from './assigner.js'
import type { KafkaConfig } from './config.js'
import { SessionwatchError } from './errors.js'
import type { Logger } from './log.js'

export interface TopicNames {
  logsIdp: string
  logsGateway: string
  issue: string
  revoke: string
  validate: string
  dlq: string
  detections: string
  state: string
  alertsDlq: string
  alertDeliveries: string
  alertIncidents: string
  feedback: string
  /** Incident commands (acknowledge, resolve) for the alerter: services/alerter/commands.ts. */
  alertCommands: string
}

export function topicNames(prefix: string): TopicNames {
  const t = (name: string) => prefix + name
  return {
    logsIdp: t('logs.idp'),
    logsGateway: t('logs.gateway'),
    issue: t('auth.issue'),
    revoke: t('auth.revoke'),
    validate: t('auth.validate'),
    dlq: t('auth.dlq'),
    detections: t('auth.detections'),
    state: t('detector.state'),
    alertsDlq: t('auth.alerts.dlq'),
    alertDeliveries: t('auth.alerts.deliveries'),
    alertIncidents: t('auth.alerts.incidents'),
    feedback: t('detector.feedback'),
    alertCommands: t('alerts.commands'),
  }
}

const DAY_MS = 24 * 60 * 60 * 1000

/**
 * Every topic the pipeline uses, with the partitioning DESIGN.md implies: the three auth topics share one
 * partition count and key (subject) so one detector owns all events of a user; detector.state is compacted.
 */
export function topicSpecs(config: KafkaConfig, names: TopicNames): ITopicConfig[] {
  // Records carry the time the broker appended them, not a producer's: retention counts from when a record
  // arrived, so a replay of last month's logs is not deleted by a 7-day retention before it is consumed (the
  // event time is in the record itself), and a shipper's clock in the future is not refused.
  const spec = (topic: string, entries: Record<string, string>): ITopicConfig => ({
    topic,
    numPartitions: config.partitions,
    replicationFactor: config.replicationFactor,
    configEntries: Object.entries({ 'message.timestamp.type': 'LogAppendTime', ...entries }).map(([name, value]) => ({ name, value })),
  })
  const kept = (topic: string, retentionDays: number) => spec(topic, { 'retention.ms': String(retentionDays * DAY_MS) })
  return [
    kept(names.logsIdp, 3),
    kept(names.logsGateway, 3),
    kept(names.issue, 7),
    kept(names.revoke, 7),
    kept(names.validate, 7),
    kept(names.dlq, 14),
    kept(names.detections, 30),
    kept(names.alertsDlq, 30),
    kept(names.alertDeliveries, 30),
    kept(names.alertCommands, 30),
    // The alerter's incident book (which incidents were paged, how many updates): latest per incident id.
    spec(names.alertIncidents, { 'cleanup.policy': 'compact,delete', 'retention.ms': String(30 * DAY_MS), 'min.compaction.lag.ms': '60000' }),
    // Analyst verdicts, key detection id: compaction keeps the latest verdict per detection, and nothing
    // deletes it by age (a verdict's own expiry is the detector's to apply, SW_FEEDBACK_EXPIRY_DAYS).
    spec(names.feedback, { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000' }),
    spec(names.state, { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000' }),
  ]
}

export function createKafka(config: KafkaConfig, log: Logger): Kafka {
  const kafkaLog = log.child({ component: 'kafkajs' })
  return new Kafka({
    clientId: config.clientId,
    brokers: [...config.brokers],
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
    logCreator: () => (entry: LogEntry) => {
      const { message, ...fields } = entry.log
      const level = entry.level === logLevel.ERROR ? 'error' : entry.level === logLevel.WARN ? 'warn' : 'debug'
      kafkaLog[level]({ namespace: entry.namespace, ...fields }, message)
    },
  })
}

/** Creates the missing topics; existing ones are left as they are. */
export async function ensureTopics(kafka: Kafka, specs: ITopicConfig[]): Promise<void> {
  const admin = kafka.admin()
  try {
    await admin.connect()
    const existing = new Set(await admin.listTopics())
    const missing = specs.filter((s) => !existing.has(s.topic))
    if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true })
  } catch (error) {
    throw new SessionwatchError('KAFKA_UNAVAILABLE', `cannot create topics: ${(error as Error).message}`, { retriable: true, cause: error })
  } finally {
    await admin.disconnect()
  }
}

export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
  })
}

/** Sends and waits for every replica's acknowledgement; infrastructure failures become retriable errors. */
export async function sendAll(producer: Producer, batches: { topic: string; messages: Message[] }[]): Promise<void> {
  const topicMessages = batches.filter((b) => b.messages.length > 0)
  if (topicMessages.length === 0) return
  try {
    await producer.sendBatch({ topicMessages, acks: -1 })
  } catch (error) {
    throw new SessionwatchError('KAFKA_PRODUCE_FAILED', `produce failed: ${(error as Error).message}`, { retriable: true, cause: error })
  }
}

/**
 * A consumer in a group. maxWaitTimeInMs bounds how long an idle fetch (and so a clean shutdown) waits;
 * the kafkajs default of 5 s would make every stop take 5 s.
 */
/**
 * `coPartitioned`: partition p of every subscribed topic goes to one member (services/shared/assigner.ts), for
 * the detector, whose three input topics are keyed by subject with one partition count.
 */
export function createConsumer(kafka: Kafka, groupId: string, options: { coPartitioned?: boolean } = {}): Consumer {
  return kafka.consumer({
    groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500, sessionTimeout: 30_000, heartbeatInterval: 3000,
    ...(options.coPartitioned ? { partitionAssigners: [coPartitionedAssigner] } : {}),
  })
}
