// The one place that reads process.env. Parsed once per process into a frozen, typed object;
// each component receives only its slice.
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { ConfigError } from './errors.js'
import { readSettingsFile } from './settings-file.js'
import { DEFAULT_POLICY, type AlertPolicy } from '../alerter/policy.js'
import { loadPolicyFile } from '../alerter/policy-file.js'
import { publicJwk, type PublicJwk } from '../alerter/ssf.js'
import { parseDetectorSettings, type DetectorSettings } from '../../detectors/index.js'

const seconds = (def: number) => z.coerce.number().positive().default(def).transform((s) => Math.round(s * 1000))
const port = (def: number) => z.coerce.number().int().min(0).max(65535).default(def)
const secret = z.string().min(32, 'must be at least 32 characters')
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.string().url().optional())

const envSchema = z.object({
  KAFKA_BROKERS: z.string().default('127.0.0.1:19092'),
  SW_KAFKA_CLIENT_ID: z.string().default('sessionwatch'),
  SW_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dot, dash, underscore only').default(''),
  SW_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(3),
  SW_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(7).default(1),
  CLICKHOUSE_URL: optionalUrl,
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a plain identifier').default('sessionwatch'),
  SW_DATA_DIR: z.string().default('data'),
  SW_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  SW_FINGERPRINT_KEY: secret.optional(),
  SW_WEBHOOK_SECRET: secret.optional(),
  SW_API_TOKEN: secret.optional(),
  SW_INTAKE_TOKEN: secret.optional(),
  SW_ANALYST_TOKEN: secret.optional(),
  SW_HOST: z.string().default('127.0.0.1'),
  SW_INTAKE_PORT: port(8787),
  SW_API_PORT: port(8788),
  SW_API_URL: optionalUrl,
  SW_INTAKE_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(5 * 1024 * 1024),
  SW_MAX_LINE_BYTES: z.coerce.number().int().min(256).default(64 * 1024),
  SW_ENRICH: z.enum(['on', 'off']).default('on'),
  SW_CITY_DB_DIR: z.string().optional(),
  SW_ASN_DB_DIR: z.string().optional(),
  SW_NETWORK_LISTS_FILE: z.string().optional(),
  SW_CITY_ACCURACY_KM: z.coerce.number().positive().default(50),
  SW_FORMAT_LOGS_IDP: z.string().default('canonical'),
  SW_FORMAT_LOGS_GATEWAY: z.string().default('canonical'),
  SW_WINDOW_SECONDS: seconds(30 * 60),
  SW_LATENESS_SECONDS: seconds(5 * 60),
  SW_STATE_TTL_SECONDS: seconds(2 * 60 * 60),
  SW_CHECKPOINT_SECONDS: seconds(5),
  SW_HOT_GROUPS: z.coerce.number().int().min(1).default(65_536),
  SW_FROZEN_STORE: z.enum(['disk', 'memory']).default('disk'),
  SW_FROZEN_DIR: z.string().optional(),
  SW_DETECTORS_FILE: z.string().optional(),
  SW_FEEDBACK_EXPIRY_DAYS: z.coerce.number().positive().max(3650).default(90),
  SW_FEEDBACK_FACTOR: z.coerce.number().min(0).max(1).default(0.4),
  SW_SINK_BATCH_ROWS: z.coerce.number().int().min(1).default(5000),
  SW_SINK_FLUSH_SECONDS: seconds(1),
  SW_WEBHOOK_URL: optionalUrl,
  SW_WEBHOOK_MIN_SEVERITY: z.enum(['info', 'ticket', 'page']).default('page'),
  SW_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  SW_WEBHOOK_TRIES: z.coerce.number().int().min(1).max(20).default(6),
  SW_WEBHOOK_TIMEOUT_SECONDS: seconds(10),
  SW_WEBHOOK_BACKOFF_SECONDS: seconds(0.5),
  SW_ALERT_POLICY: z.string().optional(),
  SW_SSF_SIGNING_KEY_FILE: z.string().optional(),
  SW_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
})

export type Env = Record<string, string | undefined>

function buildConfig(env: z.infer<typeof envSchema>, secrets: Secrets, alerting: Alerting, detectors: DetectorSettings) {
  const dataDir = resolve(env.SW_DATA_DIR)
  return {
    kafka: {
      brokers: env.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean),
      clientId: env.SW_KAFKA_CLIENT_ID,
      topicPrefix: env.SW_TOPIC_PREFIX,
      partitions: env.SW_PARTITIONS,
      replicationFactor: env.SW_REPLICATION_FACTOR,
    },
    clickhouse: {
      url: env.CLICKHOUSE_URL,
      user: env.CLICKHOUSE_USER,
      password: env.CLICKHOUSE_PASSWORD,
      database: env.CLICKHOUSE_DATABASE,
      embeddedPath: join(dataDir, 'clickhouse'),
      retentionDays: env.SW_RETENTION_DAYS,
    },
    collector: {
      fingerprintKey: secrets.fingerprintKey,
      host: env.SW_HOST,
      intakePort: env.SW_INTAKE_PORT,
      intakeToken: secrets.intakeToken,
      maxBodyBytes: env.SW_INTAKE_MAX_BODY_BYTES,
      maxLineBytes: env.SW_MAX_LINE_BYTES,
      rawFormats: { idp: env.SW_FORMAT_LOGS_IDP, gateway: env.SW_FORMAT_LOGS_GATEWAY },
      enrichment: {
        enabled: env.SW_ENRICH === 'on',
        cityDbDir: env.SW_CITY_DB_DIR,
        asnDbDir: env.SW_ASN_DB_DIR,
        networkListsFile: env.SW_NETWORK_LISTS_FILE,
        cityAccuracyKm: env.SW_CITY_ACCURACY_KM,
      },
    },
    detector: {
      windowMs: env.SW_WINDOW_SECONDS,
      latenessMs: env.SW_LATENESS_SECONDS,
      stateTtlMs: env.SW_STATE_TTL_SECONDS,
      checkpointIntervalMs: env.SW_CHECKPOINT_SECONDS,
      /** Slot groups kept as objects; the least recently used of the rest are frozen into bytes (engine.ts). */
      hotGroups: env.SW_HOT_GROUPS,
      /**
       * Where frozen groups' bytes go (SW_FROZEN_STORE disk: a file per partition in this directory, unlinked at
       * once; undefined: memory). A cache of the checkpoints: nothing in it needs to survive a restart.
       */
      frozenDir: env.SW_FROZEN_STORE === 'disk' ? resolve(env.SW_FROZEN_DIR ?? join(dataDir, 'frozen')) : undefined,
      /** Per-detector overrides and switched-off detectors (SW_DETECTORS_FILE); empty: the documented defaults. */
      detectors,
      feedback: {
        expiryMs: Math.round(env.SW_FEEDBACK_EXPIRY_DAYS * 24 * 3600_000),
        factor: env.SW_FEEDBACK_FACTOR,
        thresholds: { page: 0.8, ticket: 0.5 },
      },
    },
    sink: { batchRows: env.SW_SINK_BATCH_ROWS, flushIntervalMs: env.SW_SINK_FLUSH_SECONDS },
    alerter: {
      webhookUrl: env.SW_WEBHOOK_URL,
      webhookSecret: secrets.webhookSecret,
      minSeverity: env.SW_WEBHOOK_MIN_SEVERITY,
      concurrency: env.SW_WEBHOOK_CONCURRENCY,
      tries: env.SW_WEBHOOK_TRIES,
      timeoutMs: env.SW_WEBHOOK_TIMEOUT_SECONDS,
      backoffMs: env.SW_WEBHOOK_BACKOFF_SECONDS,
      timelineBaseUrl: env.SW_API_URL ?? `http://${env.SW_HOST}:${env.SW_API_PORT}`,
      policy: alerting.policy,
      policyFile: env.SW_ALERT_POLICY,
      ssfSigningKeyPem: alerting.ssfKeyPem,
    },
    api: {
      host: env.SW_HOST,
      port: env.SW_API_PORT,
      token: secrets.apiToken,
      analystToken: secrets.analystToken,
      url: env.SW_API_URL ?? `http://${env.SW_HOST}:${env.SW_API_PORT}`,
      jwks: { keys: alerting.ssfKeyPem ? [publicJwk(alerting.ssfKeyPem)] : [] } as { keys: PublicJwk[] },
    },
    log: { level: env.SW_LOG_LEVEL },
    dataDir,
  }
}

export type Config = ReturnType<typeof buildConfig>
export type KafkaConfig = Config['kafka']
export type ClickHouseConfig = Config['clickhouse']

interface Secrets {
  fingerprintKey: string | undefined
  webhookSecret: string | undefined
  apiToken: string | undefined
  intakeToken: string | undefined
  analystToken: string | undefined
}

const SECRET_NAMES = ['SW_FINGERPRINT_KEY', 'SW_WEBHOOK_SECRET', 'SW_API_TOKEN', 'SW_INTAKE_TOKEN', 'SW_ANALYST_TOKEN'] as const

/**
 * Secrets come from the environment. For the local default only (SW_LOCAL_SECRETS=1, set by `make demo`,
 * the tests and `sessionwatch up` without CLICKHOUSE_URL) missing ones are generated once into
 * <data dir>/secrets.env with mode 0600, so fingerprints stay stable across runs on one machine.
 */
function resolveSecrets(env: Env, dataDir: string, allowLocal: boolean): Secrets {
  const values: Record<string, string | undefined> = Object.fromEntries(SECRET_NAMES.map((n) => [n, env[n] || undefined]))
  const missing = SECRET_NAMES.filter((n) => !values[n])
  if (missing.length > 0 && allowLocal) {
    const file = join(dataDir, 'secrets.env')
    const stored = existsSync(file) ? parseEnvFile(readFileSync(file, 'utf8')) : {}
    let changed = false
    for (const name of missing) {
      if (!stored[name]) {
        stored[name] = randomBytes(32).toString('base64url')
        changed = true
      }
      values[name] = stored[name]
    }
    if (changed) {
      mkdirSync(dataDir, { recursive: true })
      const body = Object.entries(stored).map(([k, v]) => `${k}=${v}`).join('\n') + '\n'
      writeFileSync(file, body, { mode: 0o600 })
    }
  }
  return {
    fingerprintKey: values.SW_FINGERPRINT_KEY,
    webhookSecret: values.SW_WEBHOOK_SECRET,
    apiToken: values.SW_API_TOKEN,
    intakeToken: values.SW_INTAKE_TOKEN,
    analystToken: values.SW_ANALYST_TOKEN,
  }
}

/** A secret a component cannot run without; checked where it is used, so `parse` needs only the key it uses. */
/**
 * Makes the directory of the frozen detector state's files (SW_FROZEN_DIR) and checks a file can be made in it, so
 * a directory the process cannot write is a ConfigError at start rather than a failure at a partition's first batch.
 */
export function ensureFrozenDir(detector: { frozenDir?: string }): void {
  const dir = detector.frozenDir
  if (dir === undefined) return
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const probe = join(dir, `.probe-${process.pid}-${randomBytes(6).toString('hex')}`)
    writeFileSync(probe, '', { flag: 'wx', mode: 0o600 })
    unlinkSync(probe)
  } catch (error) {
    throw new ConfigError(`SW_FROZEN_DIR ${dir} cannot hold the frozen detector state's files (or set SW_FROZEN_STORE=memory): ${(error as Error).message}`, error)
  }
}

export function requireSecret(value: string | undefined, name: (typeof SECRET_NAMES)[number]): string {
  if (!value) {
    throw new ConfigError(`${name} is not set: give it in the environment (at least 32 characters), or set SW_LOCAL_SECRETS=1 to have a local one generated under the data directory`)
  }
  return value
}

function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim())
    if (m) out[m[1]!] = m[2]!
  }
  return out
}

/** The process environment, for the entry points that hand it on (tests pass their own instead). */
export function processEnv(): Env {
  return process.env
}

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const parsed = envSchema.safeParse(env)
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
    throw new ConfigError(`invalid configuration: ${detail}`)
  }
  const dataDir = resolve(parsed.data.SW_DATA_DIR)
  const allowLocal = env.SW_LOCAL_SECRETS === '1'
  const secrets = resolveSecrets(env, dataDir, allowLocal)
  const alerting: Alerting = {
    policy: parsed.data.SW_ALERT_POLICY ? loadPolicyFile(parsed.data.SW_ALERT_POLICY, env) : DEFAULT_POLICY,
    ssfKeyPem: loadSsfKey(parsed.data.SW_SSF_SIGNING_KEY_FILE, dataDir, allowLocal),
  }
  const detectors = parsed.data.SW_DETECTORS_FILE ? loadDetectorsFile(parsed.data.SW_DETECTORS_FILE) : { overrides: {}, disabled: [] }
  return deepFreeze(buildConfig(parsed.data, secrets, alerting, detectors))
}

interface Alerting {
  policy: AlertPolicy
  ssfKeyPem: string | undefined
}

/** Detector settings (JSON, or YAML for .yaml/.yml; docs/detectors.md): every key checked against the detectors' own defaults. */
function loadDetectorsFile(path: string): DetectorSettings {
  const parsed = readSettingsFile('SW_DETECTORS_FILE', path)
  const result = parseDetectorSettings(parsed.document)
  if (!result.ok) {
    // Problems start with their dotted path: for YAML, say on which line it is.
    const located = result.problems.map((p) => {
      const line = parsed.lineOf(p.slice(0, p.indexOf(':')).split('.'))
      return line ? p.replace(':', ` (line ${line}):`) : p
    })
    throw new ConfigError(`SW_DETECTORS_FILE: ${path}: ${located.join('; ')}`)
  }
  return result.settings
}

/** The ES256 key that signs SSF/CAEP events: a PEM file, or (local trials only) one generated once, mode 0600. */
function loadSsfKey(path: string | undefined, dataDir: string, allowLocal: boolean): string | undefined {
  const file = path ?? (allowLocal ? join(dataDir, 'ssf-signing-key.pem') : undefined)
  if (!file) return undefined
  if (!existsSync(file)) {
    if (path) throw new ConfigError(`SW_SSF_SIGNING_KEY_FILE: ${path} does not exist`)
    mkdirSync(dataDir, { recursive: true })
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, { mode: 0o600 })
  }
  const pem = readFileSync(file, 'utf8')
  try {
    publicJwk(pem)
  } catch (error) {
    throw new ConfigError(`SW_SSF_SIGNING_KEY_FILE: ${file}: ${(error as Error).message}`, error)
  }
  return pem
}

/** Names and defaults of every setting, for `--help` and the README. */
export function describeSettings(): { name: string; default: string }[] {
  return Object.entries(envSchema.shape).map(([name, type]) => {
    const result = (type as z.ZodType).safeParse(undefined)
    // *_SECONDS settings are parsed into milliseconds; show them as the user writes them.
    const value = result.success ? result.data : undefined
    const shown = typeof value === 'number' && name.endsWith('_SECONDS') ? value / 1000 : value
    return { name, default: shown === undefined ? '' : String(shown) }
  })
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
