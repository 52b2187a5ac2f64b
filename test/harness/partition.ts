/**
 * Network partitions for in-process swarms. Each node runs a test hook (a service passed in
 * `services`) that puts its connection gater behind the partition: while peers are on
 * different sides, dials to them and connections from them are refused in both directions.
 * `split` assigns the sides and closes the connections across; `heal` lifts the rule and
 * (by default) dials across again.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import type { ServiceFactory, SwarmNode } from '../../node/swarm-node.js'
import { waitFor } from './wait.js'

export class Partition {
  private readonly side = new Map<string, number>()

  /** True while `a` and `b` are on different sides. */
  blocks (a: string, b: string): boolean {
    const x = this.side.get(a)
    const y = this.side.get(b)
    return x != null && y != null && x !== y
  }

  /** The per-node hook: add it as `services: { partition: p.hook() }`. */
  hook (): ServiceFactory {
    return (components: { peerId: PeerId, connectionGater: ConnectionGater }) => {
      const me = components.peerId.toString()
      const g = components.connectionGater
      const wrap = (name: 'denyDialPeer' | 'denyInboundEncryptedConnection' | 'denyOutboundEncryptedConnection'): void => {
        const prev = g[name]?.bind(g) as ((peer: PeerId, ...rest: unknown[]) => boolean | Promise<boolean>) | undefined
        g[name] = (async (peer: PeerId, ...rest: unknown[]) => {
          if (this.blocks(me, peer.toString())) return true
          return prev != null ? await prev(peer, ...rest) : false
        }) as never
      }
      wrap('denyDialPeer')
      wrap('denyInboundEncryptedConnection')
      wrap('denyOutboundEncryptedConnection')
      return { [Symbol.toStringTag]: 'test/partition' }
    }
  }

  /** Puts each group on its own side and waits until no connection crosses. */
  async split (groups: SwarmNode[][], timeoutMs = 15_000): Promise<void> {
    this.side.clear()
    groups.forEach((g, i) => { for (const n of g) this.side.set(n.peerId.toString(), i) })
    const all = groups.flat()
    const crossing = (): Array<[SwarmNode, PeerId]> => all.flatMap(n => n.libp2p.getConnections()
      .filter(c => this.blocks(n.peerId.toString(), c.remotePeer.toString()))
      .map(c => [n, c.remotePeer] as [SwarmNode, PeerId]))
    await waitFor(async () => {
      const open = crossing()
      await Promise.all(open.map(async ([n, peer]) => n.libp2p.hangUp(peer).catch(() => {})))
      return crossing().length === 0
    }, { timeoutMs, message: () => `no connection across the partition (${crossing().length} left)` })
  }

  /** Lifts the partition; with `dial`, every node dials each node that was on another side. */
  async heal (nodes: SwarmNode[], dial = true): Promise<void> {
    const before = new Map(this.side)
    this.side.clear()
    if (!dial) return
    await Promise.all(nodes.flatMap((a, i) => nodes.slice(i + 1)
      .filter(b => before.get(a.peerId.toString()) !== before.get(b.peerId.toString()))
      .map(async b => a.libp2p.dial(multiaddr(b.addrs()[0]!)).catch(() => {}))))
  }
}
