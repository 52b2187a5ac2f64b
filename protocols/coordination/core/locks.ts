/**
 * Read-write locks with FIFO queues and fencing tokens (see state.ts for the rules). A resource
 * exists only while it is held or waited for; its fencing tokens are log indexes, so they keep
 * growing across a delete and re-create.
 */
import { findDeadlock, type WaitGraph } from './deadlock.js'
import { LeaseIndex } from './lease-index.js'
import {
  fail, type CoordEvent, type CoordFailure, type CoordLimits, type CoordOkResults, type CoordSnapshot,
  type LockHolder, type LockInfo, type LockMode, type LockWaiter
} from './types.js'

interface ResourceState { holders: LockHolder[], queue: LockWaiter[] }

function grantable (holders: readonly LockHolder[], mode: LockMode): boolean {
  return mode === 'exclusive' ? holders.length === 0 : holders.every(h => h.mode === 'shared')
}

export class LockTable implements WaitGraph {
  private readonly resources = new Map<string, ResourceState>()
  private readonly held = new LeaseIndex()
  private readonly waiting = new LeaseIndex()

  constructor (private readonly limits: CoordLimits) {}

  /** Holdings and queued requests of a lease. */
  count (lease: string): number {
    return this.held.count(lease) + this.waiting.count(lease)
  }

  lock (resource: string): ResourceState | undefined {
    return this.resources.get(resource)
  }

  holding (lease: string): string[] {
    return this.held.names(lease)
  }

  waitingOn (lease: string): string[] {
    return this.waiting.names(lease)
  }

  info (resource: string): LockInfo {
    const st = this.resources.get(resource)
    return { holders: st?.holders.map(h => ({ ...h })) ?? [], queue: st?.queue.map(q => ({ ...q })) ?? [] }
  }

  checkFence (resource: string, token: number): boolean {
    return this.resources.get(resource)?.holders.some(h => h.fencingToken === token) ?? false
  }

  acquire (index: number, c: { resource: string, lease: string, mode: LockMode, waiter: string }): CoordOkResults['lock_acquire'] | CoordFailure {
    const st = this.resources.get(c.resource)
    if (st === undefined) {
      if (this.resources.size >= this.limits.maxResources) return fail('limit', `more than ${this.limits.maxResources} locked resources`)
      const fencingToken = index
      this.resources.set(c.resource, { holders: [{ lease: c.lease, waiter: c.waiter, mode: c.mode, fencingToken }], queue: [] })
      this.held.add(c.lease, c.resource)
      return { ok: true, op: 'lock_acquire', granted: true, fencingToken }
    }
    if (this.held.has(c.lease, c.resource)) return fail('already_held', `lease ${c.lease} already holds ${c.resource}`)
    if (this.waiting.has(c.lease, c.resource)) return fail('already_waiting', `lease ${c.lease} already waits for ${c.resource}`)
    if (st.queue.length === 0 && grantable(st.holders, c.mode)) {
      st.holders.push({ lease: c.lease, waiter: c.waiter, mode: c.mode, fencingToken: index })
      this.held.add(c.lease, c.resource)
      return { ok: true, op: 'lock_acquire', granted: true, fencingToken: index }
    }
    if (st.queue.length >= this.limits.maxWaitersPerResource) return fail('limit', `more than ${this.limits.maxWaitersPerResource} waiters for ${c.resource}`)
    const cycle = findDeadlock(this, c.lease, c.resource, c.mode)
    if (cycle !== undefined) {
      return { ok: false, error: 'deadlock', message: `waiting would close the cycle ${cycle.join(' -> ')} -> ${c.lease}`, cycle }
    }
    st.queue.push({ lease: c.lease, waiter: c.waiter, mode: c.mode })
    this.waiting.add(c.lease, c.resource)
    return { ok: true, op: 'lock_acquire', granted: false, position: st.queue.length }
  }

  release (index: number, c: { resource: string, lease: string, fencingToken: number }, events: CoordEvent[]): CoordOkResults['lock_release'] | CoordFailure {
    const st = this.resources.get(c.resource)
    const i = st?.holders.findIndex(h => h.lease === c.lease && h.fencingToken === c.fencingToken) ?? -1
    if (st === undefined || i < 0) return fail('not_holder', `lease ${c.lease} does not hold ${c.resource} with token ${c.fencingToken}`)
    st.holders.splice(i, 1)
    this.held.remove(c.lease, c.resource)
    this.grantNext(index, c.resource, st, events)
    return { ok: true, op: 'lock_release', fencingToken: c.fencingToken }
  }

  /** Withdraws a waiter that gave up: dequeued if still queued, released if granted meanwhile. */
  cancel (index: number, c: { resource: string, lease: string, waiter: string }, events: CoordEvent[]): CoordOkResults['lock_cancel'] {
    const st = this.resources.get(c.resource)
    if (st === undefined) return { ok: true, op: 'lock_cancel', was: 'none' }
    const q = st.queue.findIndex(w => w.lease === c.lease && w.waiter === c.waiter)
    if (q >= 0) {
      st.queue.splice(q, 1)
      this.waiting.remove(c.lease, c.resource)
      // A queued exclusive request leaving can unblock the shared ones behind it.
      this.grantNext(index, c.resource, st, events)
      return { ok: true, op: 'lock_cancel', was: 'queued' }
    }
    const h = st.holders.findIndex(w => w.lease === c.lease && w.waiter === c.waiter)
    if (h < 0) return { ok: true, op: 'lock_cancel', was: 'none' }
    st.holders.splice(h, 1)
    this.held.remove(c.lease, c.resource)
    this.grantNext(index, c.resource, st, events)
    return { ok: true, op: 'lock_cancel', was: 'held' }
  }

  /** Releases and dequeues everything of a revoked lease, resource by resource in sorted order. */
  dropLease (index: number, lease: string, events: CoordEvent[]): void {
    const names = [...new Set([...this.held.names(lease), ...this.waiting.names(lease)])].sort()
    for (const resource of names) {
      const st = this.resources.get(resource)
      if (st === undefined) continue
      st.holders = st.holders.filter(h => h.lease !== lease)
      st.queue = st.queue.filter(q => q.lease !== lease)
      this.held.remove(lease, resource)
      this.waiting.remove(lease, resource)
      this.grantNext(index, resource, st, events)
    }
  }

  /**
   * Grants queued requests from the head while they are compatible with the holders: one
   * exclusive, or a run of shared ones (all with this index as their token). Deletes a free resource.
   */
  private grantNext (index: number, resource: string, st: ResourceState, events: CoordEvent[]): void {
    for (let head = st.queue[0]; head !== undefined && grantable(st.holders, head.mode); head = st.queue[0]) {
      st.queue.shift()
      st.holders.push({ lease: head.lease, waiter: head.waiter, mode: head.mode, fencingToken: index })
      this.waiting.remove(head.lease, resource)
      this.held.add(head.lease, resource)
      events.push({ type: 'lock_granted', resource, lease: head.lease, waiter: head.waiter, fencingToken: index, mode: head.mode })
    }
    if (st.holders.length === 0 && st.queue.length === 0) this.resources.delete(resource)
  }

  dump (): CoordSnapshot['locks'] {
    return [...this.resources.keys()].map(resource => ({ resource, ...this.info(resource) }))
  }

  load (locks: CoordSnapshot['locks']): void {
    this.resources.clear()
    this.held.clear()
    this.waiting.clear()
    for (const { resource, holders, queue } of locks) {
      this.resources.set(resource, { holders: holders.map(h => ({ ...h })), queue: queue.map(q => ({ ...q })) })
      for (const h of holders) this.held.add(h.lease, resource)
      for (const q of queue) this.waiting.add(q.lease, resource)
    }
  }
}
