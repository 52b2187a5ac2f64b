import { strict as assert } from 'node:assert'
import type { SwarmNode, SwarmNodeOptions } from '../../node/swarm-node.js'
import { CoordinationError } from '../../protocols/coordination/errors.js'
import type { Lease } from '../../protocols/coordination/coordinator.js'
import { startSwarm, waitFullyConnected, type TestSwarm } from '../harness/swarm.js'
import { waitFor } from '../harness/wait.js'

const PARTIES = 20
const GENERATIONS = 100
/** Generations at which one party crashes while waiting (its lease goes) and comes back. */
const CRASHES = new Map([[10, 3], [35, 11], [60, 17], [85, 0]])

describe('barrier: 20 parties over 100 generations, with crashes', function () {
  this.timeout(120_000)
  let swarm: TestSwarm
  before(async () => {
    swarm = await startSwarm({ members: 3, node: { raft: { settleMs: 300 }, voters: 3 } as Partial<SwarmNodeOptions> })
    await waitFullyConnected(swarm.all)
    await waitFor(() => swarm.members.some(n => n.raft.status().role === 'leader') && swarm.members.every(n => n.raft.status().leader !== null), { timeoutMs: 20_000, message: 'a raft leader' })
  })
  after(async () => { await swarm?.stop() })

  it('releases each generation exactly once, to every party, in order; a crashed party is removed and its replacement counted', async () => {
    const seen: number[][] = Array.from({ length: PARTIES }, () => [])
    let crashes = 0
    // At a crash generation the others arrive only after the crash, so it happens mid-wait.
    const gates = new Map([...CRASHES.keys()].map(g => { let open!: () => void; const p = new Promise<void>(resolve => { open = resolve }); return [g, { p, open }] }))
    const party = async (i: number): Promise<void> => {
      const node: SwarmNode = swarm.members[i % swarm.members.length]!
      const c = node.coordination
      let lease: Lease = await c.grantLease(5000)
      for (let g = 0; g < GENERATIONS; g++) {
        const b = c.barrier('big', PARTIES)
        if (CRASHES.has(g) && CRASHES.get(g) !== i) await gates.get(g)!.p
        if (CRASHES.get(g) === i) {
          // Arrive, then die while waiting: the lease goes, the arrival with it.
          let settled = false
          const doomed = b.wait({ lease, timeoutMs: 60_000 }).finally(() => { settled = true })
          const arrived = (): boolean => node.raft.coordination.barrierInfo('big')?.arrivals.some(a => a.lease === lease.id) === true
          // Either it is waiting (then it crashes), or it was the last to arrive and went through.
          await waitFor(() => settled || arrived(), { message: `party ${i} arrived before crashing` })
          await lease.revoke()
          const outcome = await doomed.then(r => r.generation, (err: unknown) => err)
          if (typeof outcome === 'number') {
            gates.get(g)!.open()
            // The generation completed before the revoke applied: that arrival counted.
            seen[i]!.push(outcome)
            lease = await c.grantLease(5000)
            continue
          }
          assert.ok(outcome instanceof CoordinationError && outcome.code === 'lease_expired', String(outcome))
          crashes++
          lease = await c.grantLease(5000)
          gates.get(g)!.open()
        }
        const { generation } = await b.wait({ lease, timeoutMs: 60_000 })
        seen[i]!.push(generation)
      }
      await lease.revoke()
    }
    await Promise.all(Array.from({ length: PARTIES }, async (_, i) => party(i)))
    assert.equal(crashes, CRASHES.size, 'every planned crash happened mid-wait')
    const first = seen[0]!
    assert.equal(first.length, GENERATIONS)
    assert.equal(new Set(first).size, GENERATIONS, 'no generation released twice to a party')
    for (let g = 1; g < first.length; g++) assert.ok(first[g]! > first[g - 1]!, 'generations in order')
    for (const s of seen) assert.deepEqual(s, first, 'every party released in the same generations')
  })
})
