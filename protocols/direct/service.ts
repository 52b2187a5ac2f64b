/**
 * Acknowledged direct messages (`/swarmnet/direct/1.0.0`), a libp2p service. `send` resolves
 * with the receiver's ack (and its response when one was asked for) or rejects with a typed
 * error: TimeoutError, UnreachableError, RejectedError or CircuitOpenError.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { ComponentLogger, Logger, PeerId, Startable, Stream, Connection } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import { Counter, type Registry } from 'prom-client'
import { CircuitBreaker, type BreakerInit, type BreakerState } from './breaker.js'
import { PeerLink, type Pending, type SendResult } from './link.js'
import { Inbound, type RequestHandler } from './inbound.js'
import { encodeFrame } from './frames.js'
import { UnreachableError, CircuitOpenError, RejectedError } from './errors.js'
import type { EnvelopeService } from '../envelope/service.js'
import type { EventBus } from '../events/bus.js'
import type { MessageInit } from '../envelope/envelope.js'
import { PRIORITY_RANK, type Priority } from '../envelope/types.js'
import { EnvelopeError } from '../envelope/errors.js'

export const DIRECT_PROTOCOL = '/swarmnet/direct/1.0.0'

export interface DirectInit {
  registry?: Registry
  /** Messages in flight per peer before new sends queue (default 256). */
  window?: number
  /** Sends queued per peer beyond the window before `send` refuses with queue_full (default 10,000). */
  maxQueued?: number
  breaker?: BreakerInit
  /** Handlers running at once per inbound stream before it stops reading (default 1,024). */
  maxConcurrentHandlers?: number
  /** Remembered message ids per sender for deduplication (default 100,000). */
  maxDedupeEntriesPerPeer?: number
  now?: () => number
  rand?: () => number
  /**
   * Test only: sees every chunk this node writes to a direct stream and may drop or repeat it,
   * to prove retries and deduplication over a lossy, duplicating network.
   */
  faults?: (direction: 'outbound' | 'inbound') => 'pass' | 'drop' | 'duplicate'
}

export interface DirectComponents {
  peerId: PeerId
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
  envelope: EnvelopeService
  bus: EventBus
}

export type SendOptions = Omit<MessageInit, 'routing' | 'targetAgents'>

export interface LinkStatus {
  peerId: string
  breaker: BreakerState
  consecutiveFailures: number
  inFlight: number
  queued: number
}

export class DirectMessaging implements Startable {
  private readonly log: Logger
  private readonly links = new Map<string, PeerLink>()
  private readonly handlers = new Map<string, RequestHandler>()
  private readonly inbound: Inbound
  private readonly window: number
  private readonly maxQueued: number
  private readonly now: () => number
  private readonly rand: () => number
  private readonly outcomes: Counter<'outcome'>
  private readonly events: Counter<'event'>
  private started = false

  constructor (private readonly components: DirectComponents, private readonly init: DirectInit = {}) {
    this.log = components.logger.forComponent('swarmnet:direct')
    this.window = init.window ?? 256
    this.maxQueued = init.maxQueued ?? 10_000
    this.now = init.now ?? Date.now
    this.rand = init.rand ?? Math.random
    const registers = init.registry != null ? [init.registry] : []
    this.outcomes = new Counter({ name: 'swarmnet_direct_sends_total', help: 'Direct sends by outcome', labelNames: ['outcome'], registers })
    this.events = new Counter({ name: 'swarmnet_direct_inbound_total', help: 'Inbound direct events: duplicates, handler errors, unexpected frames', labelNames: ['event'], registers })
    this.inbound = new Inbound({
      envelope: components.envelope,
      bus: components.bus,
      handlers: this.handlers,
      maxConcurrent: init.maxConcurrentHandlers ?? 1024,
      maxEntriesPerPeer: init.maxDedupeEntriesPerPeer ?? 100_000,
      count: (event) => { this.events.inc({ event }) },
      log: this.log
    })
  }

  readonly [Symbol.toStringTag] = 'swarmnet/direct'

  async start (): Promise<void> {
    if (this.started) return
    await this.components.registrar.handle(DIRECT_PROTOCOL, (stream: Stream, connection: Connection) => {
      void this.inbound.serve(this.withFaults(stream, 'inbound'), connection.remotePeer.toString())
    }, { maxInboundStreams: 8, maxOutboundStreams: 8 })
    this.started = true
  }

  async stop (): Promise<void> {
    this.started = false
    await this.components.registrar.unhandle(DIRECT_PROTOCOL)
    for (const link of this.links.values()) link.close('node stopping')
    this.links.clear()
  }

  /** Serves one message type; replaces an earlier handler of the same type. */
  handle (type: string, handler: RequestHandler): () => void {
    this.handlers.set(type, handler)
    return () => { if (this.handlers.get(type) === handler) this.handlers.delete(type) }
  }

  async send (to: string | PeerId, message: SendOptions): Promise<SendResult> {
    if (!this.started) throw new UnreachableError('the node is not started')
    // The hot path: a known peer's link is found by its string id without parsing it again.
    let link = typeof to === 'string' ? this.links.get(to) : undefined
    if (link == null) {
      let peer: PeerId
      try {
        peer = typeof to === 'string' ? peerIdFromString(to) : to
      } catch {
        throw new UnreachableError(`${JSON.stringify(String(to).slice(0, 80))} is not a peer id`)
      }
      if (peer.equals(this.components.peerId)) throw new UnreachableError('cannot send a direct message to this node itself; use node.events.emitLocal')
      link = this.link(peer)
    }
    const now = this.now()
    const admitted = link.breaker.allow(now)
    if (!admitted.ok) {
      this.outcomes.inc({ outcome: 'circuit_open' })
      throw new CircuitOpenError(link.peerId, admitted.retryAfterMs)
    }
    if (link.queue.size >= this.maxQueued) {
      link.breaker.release(admitted.probe)
      this.outcomes.inc({ outcome: 'queue_full' })
      throw new RejectedError('queue_full')
    }
    let sealed
    try {
      sealed = this.components.envelope.seal({ ...message, routing: 'direct', targetAgents: [link.peerId] })
    } catch (err) {
      link.breaker.release(admitted.probe)
      if (err instanceof EnvelopeError) throw new RejectedError(`invalid message: ${err.message}`)
      throw err
    }
    const m = sealed.message
    const frame = encodeFrame({ envelope: sealed.bytes } as Parameters<typeof encodeFrame>[0])
    return await new Promise<SendResult>((resolve, reject) => {
      const p: Pending = {
        id: m.messageId,
        frame,
        rank: PRIORITY_RANK[m.priority as Priority],
        requiresResponse: m.requiresResponse,
        startedAt: now,
        deadline: now + m.timeoutMs,
        attemptTimeoutMs: Math.max(50, Math.floor(m.timeoutMs / (m.maxRetries + 1))),
        maxRetries: m.maxRetries,
        attempts: 0,
        probe: admitted.probe,
        done: false,
        resolve,
        reject
      }
      link.enqueue(p)
    })
  }

  private link (peer: PeerId): PeerLink {
    const key = peer.toString()
    let link = this.links.get(key)
    if (link == null) {
      link = new PeerLink(peer, {
        now: this.now,
        rand: this.rand,
        window: this.window,
        maxFrameBytes: this.components.envelope.maxMessageBytes + 64,
        openStream: async (p, signal) => this.withFaults(await this.components.connectionManager.openStream(p, DIRECT_PROTOCOL, { signal }), 'outbound'),
        openResponse: (bytes, from) => this.components.envelope.open(bytes, 'direct', from),
        onOutcome: (outcome) => { this.outcomes.inc({ outcome }) },
        log: this.log
      }, new CircuitBreaker(this.init.breaker))
      this.links.set(key, link)
    }
    return link
  }

  private withFaults (stream: Stream, direction: 'outbound' | 'inbound'): Stream {
    const faults = this.init.faults
    if (faults == null) return stream
    const send = stream.send.bind(stream)
    stream.send = (data) => {
      const verdict = faults(direction)
      if (verdict === 'drop') return true
      if (verdict === 'duplicate') send(data)
      return send(data)
    }
    return stream
  }

  /** Per-peer state for /v1/status: breaker, in-flight and queued sends. */
  status (): LinkStatus[] {
    const now = this.now()
    return [...this.links.values()].map(l => {
      const b = l.breaker.status(now)
      return { peerId: l.peerId, breaker: b.state, consecutiveFailures: b.consecutiveFailures, inFlight: l.inflight.size, queued: l.queue.size }
    })
  }

  breakerState (peer: string): BreakerState | undefined {
    return this.links.get(peer)?.breaker.status(this.now()).state
  }

  async outcomeCount (outcome: string): Promise<number> {
    return (await this.outcomes.get()).values.filter(v => v.labels.outcome === outcome).reduce((a, v) => a + v.value, 0)
  }

  async inboundCount (event: string): Promise<number> {
    return (await this.events.get()).values.filter(v => v.labels.event === event).reduce((a, v) => a + v.value, 0)
  }
}

export function directMessaging (init: DirectInit = {}): (components: DirectComponents) => DirectMessaging {
  return (components) => new DirectMessaging(components, init)
}

export type { SendResult, RequestHandler }
