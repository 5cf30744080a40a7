// A circuit breaker per endpoint: after `failureThreshold` consecutive failed tries it opens, and no request
// reaches the endpoint until `coolDownMs` have passed; then one probe is let through (half-open). The probe's
// success closes it, its failure opens it again for another cool-down. Time is injected.

export type BreakerState = 'closed' | 'open' | 'half_open'

export interface CircuitBreaker {
  /** Whether a try may go out now; when not, `retryAtMs` says when the next probe will be allowed. */
  admit(): { allowed: true; state: BreakerState } | { allowed: false; retryAtMs: number }
  success(): void
  failure(): void
  readonly state: BreakerState
}

export function createCircuitBreaker(options: { failureThreshold: number; coolDownMs: number; now: () => number }): CircuitBreaker {
  let state: BreakerState = 'closed'
  let failures = 0
  let openedAt = 0
  let probing = false
  return {
    get state() {
      return state
    },
    admit() {
      if (state === 'closed') return { allowed: true, state }
      const retryAtMs = openedAt + options.coolDownMs
      if (state === 'open' && options.now() >= retryAtMs) state = 'half_open'
      if (state === 'half_open' && !probing) {
        probing = true
        return { allowed: true, state }
      }
      return { allowed: false, retryAtMs: state === 'half_open' ? options.now() + Math.min(1000, options.coolDownMs) : retryAtMs }
    },
    success() {
      state = 'closed'
      failures = 0
      probing = false
    },
    failure() {
      probing = false
      failures++
      if (state === 'half_open' || failures >= options.failureThreshold) {
        state = 'open'
        openedAt = options.now()
      }
    },
  }
}

/** A token bucket per channel: `perMinute` sustained, `burst` at once. */
export function createRateLimiter(options: { perMinute: number; burst?: number; now: () => number }) {
  const capacity = options.burst ?? Math.max(1, Math.ceil(options.perMinute / 6))
  const perMs = options.perMinute / 60_000
  let tokens = capacity
  let last = options.now()
  return {
    take(): boolean {
      const now = options.now()
      tokens = Math.min(capacity, tokens + (now - last) * perMs)
      last = now
      if (tokens < 1) return false
      tokens -= 1
      return true
    },
  }
}
