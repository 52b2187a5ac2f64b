/**
 * Shared state across a partition, with real nodes (in-process, `@libp2p/memory`): 10 nodes
 * split in two halves, 1,000 conflicting updates on each side, heal, and every node must hold
 * the same document within a deadline. A smaller property test drives 3 real nodes through
 * random operations, partitions and heals.
 */
import { strict as assert } from 'node:assert'
import fc from 'fast-check'
import { multiaddr } from '@multiformats/multiaddr'
import type { SwarmNode } from '../../node/swarm-node.js'
import { compareStamps, type Stamp } from '../../protocols/crdt/core/index.js'
import { startNode, waitFullyConnected } from '../harness/swarm.js'
import { waitFor } from '../harness/wait.js'
import { Partition } from '../harness/partition.js'

async function meshOf (n: number, partition: Partition): Promise<SwarmNode[]> {
  const nodes = await Promise.all(Array.from({ length: n }, async (_, i) => startNode('memory', {
    name: `n${i}`,
    services: { partition: partition.hook() },
    // Heartbeats every minute: the agent table is not under test here.
    crdt: { antiEntropyMs: 3000, agent: { heartbeatMs: 60_000 } }
  })))
  await Promise.all(nodes.flatMap((a, i) => nodes.slice(i + 1).map(async b => a.libp2p.dial(multiaddr(b.addrs()[0]!)))))
  await waitFullyConnected(nodes, 30_000)
  return nodes
}

function hashes (nodes: SwarmNode[], doc: string): string[] {
  return nodes.map(n => {
    const d = n.state.get(doc)
    return d == null ? 'none' : Buffer.from(d.digest().hash).toString('hex').slice(0, 12)
  })
}

function identical (nodes: SwarmNode[], doc: string): boolean {
  return new Set(hashes(nodes, doc)).size === 1 && !hashes(nodes, doc).includes('none')
}

/** Waits until every node holds `doc` and is subscribed to its topic with all the others. */
async function docEverywhere (nodes: SwarmNode[], doc: string): Promise<void> {
  await waitFor(() => nodes.every(n => n.state.get(doc) != null &&
    n.messaging!.broadcast.subscribers(`crdt:${doc}`).length >= nodes.length - 1), {
    timeoutMs: 30_000,
    message: () => `every node to hold ${doc} and hear its topic (${nodes.map(n => n.messaging!.broadcast.subscribers(`crdt:${doc}`).length).join(' ')})`
  })
}

function bytes (nodes: SwarmNode[]): { gossip: number, sync: number } {
  let gossip = 0
  let sync = 0
  for (const n of nodes) {
    const b = n.state.stats().bytes
    gossip += b.gossipOut
    sync += b.syncOut
  }
  return { gossip, sync }
}

const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('crdt: partitions with real nodes', function () {
  this.timeout(120_000)

  it('10 nodes, 1,000 conflicting updates on each side of a partition, identical after the heal', async () => {
    const partition = new Partition()
    const nodes = await meshOf(10, partition)
    try {
      nodes[0]!.state.doc('book').map('orders').set('seed', 0)
      await nodes[0]!.state.flush()
      await docEverywhere(nodes, 'book')
      await waitFor(() => identical(nodes, 'book'), { timeoutMs: 20_000, message: 'the seed everywhere' })

      const halves = [nodes.slice(0, 5), nodes.slice(5)]
      await partition.split(halves)

      // Both sides write the same 50 keys, one counter and one set: every key conflicts.
      const writes = new Map<string, Stamp[]>()
      let sum = 0
      for (const [h, half] of halves.entries()) {
        for (let i = 0; i < 1000; i++) {
          const node = half[i % half.length]!
          const doc = node.state.doc('book')
          const r = i % 10
          if (r < 6) {
            const key = `k${(i * 7 + h) % 50}`
            const stamp = doc.map('orders').set(key, { side: h, i, by: node.name })
            writes.set(key, [...(writes.get(key) ?? []), stamp])
          } else if (r < 8) {
            const by = (i % 3) - 1 || 2
            doc.counter('filled').increment(by)
            sum += by
          } else if (r === 8) {
            doc.set('symbols').add(`S${i % 20}`)
          } else {
            doc.set('symbols').remove(`S${(i + 5) % 20}`)
          }
          if (i % 100 === 99) await tick()
        }
      }
      await Promise.all(nodes.map(async n => n.state.flush()))
      for (const half of halves) {
        await waitFor(() => identical(half, 'book'), { timeoutMs: 30_000, message: () => `each side to agree internally (${hashes(half, 'book').join(' ')})` })
      }
      assert.notEqual(hashes(halves[0]!, 'book')[0], hashes(halves[1]!, 'book')[0], 'the two sides diverged')

      const before = bytes(nodes)
      const t0 = Date.now()
      await partition.heal(nodes)
      await waitFor(() => identical(nodes, 'book'), { timeoutMs: 30_000, message: () => `all 10 identical (${hashes(nodes, 'book').join(' ')})` })
      const ms = Date.now() - t0
      const after = bytes(nodes)
      console.log(`      healed: all 10 identical ${ms} ms after the heal; bytes sent during the heal: ` +
        `sync ${after.sync - before.sync}, gossip ${after.gossip - before.gossip}; whole test: sync ${after.sync}, gossip ${after.gossip}`)

      const ref = nodes[7]!.state.get('book')!
      for (const n of nodes) assert.deepEqual(n.state.get('book')!.toJSON(), ref.toJSON())
      assert.equal(ref.counter('filled').value(), sum)
      for (const [key, stamps] of writes) {
        const latest = stamps.reduce((a, b) => compareStamps(a, b) >= 0 ? a : b)
        assert.equal(compareStamps(ref.map('orders').stamp(key)!, latest), 0, `${key} holds the latest write`)
      }
    } finally {
      await Promise.all(nodes.map(async n => n.stop()))
    }
  })

  it('random operations on 3 real nodes under random partitions converge once healed', async () => {
    const partition = new Partition()
    const nodes = await meshOf(3, partition)
    let run = 0
    try {
      await fc.assert(fc.asyncProperty(
        fc.array(fc.record({
          groups: fc.array(fc.nat(1), { minLength: 3, maxLength: 3 }),
          ops: fc.array(fc.record({ node: fc.nat(2), kind: fc.nat(3), key: fc.nat(3), n: fc.integer({ min: 1, max: 9 }) }), { maxLength: 15 })
        }), { minLength: 1, maxLength: 3 }),
        async (phases) => {
          const name = `prop${run++}`
          let sum = 0
          const writes = new Map<string, Stamp[]>([['k0', [nodes[0]!.state.doc(name).map('m').set('k0', 0)]]])
          for (const phase of phases) {
            const sides = [0, 1].map(s => nodes.filter((_, i) => phase.groups[i] === s)).filter(g => g.length > 0)
            if (sides.length > 1) await partition.split(sides)
            else await partition.heal(nodes)
            for (const op of phase.ops) {
              const doc = nodes[op.node]!.state.doc(name)
              if (op.kind === 0) {
                const s = doc.map('m').set(`k${op.key}`, op.n)
                writes.set(`k${op.key}`, [...(writes.get(`k${op.key}`) ?? []), s])
              } else if (op.kind === 1) {
                doc.counter('c').increment(op.n)
                sum += op.n
              } else if (op.kind === 2) {
                doc.set('s').add(op.key)
              } else {
                doc.set('s').remove(op.key)
              }
            }
            await Promise.all(nodes.map(async n => n.state.flush()))
          }
          await partition.heal(nodes)
          await waitFullyConnected(nodes)
          // A node that never wrote learns the document from an announcement or a sync.
          for (const n of nodes) n.state.scheduleSync(nodes[0]!.peerId.toString())
          await waitFor(() => identical(nodes, name), { timeoutMs: 20_000, message: () => `${name} identical (${hashes(nodes, name).join(' ')})` })
          const ref = nodes[0]!.state.get(name)!
          assert.equal(ref.counter('c').value(), sum)
          for (const [key, stamps] of writes) {
            const latest = stamps.reduce((a, b) => compareStamps(a, b) >= 0 ? a : b)
            assert.equal(compareStamps(ref.map('m').stamp(key)!, latest), 0)
          }
        }
      ), { numRuns: 6 })
    } finally {
      await Promise.all(nodes.map(async n => n.stop()))
    }
  })
})
