/**
 * In-process multi-node harness: a bootstrap peer and N members in this process, over
 * `@libp2p/memory` (default: no sockets, no per-host limits) or TCP on 127.0.0.1.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createSwarmNode, type SwarmNode, type SwarmNodeOptions } from '../../node/swarm-node.js'
import { waitFor } from './wait.js'

export interface SwarmOptions {
  members: number
  transport?: 'memory' | 'tcp'
  /** Options applied to every node (swarm key, services, ...). */
  node?: Partial<SwarmNodeOptions>
}

export interface TestSwarm {
  bootstrap: SwarmNode
  members: SwarmNode[]
  all: SwarmNode[]
  stop: () => Promise<void>
}

let counter = 0

/** Options for one in-memory test node listening on a fresh address. */
export async function testNodeOptions (transport: 'memory' | 'tcp' = 'memory', extra: Partial<SwarmNodeOptions> = {}): Promise<SwarmNodeOptions> {
  const listen = transport === 'memory' ? [`/memory/swarmnet-test-${process.pid}-${++counter}`] : ['/ip4/127.0.0.1/tcp/0']
  return {
    listen,
    privateKey: await generateKeyPair('Ed25519'),
    inMemory: true,
    api: null,
    pingIntervalMs: 0,
    ...extra
  }
}

export async function startNode (transport: 'memory' | 'tcp' = 'memory', extra: Partial<SwarmNodeOptions> = {}): Promise<SwarmNode> {
  const node = await createSwarmNode(await testNodeOptions(transport, extra))
  await node.start()
  return node
}

export async function startSwarm (opts: SwarmOptions): Promise<TestSwarm> {
  const transport = opts.transport ?? 'memory'
  const started: SwarmNode[] = []
  const stop = async (): Promise<void> => { await Promise.all(started.map(async n => n.stop())) }
  try {
    const bootstrap = await startNode(transport, { ...opts.node, role: 'bootstrap', name: 'bootstrap' })
    started.push(bootstrap)
    const bootAddr = bootstrap.addrs()
    const members = await Promise.all(Array.from({ length: opts.members }, async (_, i) => {
      const n = await startNode(transport, { ...opts.node, name: `member-${i + 1}`, bootstrap: bootAddr })
      started.push(n)
      return n
    }))
    return { bootstrap, members, all: [bootstrap, ...members], stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/** True when every node has an open connection to every other node. */
export function fullyConnected (nodes: SwarmNode[]): boolean {
  return nodes.every(n => {
    const seen = new Set(n.peers().map(p => p.peerId))
    return nodes.every(m => m === n || seen.has(m.peerId.toString()))
  })
}

export async function waitFullyConnected (nodes: SwarmNode[], timeoutMs = 15_000): Promise<void> {
  await waitFor(() => fullyConnected(nodes), {
    timeoutMs,
    message: () => `a full mesh of ${nodes.length} nodes (peers seen: ${nodes.map(n => n.peers().length).join(', ')})`
  })
}

/** Subscribes every node to `topic` and waits until each knows at least `minPeers` subscribers of it. */
export async function waitMeshFormed (nodes: SwarmNode[], topic: string, minPeers = 1, timeoutMs = 15_000): Promise<void> {
  for (const n of nodes) n.libp2p.services.pubsub.subscribe(topic)
  await waitFor(() => nodes.every(n => n.libp2p.services.pubsub.getSubscribers(topic).length >= minPeers), {
    timeoutMs,
    message: `a gossip mesh on ${topic}`
  })
}
