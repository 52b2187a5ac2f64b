/**
 * Broadcast over gossipsub, scoped to the swarm: topic `t` travels as `/swarmnet/<swarm>/t`.
 * A topic validator applies the envelope checks (signature, membership, replay, window) and
 * the gossip-level author must match the envelope's, so gossipsub drops (Reject) and scores
 * down a bad message before it is forwarded. Multicast sends directly to a list in parallel.
 */
import type { ComponentLogger, Logger, PeerId, Startable } from '@libp2p/interface'
import { TopicValidatorResult, type GossipSub, type Message, type SubscriptionChangeData } from '@libp2p/gossipsub'
import type { EnvelopeService } from '../envelope/service.js'
import { EnvelopeError } from '../envelope/errors.js'
import { busEvent, invokeHandler, type EventBus, type BusHandler } from '../events/bus.js'
import type { MessageInit } from '../envelope/envelope.js'
import type { SwarmMessage } from '../envelope/types.js'
import type { DirectMessaging, SendResult } from '../direct/service.js'
import { MessagingError } from '../direct/errors.js'

export const TOPIC_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/

export interface BroadcastInit {
  /** Swarm name used in topic names, so two swarms never share a topic (default 'default'). */
  swarm?: string
}

export interface BroadcastComponents {
  peerId: PeerId
  logger: ComponentLogger
  pubsub: GossipSub
  envelope: EnvelopeService
  bus: EventBus
  direct: DirectMessaging
}

export interface BroadcastResult { messageId: string, recipients: number }
export type MulticastResult = Array<{ peerId: string, ok: true, result: SendResult } | { peerId: string, ok: false, error: string, code: string }>

export class BroadcastError extends Error {
  constructor (message: string) { super(message); this.name = 'BroadcastError' }
}

export class Broadcast implements Startable {
  private readonly log: Logger
  private readonly swarm: string
  private readonly handlers = new Map<string, Set<BusHandler>>()
  // Messages verified by the validator, so the delivery path does not verify them again.
  private readonly verified = new WeakMap<Uint8Array, SwarmMessage>()

  constructor (private readonly components: BroadcastComponents, init: BroadcastInit = {}) {
    this.log = components.logger.forComponent('swarmnet:broadcast')
    this.swarm = init.swarm ?? 'default'
  }

  readonly [Symbol.toStringTag] = 'swarmnet/broadcast'

  start (): void {
    this.components.pubsub.addEventListener('message', this.onMessage)
  }

  // Topics are left before gossipsub stops: afterwards unsubscribe throws "Pubsub is not
  // started", which made libp2p.stop() reject half-way and leave timers running.
  beforeStop (): void {
    this.components.pubsub.removeEventListener('message', this.onMessage)
    for (const topic of this.handlers.keys()) {
      try {
        this.unsubscribeTopic(topic)
      } catch (err) {
        this.log('leaving %s failed: %s', topic, (err as Error).message)
      }
    }
    this.handlers.clear()
  }

  stop (): void {}

  topicName (topic: string): string {
    if (!TOPIC_PATTERN.test(topic)) throw new BroadcastError(`topic ${JSON.stringify(topic.slice(0, 80))} must be 1-128 letters, digits or _.:-`)
    return `/swarmnet/${this.swarm}/${topic}`
  }

  /** Subscribes to a topic; handlers also see the messages on the event bus. Returns unsubscribe. */
  subscribe (topic: string, handler?: BusHandler): () => void {
    const name = this.topicName(topic)
    let set = this.handlers.get(topic)
    if (set == null) {
      set = new Set()
      this.handlers.set(topic, set)
      this.components.pubsub.topicValidators.set(name, this.validator(topic))
      this.components.pubsub.subscribe(name)
    }
    const h: BusHandler = handler ?? (() => {})
    set.add(h)
    return () => {
      set.delete(h)
      if (set.size === 0) { this.handlers.delete(topic); this.unsubscribeTopic(topic) }
    }
  }

  subscriptions (): string[] { return [...this.handlers.keys()] }

  /**
   * Calls `handler` with the peer id whenever a peer's subscription to `topic` reaches us: from
   * then on our broadcasts on it reach that peer, so anything published before is worth a sync.
   */
  onPeerSubscribed (topic: string, handler: (peer: string) => void): () => void {
    const name = this.topicName(topic)
    const listener = (evt: CustomEvent<SubscriptionChangeData>): void => {
      if (evt.detail.subscriptions.some(s => s.subscribe && s.topic === name)) handler(evt.detail.peerId.toString())
    }
    this.components.pubsub.addEventListener('subscription-change', listener)
    return () => { this.components.pubsub.removeEventListener('subscription-change', listener) }
  }

  /** Peers known to be subscribed to a topic (the gossip mesh's view). */
  subscribers (topic: string): string[] {
    return this.components.pubsub.getSubscribers(this.topicName(topic)).map(p => p.toString())
  }

  private unsubscribeTopic (topic: string): void {
    const name = `/swarmnet/${this.swarm}/${topic}`
    this.components.pubsub.unsubscribe(name)
    this.components.pubsub.topicValidators.delete(name)
  }

  async broadcast (topic: string, init: Omit<MessageInit, 'routing' | 'topic'>): Promise<BroadcastResult> {
    const name = this.topicName(topic)
    const { message, bytes } = this.components.envelope.seal({ ...init, routing: 'broadcast', topic, targetAgents: [] })
    const { recipients } = await this.components.pubsub.publish(name, bytes)
    // Local subscribers hear our own broadcasts too, as with a broker.
    if (this.handlers.has(topic)) this.deliver(message, topic)
    return { messageId: message.messageId, recipients: recipients.length }
  }

  /** Sends one message to each target directly, in parallel; one result per target. */
  async multicast (targets: string[], init: Omit<MessageInit, 'routing' | 'targetAgents'>): Promise<MulticastResult> {
    const results = await Promise.allSettled(targets.map(async t => this.components.direct.send(t, init)))
    return results.map((r, i) => r.status === 'fulfilled'
      ? { peerId: targets[i]!, ok: true as const, result: r.value }
      : { peerId: targets[i]!, ok: false as const, error: (r.reason as Error).message, code: r.reason instanceof MessagingError ? r.reason.code : 'error' })
  }

  private validator (topic: string) {
    return (_peer: PeerId, msg: Message): TopicValidatorResult => {
      try {
        // Under StrictNoSign gossip carries no author; the envelope's signature still names one.
        const author = msg.type === 'signed' ? msg.from.toString() : undefined
        const m = this.components.envelope.open(msg.data, 'broadcast', author)
        if (m.topic !== topic || m.routing !== 'broadcast') {
          this.components.envelope.reject('invalid_field', 'broadcast')
          return TopicValidatorResult.Reject
        }
        this.components.envelope.admitBroadcast(m)
        this.verified.set(msg.data, m)
        return TopicValidatorResult.Accept
      } catch (err) {
        if (!(err instanceof EnvelopeError)) this.log.error('validator failed: %s', (err as Error).message)
        return TopicValidatorResult.Reject
      }
    }
  }

  private readonly onMessage = (evt: CustomEvent<Message>): void => {
    const msg = evt.detail
    const m = this.verified.get(msg.data)
    if (m == null || m.topic == null) return
    this.deliver(m, m.topic)
  }

  private deliver (m: SwarmMessage, topic: string): void {
    this.components.bus.dispatch(m, 'broadcast', topic)
    const set = this.handlers.get(topic)
    if (set == null) return
    const event = busEvent(m, 'broadcast', topic)
    for (const h of set) invokeHandler(h, event, (err) => { this.log.error('broadcast handler failed: %s', err.message) })
  }
}

export function broadcast (init: BroadcastInit = {}): (components: BroadcastComponents) => Broadcast {
  return (components) => new Broadcast(components, init)
}
