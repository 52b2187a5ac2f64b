/**
 * The envelope service: this node's signer and the shared checks every channel applies to
 * incoming messages (size, shape, membership, signature, replay), with a counter per reason.
 * Direct, broadcast and the event bus depend on it.
 */
import { randomBytes } from 'node:crypto'
import type { PeerId, PrivateKey, Startable } from '@libp2p/interface'
import { Counter, type Registry } from 'prom-client'
import { open, seal, DEFAULT_MAX_MESSAGE_BYTES, type MessageInit, type Sealed } from './envelope.js'
import { EnvelopeError, type EnvelopeErrorCode } from './errors.js'
import { PeerKeyCache, Signer } from './keys.js'
import { ReplayGuard } from './replay.js'
import type { SwarmMessage } from './types.js'

export interface EnvelopeInit {
  registry?: Registry
  /** Largest encoded message accepted or sent (default 1 MiB). */
  maxMessageBytes?: number
  /** Messages whose timestamp is further than this from our clock are refused (default 5 min). */
  replayWindowMs?: number
  /** Bound on remembered message ids per replay cache (default 500,000). */
  maxReplayEntries?: number
  /** Allowed senders; undefined admits any member of the swarm (holder of the swarm key). */
  allowPeers?: string[]
  /** Injected for tests; defaults to the wall clock. */
  now?: () => number
}

export interface EnvelopeComponents { peerId: PeerId, privateKey: PrivateKey }

export type Channel = 'direct' | 'broadcast' | 'local'

export class EnvelopeService implements Startable {
  readonly signer: Signer
  readonly keys = new PeerKeyCache()
  readonly maxMessageBytes: number
  readonly replayWindowMs: number
  readonly maxReplayEntries: number
  readonly now: () => number
  private readonly allowed?: Set<string>
  private readonly rejected: Counter<'code' | 'channel'>
  /** Replay cache for broadcasts; direct keeps its own, which also remembers acks. */
  readonly broadcastReplay: ReplayGuard

  constructor (components: EnvelopeComponents, init: EnvelopeInit = {}) {
    this.signer = new Signer(components.privateKey, components.peerId)
    this.maxMessageBytes = init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    this.replayWindowMs = init.replayWindowMs ?? 5 * 60_000
    this.maxReplayEntries = init.maxReplayEntries ?? 500_000
    this.now = init.now ?? Date.now
    if (init.allowPeers != null) this.allowed = new Set([...init.allowPeers, components.peerId.toString()])
    this.broadcastReplay = new ReplayGuard({ windowMs: this.replayWindowMs, maxEntries: this.maxReplayEntries })
    this.rejected = new Counter({
      name: 'swarmnet_messages_rejected_total',
      help: 'Incoming messages refused, by reason and channel',
      labelNames: ['code', 'channel'],
      registers: init.registry != null ? [init.registry] : []
    })
  }

  readonly [Symbol.toStringTag] = 'swarmnet/envelope'
  start (): void {}
  stop (): void {}

  isMember (peerId: string): boolean {
    return this.allowed == null || this.allowed.has(peerId)
  }

  seal (init: MessageInit): Sealed {
    return seal(init, { signer: this.signer, now: this.now(), random: randomBytes(10), maxMessageBytes: this.maxMessageBytes })
  }

  /** Opens and verifies; a refusal is counted and rethrown as EnvelopeError. */
  open (bytes: Uint8Array, channel: Channel, expectedSender?: string): SwarmMessage {
    try {
      return open(bytes, {
        keys: this.keys,
        maxMessageBytes: this.maxMessageBytes,
        isMember: this.allowed == null ? undefined : (p) => this.allowed!.has(p),
        expectedSender
      })
    } catch (err) {
      const e = err instanceof EnvelopeError ? err : new EnvelopeError('malformed', (err as Error).message)
      this.reject(e.code, channel)
      throw e
    }
  }

  reject (code: EnvelopeErrorCode | string, channel: Channel): void {
    this.rejected.inc({ code, channel })
  }

  async rejections (code?: string): Promise<number> {
    const m = await this.rejected.get()
    return m.values.filter(v => code == null || v.labels.code === code).reduce((a, v) => a + v.value, 0)
  }

  /** Rejects replays and stale timestamps of broadcast messages; remembers fresh ones. */
  admitBroadcast (msg: SwarmMessage): void {
    const now = this.now()
    const key = `${msg.sourceAgent}/${msg.messageId}`
    const v = this.broadcastReplay.check(key, msg.timestamp, now)
    if (v.kind === 'duplicate') { this.reject('replayed', 'broadcast'); throw new EnvelopeError('replayed', `message ${msg.messageId} was already seen`) }
    if (v.kind === 'stale') { this.reject('stale', 'broadcast'); throw new EnvelopeError('stale', `timestamp ${msg.timestamp} is outside the ${this.replayWindowMs} ms window`) }
    this.broadcastReplay.remember(key, msg.timestamp, true, now)
  }
}

export function envelope (init: EnvelopeInit = {}): (components: EnvelopeComponents) => EnvelopeService {
  return (components) => new EnvelopeService(components, init)
}

export { EnvelopeError }
