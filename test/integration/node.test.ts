import { strict as assert } from 'node:assert'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { createSwarmNode, type SwarmNode } from '../../node/swarm-node.js'
import { newSwarmKey } from '../../node/swarm-key.js'
import { SwarmError } from '../../node/errors.js'
import { startNode, startSwarm, waitFullyConnected, waitMeshFormed } from '../harness/swarm.js'
import { waitFor } from '../harness/wait.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('SwarmNode', function () {
  const nodes: SwarmNode[] = []
  afterEach(async () => { await Promise.all(nodes.splice(0).map(async n => n.stop())) })
  const track = (n: SwarmNode): SwarmNode => { nodes.push(n); return n }

  it('keeps its peer id across restarts of the same data dir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'swarmnet-node-'))
    const opts = { dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: null }
    const a = await createSwarmNode(opts)
    await a.start()
    const id = a.peerId.toString()
    await a.stop()
    const b = track(await createSwarmNode(opts))
    await b.start()
    assert.equal(b.peerId.toString(), id)
  })

  it('refuses a second node on a data dir that is in use', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'swarmnet-node-'))
    track(await createSwarmNode({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: null }))
    await assert.rejects(createSwarmNode({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: null }), (err: Error) => {
      assert.ok(err instanceof SwarmError)
      assert.match(err.message, /in use/)
      return true
    })
  })

  it('applies the CLI\'s safety checks to library callers too, and writes nothing on a bad swarm key', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'swarmnet-node-'))
    await assert.rejects(createSwarmNode({ dataDir, api: { host: '0.0.0.0', port: 0 } }), /api: 0\.0\.0\.0 is not a loopback address/)
    await assert.rejects(createSwarmNode({ dataDir, api: null, bootstrap: ['/ip4/127.0.0.1/tcp/4001'] }), /bootstrap\[0\].*\/p2p\//)
    await assert.rejects(createSwarmNode({ dataDir, api: null, swarmKey: enc('not a key') }), SwarmError)
    assert.deepEqual(readdirSync(dataDir), [], 'no identity or store written')
  })

  it('starts and stops idempotently', async () => {
    const n = track(await startNode('tcp'))
    await Promise.all([n.start(), n.start()])
    assert.ok(n.isStarted)
    await Promise.all([n.stop(), n.stop()])
    assert.ok(!n.isStarted)
    await n.start()
    assert.ok(n.isStarted)
  })

  it('never connects two nodes with different swarm keys, and counts the refusal', async () => {
    const a = track(await startNode('tcp', { swarmKey: enc(newSwarmKey()) }))
    const b = track(await startNode('tcp', { swarmKey: enc(newSwarmKey()) }))
    await assert.rejects(b.libp2p.dial(multiaddr(a.addrs()[0]!), { signal: AbortSignal.timeout(10_000) }))
    await waitFor(async () => await a.metrics.refusals('swarm_key') >= 1, { message: 'a swarm-key refusal on the listener' })
    assert.ok(await b.metrics.refusals('swarm_key') >= 1)
    assert.equal(a.peers().length, 0)
    assert.equal(b.peers().length, 0)
  })

  it('connects nodes that share a swarm key', async () => {
    const key = enc(newSwarmKey())
    const a = track(await startNode('tcp', { swarmKey: key }))
    const b = track(await startNode('tcp', { swarmKey: key }))
    await b.libp2p.dial(multiaddr(a.addrs()[0]!))
    await waitFullyConnected([a, b])
    assert.equal(await a.metrics.refusals('swarm_key'), 0)
  })

  it('enforces the allowlist in both directions', async () => {
    const outsider = track(await startNode('tcp'))
    const friend = track(await startNode('tcp'))
    const guarded = track(await startNode('tcp', { allowPeers: [friend.peerId.toString()] }))

    // Inbound: the outsider dials the guarded node and is dropped after the handshake.
    await outsider.libp2p.dial(multiaddr(guarded.addrs()[0]!)).then(() => {}, () => {})
    await waitFor(async () => await guarded.metrics.refusals('allowlist') >= 1, { message: 'an inbound allowlist refusal' })
    await waitFor(() => guarded.peers().length === 0 && outsider.peers().length === 0, { message: 'no connection left' })

    // Outbound: the guarded node will not dial the outsider at all.
    const before = await guarded.metrics.refusals('allowlist')
    await assert.rejects(guarded.libp2p.dial(outsider.peerId))
    await assert.rejects(guarded.libp2p.dial(multiaddr(outsider.addrs()[0]!)))
    assert.ok(await guarded.metrics.refusals('allowlist') > before)

    // A listed peer connects either way.
    await friend.libp2p.dial(multiaddr(guarded.addrs()[0]!))
    await waitFullyConnected([friend, guarded])
    assert.deepEqual(guarded.peers().map(p => p.peerId), [friend.peerId.toString()])
  })

  it('discovers every member through one bootstrap peer (5 members)', async () => {
    const swarm = await startSwarm({ members: 5, transport: 'tcp' })
    try {
      await waitFullyConnected(swarm.all, 15_000)
      for (const n of swarm.all) {
        const st = n.status()
        assert.equal(st.peers.length, 5)
        assert.equal(st.peerId, n.peerId.toString())
        assert.ok(st.addrs.every(a => a.endsWith(`/p2p/${st.peerId}`)))
      }
    } finally {
      await swarm.stop()
    }
  })

  it('forms a gossip mesh across an in-memory swarm', async () => {
    const swarm = await startSwarm({ members: 4 })
    try {
      await waitFullyConnected(swarm.all)
      await waitMeshFormed(swarm.all, 'harness-check', 4)
      const got = new Promise<string>(resolve => {
        swarm.members[3]!.libp2p.services.pubsub.addEventListener('message', evt => { resolve(new TextDecoder().decode(evt.detail.data)) })
      })
      await swarm.members[0]!.libp2p.services.pubsub.publish('harness-check', enc('hello'))
      assert.equal(await got, 'hello')
    } finally {
      await swarm.stop()
    }
  })
})
