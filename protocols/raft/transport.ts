/**
 * Raft frames over long-lived libp2p streams (`/swarmnet/raft/1.0.0`). Each node opens one stream
 * to each peer it sends to and only writes on it; what a peer sends arrives on the stream that
 * peer opened; streams to members open as soon as they connect (warm). Sending never waits: a
 * frame to a peer that is unreachable, still being dialled past a small buffer, or whose stream is
 * backed up is dropped and counted, because Raft resends whatever matters (appends on the next
 * heartbeat, votes on the next election).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, Libp2pEvents, Logger, PeerId, PeerStore, Stream } from '@libp2p/interface'
import type { TypedEventTarget } from 'main-event'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import { FrameDecoder, FrameError } from '../direct/frames.js'
import { FrameWriter } from '../direct/writer.js'
import { RaftFrame } from './raft.pb.js'

export const RAFT_PROTOCOL = '/swarmnet/raft/1.0.0'

export interface TransportComponents {
  peerId: PeerId
  registrar: Registrar
  connectionManager: ConnectionManager
  /** libp2p's event bus: peer:disconnect, when the last connection to a peer closed. */
  events: TypedEventTarget<Pick<Libp2pEvents, 'peer:disconnect'>>
  /** What identify learnt of each peer; without it, peers connected before start() are not seen. */
  peerStore?: Pick<PeerStore, 'get'>
}

/** Test hook: return false to drop a frame to (out) or from (in) `peer`, as a partition would. */
export type FrameFilter = (direction: 'in' | 'out', peer: string) => boolean

export interface TransportInit {
  /** Largest frame accepted, in bytes; a longer length prefix drops the stream. */
  maxFrameBytes: number
  /** Most entries one append may carry when decoded. */
  maxEntries: number
  onFrame: (from: string, frame: RaftFrame) => void
  /**
   * A peer that speaks the protocol connected (true), or the last connection to a peer closed
   * (false; any peer, whatever it speaks).
   */
  onPeer: (peer: string, up: boolean) => void
  count: (event: TransportEvent) => void
  log: Logger
}

export type TransportEvent = 'malformed' | 'too_large' | 'dropped_unreachable' | 'dropped_backpressure' | 'filtered'

/** Frames buffered per peer while its stream is being opened. */
const MAX_QUEUED = 256

interface Link {
  peer: PeerId
  writer?: FrameWriter
  opening: boolean
  failures: number
  retryAt: number
  queue: Uint8Array[]
  /** Callers of writable() waiting for the stream to drain. */
  waiters: Array<() => void>
}

export class RaftTransport {
  filter: FrameFilter | null = null
  private readonly links = new Map<string, Link>()
  private readonly inbound = new Set<Stream>()
  /**
   * Connected peers that speak the protocol, each with the connection it was last identified on:
   * streams open on it, not through a dial.
   */
  private readonly conns = new Map<string, Connection>()
  /** performance.now() when each connected peer was first identified since it last disconnected. */
  private readonly since = new Map<string, number>()
  private topologyId?: string
  private readonly controller = new AbortController()
  private running = false

  constructor (private readonly components: TransportComponents, private readonly init: TransportInit) {}

  /**
   * Straight from libp2p, not through the topology: a topology hears of a disconnect only for
   * peers it saw identified (a restarted member sometimes did not), and a dead leader must be noticed.
   */
  private readonly onDisconnect = (e: CustomEvent<PeerId>): void => {
    const id = e.detail.toString()
    this.conns.delete(id)
    this.since.delete(id)
    this.init.onPeer(id, false)
  }

  async start (): Promise<void> {
    this.running = true
    this.components.events.addEventListener('peer:disconnect', this.onDisconnect)
    await this.components.registrar.handle(RAFT_PROTOCOL, (stream: Stream, connection: Connection) => {
      // A raft stream is proof enough that the peer is up and speaks raft: our own link to it
      // need not wait for identify (hundreds of ms on a busy host) or its redial backoff.
      const id = connection.remotePeer.toString()
      if (connection.status === 'open') this.connected(id, connection)
      void this.serve(stream, id)
    }, { maxInboundStreams: 8, maxOutboundStreams: 8 })
    this.topologyId = await this.components.registrar.register(RAFT_PROTOCOL, {
      onConnect: (peer: PeerId, connection: Connection) => { this.connected(peer.toString(), connection) }
    })
    void this.adoptConnected()
  }

  private connected (id: string, connection: Connection): void {
    const known = this.conns.has(id)
    this.conns.set(id, connection)
    if (!known) {
      this.since.set(id, performance.now() - Math.max(0, Date.now() - connection.timeline.open))
      this.init.onPeer(id, true)
    }
  }

  /**
   * A topology hears only of peers identified after it registered: those a restarting node
   * connected while it loaded its log (0.3-0.6 s on a busy host) are taken from the connection
   * manager, else they stayed unknown to raft until a reconnect (no warm streams, no hand-over target).
   */
  private async adoptConnected (): Promise<void> {
    const store = this.components.peerStore
    if (store === undefined) return
    for (const conn of this.components.connectionManager.getConnections()) {
      const id = conn.remotePeer.toString()
      if (conn.status !== 'open' || this.conns.has(id)) continue
      const peer = await store.get(conn.remotePeer).catch(() => undefined)
      if (this.running && conn.status === 'open' && !this.conns.has(id) && peer?.protocols.includes(RAFT_PROTOCOL) === true) this.connected(id, conn)
    }
  }

  async stop (): Promise<void> {
    this.running = false
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
    this.controller.abort()
    if (this.topologyId !== undefined) this.components.registrar.unregister(this.topologyId)
    await this.components.registrar.unhandle(RAFT_PROTOCOL)
    for (const link of this.links.values()) {
      link.writer?.stream.abort(new Error('raft stopping'))
      this.wake(link)
    }
    for (const s of this.inbound) s.abort(new Error('raft stopping'))
    this.links.clear()
    this.inbound.clear()
    this.conns.clear()
    this.since.clear()
  }

  /**
   * Opens the stream to `to` now, not on the first frame. Followers never write to each other,
   * so without this the first vote or append after a leader change waited for a stream to be
   * negotiated through two busy event loops (50-90 ms under load, the longest gap of a
   * handover). No-op while a stream is open or opening. The peer is connected: a backoff left
   * from dialling it while it was down does not apply.
   */
  warm (to: string): void {
    if (!this.running) return
    const link = this.link(to)
    if (link === undefined || link.writer !== undefined) return
    link.retryAt = 0
    this.connect(link)
  }

  /** Connected peers known to speak the raft protocol. */
  peers (): string[] { return [...this.conns.keys()] }

  /** How long `peer` has been connected without a break, in ms (undefined: not connected). */
  connectedMs (peer: string): number | undefined {
    const t = this.since.get(peer)
    return t === undefined ? undefined : performance.now() - t
  }

  /** False when the frame was dropped (unreachable, backed up, filtered). */
  send (to: string, frame: RaftFrame): boolean {
    if (!this.running) return false
    if (this.filter !== null && !this.filter('out', to)) { this.init.count('filtered'); return false }
    const link = this.link(to)
    if (link === undefined) { this.init.count('dropped_unreachable'); return false }
    const bytes = RaftFrame.encode(frame)
    const w = link.writer
    if (w !== undefined && w.stream.status === 'open') {
      if (w.blocked) { this.init.count('dropped_backpressure'); return false }
      w.write(bytes)
      return true
    }
    if (link.queue.length >= MAX_QUEUED) { this.init.count('dropped_unreachable'); return false }
    link.queue.push(bytes)
    this.connect(link)
    return true
  }

  /**
   * Resolves once a frame to `to` would not be dropped for backpressure (at once when its stream
   * is not backed up, or is gone). Bulk senders (snapshot chunks) wait on it instead of losing
   * frames that only a timeout would resend.
   */
  async writable (to: string): Promise<void> {
    const link = this.links.get(to)
    if (link?.writer?.blocked !== true || link.writer.stream.status !== 'open') return
    await new Promise<void>(resolve => { link.waiters.push(resolve) })
  }

  private wake (link: Link): void {
    const waiters = link.waiters
    link.waiters = []
    for (const w of waiters) w()
  }

  private link (to: string): Link | undefined {
    let link = this.links.get(to)
    if (link === undefined) {
      let peer: PeerId
      try {
        peer = peerIdFromString(to)
      } catch {
        return undefined
      }
      link = { peer, opening: false, failures: 0, retryAt: 0, queue: [], waiters: [] }
      this.links.set(to, link)
    }
    return link
  }

  private connect (link: Link): void {
    if (link.opening) return
    if (Date.now() < link.retryAt) {
      // Still backing off from a failed dial: what was queued is stale by the time we retry.
      for (let i = 0; i < link.queue.length; i++) this.init.count('dropped_unreachable')
      link.queue = []
      return
    }
    link.opening = true
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(5000)])
    // On the connection the peer was identified on when it is still open: openStream may queue
    // behind a dial to an address the peer had before a restart.
    const conn = this.conns.get(link.peer.toString())
    const open = conn?.status === 'open'
      ? conn.newStream(RAFT_PROTOCOL, { signal })
      : this.components.connectionManager.openStream(link.peer, RAFT_PROTOCOL, { signal })
    open.then(stream => {
      link.opening = false
      if (!this.running) { stream.abort(new Error('raft stopping')); return }
      link.failures = 0
      const writer = new FrameWriter(stream, () => { this.wake(link) })
      link.writer = writer
      for (const bytes of link.queue) writer.write(bytes)
      link.queue = []
      void this.watch(link, stream)
    }, (err: Error) => {
      link.opening = false
      link.failures++
      // Dead peers are redialled at most every 1 s, live ones come back quickly.
      link.retryAt = Date.now() + Math.min(1000, 25 * 2 ** link.failures)
      for (let i = 0; i < link.queue.length; i++) this.init.count('dropped_unreachable')
      link.queue = []
      this.init.log('cannot open a raft stream to %s: %s', link.peer.toString(), err.message)
    })
  }

  /** Our outbound stream carries nothing back; reading it tells us when it closes. */
  private async watch (link: Link, stream: Stream): Promise<void> {
    try {
      for await (const _ of stream) { /* the peer never writes here */ }
    } catch {
      // reset or aborted: handled below
    } finally {
      if (link.writer?.stream === stream) link.writer = undefined
      this.wake(link)
    }
  }

  private async serve (stream: Stream, from: string): Promise<void> {
    this.inbound.add(stream)
    const decoder = new FrameDecoder(this.init.maxFrameBytes)
    const limits = {
      msg: { entries: this.init.maxEntries },
      hello: { proposal: 1024, voters: 1024, learners: 4096 },
      joined: { voters: 1024, learners: 4096 },
      keepalive: { leases: 4096 }
    }
    try {
      for await (const chunk of stream) {
        for (const body of decoder.push(chunk)) {
          if (this.filter !== null && !this.filter('in', from)) { this.init.count('filtered'); continue }
          let frame: RaftFrame
          try {
            frame = RaftFrame.decode(body, { limits })
          } catch {
            this.init.count('malformed') // the framing is intact: go on with the next frame
            continue
          }
          this.init.onFrame(from, frame)
        }
      }
    } catch (err) {
      if (err instanceof FrameError) {
        this.init.count(err.code === 'too_large' ? 'too_large' : 'malformed')
        this.init.log('dropping raft stream from %s: %s', from, err.message)
      }
      stream.abort(err as Error)
    } finally {
      this.inbound.delete(stream)
    }
  }
}
