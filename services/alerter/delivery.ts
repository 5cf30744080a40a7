// Delivery to one HTTP endpoint: a p-queue per endpoint bounds concurrency, every try passes the endpoint's
// circuit breaker, failures are retried with jittered exponential backoff (services/shared/retry.ts), and
// every try — and every try the breaker refused — is reported to `record` for the delivery log.
import PQueue from 'p-queue'
import type { AlertPolicy } from './policy.js'
import { createCircuitBreaker, type CircuitBreaker } from './breaker.js'
import { SessionwatchError } from '../shared/errors.js'
import type { Logger } from '../shared/log.js'
import { retry } from '../shared/retry.js'

export interface HttpRequest {
  method: string
  url: string
  headers: Record<string, string>
  body?: string
}

export interface Endpoint {
  /** Unique, safe to log and store (never the URL). */
  name: string
  /** webhook, pagerduty, slack, rfc7009, http_action, ssf */
  channel: string
  /** Strings that must never reach a log line or the delivery log (URLs with tokens, keys, secrets). */
  secrets: readonly string[]
}

export interface Attempt {
  attempt: number
  outcome: 'delivered' | 'http_error' | 'network_error' | 'circuit_open'
  status?: number
  error?: string
  durationMs: number
}

export type DeliveryResult = { ok: true; attempts: number; value?: unknown } | { ok: false; attempts: number; error: SessionwatchError }

/**
 * Reads a 2xx answer for APIs that report failure in the body (Slack's Web API answers 200 with `"ok": false`).
 * `value` is handed back with the result (e.g. the ts of a posted Slack message).
 */
export type InspectResponse = (status: number, body: string) => { ok: true; value?: unknown } | { ok: false; error: string; retriable: boolean }

export interface DelivererOptions {
  concurrency: number
  tries: number
  backoffMs: number
  maxBackoffMs?: number
  timeoutMs: number
  breaker: AlertPolicy['delivery']['breaker']
  now: () => number
  log: Logger
  fetch?: typeof fetch
}

/** Replaces every secret in a text by [redacted]. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]')
  return out
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
}

export function createDeliverer(options: DelivererOptions) {
  const doFetch = options.fetch ?? fetch
  const queues = new Map<string, PQueue>()
  const breakers = new Map<string, CircuitBreaker>()
  const forEndpoint = (name: string) => {
    let queue = queues.get(name)
    if (!queue) {
      queue = new PQueue({ concurrency: options.concurrency })
      queues.set(name, queue)
      breakers.set(name, createCircuitBreaker({ failureThreshold: options.breaker.failure_threshold, coolDownMs: options.breaker.cool_down_seconds * 1000, now: options.now }))
    }
    return { queue, breaker: breakers.get(name)! }
  }

  async function tryOnce(endpoint: Endpoint, request: HttpRequest, attempt: number, breaker: CircuitBreaker, record: (a: Attempt) => Promise<void>, inspect?: InspectResponse): Promise<unknown> {
    for (;;) {
      const admitted = breaker.admit()
      if (admitted.allowed) break
      if (options.breaker.when_open === 'dlq') {
        await record({ attempt, outcome: 'circuit_open', error: 'circuit open: endpoint failed repeatedly', durationMs: 0 })
        throw new SessionwatchError('CIRCUIT_OPEN', `circuit open for ${endpoint.name}`, { retriable: false })
      }
      // when_open: wait — hold this delivery (and so the batch's offset commit) until a probe is allowed.
      await sleep(admitted.retryAtMs - options.now())
    }
    const started = performance.now()
    let response: Response
    try {
      response = await doFetch(request.url, { method: request.method, body: request.body, headers: request.headers, signal: AbortSignal.timeout(options.timeoutMs) })
    } catch (error) {
      breaker.failure()
      // undici reports network failures as `TypeError: fetch failed` with the real error as its cause;
      // keep only that cause, or the chain would read as a programmer error and never be retried.
      const cause = error instanceof TypeError && error.cause ? error.cause : error
      const message = redact(`unreachable: ${(cause as Error).message}`, endpoint.secrets)
      await record({ attempt, outcome: 'network_error', error: message, durationMs: performance.now() - started })
      throw new SessionwatchError('WEBHOOK_UNAVAILABLE', `${endpoint.name} ${message}`, { retriable: true })
    }
    const text = await response.text().catch(() => '')
    const durationMs = performance.now() - started
    if (response.ok) {
      breaker.success()
      const verdict = inspect ? inspect(response.status, text) : { ok: true as const }
      if (verdict.ok) {
        await record({ attempt, outcome: 'delivered', status: response.status, durationMs })
        return verdict.value
      }
      const error = redact(`answered ${response.status} with an error: ${verdict.error.slice(0, 200)}`, endpoint.secrets)
      await record({ attempt, outcome: 'http_error', status: response.status, error, durationMs })
      throw new SessionwatchError('WEBHOOK_REJECTED', `${endpoint.name} ${error}`, { retriable: verdict.retriable })
    }
    // 408, 429 and 5xx are worth another try; any other answer will not change by retrying, and says
    // nothing about the endpoint's health, so it does not count against the breaker.
    const retriable = response.status === 408 || response.status === 429 || response.status >= 500
    if (retriable) breaker.failure()
    else breaker.success()
    const error = redact(`answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`, endpoint.secrets)
    await record({ attempt, outcome: 'http_error', status: response.status, error, durationMs })
    throw new SessionwatchError('WEBHOOK_REJECTED', `${endpoint.name} ${error}`, { retriable })
  }

  return {
    /**
     * Queues one delivery; resolves once it succeeded or gave up (never rejects for the endpoint's failures).
     * `build` is called per try, so signatures and timestamps are fresh on every try.
     */
    deliver(endpoint: Endpoint, build: (attempt: number) => HttpRequest, record: (a: Attempt) => Promise<void>, inspect?: InspectResponse): Promise<DeliveryResult> {
      const { queue, breaker } = forEndpoint(endpoint.name)
      let attempts = 0
      return queue.add(async (): Promise<DeliveryResult> => {
        try {
          const value = await retry(async (attempt) => {
            attempts = attempt
            return tryOnce(endpoint, build(attempt), attempt, breaker, record, inspect)
          }, {
            tries: options.tries,
            initialMs: options.backoffMs,
            maxMs: options.maxBackoffMs ?? 30_000,
            onRetry: (error, attempt, delayMs) => options.log.warn({ endpoint: endpoint.name, attempt, delayMs, reason: (error as Error).message }, 'delivery failed, retrying'),
          })
          return value === undefined ? { ok: true, attempts } : { ok: true, attempts, value }
        } catch (error) {
          const e = error instanceof SessionwatchError ? error : new SessionwatchError('WEBHOOK_UNAVAILABLE', redact((error as Error).message, endpoint.secrets), { cause: error })
          return { ok: false, attempts, error: e }
        }
      }) as Promise<DeliveryResult>
    },
    breakerState(name: string) {
      return breakers.get(name)?.state ?? 'closed'
    },
    async onIdle() {
      await Promise.all([...queues.values()].map((q) => q.onIdle()))
    },
  }
}

export type Deliverer = ReturnType<typeof createDeliverer>
