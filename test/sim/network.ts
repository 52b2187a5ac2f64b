/**
 * The simulated network: decides, per message, whether it is lost, duplicated and when each copy
 * arrives. Random delays reorder messages; partitions block directed links (a symmetric partition
 * blocks both directions) and are checked when a message is sent and again when it arrives.
 */
import type { Prng } from './prng.js'

export interface Weather {
  dropRate: number
  dupRate: number
  /** Usual one-way delay range, in virtual time units. */
  minDelay: number
  maxDelay: number
  /** Some messages are very late: they arrive after much newer ones. */
  lateRate: number
  lateDelay: number
}

export const CALM: Weather = { dropRate: 0, dupRate: 0, minDelay: 1, maxDelay: 8, lateRate: 0, lateDelay: 0 }

export class Network {
  weather: Weather = CALM
  private readonly blocked = new Set<string>()

  constructor (private readonly rng: Prng) {}

  linkUp (from: string, to: string): boolean {
    return !this.blocked.has(from + '>' + to)
  }

  /** Arrival times of the copies of one message sent at `now` (empty: lost). */
  transmit (from: string, to: string, now: number): number[] {
    if (!this.linkUp(from, to)) return []
    const w = this.weather
    if (w.dropRate > 0 && this.rng.chance(w.dropRate)) return []
    const times = [now + this.delay()]
    if (w.dupRate > 0 && this.rng.chance(w.dupRate)) times.push(now + this.delay())
    return times
  }

  private delay (): number {
    const w = this.weather
    let d = this.rng.between(w.minDelay, w.maxDelay)
    if (w.lateRate > 0 && this.rng.chance(w.lateRate)) d += this.rng.between(1, w.lateDelay)
    return d
  }

  /** Split into two sides that cannot talk to each other. */
  partition (side: readonly string[], rest: readonly string[]): void {
    for (const a of side) {
      for (const b of rest) {
        this.blocked.add(a + '>' + b)
        this.blocked.add(b + '>' + a)
      }
    }
  }

  /** One direction only: `from` can no longer reach `to`, but hears it. */
  blockOneWay (from: string, to: string): void {
    this.blocked.add(from + '>' + to)
  }

  heal (): void {
    this.blocked.clear()
  }

  get blockedLinks (): number { return this.blocked.size }
}
