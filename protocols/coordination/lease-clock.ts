/**
 * The Raft leader's view of lease deadlines, pure (the caller passes `now` from a monotonic
 * clock). Only the leader decides expiry, by proposing lease_revoke 'expired'; replicas never
 * compare clocks. A new leader gives every lease a full TTL from the moment it takes office (as
 * etcd does), so a lease can outlive its TTL by up to one TTL across a leader change, never
 * expire early because of one.
 */
import type { LeaseInfo } from './core/index.js'

/** How long a proposed revoke may go unapplied before it is proposed again. */
const REPROPOSE_MS = 2000

export class LeaseClock {
  private readonly deadlines = new Map<string, { ttlMs: number, at: number }>()
  private readonly proposed = new Map<string, number>()

  /** Took office: every known lease starts a full TTL now. */
  reset (now: number, leases: Iterable<LeaseInfo>): void {
    this.deadlines.clear()
    this.proposed.clear()
    for (const l of leases) this.deadlines.set(l.leaseId, { ttlMs: l.ttlMs, at: now + l.ttlMs })
  }

  clear (): void {
    this.deadlines.clear()
    this.proposed.clear()
  }

  get size (): number { return this.deadlines.size }

  granted (leaseId: string, ttlMs: number, now: number): void {
    this.deadlines.set(leaseId, { ttlMs, at: now + ttlMs })
  }

  revoked (leaseId: string): void {
    this.deadlines.delete(leaseId)
    this.proposed.delete(leaseId)
  }

  /** Returns false for a lease the leader does not know (expired or never granted). */
  keepAlive (leaseId: string, now: number): boolean {
    const d = this.deadlines.get(leaseId)
    if (d === undefined) return false
    d.at = now + d.ttlMs
    this.proposed.delete(leaseId)
    return true
  }

  /** Time left before `leaseId` expires, ms (undefined: unknown to this leader). */
  remaining (leaseId: string, now: number): number | undefined {
    const d = this.deadlines.get(leaseId)
    return d === undefined ? undefined : Math.max(0, d.at - now)
  }

  /** Leases past their deadline whose revoke should be proposed now. */
  due (now: number): string[] {
    const out: string[] = []
    for (const [id, d] of this.deadlines) {
      if (d.at > now) continue
      const last = this.proposed.get(id)
      if (last !== undefined && now - last < REPROPOSE_MS) continue
      this.proposed.set(id, now)
      out.push(id)
    }
    return out
  }
}
