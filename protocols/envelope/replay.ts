/**
 * Replay protection and deduplication, as a pure structure (the caller passes `now`).
 *
 * A message is accepted once: its key is remembered until its timestamp leaves the window.
 * Messages older than the window are refused outright, so the cache never needs to reach
 * further back. When the cache is full the oldest entries are evicted and the low watermark
 * rises to the newest evicted timestamp: anything at or below it is refused as stale. So every
 * accepted message newer than the watermark is still in the cache, and a replay is always caught.
 */
export type ReplayVerdict<V> =
  | { kind: 'fresh' }
  | { kind: 'duplicate', value: V }
  | { kind: 'stale' }

export interface ReplayGuardInit {
  /** How far a timestamp may be from `now`, either way. */
  windowMs: number
  /** Upper bound on remembered keys; beyond it the watermark rises. */
  maxEntries: number
}

export class ReplayGuard<V = true> {
  private readonly entries = new Map<string, { ts: number, value: V }>()
  private watermark = -Infinity
  readonly windowMs: number
  readonly maxEntries: number

  constructor (init: ReplayGuardInit) {
    this.windowMs = init.windowMs
    this.maxEntries = init.maxEntries
  }

  get size (): number { return this.entries.size }

  check (key: string, ts: number, now: number): ReplayVerdict<V> {
    const seen = this.entries.get(key)
    if (seen != null) return { kind: 'duplicate', value: seen.value }
    if (ts < now - this.windowMs || ts > now + this.windowMs || ts <= this.watermark) return { kind: 'stale' }
    return { kind: 'fresh' }
  }

  /** Remembers a key accepted by `check`, and forgets what left the window. */
  remember (key: string, ts: number, value: V, now: number): void {
    this.entries.set(key, { ts, value })
    this.prune(now)
  }

  /** Replaces the value of a remembered key (e.g. a pending request that now has its answer). */
  update (key: string, value: V): void {
    const e = this.entries.get(key)
    if (e != null) e.value = value
  }

  prune (now: number): void {
    const horizon = now - this.windowMs
    // Insertion order is close to time order; stop at the first entry still inside the window.
    for (const [key, e] of this.entries) {
      if (e.ts >= horizon && this.entries.size <= this.maxEntries) break
      this.entries.delete(key)
      if (e.ts > this.watermark) this.watermark = e.ts
    }
  }
}
