import { strict as assert } from 'node:assert'
import type { SwarmNode, SwarmNodeOptions } from '../../node/swarm-node.js'
import { CoordinationError, DeadlockError } from '../../protocols/coordination/errors.js'
import { KvFencedError } from '../../protocols/raft/errors.js'
import { startSwarm, waitFullyConnected, type TestSwarm } from '../harness/swarm.js'
import { waitFor } from '../harness/wait.js'

const FAST: Partial<SwarmNodeOptions> = { raft: { settleMs: 300 }, voters: 3 }

async function oneLeader (nodes: SwarmNode[]): Promise<SwarmNode> {
  await waitFor(() => {
    const ls = nodes.filter(n => n.raft.status().role === 'leader')
    return ls.length === 1 && nodes.every(n => n.raft.status().leader === ls[0]!.peerId.toString())
  }, { timeoutMs: 20_000, message: 'one raft leader followed by all' })
  return nodes.find(n => n.raft.status().role === 'leader')!
}

describe('coordination on raft (in-process, 3 members)', function () {
  this.timeout(60_000)
  let swarm: TestSwarm
  let nodes: SwarmNode[]
  before(async () => {
    swarm = await startSwarm({ members: 3, node: FAST })
    nodes = swarm.members
    await waitFullyConnected(swarm.all)
    await oneLeader(nodes)
  })
  after(async () => { await swarm?.stop() })

  it('exclusive locks: FIFO across nodes, growing fencing tokens, fenced writes refuse a stale holder', async () => {
    const [a, b] = [nodes[0]!, nodes[1]!]
    const first = await a.coordination.acquire('orders/BTC', { ttlMs: 5000 })
    const order: string[] = []
    const second = b.coordination.acquire('orders/BTC', { ttlMs: 5000 }).then(h => { order.push('b'); return h })
    await waitFor(() => a.coordination.lockInfo('orders/BTC').queue.length === 1, { message: 'b queued' })
    assert.deepEqual(order, [])
    await a.kv.put('positions/BTC', 1, { fence: { resource: 'orders/BTC', token: first.fencingToken } })
    await first.release()
    const h2 = await second
    assert.ok(h2.fencingToken > first.fencingToken)
    // The old holder's token no longer passes; the new one does.
    await assert.rejects(a.kv.put('positions/BTC', 2, { fence: { resource: 'orders/BTC', token: first.fencingToken } }), KvFencedError)
    await b.kv.put('positions/BTC', 3, { fence: { resource: 'orders/BTC', token: h2.fencingToken } })
    assert.equal(b.coordination.checkFence('orders/BTC', h2.fencingToken), true)
    await h2.release()
    assert.equal((await a.kv.get('positions/BTC'))?.value, 3)
  })

  it('shared holders together, a waiter times out with a typed error and leaves no trace', async () => {
    const [a, b, c] = nodes as [SwarmNode, SwarmNode, SwarmNode]
    const s1 = await a.coordination.acquire('book', { mode: 'shared' })
    const s2 = await b.coordination.acquire('book', { mode: 'shared' })
    await assert.rejects(c.coordination.acquire('book', { timeoutMs: 400 }), (err: unknown) => err instanceof CoordinationError && err.code === 'timeout')
    await waitFor(() => c.coordination.lockInfo('book').queue.length === 0, { message: 'the timed-out waiter withdrawn' })
    await s1.release()
    await s2.release()
    const x = await c.coordination.acquire('book', { timeoutMs: 5000 })
    await x.release()
  })

  it('a wait that would close a cycle fails with DeadlockError', async () => {
    const [a, b] = [nodes[0]!, nodes[1]!]
    const la = await a.coordination.grantLease(5000)
    const lb = await b.coordination.grantLease(5000)
    await a.coordination.acquire('r1', { lease: la })
    await b.coordination.acquire('r2', { lease: lb })
    const waitA = a.coordination.acquire('r2', { lease: la, timeoutMs: 10_000 })
    await waitFor(() => a.coordination.lockInfo('r2').queue.length === 1, { message: 'a queued on r2' })
    await assert.rejects(b.coordination.acquire('r1', { lease: lb, timeoutMs: 10_000 }), (err: unknown) => err instanceof DeadlockError && err.cycle.length === 2)
    await lb.revoke()
    const h = await waitA
    assert.equal(h.resource, 'r2')
    await la.revoke()
  })

  it('a lock whose owner stops keeping its lease alive is released by expiry, decided by the leader', async () => {
    const [a, b] = [nodes[0]!, nodes[1]!]
    const held = await a.coordination.acquire('expiring', { ttlMs: 600 })
    const gone = a.coordination.acquire('expiring', { ttlMs: 600, timeoutMs: 100 }).catch(() => null)
    assert.equal(await gone, null)
    // Simulate the owner's death: its keep-alives stop.
    a.coordination.close()
    const next = await b.coordination.acquire('expiring', { timeoutMs: 15_000 })
    assert.ok(next.fencingToken > held.fencingToken)
    await next.release()
  })

  it('a reusable barrier across 3 nodes releases every generation once, with everyone in it', async () => {
    const gens: number[][] = [[], [], []]
    for (let round = 0; round < 5; round++) {
      const got = await Promise.all(nodes.slice(0, 3).map(async n => n.coordination.barrier('sync', 3).wait({ timeoutMs: 10_000 })))
      got.forEach((g, i) => gens[i]!.push(g.generation))
    }
    for (const g of gens) assert.deepEqual(g, gens[0])
    assert.equal(new Set(gens[0]).size, 5)
    await assert.rejects(nodes[1]!.coordination.barrier('lonely', 2).wait({ timeoutMs: 300 }), (err: unknown) => err instanceof CoordinationError && err.code === 'timeout')
  })

  it('role elections: FIFO succession on resign, observers see each leader', async () => {
    const [, b, c] = nodes as [SwarmNode, SwarmNode, SwarmNode]
    const seen: Array<string | null> = []
    const stop = c.coordination.observe('executor/BTC', l => { seen.push(l?.value ?? null) })
    const lb = await b.coordination.campaign('executor/BTC', 'b')
    const pc = c.coordination.campaign('executor/BTC', 'c')
    await waitFor(() => seen.includes('b'), { message: 'observer saw b' })
    await lb.proclaim('b2')
    await lb.resign()
    const lc = await pc
    assert.ok(lc.revision > lb.revision)
    await waitFor(() => seen.includes('c'), { message: () => `observer saw c: ${JSON.stringify(seen)}` })
    assert.deepEqual(seen.filter(v => v !== null), ['b', 'b2', 'c'])
    await lc.resign()
    stop()
  })
})
