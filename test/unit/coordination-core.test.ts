import { strict as assert } from 'node:assert'
import fc from 'fast-check'
import {
  CoordInputError, CoordinationState, decodeCoordCommand, decodeSnapshot, encodeCoordCommand, encodeSnapshot, validateCommand,
  type CoordApplied, type CoordCommand, type CoordEvent, type CoordFailure, type CoordOk, type CoordOkResults, type CoordOp
} from '../../protocols/coordination/core/index.js'

type DistOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
type Cmd = DistOmit<CoordCommand, 'rid'>

const enc = new TextEncoder()

/** Applies commands at consecutive log indexes, as the Raft service does. */
class Driver {
  index: number
  constructor (readonly state = new CoordinationState()) { this.index = state.appliedIndex }

  run (cmd: Cmd): CoordApplied {
    this.index++
    return this.state.apply(this.index, { rid: `r${this.index}`, ...cmd } as CoordCommand)
  }

  lease (owner = 'peer-a', ttlMs = 10_000): string {
    return ok(this.run({ op: 'lease_grant', owner, ttlMs }), 'lease_grant').leaseId
  }

  acquire (resource: string, lease: string, mode: 'exclusive' | 'shared' = 'exclusive', waiter = `w${this.index + 1}`): CoordApplied {
    return this.run({ op: 'lock_acquire', resource, lease, mode, waiter })
  }
}

function ok<O extends CoordOp> (r: CoordApplied, op: O): CoordOkResults[O] {
  assert.equal(r.result.ok, true, JSON.stringify(r.result))
  assert.equal((r.result as CoordOk).op, op)
  return r.result as CoordOkResults[O]
}

function failed (r: CoordApplied, error: CoordFailure['error']): CoordFailure {
  assert.equal(r.result.ok, false, JSON.stringify(r.result))
  assert.equal((r.result as CoordFailure).error, error, JSON.stringify(r.result))
  assert.deepEqual(r.events, [])
  return r.result as CoordFailure
}

function token (r: CoordApplied): number {
  const res = ok(r, 'lock_acquire')
  assert.equal(res.granted, true, JSON.stringify(res))
  return (res as { fencingToken: number }).fencingToken
}

function grants (events: CoordEvent[]): Array<[string, string, number]> {
  return events.flatMap(e => e.type === 'lock_granted' ? [[e.lease, e.waiter, e.fencingToken] as [string, string, number]] : [])
}

describe('coordination state machine', () => {
  it('a lock or candidacy with newLease grants its lease in the same entry; a refused one takes the lease with it', () => {
    const d = new Driver()
    const a = ok(d.run({ op: 'lock_acquire', resource: 'r', lease: '', mode: 'exclusive', waiter: 'w1', newLease: { owner: 'peer-a', ttlMs: 5000 } }), 'lock_acquire')
    assert.equal(a.granted, true)
    assert.equal(a.leaseId, `l${d.index}`)
    assert.deepEqual(d.state.lease(a.leaseId!), { leaseId: a.leaseId, owner: 'peer-a', ttlMs: 5000 })
    const b = ok(d.run({ op: 'lock_acquire', resource: 'r', lease: '', mode: 'exclusive', waiter: 'w2', newLease: { owner: 'peer-b', ttlMs: 5000 } }), 'lock_acquire')
    assert.equal(b.granted, false)
    // Revoking the holder's lease hands the lock to the second, whose lease came with its request.
    const rv = d.run({ op: 'lease_revoke', leaseId: a.leaseId!, reason: 'released' })
    assert.ok(rv.events.some(e => e.type === 'lock_granted' && e.lease === b.leaseId))
    const c = ok(d.run({ op: 'campaign', role: 'exec', lease: '', value: 'v', waiter: 'w3', newLease: { owner: 'peer-c', ttlMs: 5000 } }), 'campaign')
    assert.equal(c.leader, true)
    assert.ok(c.leaseId !== undefined && d.state.lease(c.leaseId) !== undefined)
    const leases = d.state.leases().length
    failed(d.run({ op: 'campaign', role: 'exec', lease: '', value: 'v', waiter: 'w3', newLease: { owner: 'peer-c', ttlMs: 1 } }), 'invalid')
    assert.equal(d.state.leases().length, leases)
    assert.equal(decodeCoordCommand({ rid: 'x', op: 'lock_acquire', resource: 'r', lease: 'l1', mode: 'exclusive', waiter: 'w', newLease: { owner: 'o', ttlMs: 5000 } }), undefined)
  })

  describe('leases', () => {
    it('grants l<index>, lists, revokes; an unknown or revoked lease is lease_not_found', () => {
      const d = new Driver()
      const a = d.lease('peer-a', 5000)
      assert.equal(a, 'l1')
      const b = d.lease('peer-b', 500)
      assert.deepEqual(d.state.leases(), [{ leaseId: 'l1', owner: 'peer-a', ttlMs: 5000 }, { leaseId: 'l2', owner: 'peer-b', ttlMs: 500 }])
      const r = d.run({ op: 'lease_revoke', leaseId: a, reason: 'released' })
      assert.deepEqual(r, { result: { ok: true, op: 'lease_revoke', leaseId: 'l1', owner: 'peer-a' }, events: [{ type: 'lease_revoked', leaseId: 'l1', owner: 'peer-a', reason: 'released' }] })
      failed(d.run({ op: 'lease_revoke', leaseId: a, reason: 'expired' }), 'lease_not_found')
      failed(d.acquire('x', a), 'lease_not_found')
      failed(d.run({ op: 'campaign', role: 'r', lease: 'l99', value: '', waiter: 'w' }), 'lease_not_found')
      assert.deepEqual(d.state.leases().map(l => l.leaseId), [b])
    })

    it('refuses a bad log index or command with invalid, without throwing', () => {
      const s = new CoordinationState()
      assert.equal(s.apply(5, { rid: 'r', op: 'lease_grant', owner: 'p', ttlMs: 1000 }).result.ok, true)
      for (const i of [5, 4, 0, -1, 5.5, Number.NaN]) {
        assert.equal((s.apply(i, { rid: 'r', op: 'lease_grant', owner: 'p', ttlMs: 1000 }).result as CoordFailure).error, 'invalid')
      }
      assert.equal(s.appliedIndex, 5)
      for (const garbage of [null, 7, 'x', [], {}, { op: 'lock_acquire' }, { rid: 'r', op: 'lease_grant', owner: 'p', ttlMs: 100 }]) {
        assert.equal((s.apply(s.appliedIndex + 1, garbage as unknown as CoordCommand).result as CoordFailure).error, 'invalid')
      }
      assert.equal(s.leases().length, 1)
    })

    it('limits leases per owner, lock waiters per resource and items per lease', () => {
      const d = new Driver(new CoordinationState({ maxLeasesPerOwner: 2, maxWaitersPerResource: 2, maxItemsPerLease: 3 }))
      const a = d.lease('p')
      d.lease('p')
      failed(d.run({ op: 'lease_grant', owner: 'p', ttlMs: 1000 }), 'limit')
      const [b, c, e] = [d.lease('q'), d.lease('q'), d.lease('r')]
      token(d.acquire('x', a))
      assert.equal(ok(d.acquire('x', b), 'lock_acquire').granted, false)
      assert.equal(ok(d.acquire('x', c), 'lock_acquire').granted, false)
      failed(d.acquire('x', e), 'limit')
      token(d.acquire('y', a))
      ok(d.run({ op: 'campaign', role: 'boss', lease: a, value: 'v', waiter: 'wc' }), 'campaign')
      failed(d.run({ op: 'barrier_wait', name: 'b', parties: 2, lease: a, waiter: 'wb' }), 'limit')
    })
  })

  describe('locks', () => {
    it('exclusive locks exclude; the queue is FIFO; the fencing token is the granting index', () => {
      const d = new Driver()
      const [a, b, c] = [d.lease('pa'), d.lease('pb'), d.lease('pc')]
      const t1 = token(d.acquire('x', a, 'exclusive', 'wa'))
      assert.equal(t1, d.index)
      assert.deepEqual(ok(d.acquire('x', b, 'exclusive', 'wb'), 'lock_acquire'), { ok: true, op: 'lock_acquire', granted: false, position: 1 })
      assert.deepEqual(ok(d.acquire('x', c, 'shared', 'wc'), 'lock_acquire'), { ok: true, op: 'lock_acquire', granted: false, position: 2 })
      assert.deepEqual(d.state.lockInfo('x'), {
        holders: [{ lease: a, waiter: 'wa', mode: 'exclusive', fencingToken: t1 }],
        queue: [{ lease: b, waiter: 'wb', mode: 'exclusive' }, { lease: c, waiter: 'wc', mode: 'shared' }]
      })
      const rel = d.run({ op: 'lock_release', resource: 'x', lease: a, fencingToken: t1 })
      assert.deepEqual(rel.result, { ok: true, op: 'lock_release', fencingToken: t1 })
      assert.deepEqual(grants(rel.events), [[b, 'wb', d.index]])
      assert.equal(rel.events.length, 1)
      const t2 = d.index
      const rel2 = d.run({ op: 'lock_release', resource: 'x', lease: b, fencingToken: t2 })
      assert.deepEqual(rel2.events, [{ type: 'lock_granted', resource: 'x', lease: c, waiter: 'wc', fencingToken: d.index, mode: 'shared' }])
    })

    it('grants a shared batch together, then the exclusive; a shared request behind a queued exclusive waits', () => {
      const d = new Driver()
      const [a, b, w, s1, s2] = [d.lease(), d.lease(), d.lease(), d.lease(), d.lease()]
      const ta = token(d.acquire('x', a, 'shared'))
      const tb = token(d.acquire('x', b, 'shared'))
      assert.notEqual(ta, tb)
      assert.equal(ok(d.acquire('x', w, 'exclusive', 'ww'), 'lock_acquire').granted, false)
      // No writer starvation: compatible with the holders, but the writer is queued ahead.
      assert.deepEqual(ok(d.acquire('x', s1, 'shared', 'ws1'), 'lock_acquire'), { ok: true, op: 'lock_acquire', granted: false, position: 2 })
      assert.equal(ok(d.acquire('x', s2, 'shared', 'ws2'), 'lock_acquire').granted, false)
      assert.deepEqual(d.run({ op: 'lock_release', resource: 'x', lease: a, fencingToken: ta }).events, [])
      const r = d.run({ op: 'lock_release', resource: 'x', lease: b, fencingToken: tb })
      assert.deepEqual(grants(r.events), [[w, 'ww', d.index]])
      const tw = d.index
      const r2 = d.run({ op: 'lock_release', resource: 'x', lease: w, fencingToken: tw })
      // Both readers, and only they, with one token: the index of the entry that granted them.
      assert.deepEqual(grants(r2.events), [[s1, 'ws1', d.index], [s2, 'ws2', d.index]])
      assert.equal(d.state.checkFence('x', d.index), true)
    })

    it('wakes only the next waiter(s): a run of shared up to the next exclusive', () => {
      const d = new Driver()
      const ls = Array.from({ length: 7 }, () => d.lease())
      const [h, e1, s1, s2, e2, s3, s4] = ls as [string, string, string, string, string, string, string]
      let t = token(d.acquire('x', h))
      const modes: Array<[string, 'exclusive' | 'shared']> = [[e1, 'exclusive'], [s1, 'shared'], [s2, 'shared'], [e2, 'exclusive'], [s3, 'shared'], [s4, 'shared']]
      for (const [l, m] of modes) assert.equal(ok(d.acquire('x', l, m, `w-${l}`), 'lock_acquire').granted, false)
      let r = d.run({ op: 'lock_release', resource: 'x', lease: h, fencingToken: t })
      assert.deepEqual(grants(r.events).map(g => g[0]), [e1])
      t = d.index
      r = d.run({ op: 'lock_release', resource: 'x', lease: e1, fencingToken: t })
      assert.deepEqual(grants(r.events).map(g => g[0]), [s1, s2])
      t = d.index
      assert.deepEqual(d.run({ op: 'lock_release', resource: 'x', lease: s1, fencingToken: t }).events, [])
      r = d.run({ op: 'lock_release', resource: 'x', lease: s2, fencingToken: t })
      assert.deepEqual(grants(r.events).map(g => g[0]), [e2])
      t = d.index
      r = d.run({ op: 'lock_release', resource: 'x', lease: e2, fencingToken: t })
      assert.deepEqual(grants(r.events).map(g => g[0]), [s3, s4])
      assert.deepEqual(d.state.lockInfo('x').queue, [])
    })

    it('fencing tokens grow per resource across free and re-acquire; checkFence only for current holders', () => {
      const d = new Driver()
      const [a, b] = [d.lease(), d.lease()]
      const seen: number[] = []
      for (let i = 0; i < 5; i++) {
        const t = token(d.acquire('x', i % 2 === 0 ? a : b))
        assert.equal(d.state.checkFence('x', t), true)
        for (const old of seen) assert.equal(d.state.checkFence('x', old), false)
        d.run({ op: 'lock_acquire', resource: 'other', lease: a, mode: 'shared', waiter: `o${i}` }) // interleaved traffic
        ok(d.run({ op: 'lock_release', resource: 'x', lease: i % 2 === 0 ? a : b, fencingToken: t }), 'lock_release')
        assert.equal(d.state.checkFence('x', t), false)
        assert.deepEqual(d.state.lockInfo('x'), { holders: [], queue: [] })
        if (seen.length > 0) assert.ok(t > (seen.at(-1) as number))
        seen.push(t)
        failed(d.acquire('other', a, 'shared'), 'already_held')
        d.run({ op: 'lock_cancel', resource: 'other', lease: a, waiter: `o${i}` })
      }
      // Expiry: the holder's token stops being valid.
      const t = token(d.acquire('x', a))
      d.run({ op: 'lease_revoke', leaseId: a, reason: 'expired' })
      assert.equal(d.state.checkFence('x', t), false)
    })

    it('refuses re-entry, a wrong token and a stale release after re-acquire', () => {
      const d = new Driver()
      const [a, b] = [d.lease(), d.lease()]
      const t1 = token(d.acquire('x', a))
      failed(d.acquire('x', a), 'already_held')
      failed(d.acquire('x', a, 'shared'), 'already_held')
      ok(d.acquire('x', b), 'lock_acquire')
      failed(d.acquire('x', b, 'shared'), 'already_waiting')
      failed(d.run({ op: 'lock_release', resource: 'x', lease: b, fencingToken: t1 }), 'not_holder')
      failed(d.run({ op: 'lock_release', resource: 'x', lease: a, fencingToken: t1 + 100 }), 'not_holder')
      failed(d.run({ op: 'lock_release', resource: 'nothing', lease: a, fencingToken: t1 }), 'not_holder')
      ok(d.run({ op: 'lock_release', resource: 'x', lease: a, fencingToken: t1 }), 'lock_release')
      const tb = d.index
      d.run({ op: 'lock_release', resource: 'x', lease: b, fencingToken: tb })
      token(d.acquire('x', a))
      // A delayed duplicate of the first release must not release the new holding.
      failed(d.run({ op: 'lock_release', resource: 'x', lease: a, fencingToken: t1 }), 'not_holder')
    })

    it('revoking a lease releases its locks and queued requests and grants the next', () => {
      const d = new Driver()
      const [a, b, c] = [d.lease('pa'), d.lease('pb'), d.lease('pc')]
      token(d.acquire('x', a))
      token(d.acquire('y', a))
      ok(d.acquire('x', b, 'exclusive', 'wbx'), 'lock_acquire')
      ok(d.acquire('z', c, 'exclusive', 'wcz'), 'lock_acquire')
      ok(d.acquire('z', a, 'exclusive', 'waz'), 'lock_acquire') // queued
      ok(d.acquire('z', b, 'shared', 'wbz'), 'lock_acquire') // queued behind a
      const r = d.run({ op: 'lease_revoke', leaseId: a, reason: 'expired' })
      assert.deepEqual(r.events, [
        { type: 'lease_revoked', leaseId: a, owner: 'pa', reason: 'expired' },
        { type: 'lock_granted', resource: 'x', lease: b, waiter: 'wbx', fencingToken: d.index, mode: 'exclusive' }
      ])
      assert.deepEqual(d.state.lockInfo('y'), { holders: [], queue: [] })
      assert.deepEqual(d.state.lockInfo('z').queue, [{ lease: b, waiter: 'wbz', mode: 'shared' }])
    })

    it('lock_cancel: dequeues a waiter, or releases it when the grant won the race', () => {
      const d = new Driver()
      const [a, b, c, e] = [d.lease(), d.lease(), d.lease(), d.lease()]
      const ta = token(d.acquire('x', a, 'exclusive', 'wa'))
      ok(d.acquire('x', b, 'exclusive', 'wb'), 'lock_acquire')
      ok(d.acquire('x', c, 'exclusive', 'wc'), 'lock_acquire')
      // b's caller times out, but the release that grants b is committed first.
      const rel = d.run({ op: 'lock_release', resource: 'x', lease: a, fencingToken: ta })
      assert.deepEqual(grants(rel.events), [[b, 'wb', d.index]])
      const cancel = d.run({ op: 'lock_cancel', resource: 'x', lease: b, waiter: 'wb' })
      assert.deepEqual(cancel.result, { ok: true, op: 'lock_cancel', was: 'held' })
      assert.deepEqual(grants(cancel.events), [[c, 'wc', d.index]])
      const tc = d.index
      assert.deepEqual(d.run({ op: 'lock_cancel', resource: 'x', lease: b, waiter: 'wb' }).result, { ok: true, op: 'lock_cancel', was: 'none' })
      // A queued waiter that gives up leaves the queue; the others keep their order.
      ok(d.acquire('x', a, 'exclusive', 'wa2'), 'lock_acquire')
      ok(d.acquire('x', e, 'shared', 'we'), 'lock_acquire')
      assert.deepEqual(d.run({ op: 'lock_cancel', resource: 'x', lease: a, waiter: 'wa2' }), { result: { ok: true, op: 'lock_cancel', was: 'queued' }, events: [] })
      const r = d.run({ op: 'lock_release', resource: 'x', lease: c, fencingToken: tc })
      assert.deepEqual(grants(r.events), [[e, 'we', d.index]])
    })

    it('lock_cancel of a queued writer grants the readers behind it', () => {
      const d = new Driver()
      const [a, w, r1] = [d.lease(), d.lease(), d.lease()]
      token(d.acquire('x', a, 'shared'))
      ok(d.acquire('x', w, 'exclusive', 'ww'), 'lock_acquire')
      ok(d.acquire('x', r1, 'shared', 'wr1'), 'lock_acquire')
      const c = d.run({ op: 'lock_cancel', resource: 'x', lease: w, waiter: 'ww' })
      assert.deepEqual(c.result, { ok: true, op: 'lock_cancel', was: 'queued' })
      assert.deepEqual(grants(c.events), [[r1, 'wr1', d.index]])
    })
  })

  describe('deadlock detection', () => {
    it('refuses the request closing a 2-cycle; the requester is the victim and is not queued', () => {
      const d = new Driver()
      const [a, b] = [d.lease(), d.lease()]
      token(d.acquire('x', a))
      token(d.acquire('y', b))
      ok(d.acquire('y', a), 'lock_acquire')
      const f = failed(d.acquire('x', b), 'deadlock')
      assert.deepEqual((f as { cycle: string[] }).cycle, [b, a])
      assert.deepEqual(d.state.lockInfo('x').queue, [])
    })

    it('finds a 3-cycle and stays quiet on a chain', () => {
      const d = new Driver()
      const [a, b, c] = [d.lease(), d.lease(), d.lease()]
      token(d.acquire('x', a))
      token(d.acquire('y', b))
      token(d.acquire('z', c))
      ok(d.acquire('y', a), 'lock_acquire') // a -> b
      ok(d.acquire('z', b), 'lock_acquire') // b -> c: a chain, no cycle
      const f = failed(d.acquire('x', c), 'deadlock') // c -> a closes it
      assert.deepEqual((f as { cycle: string[] }).cycle, [c, a, b])
      // Breaking the chain elsewhere: a fourth lease waiting on x is just queued.
      const e = d.lease()
      assert.equal(ok(d.acquire('x', e), 'lock_acquire').granted, false)
    })

    it('follows shared holders and incompatible requests queued ahead', () => {
      const d = new Driver()
      const [a, b, c] = [d.lease(), d.lease(), d.lease()]
      token(d.acquire('x', a, 'shared'))
      token(d.acquire('y', b))
      ok(d.acquire('x', c, 'exclusive'), 'lock_acquire') // c waits for a
      ok(d.acquire('x', b, 'shared'), 'lock_acquire') // b waits for c (queued ahead, incompatible)
      const f = failed(d.acquire('y', a, 'shared'), 'deadlock') // a waits for b
      assert.deepEqual((f as { cycle: string[] }).cycle, [a, b, c])
      // Two readers of x wanting each other's exclusive resource.
      const [p, q] = [d.lease(), d.lease()]
      token(d.acquire('s', p, 'shared'))
      token(d.acquire('s', q, 'shared'))
      token(d.acquire('tp', p))
      token(d.acquire('tq', q))
      ok(d.acquire('tq', p, 'shared'), 'lock_acquire')
      assert.deepEqual((failed(d.acquire('tp', q, 'shared'), 'deadlock') as { cycle: string[] }).cycle, [q, p])
    })

    it('no false positive through a compatible request queued ahead', () => {
      const d = new Driver()
      const [holder, b, c] = [d.lease(), d.lease(), d.lease()]
      token(d.acquire('x', holder))
      ok(d.acquire('x', b, 'shared'), 'lock_acquire')
      token(d.acquire('w', c))
      ok(d.acquire('x', c, 'shared'), 'lock_acquire') // c behind b, both shared: c does not wait for b
      assert.equal(ok(d.acquire('w', b), 'lock_acquire').granted, false) // b waits for c: no cycle
    })
    it('agrees with a brute-force search of the whole wait-for graph on random histories', () => {
      const resources = ['a', 'b', 'c', 'd']
      const incompatible = (x: string, y: string): boolean => x === 'exclusive' || y === 'exclusive'
      let deadlocks = 0
      let longer = 0
      fc.assert(fc.property(fc.array(lockTemplate, { minLength: 10, maxLength: 100, size: 'max' }), (log) => {
        const d = new Driver()
        for (const t of log) {
          const cmd = resolve(d.state, d.index + 1, t)
          if (cmd.op !== 'lock_acquire' || d.state.lease(cmd.lease) === undefined) {
            d.run(cmd)
            continue
          }
          const info = d.state.lockInfo(cmd.resource)
          const busy = [...info.holders, ...info.queue].some(e => e.lease === cmd.lease)
          const queued = !busy && (info.queue.length > 0 || info.holders.some(h => incompatible(h.mode, cmd.mode)))
          // Every edge of the graph, with the new request at the tail of its queue.
          const edges = new Map<string, Set<string>>()
          const edge = (x: string, y: string): void => { edges.set(x, (edges.get(x) ?? new Set()).add(y)) }
          for (const res of resources) {
            const { holders, queue } = d.state.lockInfo(res)
            const all = res === cmd.resource && queued ? [...queue, { lease: cmd.lease, waiter: cmd.waiter, mode: cmd.mode }] : queue
            all.forEach((q, i) => {
              for (const h of holders) if (incompatible(q.mode, h.mode)) edge(q.lease, h.lease)
              for (const ahead of all.slice(0, i)) if (incompatible(q.mode, ahead.mode)) edge(q.lease, ahead.lease)
            })
          }
          // Shortest cycle through the requester, by breadth-first search.
          const dist = new Map<string, number>([[cmd.lease, 0]])
          let shortest: number | undefined
          for (const frontier = [cmd.lease]; frontier.length > 0 && shortest === undefined;) {
            const x = frontier.shift() as string
            for (const y of edges.get(x) ?? []) {
              if (y === cmd.lease) { shortest = (dist.get(x) as number) + 1; break }
              if (!dist.has(y)) { dist.set(y, (dist.get(x) as number) + 1); frontier.push(y) }
            }
          }
          const r = d.run(cmd)
          if (!queued || shortest === undefined) {
            const expected = busy ? ['already_held', 'already_waiting'] : ['limit']
            assert.equal(r.result.ok ? !busy : expected.includes(r.result.error), true, JSON.stringify(r.result))
            continue
          }
          const cycle = (failed(r, 'deadlock') as { cycle: string[] }).cycle
          deadlocks++
          if (cycle.length > 2) longer++
          assert.equal(cycle.length, shortest)
          assert.equal(cycle[0], cmd.lease)
          cycle.forEach((x, i) => assert.ok(edges.get(x)?.has(cycle[(i + 1) % cycle.length] as string), `${x} does not wait for the next in ${cycle.join(',')}`))
        }
      }), { numRuns: 300 })
      assert.ok(deadlocks > 20 && longer > 0, `only ${deadlocks} deadlocks, ${longer} of more than 2 leases`)
    })
  })

  describe('barriers', () => {
    it('releases a generation once, all arrivals in one event; the next arrival opens a new generation', () => {
      const d = new Driver()
      const [a, b, c] = [d.lease(), d.lease(), d.lease()]
      const r1 = ok(d.run({ op: 'barrier_wait', name: 'B', parties: 3, lease: a, waiter: 'wa' }), 'barrier_wait')
      const gen = r1.generation
      assert.deepEqual(r1, { ok: true, op: 'barrier_wait', generation: gen, released: false, arrived: 1, parties: 3 })
      failed(d.run({ op: 'barrier_wait', name: 'B', parties: 4, lease: b, waiter: 'wb' }), 'parties_mismatch')
      failed(d.run({ op: 'barrier_wait', name: 'B', parties: 3, lease: a, waiter: 'wa' }), 'already_waiting')
      ok(d.run({ op: 'barrier_wait', name: 'B', parties: 3, lease: b, waiter: 'wb' }), 'barrier_wait')
      assert.deepEqual(d.state.barrierInfo('B'), { generation: gen, parties: 3, arrivals: [{ waiter: 'wa', lease: a }, { waiter: 'wb', lease: b }] })
      const last = d.run({ op: 'barrier_wait', name: 'B', parties: 3, lease: c, waiter: 'wc' })
      assert.deepEqual(last.result, { ok: true, op: 'barrier_wait', generation: gen, released: true, arrived: 3, parties: 3 })
      assert.deepEqual(last.events, [{ type: 'barrier_released', name: 'B', generation: gen, waiters: ['wa', 'wb', 'wc'] }])
      assert.equal(d.state.barrierInfo('B'), null)
      assert.deepEqual(ok(d.run({ op: 'barrier_cancel', name: 'B', lease: a, waiter: 'wa' }), 'barrier_cancel'), { ok: true, op: 'barrier_cancel', removed: false, generation: null })
      // A new generation, with its own parties.
      const next = ok(d.run({ op: 'barrier_wait', name: 'B', parties: 2, lease: a, waiter: 'wa2' }), 'barrier_wait')
      assert.ok(next.generation > gen)
      assert.deepEqual(ok(d.run({ op: 'barrier_cancel', name: 'B', lease: a, waiter: 'wa2' }), 'barrier_cancel'), { ok: true, op: 'barrier_cancel', removed: true, generation: next.generation })
      assert.equal(d.state.barrierInfo('B'), null)
      // Revocation removes an arrival and says so.
      ok(d.run({ op: 'barrier_wait', name: 'B', parties: 2, lease: b, waiter: 'wb3' }), 'barrier_wait')
      const g3 = d.index
      const rev = d.run({ op: 'lease_revoke', leaseId: b, reason: 'expired' })
      assert.deepEqual(rev.events.slice(1), [{ type: 'barrier_left', name: 'B', generation: g3, waiter: 'wb3', lease: b }])
      assert.equal(d.state.barrierInfo('B'), null)
    })

    it('20 parties x 100 generations, random order, revocations and cancels: every arrival released exactly once', () => {
      const P = 20
      fc.assert(fc.property(fc.gen(), (g) => {
        const d = new Driver()
        const leases = Array.from({ length: P }, (_, i) => d.lease(`peer${i}`))
        const releasedIn = new Map<string, number>()
        const removed = new Set<string>()
        const arrivedEver = new Set<string>()
        let lastGeneration = 0
        let seq = 0
        for (let round = 0; round < 100; round++) {
          const pending = Array.from({ length: P }, (_, i) => i)
          for (let i = pending.length - 1; i > 0; i--) {
            const j = g(fc.nat, i)
            ;[pending[i], pending[j]] = [pending[j] as number, pending[i] as number]
          }
          const arrived = new Map<number, string>()
          let generation: number | undefined
          for (;;) {
            const p = pending.shift() as number
            const waiter = `w${p}.${seq++}`
            const r = d.run({ op: 'barrier_wait', name: 'B', parties: P, lease: leases[p] as string, waiter })
            const res = ok(r, 'barrier_wait')
            if (generation === undefined) {
              assert.ok(res.generation > lastGeneration)
              generation = res.generation
            }
            assert.equal(res.generation, generation)
            arrived.set(p, waiter)
            arrivedEver.add(waiter)
            assert.equal(res.arrived, arrived.size)
            if (res.released) {
              assert.equal(pending.length, 0)
              assert.equal(r.events.length, 1)
              const ev = r.events[0]
              assert.ok(ev?.type === 'barrier_released' && ev.generation === generation)
              assert.deepEqual([...ev.waiters].sort(), [...arrived.values()].sort())
              for (const w of ev.waiters) {
                assert.equal(releasedIn.has(w), false, `${w} released twice`)
                assert.equal(removed.has(w), false)
                releasedIn.set(w, generation)
              }
              lastGeneration = generation
              break
            }
            assert.deepEqual(r.events, [])
            const action = g(fc.nat, 9)
            if (action <= 1) {
              // A participant's lease expires (arrived or not); it comes back with a new lease.
              const v = g(fc.nat, P - 1)
              const before = arrived.get(v)
              const rev = d.run({ op: 'lease_revoke', leaseId: leases[v] as string, reason: 'expired' })
              assert.deepEqual(rev.events.slice(1), before === undefined ? [] : [{ type: 'barrier_left', name: 'B', generation, waiter: before, lease: leases[v] }])
              leases[v] = d.lease(`peer${v}`)
              if (before !== undefined) {
                removed.add(before)
                arrived.delete(v)
                pending.splice(g(fc.nat, pending.length), 0, v)
              }
            } else if (action === 2 && arrived.size > 0) {
              // An arrival times out and tries again.
              const v = [...arrived.keys()][g(fc.nat, arrived.size - 1)] as number
              const w = arrived.get(v) as string
              assert.equal(ok(d.run({ op: 'barrier_cancel', name: 'B', lease: leases[v] as string, waiter: w }), 'barrier_cancel').removed, true)
              removed.add(w)
              arrived.delete(v)
              pending.splice(g(fc.nat, pending.length), 0, v)
            }
            // Everybody left: that generation is closed unreleased and the next arrival opens one.
            if (arrived.size === 0) generation = undefined
          }
        }
        assert.equal(releasedIn.size, 100 * P)
        for (const w of arrivedEver) assert.equal(releasedIn.has(w) !== removed.has(w), true, w)
        assert.equal(d.state.barrierInfo('B'), null)
      }), { numRuns: 15 })
    })

    it('double barrier: enter releases at parties, leave releases when all have left, revocation counts as leaving', () => {
      const d = new Driver()
      const [a, b, c, e] = [d.lease(), d.lease(), d.lease(), d.lease()]
      const enter = (lease: string, waiter: string, parties = 3): CoordApplied => d.run({ op: 'dbarrier_enter', name: 'D', parties, lease, waiter })
      const leave = (lease: string, waiter: string): CoordApplied => d.run({ op: 'dbarrier_leave', name: 'D', lease, waiter })
      const g1 = ok(enter(a, 'wa'), 'dbarrier_enter').generation
      failed(enter(b, 'wb', 2), 'parties_mismatch')
      ok(enter(b, 'wb'), 'dbarrier_enter')
      const full = enter(c, 'wc')
      assert.deepEqual(full.result, { ok: true, op: 'dbarrier_enter', generation: g1, entered: true, arrived: 3, parties: 3 })
      assert.deepEqual(full.events, [{ type: 'dbarrier_entered', name: 'D', generation: g1, waiters: ['wa', 'wb', 'wc'] }])
      failed(enter(a, 'wa'), 'already_held')
      // The next generation may start entering while this one is inside.
      const g2 = ok(enter(e, 'we', 2), 'dbarrier_enter').generation
      assert.ok(g2 > g1)
      assert.deepEqual(ok(leave(a, 'wa'), 'dbarrier_leave'), { ok: true, op: 'dbarrier_leave', was: 'inside', generation: g1, released: false, remaining: 2 })
      assert.deepEqual(leave(b, 'wb').events, [])
      const rev = d.run({ op: 'lease_revoke', leaseId: c, reason: 'expired' })
      assert.deepEqual(rev.events.slice(1), [
        { type: 'dbarrier_left', name: 'D', generation: g1, waiter: 'wc', lease: c },
        { type: 'dbarrier_left_all', name: 'D', generation: g1, waiters: ['wa', 'wb'] }
      ])
      assert.deepEqual(d.state.dbarrierInfo('D'), { entering: { generation: g2, parties: 2, members: [{ waiter: 'we', lease: e }], left: [] }, inside: [] })
      assert.deepEqual(ok(leave(e, 'we'), 'dbarrier_leave'), { ok: true, op: 'dbarrier_leave', was: 'entering', generation: g2, released: false, remaining: 0 })
      assert.equal(d.state.dbarrierInfo('D'), null)
      // A full cycle with explicit leaves.
      ok(enter(a, 'x1', 2), 'dbarrier_enter')
      const g3 = ok(enter(b, 'x2', 2), 'dbarrier_enter').generation
      ok(leave(b, 'x2'), 'dbarrier_leave')
      const done = leave(a, 'x1')
      assert.deepEqual(done.result, { ok: true, op: 'dbarrier_leave', was: 'inside', generation: g3, released: true, remaining: 0 })
      assert.deepEqual(done.events, [{ type: 'dbarrier_left_all', name: 'D', generation: g3, waiters: ['x2', 'x1'] }])
      assert.deepEqual(ok(leave(a, 'x1'), 'dbarrier_leave').was, 'none')
    })
  })

  describe('elections', () => {
    it('FIFO candidates, proclaim, resign and revoke move the leadership', () => {
      const d = new Driver()
      const [a, b, c] = [d.lease(), d.lease(), d.lease()]
      const camp = (lease: string, value: string): CoordApplied => d.run({ op: 'campaign', role: 'boss', lease, value, waiter: `w-${lease}` })
      const ra = camp(a, 'A')
      const revA = d.index
      assert.deepEqual(ra.result, { ok: true, op: 'campaign', leader: true, revision: revA })
      assert.deepEqual(ra.events, [{ type: 'election_leader', role: 'boss', lease: a, waiter: `w-${a}`, value: 'A', revision: revA }])
      const rb = camp(b, 'B')
      const revB = d.index
      assert.deepEqual(rb, { result: { ok: true, op: 'campaign', leader: false, revision: revB }, events: [] })
      ok(camp(c, 'C'), 'campaign')
      const revC = d.index
      failed(camp(a, 'A'), 'already_held')
      failed(camp(b, 'B'), 'already_waiting')
      failed(d.run({ op: 'proclaim', role: 'boss', lease: b, value: 'B!' }), 'not_leader')
      const p = d.run({ op: 'proclaim', role: 'boss', lease: a, value: 'A2' })
      assert.deepEqual(p.events, [{ type: 'election_leader', role: 'boss', lease: a, waiter: `w-${a}`, value: 'A2', revision: revA }])
      assert.deepEqual(d.state.leader('boss'), { lease: a, waiter: `w-${a}`, value: 'A2', revision: revA })
      const res = d.run({ op: 'resign', role: 'boss', lease: a })
      assert.deepEqual(res.result, { ok: true, op: 'resign', was: 'leader' })
      assert.deepEqual(res.events, [{ type: 'election_leader', role: 'boss', lease: b, waiter: `w-${b}`, value: 'B', revision: revB }])
      const rev = d.run({ op: 'lease_revoke', leaseId: b, reason: 'expired' })
      assert.deepEqual(rev.events.slice(1), [{ type: 'election_leader', role: 'boss', lease: c, waiter: `w-${c}`, value: 'C', revision: revC }])
      assert.deepEqual(d.run({ op: 'resign', role: 'boss', lease: a }).result, { ok: true, op: 'resign', was: 'none' })
      const last = d.run({ op: 'resign', role: 'boss', lease: c })
      assert.deepEqual(last.events, [{ type: 'election_leader', role: 'boss', lease: null, waiter: null, value: null, revision: null }])
      assert.equal(d.state.leader('boss'), null)
      // A candidate that is not the leader resigns silently.
      camp(a, 'A3')
      camp(c, 'C3')
      assert.deepEqual(d.run({ op: 'resign', role: 'boss', lease: c }), { result: { ok: true, op: 'resign', was: 'candidate' }, events: [] })
    })
  })

  describe('codec, snapshots and determinism', () => {
    it('encodes and decodes every command; refuses malformed fields', () => {
      const cmds: CoordCommand[] = [
        { rid: 'a', op: 'lease_grant', owner: '12D3KooWA', ttlMs: 500 },
        { rid: 'b', op: 'lease_revoke', leaseId: 'l1', reason: 'expired' },
        { rid: 'c', op: 'lock_acquire', resource: 'db/primary', lease: 'l1', mode: 'shared', waiter: 'w1' },
        { rid: 'd', op: 'lock_release', resource: 'db/primary', lease: 'l1', fencingToken: 7 },
        { rid: 'e', op: 'lock_cancel', resource: 'ключ', lease: 'l1', waiter: 'w1' },
        { rid: 'f', op: 'barrier_wait', name: 'b', parties: 10_000, lease: 'l1', waiter: 'w' },
        { rid: 'g', op: 'barrier_cancel', name: 'b', lease: 'l1', waiter: 'w' },
        { rid: 'h', op: 'dbarrier_enter', name: 'b', parties: 1, lease: 'l1', waiter: 'w' },
        { rid: 'i', op: 'dbarrier_leave', name: 'b', lease: 'l1', waiter: 'w' },
        { rid: '', op: 'campaign', role: 'r', lease: 'l1', value: '', waiter: 'w' },
        { rid: 'k', op: 'resign', role: 'r', lease: 'l1' },
        { rid: 'l', op: 'proclaim', role: 'r', lease: 'l1', value: 'x'.repeat(4096) }
      ]
      for (const c of cmds) {
        assert.deepEqual(decodeCoordCommand(encodeCoordCommand(c)), c)
        assert.deepEqual(decodeCoordCommand(c), c)
      }
      assert.deepEqual(decodeCoordCommand({ ...cmds[0], extra: 1 }), cmds[0])
      const base = { rid: 'r', op: 'lock_acquire', resource: 'x', lease: 'l1', mode: 'exclusive', waiter: 'w' }
      const bad: unknown[] = [
        null, 1, 'x', [], {}, { ...base, op: 'drop' }, { ...base, rid: 5 }, { ...base, rid: 'r'.repeat(257) }, { ...base, mode: 'read' },
        { ...base, resource: '' }, { ...base, resource: 'x'.repeat(257) }, { ...base, resource: 'é'.repeat(129) }, { ...base, waiter: 'a\nb' },
        { ...base, lease: undefined },
        { rid: 'r', op: 'lease_grant', owner: 'p', ttlMs: 499 }, { rid: 'r', op: 'lease_grant', owner: 'p', ttlMs: 3_600_001 },
        { rid: 'r', op: 'lease_grant', owner: 'p', ttlMs: 1000.5 }, { rid: 'r', op: 'lease_grant', owner: 'p', ttlMs: '1000' },
        { rid: 'r', op: 'lease_revoke', leaseId: 'l1', reason: 'whatever' },
        { rid: 'r', op: 'barrier_wait', name: 'b', parties: 0, lease: 'l1', waiter: 'w' },
        { rid: 'r', op: 'barrier_wait', name: 'b', parties: 10_001, lease: 'l1', waiter: 'w' },
        { rid: 'r', op: 'lock_release', resource: 'x', lease: 'l1', fencingToken: 0 },
        { rid: 'r', op: 'lock_release', resource: 'x', lease: 'l1', fencingToken: 2 ** 53 },
        { rid: 'r', op: 'proclaim', role: 'r', lease: 'l1', value: 'x'.repeat(4097) },
        enc.encode('not json'), enc.encode('{"rid":"r","op":"resign","role":"r"}'), new Uint8Array([0xff, 0xfe])
      ]
      for (const b of bad) assert.equal(decodeCoordCommand(b), undefined, JSON.stringify(b))
      assert.equal(decodeCoordCommand(enc.encode('{"rid":"r","op":"resign","role":"r","lease":"l1"}'))?.op, 'resign')
      assert.throws(() => encodeCoordCommand({ rid: 'r', op: 'lease_grant', owner: '', ttlMs: 1000 }), CoordInputError)
    })

    it('decoder fuzz: random JSON, values and bytes decode to undefined or a valid command, never throw', () => {
      const valid = fc.record({
        rid: fc.string({ maxLength: 4 }),
        op: fc.constantFrom('lease_grant', 'lease_revoke', 'lock_acquire', 'lock_release', 'lock_cancel', 'barrier_wait', 'barrier_cancel', 'dbarrier_enter', 'dbarrier_leave', 'campaign', 'resign', 'proclaim'),
        owner: fc.string(), ttlMs: fc.oneof(fc.integer(), fc.constant(1000)), leaseId: fc.string(), reason: fc.constantFrom('released', 'expired', 'x'),
        resource: fc.string(), lease: fc.string(), mode: fc.constantFrom('exclusive', 'shared', 'x'), waiter: fc.string(),
        fencingToken: fc.oneof(fc.integer(), fc.double()), name: fc.string(), parties: fc.integer({ min: -2, max: 10_002 }),
        role: fc.string(), value: fc.string()
      }, { requiredKeys: ['rid', 'op'] })
      const check = (input: unknown): void => {
        const c = decodeCoordCommand(input)
        if (c === undefined) return
        assert.deepEqual(validateCommand(c), c)
        assert.deepEqual(decodeCoordCommand(encodeCoordCommand(c)), c)
      }
      fc.assert(fc.property(fc.jsonValue(), check), { numRuns: 2000 })
      fc.assert(fc.property(fc.anything(), check), { numRuns: 2000 })
      fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), check), { numRuns: 2000 })
      fc.assert(fc.property(valid, (v) => {
        check(v)
        check(enc.encode(JSON.stringify(v)))
        const s = new CoordinationState()
        s.apply(1, v as unknown as CoordCommand) // garbage that skipped the decoder: a result, not a throw
      }), { numRuns: 3000 })
      fc.assert(fc.property(fc.anything(), (v) => { new CoordinationState().apply(1, v as CoordCommand) }), { numRuns: 1000 })
    })

    it('snapshot and restore mid-scenario give an equal state that continues identically', () => {
      fc.assert(fc.property(fc.array(template, { minLength: 1, maxLength: 80, size: 'max' }), fc.nat(), (log, cut) => {
        const split = cut % (log.length + 1)
        const a = new Driver()
        const scratch = new Driver()
        const step = (d: Driver, others: Driver[], t: Template): void => {
          const cmd = resolve(d.state, d.index + 1, t)
          const r = d.run(cmd)
          assert.ok(r.result.ok || !r.result.message.startsWith('internal'), r.result.ok ? '' : r.result.message)
          for (const o of others) assert.deepEqual(o.run(cmd), r)
        }
        for (const t of log.slice(0, split)) step(a, [scratch], t)
        const snap = a.state.snapshot()
        const bytes = encodeSnapshot(snap)
        const b = new Driver(CoordinationState.restore(decodeSnapshot(bytes)))
        assert.deepEqual(b.state.snapshot(), snap)
        assert.equal(b.index, a.index)
        for (const t of log.slice(split)) {
          step(a, [b, scratch], t)
          // Every state reached is a valid snapshot (the validator checks the invariants).
          CoordinationState.restore(JSON.parse(JSON.stringify(a.state.snapshot())))
        }
        assert.deepEqual(b.state.snapshot(), a.state.snapshot())
        assert.deepEqual(scratch.state.snapshot(), a.state.snapshot())
      }), { numRuns: 300 })
    })

    it('is deterministic: two replicas fed the same commands agree on every result and event', () => {
      fc.assert(fc.property(fc.array(template, { minLength: 10, maxLength: 120, size: 'max' }), (log) => {
        const a = new Driver()
        const b = new Driver()
        const all: CoordApplied[] = []
        for (const t of log) {
          const cmd = decodeCoordCommand(encodeCoordCommand({ rid: 'r', ...resolve(a.state, a.index + 1, t) } as CoordCommand)) as CoordCommand
          const ra = a.state.apply(++a.index, cmd)
          assert.deepEqual(b.state.apply(++b.index, cmd), ra)
          all.push(ra)
        }
        assert.deepEqual(a.state.snapshot(), b.state.snapshot())
        assert.ok(all.every(r => r.result.ok || r.result.error !== 'invalid'))
      }), { numRuns: 300 })
    })

    it('restore refuses inconsistent snapshots', () => {
      const d = new Driver()
      const a = d.lease()
      token(d.acquire('x', a))
      const snap = d.state.snapshot()
      const broken: unknown[] = [
        null, { ...snap, version: 2 }, { ...snap, leases: [] }, { ...snap, appliedIndex: 1 },
        { ...snap, locks: [{ resource: 'y', holders: [], queue: [] }] },
        { ...snap, locks: [{ resource: 'x', holders: [], queue: [{ lease: a, waiter: 'w', mode: 'shared' }] }] },
        { ...snap, barriers: [{ name: 'b', generation: 1, parties: 1, arrivals: [{ waiter: 'w', lease: a }] }] },
        { ...snap, elections: [{ role: 'r', candidates: [] }] }
      ]
      for (const s of broken) assert.throws(() => CoordinationState.restore(s), CoordInputError)
      assert.throws(() => decodeSnapshot(enc.encode('{')), CoordInputError)
    })
  })
})

/** A command with its references (leases, tokens, waiters) picked among what exists when applied. */
type Template = { op: CoordOp, pick: number, res: string, mode: 'exclusive' | 'shared', parties: number, value: string, owner: string }

const template: fc.Arbitrary<Template> = fc.record({
  op: fc.oneof(
    { arbitrary: fc.constant<CoordOp>('lease_grant'), weight: 3 },
    { arbitrary: fc.constant<CoordOp>('lock_acquire'), weight: 6 },
    { arbitrary: fc.constantFrom<CoordOp>('lease_revoke', 'lock_release', 'lock_cancel', 'barrier_wait', 'barrier_cancel', 'dbarrier_enter', 'dbarrier_leave', 'campaign', 'resign', 'proclaim'), weight: 10 }
  ),
  pick: fc.noBias(fc.nat(1000)),
  res: fc.constantFrom('a', 'b', 'c'),
  mode: fc.constantFrom('exclusive', 'shared'),
  parties: fc.integer({ min: 1, max: 4 }),
  value: fc.constantFrom('', 'v1', 'v2'),
  owner: fc.constantFrom('p1', 'p2', 'p3')
})

const lockTemplate: fc.Arbitrary<Template> = fc.record({
  op: fc.oneof(
    { arbitrary: fc.constant<CoordOp>('lease_grant'), weight: 2 },
    { arbitrary: fc.constant<CoordOp>('lock_acquire'), weight: 10 },
    { arbitrary: fc.constantFrom<CoordOp>('lock_release', 'lock_cancel', 'lease_revoke'), weight: 3 }
  ),
  pick: fc.noBias(fc.nat(1000)),
  res: fc.constantFrom('a', 'b', 'c', 'd'),
  mode: fc.constantFrom('exclusive', 'shared'),
  parties: fc.constant(1),
  value: fc.constant(''),
  owner: fc.constant('p')
})

function resolve (s: CoordinationState, index: number, t: Template): Cmd {
  const leases = s.leases()
  const lease = leases[t.pick % Math.max(1, leases.length)]?.leaseId ?? 'l0'
  const waiter = `w${index}`
  const lock = s.lockInfo(t.res)
  const mine = [...lock.holders, ...lock.queue].find(h => h.lease === lease)
  const arrival = s.barrierInfo(t.res)?.arrivals.find(m => m.lease === lease)
  const db = s.dbarrierInfo(t.res)
  const member = [...(db?.entering?.members ?? []), ...(db?.inside.flatMap(g => g.members) ?? [])].find(m => m.lease === lease)
  switch (t.op) {
    case 'lease_grant': return { op: t.op, owner: t.owner, ttlMs: 1000 }
    case 'lease_revoke': return { op: t.op, leaseId: lease, reason: t.pick % 2 === 0 ? 'expired' : 'released' }
    case 'lock_acquire': return { op: t.op, resource: t.res, lease, mode: t.mode, waiter }
    case 'lock_release': return { op: t.op, resource: t.res, lease, fencingToken: lock.holders.find(h => h.lease === lease)?.fencingToken ?? 1 + t.pick % 5 }
    case 'lock_cancel': return { op: t.op, resource: t.res, lease, waiter: mine?.waiter ?? 'w-none' }
    case 'barrier_wait': return { op: t.op, name: t.res, parties: t.parties, lease, waiter }
    case 'barrier_cancel': return { op: t.op, name: t.res, lease, waiter: arrival?.waiter ?? 'w-none' }
    case 'dbarrier_enter': return { op: t.op, name: t.res, parties: t.parties, lease, waiter }
    case 'dbarrier_leave': return { op: t.op, name: t.res, lease, waiter: member?.waiter ?? 'w-none' }
    case 'campaign': return { op: t.op, role: t.res, lease, value: t.value, waiter }
    case 'resign': return { op: t.op, role: t.res, lease }
    case 'proclaim': return { op: t.op, role: t.res, lease, value: t.value }
  }
}
