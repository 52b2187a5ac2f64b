/**
 * Finds and connects the swarm's members. libp2p v3 no longer dials discovered peers on its
 * own, so this service does: it dials every peer that discovery reports (bootstrap, mDNS, DHT)
 * up to `maxPeers`, re-dials the bootstrap peers while none is connected, and walks the DHT
 * (its own id, then random keys) to learn about members nobody announced to it.
 *
 * Walks run often while they keep finding new peers and back off to `maxWalkIntervalMs` once
 * the view is stable, so an idle swarm costs little.
 *
 * A DHT whose routing table stayed empty although we are connected gets its peers shown again:
 * libp2p tells a protocol's topology about a peer only when identify completes, and a
 * connection identified before the DHT had registered its topology (a slow start on a busy host)
 * was never added, which left the node unable to look anyone up, for good.
 */
import { randomBytes } from 'node:crypto'
import { isPeerId, type ComponentLogger, type Connection, type Logger, type PeerId, type PeerInfo, type Startable, type Libp2pEvents, type PeerRouting, type PeerStore } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { TypedEventTarget } from 'main-event'

export interface PeerDialerInit {
  /** Stop dialing new peers at this many connected peers. */
  maxPeers?: number
  /** Bootstrap addresses to re-dial while no bootstrap peer is connected. */
  bootstrap?: Multiaddr[]
  minWalkIntervalMs?: number
  maxWalkIntervalMs?: number
  dialTimeoutMs?: number
  /** How long the larger peer id waits before dialing a peer it discovered (see dialDiscovered). */
  deferDialMs?: number
  /** Deadline of one DHT lookup in a walk. */
  walkTimeoutMs?: number
  /**
   * No DHT lookup of ours before this long after start (ms). For a node that rejoins with a peer
   * store: it dials the peers it knows at once, and its lookups would land on the members just
   * as they bring it up to date (see swarm-node.ts, REJOIN_QUIET_MS).
   */
  firstLookupAfterMs?: number
  /** Told when a bootstrap peer cannot be reached, so the operator hears of it. */
  onBootstrapFailure?: (addr: string, reason: string) => void
}

export interface PeerDialerComponents {
  peerId: PeerId
  connectionManager: ConnectionManager
  events: TypedEventTarget<Libp2pEvents>
  peerRouting: PeerRouting
  peerStore: PeerStore
  logger: ComponentLogger
  /** The node's identify and DHT services, when it has them (libp2p hands services to later ones by name). */
  identify?: { identify: (connection: Connection, options?: { signal?: AbortSignal }) => Promise<unknown> }
  dht?: { routingTable?: { size: number } }
}

/** Peers connected at least once since start, the oldest forgotten past `capacity`. */
export class SeenPeers {
  private readonly ids = new Set<string>()
  constructor (private readonly capacity = 4096) {}

  /** True the first time `id` is seen (or again once it was forgotten). */
  firstSight (id: string): boolean {
    if (this.ids.has(id)) return false
    if (this.ids.size >= this.capacity) this.ids.delete(this.ids.values().next().value as string)
    this.ids.add(id)
    return true
  }
}

export class PeerDialer implements Startable {
  private readonly log: Logger
  private readonly pending = new Set<string>()
  private readonly maxPeers: number
  private readonly minWalk: number
  private readonly maxWalk: number
  private readonly dialTimeout: number
  private readonly bootstrap: Multiaddr[]
  private walkInterval: number
  private timer?: ReturnType<typeof setTimeout>
  private controller?: AbortController
  private walking = false
  private lastConnected = 0
  private lookups = 0
  private readonly deferred = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly seen = new SeenPeers()
  private readonly deferMs: number
  private readonly walkTimeout: number
  private readonly firstLookupAfter: number
  private lookupsFrom = 0
  private readonly onBootstrapFailure?: (addr: string, reason: string) => void

  constructor (private readonly components: PeerDialerComponents, init: PeerDialerInit = {}) {
    this.log = components.logger.forComponent('swarmnet:peer-dialer')
    this.maxPeers = init.maxPeers ?? 64
    this.minWalk = init.minWalkIntervalMs ?? 500
    this.maxWalk = init.maxWalkIntervalMs ?? 30_000
    this.dialTimeout = init.dialTimeoutMs ?? 10_000
    this.bootstrap = init.bootstrap ?? []
    this.walkInterval = this.minWalk
    this.deferMs = init.deferDialMs ?? 1000
    this.walkTimeout = init.walkTimeoutMs ?? 5000
    this.firstLookupAfter = init.firstLookupAfterMs ?? 0
    this.onBootstrapFailure = init.onBootstrapFailure
  }

  readonly [Symbol.toStringTag] = 'swarmnet/peer-dialer'

  start (): void {
    if (this.controller != null) return
    this.controller = new AbortController()
    this.lookupsFrom = Date.now() + this.firstLookupAfter
    this.components.events.addEventListener('peer:discovery', this.onDiscovery)
    this.components.events.addEventListener('peer:connect', this.onConnect)
    this.schedule(this.minWalk)
  }

  // A connection to a peer never seen before may bring news of more peers: walk soon again. A
  // known peer coming back (a restart) brings none, and fast walks on every member made every
  // rolling restart cost the cluster DHT lookups just as the restarted member caught up.
  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    if (!this.seen.firstSight(evt.detail.toString())) return
    if (this.walkInterval <= this.minWalk || this.controller == null) return
    this.walkInterval = this.minWalk
    if (this.timer != null && !this.walking) {
      clearTimeout(this.timer)
      this.schedule(this.minWalk)
    }
  }

  stop (): void {
    this.components.events.removeEventListener('peer:discovery', this.onDiscovery)
    this.components.events.removeEventListener('peer:connect', this.onConnect)
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = undefined
    for (const t of this.deferred.values()) clearTimeout(t)
    this.deferred.clear()
    this.controller?.abort()
    this.controller = undefined
  }

  private readonly onDiscovery = (evt: CustomEvent<PeerInfo>): void => {
    this.dialDiscovered(evt.detail.id)
  }

  /**
   * Two members that discover each other at once would both dial and end up with two
   * connections, which confuses protocols that keep one stream per peer (gossipsub's outbound
   * stream queue stalls on it). So the smaller peer id dials at once and the larger one only
   * if it is still not connected a little later.
   */
  private dialDiscovered (peer: PeerId): void {
    if (this.components.peerId.toString() < peer.toString()) {
      this.dial(peer)
      return
    }
    const key = peer.toString()
    if (this.deferred.has(key)) return
    const timer = setTimeout(() => {
      this.deferred.delete(key)
      this.dial(peer)
    }, this.deferMs + Math.floor(Math.random() * this.deferMs))
    timer.unref?.()
    this.deferred.set(key, timer)
  }

  private connectedPeers (): number {
    return this.components.connectionManager.getConnectionsMap().size
  }

  private isConnected (peer: PeerId): boolean {
    return (this.components.connectionManager.getConnectionsMap().get(peer)?.length ?? 0) > 0
  }

  /** Dials a peer unless it is us, already connected, being dialed, or we are full. */
  private dial (peer: PeerId | Multiaddr, bootstrap = false): boolean {
    const signal = this.controller?.signal
    if (signal == null || signal.aborted) return false
    const key = peer.toString()
    if (isPeerId(peer) && (peer.equals(this.components.peerId) || this.isConnected(peer))) return false
    if (this.pending.has(key) || this.connectedPeers() >= this.maxPeers) return false
    this.pending.add(key)
    this.components.connectionManager.openConnection(peer, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.dialTimeout)])
    }).catch((err: Error) => {
      this.log('dial %s failed: %s', key, err.message)
      if (bootstrap) this.onBootstrapFailure?.(key, err.message)
    }).finally(() => {
      this.pending.delete(key)
    })
    return true
  }

  private schedule (delay: number): void {
    if (this.controller == null) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.walk().finally(() => { this.schedule(this.walkInterval) })
    }, delay)
    this.timer.unref?.()
  }

  private async walk (): Promise<void> {
    const signal = this.controller?.signal
    if (signal == null || this.walking) return
    this.walking = true
    let found = 0
    const before = this.connectedPeers()
    try {
      const bootstrapConnected = this.bootstrap.some(ma => {
        const id = ma.getComponents().findLast(c => c.name === 'p2p')?.value
        return id != null && [...this.components.connectionManager.getConnectionsMap().keys()].some(p => p.toString() === id)
      })
      // Re-dialing an unreachable bootstrap peer is no news: it must not keep the walks fast.
      if (!bootstrapConnected) {
        for (const ma of this.bootstrap) this.dial(ma, true)
      }
      if (before > 0 && this.components.dht?.routingTable?.size === 0) this.reidentify(signal)
      if (before > 0 && before < this.maxPeers) {
        // First what we already know: every lookup answered by others fills the peer store.
        found += await this.dialKnown()
        // A DHT lookup is costly for everyone it asks, so only when the peer store had nothing
        // new: our own id (in a small swarm its closest peers are everyone), then a random key.
        if (found === 0 && Date.now() >= this.lookupsFrom) {
          const key = (this.lookups++ % 2 === 0) ? this.components.peerId.toMultihash().bytes : randomBytes(32)
          const query = AbortSignal.any([signal, AbortSignal.timeout(this.walkTimeout)])
          for await (const info of this.components.peerRouting.getClosestPeers(key, { signal: query })) {
            if (this.isNew(info.id)) {
              this.dialDiscovered(info.id)
              found++
            }
          }
        }
      }
    } catch (err) {
      if (!signal.aborted) this.log('walk failed: %s', (err as Error).message)
      // The DHT starts after us; a walk it refused says nothing about the swarm.
      if (/not started/i.test((err as Error).message)) found++
    } finally {
      this.walking = false
    }
    // Keep walking fast while walks bring new connections; back off once they stop doing so.
    // (Counting peers found is not enough: walks that kept "finding" peers kept a 12-node swarm
    // at 120% CPU answering each other's lookups; with this rule an idle one uses 3%.)
    const connected = this.connectedPeers()
    const progress = found > 0 && connected > this.lastConnected
    this.lastConnected = Math.max(connected, before)
    this.walkInterval = progress ? this.minWalk : Math.min(this.walkInterval * 2, this.maxWalk)
  }

  /** Runs identify again on every open connection, so protocol topologies (the DHT's) hear of those peers. */
  private reidentify (signal: AbortSignal): void {
    const identify = this.components.identify
    if (identify === undefined) return
    this.log('DHT routing table empty while connected: identifying connected peers again')
    for (const conn of this.components.connectionManager.getConnections()) {
      if (conn.status !== 'open') continue
      identify.identify(conn, { signal: AbortSignal.any([signal, AbortSignal.timeout(this.walkTimeout)]) }).catch((err: Error) => {
        this.log('identify of %p failed: %s', conn.remotePeer, err.message)
      })
    }
  }

  private isNew (peer: PeerId): boolean {
    return !peer.equals(this.components.peerId) && !this.isConnected(peer) && !this.deferred.has(peer.toString()) && !this.pending.has(peer.toString())
  }

  /** Dials peers the peer store has addresses for and we are not connected to. */
  private async dialKnown (): Promise<number> {
    let n = 0
    for (const peer of await this.components.peerStore.all()) {
      if (peer.addresses.length > 0 && this.isNew(peer.id)) {
        this.dialDiscovered(peer.id)
        n++
      }
    }
    return n
  }

}

export function peerDialer (init: PeerDialerInit = {}): (components: PeerDialerComponents) => PeerDialer {
  return (components) => new PeerDialer(components, init)
}
