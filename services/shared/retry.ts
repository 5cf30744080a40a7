import { isRetriable } from './errors.js'

export interface RetryOptions {
  /** Total tries, the first included. */
  tries: number
  initialMs: number
  maxMs: number
  /** Decides whether a failure is worth another try; defaults to the error chain's `retriable` flags. */
  retriable?: (error: unknown) => boolean
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
  signal?: AbortSignal
}

export const DEFAULT_RETRY: RetryOptions = { tries: 5, initialMs: 300, maxMs: 10_000 }

/** Delay before try `attempt + 1`: doubling from initialMs with ±20% jitter, capped. */
export function backoffDelay(attempt: number, options: Pick<RetryOptions, 'initialMs' | 'maxMs'>, random = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** (attempt - 1))
  const jitter = base * 0.2 * (random() * 2 - 1)
  return Math.max(0, Math.round(base + jitter))
}

/** Wraps exactly one side effect. Rethrows the last error, or the first non-retriable one. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = DEFAULT_RETRY): Promise<T> {
  const retriable = options.retriable ?? isRetriable
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      if (attempt >= options.tries || !retriable(error) || options.signal?.aborted) throw error
      const delayMs = backoffDelay(attempt, options)
      options.onRetry?.(error, attempt, delayMs)
      await sleep(delayMs, options.signal)
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
  })
}
