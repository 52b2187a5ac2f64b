/**
 * Per-peer circuit breaker (pure: the caller passes `now`). Closed: everything goes through.
 * After `failureThreshold` consecutive failures it opens and refuses sends for `openMs`;
 * then it is half-open and lets exactly one probe through. The probe's success closes it,
 * its failure opens it again with the wait doubled (up to `maxOpenMs`).
 */
export type BreakerState = 'closed' | 'open' | 'half-open'

export interface BreakerInit { failureThreshold?: number, openMs?: number, maxOpenMs?: number }

export class CircuitBreaker {
  private state: BreakerState = 'closed'
  private failures = 0
  private openUntil = 0
  private currentOpenMs: number
  private probing = false
  readonly failureThreshold: number
  readonly openMs: number
  readonly maxOpenMs: number

  constructor (init: BreakerInit = {}) {
    this.failureThreshold = init.failureThreshold ?? 5
    this.openMs = init.openMs ?? 2000
    this.maxOpenMs = init.maxOpenMs ?? 30_000
    this.currentOpenMs = this.openMs
  }

  status (now: number): { state: BreakerState, consecutiveFailures: number, retryAfterMs: number } {
    const state = this.state === 'open' && now >= this.openUntil ? 'half-open' : this.state
    return { state, consecutiveFailures: this.failures, retryAfterMs: state === 'open' ? this.openUntil - now : 0 }
  }

  /** Whether a send may start now. In half-open state only one probe is admitted at a time. */
  allow (now: number): { ok: true, probe: boolean } | { ok: false, retryAfterMs: number } {
    if (this.state === 'closed') return { ok: true, probe: false }
    if (this.state === 'open' && now < this.openUntil) return { ok: false, retryAfterMs: this.openUntil - now }
    this.state = 'half-open'
    if (this.probing) return { ok: false, retryAfterMs: 0 }
    this.probing = true
    return { ok: true, probe: true }
  }

  success (): void {
    this.state = 'closed'
    this.failures = 0
    this.probing = false
    this.currentOpenMs = this.openMs
  }

  failure (now: number, probe: boolean): void {
    this.failures++
    if (probe || this.state === 'half-open') {
      this.probing = false
      this.currentOpenMs = Math.min(this.currentOpenMs * 2, this.maxOpenMs)
      this.trip(now)
    } else if (this.state === 'closed' && this.failures >= this.failureThreshold) {
      this.trip(now)
    }
  }

  /** A probe that ended without a verdict (e.g. cancelled) frees the slot. */
  release (probe: boolean): void {
    if (probe) this.probing = false
  }

  private trip (now: number): void {
    this.state = 'open'
    this.openUntil = now + this.currentOpenMs
  }
}

/** Exponential backoff with full jitter: a random delay in [d/2, d], d = min(base * 2^attempt, cap). */
export function backoffDelay (attempt: number, rand: () => number, baseMs = 20, capMs = 1000): number {
  const d = Math.min(baseMs * 2 ** attempt, capMs)
  return Math.floor(d / 2 + rand() * d / 2)
}
