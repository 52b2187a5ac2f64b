/**
 * Deadlock detection on the wait-for graph between leases.
 *
 * A queued request of lease A (mode m) on resource R waits for lease B when B holds R in a mode
 * incompatible with m, or B has a request queued ahead of A's on R in a mode incompatible with m
 * (FIFO: A cannot be granted before B is, and cannot run beside it). Compatible requests ahead are
 * not edges: they are granted together with A. A lease with any queued request is taken as unable
 * to release what it holds until that wait ends (a lease is one session).
 *
 * Only a new queued request adds edges (grants, releases and cancels only remove or move them),
 * and all of them start at its lease, so a new cycle must go through the requester. The search
 * goes backwards, breadth-first, from the requester through the leases that wait for it, and stops
 * at the first one the new request would wait for: the shortest cycle. Backwards, because few
 * leases wait for a requester in practice (a lease holding nothing and queued nowhere has no
 * waiter: that costs nothing), while many may be queued ahead of it. The order of the search is
 * fixed (queue order; a lease's resources sorted), so every replica reports the same cycle. Cost:
 * linear in the holders and queued requests of the resources it visits.
 */
import type { LockHolder, LockMode, LockWaiter } from './types.js'

export interface WaitGraph {
  lock (resource: string): { holders: readonly LockHolder[], queue: readonly LockWaiter[] } | undefined
  /** The resources the lease holds, sorted. */
  holding (lease: string): string[]
  /** The resources the lease has a queued request on, sorted. */
  waitingOn (lease: string): string[]
  /** Holdings and queued requests of the lease. */
  count (lease: string): number
}

/** What was discovered on a resource: the queue from `all` on, its exclusive requests from `exclusive` on. */
interface Scan { all: number, exclusive: number, positions?: Map<string, number> }

/**
 * The cycle that queuing `requester`'s request (mode) at the tail of `resource` would close, as
 * [requester, b, c, ...] (requester waits for b, b for c, ..., the last for requester), or undefined.
 */
export function findDeadlock (graph: WaitGraph, requester: string, resource: string, mode: LockMode): string[] | undefined {
  if (graph.count(requester) === 0) return undefined
  const target = graph.lock(resource)
  let onTarget: Map<string, LockMode> | undefined
  // Would the new request wait for this lease?
  const blocks = (lease: string): boolean => {
    if (target === undefined) return false
    onTarget ??= new Map([...target.holders, ...target.queue].map(e => [e.lease, e.mode]))
    const m = onTarget.get(lease)
    return m !== undefined && (m === 'exclusive' || mode === 'exclusive')
  }

  const next = new Map<string, string>() // a lease waiting for the requester -> the lease it waits for on the way
  const frontier: string[] = [requester]
  const scans = new Map<string, Scan>()
  let found: string | undefined
  const discover = (lease: string, waitsFor: string): void => {
    if (found !== undefined || lease === requester || next.has(lease)) return
    next.set(lease, waitsFor)
    if (blocks(lease)) found = lease
    else frontier.push(lease)
  }
  const scanOf = (res: string, queue: readonly LockWaiter[]): Scan => {
    let s = scans.get(res)
    if (s === undefined) {
      s = { all: queue.length, exclusive: queue.length }
      scans.set(res, s)
    }
    return s
  }
  // Discovers the requests queued on `res` from position `from` on that are incompatible with `m`.
  const behind = (res: string, queue: readonly LockWaiter[], from: number, m: LockMode, waitsFor: string): void => {
    const s = scanOf(res, queue)
    if (m === 'exclusive') {
      for (let i = from; i < s.all; i++) discover((queue[i] as LockWaiter).lease, waitsFor)
      s.all = Math.min(s.all, from)
    } else {
      for (let i = from; i < Math.min(s.all, s.exclusive); i++) {
        const q = queue[i] as LockWaiter
        if (q.mode === 'exclusive') discover(q.lease, waitsFor)
      }
      s.exclusive = Math.min(s.exclusive, from)
    }
  }

  for (let n = 0; n < frontier.length && found === undefined; n++) {
    const lease = frontier[n] as string
    for (const res of graph.holding(lease)) {
      const st = graph.lock(res)
      const h = st?.holders.find(x => x.lease === lease)
      if (st !== undefined && h !== undefined) behind(res, st.queue, 0, h.mode, lease)
    }
    for (const res of graph.waitingOn(lease)) {
      const st = graph.lock(res)
      if (st === undefined) continue
      const s = scanOf(res, st.queue)
      s.positions ??= new Map(st.queue.map((q, i) => [q.lease, i]))
      const p = s.positions.get(lease)
      if (p !== undefined) behind(res, st.queue, p + 1, (st.queue[p] as LockWaiter).mode, lease)
    }
  }
  if (found === undefined) return undefined
  const cycle = [requester]
  for (let l: string | undefined = found; l !== undefined && l !== requester; l = next.get(l)) cycle.push(l)
  return cycle
}
