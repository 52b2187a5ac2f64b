/**
 * Leases, fenced locks, barriers and role elections for one node, on the replicated coordination
 * state machine (core/): every decision is a Raft entry, so all nodes agree on who holds what.
 * This layer only proposes commands and waits for their results and events: a waiter is
 * registered before its command is proposed, so an event applied in the same batch is not missed.
 *
 * Leases are owned by this node and kept alive by it (a keep-alive to the leader every third of
 * the TTL); when the node dies they expire and everything attached to them is released.
 */
import { randomUUID } from 'node:crypto'
import type { CoordEvent, CoordResult, LeaderInfo, LockInfo, LockMode } from './core/index.js'
import { CoordinationError, DeadlockError, type CoordinationErrorCode } from './errors.js'
import type { CoordRequest } from '../raft/service.js'

/** What the coordinator needs from the Raft service. */
export interface CoordRaft {
  coordinate: (req: CoordRequest, timeoutMs?: number) => Promise<{ result: CoordResult, index: number }>
  onCoordEvents: (l: (events: CoordEvent[], index: number) => void) => () => void
  keepAlive: (leaseIds: string[]) => void
  readonly coordination: { lockInfo: (r: string) => LockInfo, leader: (role: string) => LeaderInfo | null, checkFence: (r: string, t: number) => boolean, lease: (id: string) => unknown }
}

export interface CoordinatorOptions {
  /** This node's peer id: leases are granted to it, and only it keeps them alive. */
  owner: string
  /** Default lease TTL, ms (default 10,000). */
  ttlMs?: number
  /** Default wait for locks, barriers and campaigns, ms (default 30,000). */
  timeoutMs?: number
}

export interface Lease {
  readonly id: string
  readonly ttlMs: number
  /** Resolves when the lease is gone (revoked here, or expired because keep-alives stopped). */
  readonly gone: Promise<'released' | 'expired'>
  revoke: () => Promise<void>
}

export interface LockHandle {
  readonly resource: string
  readonly mode: LockMode
  /** Grows with every grant of this resource: pass it to fenced writes / checkFence. */
  readonly fencingToken: number
  readonly leaseId: string
  release: () => Promise<void>
}

export interface Leadership {
  readonly role: string
  readonly leaseId: string
  readonly revision: number
  resign: () => Promise<void>
  proclaim: (value: string) => Promise<void>
}

interface Waiter {
  /** '' until a lease granted with the request is known. */
  lease: string
  resolve: (v: number) => void
  reject: (e: Error) => void
}

interface OwnedLease { id: string, ttlMs: number, lastKeepAlive: number, settle: (r: 'released' | 'expired') => void }

const KEEPALIVE_CHECK_MS = 100

function failure (r: Extract<CoordResult, { ok: false }>): CoordinationError {
  if (r.error === 'deadlock') return new DeadlockError(r.message, r.cycle)
  const code: CoordinationErrorCode = r.error === 'lease_not_found' ? 'lease_expired' : r.error
  return new CoordinationError(code, r.message)
}

export class Coordinator {
  private readonly ttlMs: number
  private readonly timeoutMs: number
  private readonly leases = new Map<string, OwnedLease>()
  private readonly waiters = new Map<string, Waiter>()
  private readonly observers = new Map<string, Set<(l: LeaderInfo | null) => void>>()
  private session: Promise<Lease> | null = null
  private readonly unsubscribe: () => void
  private readonly timer: ReturnType<typeof setInterval>
  private closed = false

  private readonly owner: string

  constructor (private readonly raft: CoordRaft, opts: CoordinatorOptions) {
    this.owner = opts.owner
    this.ttlMs = opts.ttlMs ?? 10_000
    this.timeoutMs = opts.timeoutMs ?? 30_000
    this.unsubscribe = raft.onCoordEvents(events => { for (const e of events) this.onEvent(e) })
    this.timer = setInterval(() => { this.keepAlive() }, KEEPALIVE_CHECK_MS)
    this.timer.unref()
  }

  get isClosed (): boolean { return this.closed }

  /** Stops keep-alives (the leases then expire) and fails every wait. */
  close (): void {
    if (this.closed) return
    this.closed = true
    clearInterval(this.timer)
    this.unsubscribe()
    for (const w of this.waiters.values()) w.reject(new CoordinationError('timeout', 'the node is stopping'))
    this.waiters.clear()
  }

  // ---- leases ---------------------------------------------------------------------------

  async grantLease (ttlMs = this.ttlMs, timeoutMs = this.timeoutMs): Promise<Lease> {
    const { result } = await this.raft.coordinate({ op: 'lease_grant', owner: this.owner, ttlMs }, timeoutMs)
    if (!result.ok) throw failure(result)
    if (result.op !== 'lease_grant') throw new CoordinationError('invalid', `unexpected result ${result.op}`)
    return this.adopt(result.leaseId, result.ttlMs)
  }

  /** Starts keeping a lease granted to this node alive. */
  private adopt (id: string, ttlMs: number): Lease {
    let settle!: (r: 'released' | 'expired') => void
    const gone = new Promise<'released' | 'expired'>(resolve => { settle = resolve })
    this.leases.set(id, { id, ttlMs, lastKeepAlive: performance.now(), settle })
    return { id, ttlMs, gone, revoke: async () => this.revoke(id) }
  }

  private async revoke (id: string, timeoutMs = this.timeoutMs): Promise<void> {
    if (!this.leases.has(id)) return
    const { result } = await this.raft.coordinate({ op: 'lease_revoke', leaseId: id, reason: 'released' }, timeoutMs)
    if (!result.ok && result.error !== 'lease_not_found') throw failure(result)
  }

  /** The node's shared lease for barriers and campaigns that name none (granted on first use). */
  private async sessionLease (): Promise<Lease> {
    if (this.session !== null) {
      const s = await this.session.catch(() => null)
      if (s !== null && this.leases.has(s.id)) return s
    }
    this.session = this.grantLease()
    return await this.session
  }

  private keepAlive (): void {
    const now = performance.now()
    const due: string[] = []
    for (const l of this.leases.values()) {
      if (now - l.lastKeepAlive >= l.ttlMs / 3) {
        l.lastKeepAlive = now
        due.push(l.id)
      }
    }
    if (due.length > 0) this.raft.keepAlive(due)
  }

  // ---- locks ----------------------------------------------------------------------------

  /**
   * Waits (FIFO) for the lock. Without `lease`, the lock gets a lease of its own (`ttlMs`), revoked
   * on release. Fails with CoordinationError 'timeout' after `timeoutMs`, DeadlockError when
   * waiting would close a cycle, 'lease_expired' when the lease goes first.
   */
  async acquire (resource: string, opts: { mode?: LockMode, ttlMs?: number, timeoutMs?: number, lease?: Lease } = {}): Promise<LockHandle> {
    const mode = opts.mode ?? 'exclusive'
    const deadline = performance.now() + (opts.timeoutMs ?? this.timeoutMs)
    const left = (): number => Math.max(1, deadline - performance.now())
    const own = opts.lease === undefined
    const ttlMs = opts.ttlMs ?? this.ttlMs
    let leaseId = opts.lease?.id ?? ''
    const waiter = randomUUID()
    const granted = this.register(waiter, leaseId)
    const handle = (fencingToken: number): LockHandle => ({
      resource,
      mode,
      fencingToken,
      leaseId,
      // Fails with 'lease_expired' / 'not_holder' when the lock was already lost.
      release: async () => {
        if (!own) {
          const { result } = await this.raft.coordinate({ op: 'lock_release', resource, lease: leaseId, fencingToken })
          if (!result.ok) throw failure(result)
          return
        }
        const gone = !this.leases.has(leaseId)
        await this.revoke(leaseId)
        if (gone) throw new CoordinationError('lease_expired', `lease ${leaseId} had expired: the lock on ${JSON.stringify(resource)} was lost before release`)
      }
    })
    try {
      // A lock of its own gets its lease in the same entry (one commit, not two).
      const { result } = await this.raft.coordinate(own
        ? { op: 'lock_acquire', resource, lease: '', mode, waiter, newLease: { owner: this.owner, ttlMs } }
        : { op: 'lock_acquire', resource, lease: leaseId, mode, waiter }, left())
      if (!result.ok) throw failure(result)
      if (result.op !== 'lock_acquire') throw new CoordinationError('invalid', `unexpected result ${result.op}`)
      if (result.leaseId !== undefined) {
        leaseId = result.leaseId
        this.adopt(leaseId, ttlMs)
        const w = this.waiters.get(waiter)
        if (w !== undefined) w.lease = leaseId
      }
      if (result.granted) {
        this.waiters.delete(waiter)
        return this.live(handle(result.fencingToken))
      }
      const token = await this.within(granted, left(), async () => {
        // Withdraw. A grant that raced the timeout is released by the cancel itself: then this
        // call must fail too, or it would hand out a lock that is no longer held. If the cancel's
        // fate is unknown, fail as well (an own lease is revoked below).
        await this.raft.coordinate({ op: 'lock_cancel', resource, lease: leaseId, waiter }).catch(() => {})
        return 'undone'
      }, `lock ${JSON.stringify(resource)} not granted within ${opts.timeoutMs ?? this.timeoutMs} ms`)
      return this.live(handle(token))
    } catch (err) {
      this.waiters.delete(waiter)
      // If the answer was lost the lease id is unknown: nobody keeps it alive, so it expires.
      if (own && leaseId !== '') await this.revoke(leaseId, 5000).catch(() => {})
      throw err
    }
  }

  /** A grant whose lease expired in the same batch is no grant: the caller must not act on it. */
  private live (h: LockHandle): LockHandle {
    if (this.raft.coordination.lease(h.leaseId) === undefined) throw new CoordinationError('lease_expired', `lease ${h.leaseId} expired as the lock on ${JSON.stringify(h.resource)} was granted`)
    return h
  }

  /** Is `token` the fencing token of a current holder of `resource`, as applied on this node? */
  checkFence (resource: string, token: number): boolean {
    return this.raft.coordination.checkFence(resource, token)
  }

  lockInfo (resource: string): LockInfo {
    return this.raft.coordination.lockInfo(resource)
  }

  // ---- barriers -------------------------------------------------------------------------

  /**
   * A reusable barrier: wait() returns when `parties` callers (on any nodes) have arrived, with
   * the generation they were released in; each generation is released exactly once.
   */
  barrier (name: string, parties: number): { wait: (opts?: { timeoutMs?: number, lease?: Lease }) => Promise<{ generation: number }> } {
    return {
      wait: async (opts = {}) => {
        const timeoutMs = opts.timeoutMs ?? this.timeoutMs
        const deadline = performance.now() + timeoutMs
        const lease = opts.lease ?? await this.sessionLease()
        const waiter = randomUUID()
        const released = this.register(waiter, lease.id)
        try {
          const { result } = await this.raft.coordinate({ op: 'barrier_wait', name, parties, lease: lease.id, waiter }, Math.max(1, deadline - performance.now()))
          if (!result.ok) throw failure(result)
          if (result.op !== 'barrier_wait') throw new CoordinationError('invalid', `unexpected result ${result.op}`)
          if (result.released) return { generation: result.generation }
          // Not removed by the cancel: the generation was released first and its event resolved the wait.
          const generation = await this.within(released, deadline - performance.now(), async () => {
            await this.raft.coordinate({ op: 'barrier_cancel', name, lease: lease.id, waiter }).catch(() => {})
          }, `barrier ${JSON.stringify(name)}: ${parties} parties did not arrive within ${timeoutMs} ms`)
          return { generation }
        } finally {
          this.waiters.delete(waiter)
        }
      }
    }
  }

  /** A double barrier (enter together, leave together), as in ZooKeeper's recipe. */
  doubleBarrier (name: string, parties: number): { enter: (opts?: { timeoutMs?: number }) => Promise<{ generation: number }>, leave: (opts?: { timeoutMs?: number }) => Promise<void> } {
    let member: { waiter: string, lease: string } | null = null
    return {
      enter: async (opts = {}) => {
        const timeoutMs = opts.timeoutMs ?? this.timeoutMs
        const lease = await this.sessionLease()
        const waiter = randomUUID()
        member = { waiter, lease: lease.id }
        const entered = this.register(waiter, lease.id)
        try {
          const { result } = await this.raft.coordinate({ op: 'dbarrier_enter', name, parties, lease: lease.id, waiter }, timeoutMs)
          if (!result.ok) throw failure(result)
          if (result.op !== 'dbarrier_enter') throw new CoordinationError('invalid', `unexpected result ${result.op}`)
          if (result.entered) return { generation: result.generation }
          return { generation: await this.within(entered, timeoutMs, async () => { await this.raft.coordinate({ op: 'dbarrier_leave', name, lease: lease.id, waiter }).catch(() => {}) }, `double barrier ${JSON.stringify(name)}: ${parties} parties did not enter within ${timeoutMs} ms`) }
        } finally {
          this.waiters.delete(waiter)
        }
      },
      leave: async (opts = {}) => {
        if (member === null) throw new CoordinationError('invalid', 'leave() before enter()')
        const { waiter, lease } = member
        const timeoutMs = opts.timeoutMs ?? this.timeoutMs
        const left = this.register(waiter, lease)
        try {
          const { result } = await this.raft.coordinate({ op: 'dbarrier_leave', name, lease, waiter }, timeoutMs)
          if (!result.ok) throw failure(result)
          if (result.op !== 'dbarrier_leave') throw new CoordinationError('invalid', `unexpected result ${result.op}`)
          if (result.released || result.remaining === 0) return
          await this.within(left, timeoutMs, async () => {}, `double barrier ${JSON.stringify(name)}: not everyone left within ${timeoutMs} ms`)
        } finally {
          this.waiters.delete(waiter)
        }
      }
    }
  }

  // ---- elections ------------------------------------------------------------------------

  /** Waits until this caller leads `role` (FIFO among candidates); its lease keeps the office. */
  async campaign (role: string, value: string, opts: { ttlMs?: number, timeoutMs?: number, lease?: Lease } = {}): Promise<Leadership> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs
    const deadline = performance.now() + timeoutMs
    const own = opts.lease === undefined
    const ttlMs = opts.ttlMs ?? this.ttlMs
    let leaseId = opts.lease?.id ?? ''
    const waiter = randomUUID()
    const elected = this.register(waiter, leaseId)
    const resign = async (): Promise<void> => {
      if (own) { await this.revoke(leaseId); return }
      const { result } = await this.raft.coordinate({ op: 'resign', role, lease: leaseId })
      if (!result.ok && result.error !== 'lease_not_found') throw failure(result)
    }
    try {
      const { result } = await this.raft.coordinate(own
        ? { op: 'campaign', role, lease: '', value, waiter, newLease: { owner: this.owner, ttlMs } }
        : { op: 'campaign', role, lease: leaseId, value, waiter }, timeoutMs)
      if (!result.ok) throw failure(result)
      if (result.op !== 'campaign') throw new CoordinationError('invalid', `unexpected result ${result.op}`)
      if (result.leaseId !== undefined) {
        leaseId = result.leaseId
        this.adopt(leaseId, ttlMs)
        const w = this.waiters.get(waiter)
        if (w !== undefined) w.lease = leaseId
      }
      const revision = result.leader ? result.revision : await this.within(elected, deadline - performance.now(), resign, `not elected ${JSON.stringify(role)} within ${timeoutMs} ms`)
      return {
        role,
        leaseId,
        revision,
        resign,
        proclaim: async (v: string) => {
          const { result: r } = await this.raft.coordinate({ op: 'proclaim', role, lease: leaseId, value: v })
          if (!r.ok) throw failure(r)
        }
      }
    } catch (err) {
      if (own && leaseId !== '') await this.revoke(leaseId, 5000).catch(() => {})
      throw err
    } finally {
      this.waiters.delete(waiter)
    }
  }

  /** The leader of `role` as applied on this node (null: none). */
  leader (role: string): LeaderInfo | null {
    return this.raft.coordination.leader(role)
  }

  /** Calls `cb` with the current leader now and on every change; returns the unsubscribe. */
  observe (role: string, cb: (leader: LeaderInfo | null) => void): () => void {
    let set = this.observers.get(role)
    if (set === undefined) this.observers.set(role, set = new Set())
    set.add(cb)
    cb(this.leader(role))
    return () => {
      set.delete(cb)
      if (set.size === 0) this.observers.delete(role)
    }
  }

  // ---- events ---------------------------------------------------------------------------

  private register (waiter: string, lease: string): Promise<number> {
    let resolve!: (v: number) => void
    let reject!: (e: Error) => void
    const promise = new Promise<number>((res, rej) => { resolve = res; reject = rej })
    promise.catch(() => {}) // observed by within(); never an unhandled rejection
    this.waiters.set(waiter, { lease, resolve, reject })
    return promise
  }

  /**
   * Waits for `p` at most `ms`; on timeout runs `withdraw` and fails, unless `p` was satisfied
   * before the withdrawal applied (its event comes first in log order, so it has run by then) and
   * the withdrawal did not undo it (`withdraw` returns 'undone': e.g. a cancel that released a
   * lock granted just before it).
   */
  private async within (p: Promise<number>, ms: number, withdraw: () => Promise<'undone' | unknown>, message: string): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<'timeout'>(resolve => { timer = setTimeout(() => { resolve('timeout') }, Math.max(1, ms)) })
    try {
      const r = await Promise.race([p, timeout])
      if (r !== 'timeout') return r
      const w = await withdraw()
      const late = await Promise.race([p.then(v => v, () => undefined), new Promise<undefined>(resolve => { setImmediate(() => { resolve(undefined) }) })])
      if (late !== undefined && w !== 'undone') return late
      throw new CoordinationError('timeout', message)
    } finally {
      clearTimeout(timer)
    }
  }

  private onEvent (e: CoordEvent): void {
    switch (e.type) {
      case 'lock_granted':
        this.waiters.get(e.waiter)?.resolve(e.fencingToken)
        break
      case 'barrier_released':
      case 'dbarrier_entered':
      case 'dbarrier_left_all':
        for (const w of e.waiters) this.waiters.get(w)?.resolve(e.generation)
        break
      case 'barrier_left':
      case 'dbarrier_left':
        this.waiters.get(e.waiter)?.reject(new CoordinationError('lease_expired', `lease ${e.lease} was revoked while waiting at ${JSON.stringify(e.name)}`))
        break
      case 'election_leader':
        if (e.waiter !== null && e.revision !== null) this.waiters.get(e.waiter)?.resolve(e.revision)
        for (const cb of this.observers.get(e.role) ?? []) cb(e.lease === null ? null : this.leader(e.role))
        break
      case 'lease_revoked': {
        const owned = this.leases.get(e.leaseId)
        if (owned !== undefined) {
          this.leases.delete(e.leaseId)
          owned.settle(e.reason)
        }
        for (const w of this.waiters.values()) {
          if (w.lease === e.leaseId) w.reject(new CoordinationError('lease_expired', `lease ${e.leaseId} was ${e.reason === 'expired' ? 'expired' : 'revoked'}`))
        }
        break
      }
    }
  }
}
