import { strict as assert } from 'node:assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { ClassicLevel } from 'classic-level'
import { createSwarmNode, type SwarmNode, type SwarmNodeOptions } from '../../node/swarm-node.js'
import { buildApi } from '../../node/api/server.js'
import { CRDT_SYNC_PROTOCOL, encodeDelta } from '../../protocols/crdt/index.js'
import { SyncFrame } from '../../protocols/crdt/crdt.pb.js'
import { encodeFrames } from '../../protocols/direct/frames.js'
import { startNode, testNodeOptions } from '../harness/swarm.js'
import { waitFor } from '../harness/wait.js'

const hash = (n: SwarmNode, doc: string): string => Buffer.from(n.state.get(doc)?.digest().hash ?? []).toString('hex')

describe('crdt: shared state between nodes', function () {
  this.timeout(60_000)
  const nodes: SwarmNode[] = []
  const dirs: string[] = []
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map(async n => n.stop()))
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  // No anti-entropy and no heartbeats unless a test asks: what arrives how is then up to the test.
  const quiet = { antiEntropyMs: 60_000, agent: { heartbeatMs: 60_000 } }
  async function node (extra: Partial<SwarmNodeOptions> = {}): Promise<SwarmNode> {
    const n = await startNode('memory', { crdt: quiet, ...extra })
    nodes.push(n)
    return n
  }
  async function connect (a: SwarmNode, b: SwarmNode): Promise<void> {
    await a.libp2p.dial(multiaddr(b.addrs()[0]!))
  }

  it('replicates by gossip, and a node that joins later gets full snapshots first', async () => {
    const a = await node()
    const b = await node()
    await connect(a, b)
    const doc = a.state.doc('portfolio')
    doc.transact(() => {
      doc.map('prices').set('ETH', 3012.5)
      doc.set('watchlist').add('ETH')
      doc.counter('trades').increment(3)
    })
    // b learns the new document from its announcement and fetches it.
    await waitFor(() => b.state.get('portfolio')?.counter('trades').value() === 3, { message: 'the document on b' })
    await waitFor(() => a.messaging!.broadcast.subscribers('crdt:portfolio').length === 1, { message: 'the topic mesh' })
    const gossipBefore = a.state.stats().applied.gossip
    const changes: string[] = []
    a.state.onChange('portfolio', (e) => { if (e.origin === 'remote') changes.push(JSON.stringify(e.changes)) })
    b.state.doc('portfolio').map('prices').set('BTC', 61000)
    b.state.doc('portfolio').set('watchlist').remove('ETH')
    await waitFor(() => a.state.get('portfolio')!.map('prices').get('BTC') === 61000 && !a.state.get('portfolio')!.set('watchlist').has('ETH'), { message: 'b\'s changes on a' })
    assert.ok(a.state.stats().applied.gossip > gossipBefore, 'they came by gossip')
    assert.ok(changes.some(c => c.includes('"key":"BTC"') && c.includes('61000')), changes.join())

    const c = await node()
    await connect(c, a)
    await c.state.firstSync
    await waitFor(() => hash(c, 'portfolio') === hash(a, 'portfolio'), { message: 'c to catch up' })
    assert.deepEqual(c.state.get('portfolio')!.toJSON(), a.state.get('portfolio')!.toJSON())
    assert.ok(c.state.stats().applied.sync >= 1)
    assert.equal(c.state.stats().applied.gossip, 0, 'everything c holds came by sync')
  })

  it('sends an update over the gossip cap over a sync stream instead', async () => {
    const a = await node({ crdt: { ...quiet, limits: { maxGossipBytes: 4096 } } })
    const b = await node()
    await connect(a, b)
    a.state.doc('big').map('m').set('small', 1)
    await waitFor(() => b.state.get('big')?.map('m').get('small') === 1, { message: 'the document on b' })
    await waitFor(() => a.messaging!.broadcast.subscribers('crdt:big').length === 1, { message: 'the topic mesh' })
    const before = b.state.stats()
    const blob = 'x'.repeat(20_000)
    a.state.doc('big').map('m').set('blob', blob)
    await waitFor(() => b.state.get('big')!.map('m').get('blob') === blob, { message: 'the large value on b' })
    assert.equal(a.state.stats().hints, 1)
    assert.equal(b.state.stats().applied.gossip, before.applied.gossip, 'not by gossip')
    assert.ok(b.state.stats().applied.sync > before.applied.sync, 'by a sync stream')
    assert.ok(b.state.stats().bytes.syncIn - before.bytes.syncIn > 20_000)
  })

  it('persists documents, compacts them, and restores them before rejoining', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarmnet-crdt-'))
    dirs.push(dir)
    const key = await generateKeyPair('Ed25519')
    const opts = async (): Promise<SwarmNodeOptions> => ({ ...await testNodeOptions('memory'), privateKey: key, inMemory: false, dataDir: dir, crdt: { ...quiet, compactEvery: 10 } })
    const a = await createSwarmNode(await opts())
    await a.start()
    nodes.push(a)
    const doc = a.state.doc('ledger')
    for (let i = 0; i < 35; i++) {
      doc.counter('n').increment(1)
      doc.map('m').set(`k${i % 4}`, i)
      await a.state.flush()
    }
    doc.set('s').add('kept')
    await a.state.flush()
    const keys: string[] = []
    const sub = (a.store as ClassicLevel<string, Uint8Array>).sublevel<string, Uint8Array>('crdt', { keyEncoding: 'utf8', valueEncoding: 'view' })
    for await (const k of sub.keys({ gte: 'd/ledger/', lt: 'd/ledger0' })) keys.push(k)
    assert.ok(keys.includes('d/ledger/s'), 'a snapshot replaced the early updates')
    assert.ok(keys.filter(k => k.includes('/u/')).length < 10, `${keys.length} keys: the log was compacted`)
    const before = doc.toJSON()
    await a.stop()
    nodes.splice(nodes.indexOf(a), 1)

    const again = await createSwarmNode(await opts())
    nodes.push(again)
    await again.start()
    // Restored during start, before any peer was dialled.
    assert.equal(again.peers().length, 0)
    const back = again.state.get('ledger')!
    assert.deepEqual(back.toJSON(), before)
    assert.equal(back.counter('n').value(), 35)
    back.counter('n').increment(1)
    // Same store, same writer: still one increment entry for this peer.
    assert.equal(back.ydoc.getMap('c:n')._map.size, 1)
    assert.equal(back.counter('n').value(), 36)

    const b = await node()
    await connect(b, again)
    await waitFor(() => b.state.get('ledger')?.counter('n').value() === 36, { message: 'the restored document on a peer' })
  })

  it('refuses corrupt deltas and state vectors, oversized updates and non-members, and keeps the document intact', async () => {
    const b = await node({ crdt: { ...quiet, limits: { maxGossipBytes: 2048 } } })
    const a = await node()
    await connect(a, b)
    b.state.doc('d').map('m').set('k', 'intact')
    await waitFor(() => a.state.get('d')?.map('m').get('k') === 'intact', { message: 'the document on a' })
    await waitFor(() => a.messaging!.broadcast.subscribers('crdt:d').length === 1, { message: 'the topic mesh' })
    const intact = hash(b, 'd')
    const rejected = (code: string): number => b.state.stats().rejected[code] ?? 0

    // A member's signed envelope whose delta is garbage, and one that is no delta at all.
    await a.broadcast('crdt:d', { type: 'crdt_delta', payload: new Uint8Array([1, 2, 3, 0xff, 0xff]) })
    await a.broadcast('crdt:d', { type: 'crdt_delta', payload: encodeDelta('d', new Uint8Array([7, 7, 7, 7, 7])) })
    await waitFor(() => rejected('malformed') + rejected('invalid') >= 2, { message: 'two corrupt deltas counted' })

    // A valid update over b's gossip cap.
    a.state.doc('d').map('m').set('huge', 'y'.repeat(10_000))
    await waitFor(() => rejected('too_large') >= 1, { message: 'the oversized delta counted' })
    assert.equal(hash(b, 'd'), intact)
    assert.equal(b.state.get('d')!.map('m').get('huge'), undefined)

    // A sync stream with a corrupt state vector, then one with an absurd frame length.
    const s1 = await a.libp2p.dialProtocol(b.peerId, CRDT_SYNC_PROTOCOL)
    s1.send(encodeFrames([SyncFrame.encode({ kind: SyncFrame.Kind.HELLO, digests: [{ doc: 'd', stateVector: new Uint8Array([5, 0x80, 0x80]), hash: new Uint8Array(32) }] } as unknown as SyncFrame)]))
    await waitFor(() => s1.status !== 'open', { message: 'b to drop the stream' })
    const s2 = await a.libp2p.dialProtocol(b.peerId, CRDT_SYNC_PROTOCOL)
    s2.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f]))
    await waitFor(() => s2.status !== 'open', { message: 'b to drop the second stream' })
    assert.ok(rejected('malformed') + rejected('invalid') >= 3)
    assert.ok(rejected('too_large') >= 2)
    assert.equal(hash(b, 'd'), intact)

    // A sync from a peer that is not a member.
    const env = b.messaging!.envelope
    const isMember = env.isMember.bind(env)
    env.isMember = (p) => p !== a.peerId.toString() && isMember(p)
    await assert.rejects(a.state.syncWith(b.peerId.toString()))
    assert.equal(rejected('not_member'), 1)
    env.isMember = isMember

    // Still intact, and still syncing: the large value arrives by the sync path.
    assert.equal(hash(b, 'd'), intact)
    await b.state.syncWith(a.peerId.toString())
    assert.equal(b.state.get('d')!.map('m').get('huge'), 'y'.repeat(10_000))
    assert.equal(hash(a, 'd'), hash(b, 'd'))
  })

  it('drops gossip from a peer outside the allowlist and counts it', async () => {
    const keys = await Promise.all([0, 1, 2].map(async () => generateKeyPair('Ed25519')))
    const ids = keys.map(k => peerIdFromPrivateKey(k).toString())
    // a admits a and b; b admits everyone; c reaches a only through b.
    const a = await node({ privateKey: keys[0], allowPeers: [ids[0]!, ids[1]!] })
    const b = await node({ privateKey: keys[1] })
    const c = await node({ privateKey: keys[2] })
    await connect(b, a)
    await connect(c, b)
    for (const n of [a, b, c]) n.state.doc('shared')
    await waitFor(() => b.messaging!.broadcast.subscribers('crdt:shared').length === 2 && a.messaging!.broadcast.subscribers('crdt:shared').length === 1, { message: 'the topic mesh' })
    c.state.doc('shared').map('m').set('from', 'c')
    await waitFor(() => b.state.get('shared')!.map('m').get('from') === 'c', { message: 'b to accept c\'s update' })
    // b forwards to a once a is in its gossip mesh for the topic; c keeps writing until then.
    let n = 0
    await waitFor(async () => {
      c.state.doc('shared').counter('n').increment(++n)
      return await a.messaging!.envelope.rejections('not_member') >= 1
    }, { timeoutMs: 30_000, intervalMs: 250, message: 'a to refuse c\'s gossip' })
    assert.equal(a.state.get('shared')!.map('m').get('from'), undefined)
  })

  it('keeps an agent table: fresh entries for live nodes, stale ones for gone nodes', async () => {
    const crdt = { antiEntropyMs: 60_000, agent: { heartbeatMs: 100, staleAfterMs: 1500 } }
    const a = await node({ name: 'alpha', capabilities: ['pricing'], crdt })
    const b = await node({ name: 'beta', capabilities: ['execution', 'risk'], crdt })
    await connect(a, b)
    await waitFor(() => a.state.agents().length === 2 && a.state.agents().every(e => !e.stale), { message: 'two fresh agents' })
    const beta = a.state.agents().find(e => e.name === 'beta')!
    assert.deepEqual(beta.capabilities, ['execution', 'risk'])
    assert.equal(beta.peerId, b.peerId.toString())
    assert.equal(beta.health, 'ok')
    assert.equal(typeof beta.load, 'number')
    assert.match(beta.version, /^\d+\.\d+\.\d+/)

    const api = buildApi(a)
    try {
      const r = await api.inject({ method: 'GET', url: '/v1/agents' })
      assert.equal(r.statusCode, 200)
      assert.deepEqual((r.json().agents as Array<{ name: string }>).map(e => e.name), ['alpha', 'beta'])
      const st = await api.inject({ method: 'GET', url: '/v1/status' })
      assert.equal((st.json().agents as unknown[]).length, 2)

      b.state.reportAgent({ health: 'degraded', load: 0.9 })
      await waitFor(() => a.state.agents().find(e => e.name === 'beta')?.health === 'degraded', { message: 'the reported health' })
      await b.stop()
      nodes.splice(nodes.indexOf(b), 1)
      await waitFor(() => a.state.agents().find(e => e.name === 'beta')?.stale === true, { message: 'beta to go stale' })
      const gone = (await api.inject({ method: 'GET', url: '/v1/agents' })).json().agents as Array<{ name: string, stale: boolean }>
      assert.deepEqual(gone.map(e => [e.name, e.stale]), [['alpha', false], ['beta', true]])
    } finally {
      await api.close()
    }
  })
})
