/**
 * The replicated coordination state machine, pure: no I/O, clock or randomness. Commands are
 * applied in log order with the entry's log index, and every replica computes the same state,
 * results and events. Failures are results ({ ok: false, error, message }); apply never throws.
 *
 * Leases. Everything is attached to a lease (`l<index>` of its grant). Expiry is decided outside:
 * the Raft leader tracks TTLs and proposes lease_revoke 'expired'. A revoke releases the lease's
 * locks, queued requests, barrier arrivals and candidacies, and emits the consequences after a
 * lease_revoked event (grants to the next waiters, barrier_left, dbarrier_left, leader changes).
 * A command naming an unknown or revoked lease fails with lease_not_found.
 *
 * Locks. Read-write, strictly FIFO: a request is granted at once only if nothing is queued and it
 * is compatible with the holders, so a shared request behind a queued exclusive one waits (no
 * writer starvation). A release grants from the head of the queue: one exclusive request, or the
 * run of shared ones; only those get a lock_granted event. The fencing token is the log index of
 * the granting entry: it grows per resource even across the resource being freed and forgotten,
 * and shared requests granted by one entry share it. A lease may hold or wait for a resource only
 * once (already_held / already_waiting). lock_cancel withdraws a waiter that gave up, releasing
 * it if it was granted meanwhile. A request that would wait and close a cycle in the wait-for
 * graph (deadlock.ts) is refused with 'deadlock' and the cycle: the requester is the victim.
 *
 * Barriers. A cyclic barrier releases a generation when `parties` arrivals are in: one
 * barrier_released event names them all and the generation is closed in the same apply, so an
 * arrival is released exactly once. The first arrival of a generation opens it, numbers it with its
 * log index and fixes its parties (parties_mismatch for others). A generation whose arrivals all
 * cancelled or were revoked is closed too. A double barrier releases its members when `parties`
 * have entered (dbarrier_entered) and again when all of them have left (dbarrier_left_all).
 *
 * Elections. Candidates of a role queue in campaign order; the head leads, with the revision
 * (log index) of its campaign. election_leader is emitted when the leader or its proclaimed
 * value changes, with nulls when the role has no candidate left.
 */
import { BarrierTable, DoubleBarrierTable } from './barriers.js'
import { validateCommand, validateSnapshot } from './codec.js'
import { ElectionTable } from './elections.js'
import { LockTable } from './locks.js'
import {
  DEFAULT_COORD_LIMITS, fail, type BarrierInfo, type Candidate, type CoordApplied, type CoordCommand,
  type CoordEvent, type CoordLimits, type CoordResult, type CoordSnapshot, type DBarrierInfo, type LeaderInfo,
  type LeaseInfo, type LockInfo
} from './types.js'

export class CoordinationState {
  private readonly limits: CoordLimits
  private readonly leaseMap = new Map<string, LeaseInfo>()
  private readonly perOwner = new Map<string, number>()
  private readonly locks: LockTable
  private readonly barriers: BarrierTable
  private readonly dbarriers: DoubleBarrierTable
  private readonly elections: ElectionTable
  private applied = 0

  /** The limits must be the same on every replica. */
  constructor (limits: Partial<CoordLimits> = {}) {
    this.limits = { ...DEFAULT_COORD_LIMITS, ...limits }
    this.locks = new LockTable(this.limits)
    this.barriers = new BarrierTable(this.limits)
    this.dbarriers = new DoubleBarrierTable(this.limits)
    this.elections = new ElectionTable(this.limits)
  }

  /** A state restored from snapshot(); throws CoordInputError for a malformed one. */
  static restore (snapshot: unknown, limits: Partial<CoordLimits> = {}): CoordinationState {
    const s = validateSnapshot(snapshot)
    const state = new CoordinationState(limits)
    state.applied = s.appliedIndex
    for (const l of s.leases) state.addLease(l)
    state.locks.load(s.locks)
    state.barriers.load(s.barriers)
    state.dbarriers.load(s.dbarriers)
    state.elections.load(s.elections)
    return state
  }

  /** The log index of the last entry applied (0: none). */
  get appliedIndex (): number { return this.applied }

  lease (leaseId: string): LeaseInfo | undefined {
    const l = this.leaseMap.get(leaseId)
    return l === undefined ? undefined : { ...l }
  }

  /** Every lease, in grant order. */
  leases (): LeaseInfo[] {
    return [...this.leaseMap.values()].map(l => ({ ...l }))
  }

  lockInfo (resource: string): LockInfo { return this.locks.info(resource) }

  /** True iff a current holder of the resource holds exactly this fencing token. */
  checkFence (resource: string, token: number): boolean { return this.locks.checkFence(resource, token) }

  /** The open generation of a barrier, or null when none is open. */
  barrierInfo (name: string): BarrierInfo | null { return this.barriers.info(name) }

  dbarrierInfo (name: string): DBarrierInfo | null { return this.dbarriers.info(name) }

  leader (role: string): LeaderInfo | null { return this.elections.leader(role) }

  /** The candidates of a role in order, the leader first. */
  candidates (role: string): Candidate[] { return this.elections.candidates(role) }

  /**
   * Applies the command of the entry at `index`, which must be above every index applied before.
   * A malformed command (one that validateCommand refuses) is answered 'invalid' and changes nothing.
   */
  apply (index: number, cmd: CoordCommand): CoordApplied {
    if (!Number.isSafeInteger(index) || index <= this.applied) {
      return { result: fail('invalid', `log index ${String(index)} is not above ${this.applied}`), events: [] }
    }
    this.applied = index
    let c: CoordCommand
    try {
      c = validateCommand(cmd)
    } catch (err) {
      return { result: fail('invalid', (err as Error).message), events: [] }
    }
    const events: CoordEvent[] = []
    try {
      return { result: this.dispatch(index, c, events), events }
    } catch (err) {
      // Unreachable for a validated command; kept so a bug cannot stop the apply loop.
      return { result: fail('invalid', `internal error: ${String(err)}`), events }
    }
  }

  private dispatch (index: number, c: CoordCommand, events: CoordEvent[]): CoordResult {
    if (c.op === 'lease_grant') return this.grant(index, c.owner, c.ttlMs)
    if ((c.op === 'lock_acquire' || c.op === 'campaign') && c.newLease !== undefined) {
      // Grant and use in one entry; a refused request takes its new lease with it.
      const g = this.grant(index, c.newLease.owner, c.newLease.ttlMs)
      if (!g.ok || g.op !== 'lease_grant') return g
      const r = this.dispatch(index, { ...c, lease: g.leaseId, newLease: undefined }, events)
      if (!r.ok) {
        const lease = this.leaseMap.get(g.leaseId)
        if (lease !== undefined) this.revoke(index, lease, 'released', [])
        return r
      }
      return { ...r, leaseId: g.leaseId } as CoordResult
    }
    const leaseId = c.op === 'lease_revoke' ? c.leaseId : c.lease
    const lease = this.leaseMap.get(leaseId)
    if (lease === undefined) return fail('lease_not_found', `lease ${leaseId} does not exist`)
    const adds = c.op === 'lock_acquire' || c.op === 'barrier_wait' || c.op === 'dbarrier_enter' || c.op === 'campaign'
    if (adds && this.items(leaseId) >= this.limits.maxItemsPerLease) return fail('limit', `lease ${leaseId} has ${this.limits.maxItemsPerLease} items`)
    const openBarriers = this.barriers.size + this.dbarriers.size
    switch (c.op) {
      case 'lease_revoke': return this.revoke(index, lease, c.reason, events)
      case 'lock_acquire': return this.locks.acquire(index, c)
      case 'lock_release': return this.locks.release(index, c, events)
      case 'lock_cancel': return this.locks.cancel(index, c, events)
      case 'barrier_wait': return this.barriers.wait(index, c, events, openBarriers)
      case 'barrier_cancel': return this.barriers.cancel(c)
      case 'dbarrier_enter': return this.dbarriers.enter(index, c, events, openBarriers)
      case 'dbarrier_leave': return this.dbarriers.leave(c, events)
      case 'campaign': return this.elections.campaign(index, c, events)
      case 'resign': return this.elections.resign(c, events)
      case 'proclaim': return this.elections.proclaim(c, events)
    }
  }

  private items (lease: string): number {
    return this.locks.count(lease) + this.barriers.count(lease) + this.dbarriers.count(lease) + this.elections.count(lease)
  }

  private grant (index: number, owner: string, ttlMs: number): CoordResult {
    if (this.leaseMap.size >= this.limits.maxLeases) return fail('limit', `more than ${this.limits.maxLeases} leases`)
    if ((this.perOwner.get(owner) ?? 0) >= this.limits.maxLeasesPerOwner) return fail('limit', `owner ${owner} has ${this.limits.maxLeasesPerOwner} leases`)
    const leaseId = `l${index}`
    if (this.leaseMap.has(leaseId)) return fail('invalid', `lease ${leaseId} exists`) // only after restoring a forged snapshot
    this.addLease({ leaseId, owner, ttlMs })
    return { ok: true, op: 'lease_grant', leaseId, ttlMs }
  }

  private addLease (l: LeaseInfo): void {
    this.leaseMap.set(l.leaseId, { ...l })
    this.perOwner.set(l.owner, (this.perOwner.get(l.owner) ?? 0) + 1)
  }

  /** Events: lease_revoked, then locks, barriers, double barriers and roles, each by sorted name. */
  private revoke (index: number, lease: LeaseInfo, reason: 'released' | 'expired', events: CoordEvent[]): CoordResult {
    events.push({ type: 'lease_revoked', leaseId: lease.leaseId, owner: lease.owner, reason })
    this.locks.dropLease(index, lease.leaseId, events)
    this.barriers.dropLease(lease.leaseId, events)
    this.dbarriers.dropLease(lease.leaseId, events)
    this.elections.dropLease(lease.leaseId, events)
    this.leaseMap.delete(lease.leaseId)
    const n = (this.perOwner.get(lease.owner) ?? 1) - 1
    if (n > 0) this.perOwner.set(lease.owner, n)
    else this.perOwner.delete(lease.owner)
    return { ok: true, op: 'lease_revoke', leaseId: lease.leaseId, owner: lease.owner }
  }

  /** The whole state as JSON-able data (see CoordSnapshot); restore() gives back an equal state. */
  snapshot (): CoordSnapshot {
    return {
      version: 1,
      appliedIndex: this.applied,
      leases: this.leases(),
      locks: this.locks.dump(),
      barriers: this.barriers.dump(),
      dbarriers: this.dbarriers.dump(),
      elections: this.elections.dump()
    }
  }
}
