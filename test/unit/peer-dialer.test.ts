import { strict as assert } from 'node:assert'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { PeerDialer, SeenPeers, type PeerDialerComponents } from '../../node/peer-dialer.js'
import { knowsPeers } from '../../node/swarm-node.js'
import { waitFor } from '../harness/wait.js'

describe('peer dialer', () => {
  it('takes only a never-seen peer as news (a restarted member reconnecting is not)', () => {
    const seen = new SeenPeers(3)
    assert.equal(seen.firstSight('a'), true)
    assert.equal(seen.firstSight('a'), false, 'a reconnect')
    assert.equal(seen.firstSight('b'), true)
    assert.equal(seen.firstSight('c'), true)
    assert.equal(seen.firstSight('d'), true, 'past capacity the oldest is forgotten')
    assert.equal(seen.firstSight('b'), false)
    assert.equal(seen.firstSight('a'), true, 'forgotten, so news again')
  })

  /** A dialer connected to one peer, with nothing new in its peer store: each walk looks the DHT up. */
  async function walker (firstLookupAfterMs: number): Promise<{ dialer: PeerDialer, lookups: number[], started: number }> {
    const self = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const lookups: number[] = []
    const components = {
      peerId: self,
      logger: { forComponent: () => Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) },
      events: new EventTarget(),
      connectionManager: { getConnectionsMap: () => new Map([[other, [{}]]]), getConnections: () => [], openConnection: async () => { throw new Error('no dials here') } },
      peerStore: { all: async () => [] },
      peerRouting: { getClosestPeers: async function * () { lookups.push(Date.now()); yield * [] } }
    } as unknown as PeerDialerComponents
    const dialer = new PeerDialer(components, { minWalkIntervalMs: 10, maxWalkIntervalMs: 20, firstLookupAfterMs })
    const started = Date.now()
    dialer.start()
    return { dialer, lookups, started }
  }

  it('a rejoining node holds its DHT lookups for the quiet period, then walks as before', async () => {
    const quiet = await walker(300)
    const eager = await walker(0)
    try {
      await waitFor(() => quiet.lookups.length > 0 && eager.lookups.length > 0, { timeoutMs: 5000, message: 'both dialers looked the DHT up' })
      assert.ok(quiet.lookups[0]! >= quiet.started + 300, `first lookup ${quiet.lookups[0]! - quiet.started} ms after start`)
      assert.ok(eager.lookups[0]! < eager.started + 300, 'without the option the first walk looks up')
    } finally {
      quiet.dialer.stop()
      eager.dialer.stop()
    }
  })

  it('a node with peer records besides one (its own) rejoins', async () => {
    const ds = new MemoryDatastore()
    assert.equal(await knowsPeers(ds), false, 'fresh')
    await ds.put(new Key('/peers/self'), new Uint8Array(1))
    await ds.put(new Key('/dht/record/x'), new Uint8Array(1))
    assert.equal(await knowsPeers(ds), false, 'only one peer record')
    await ds.put(new Key('/peers/other'), new Uint8Array(1))
    assert.equal(await knowsPeers(ds), true)
  })
})
