/**
 * The event bus: one place where local events and messages from the network (direct and
 * broadcast) meet. Handlers subscribe by message type (or '*'); each runs on its own, so a
 * slow or failing handler delays and breaks no other. Failures are logged and counted.
 */
import { Counter, type Registry } from 'prom-client'
import type { Startable } from '@libp2p/interface'
import type { SwarmMessage, MessageType } from '../envelope/types.js'
import type { EnvelopeService, Channel } from '../envelope/service.js'
import { payloadJson } from '../envelope/envelope.js'

export interface BusEvent<T = unknown> {
  message: SwarmMessage
  /** The payload parsed as JSON when its content type is JSON; otherwise the raw bytes. */
  data: T
  channel: Channel
  topic?: string
}

export type BusHandler<T = unknown> = (event: BusEvent<T>) => void | Promise<void>

/** Maps message types to payload types, for typed subscriptions. */
export type PayloadMap = Record<string, unknown>

export interface EventBusInit {
  registry?: Registry
  onError?: (err: Error, type: string) => void
}

export class EventBus<P extends PayloadMap = PayloadMap> implements Startable {
  private readonly handlers = new Map<string, Set<BusHandler<never>>>()
  private readonly failures: Counter<'type'>
  private readonly delivered: Counter<'channel'>
  private readonly onError: (err: Error, type: string) => void

  constructor (private readonly components: { envelope: EnvelopeService }, init: EventBusInit = {}) {
    const registers = init.registry != null ? [init.registry] : []
    this.failures = new Counter({ name: 'swarmnet_event_handler_failures_total', help: 'Event handlers that threw or rejected', labelNames: ['type'], registers })
    this.delivered = new Counter({ name: 'swarmnet_events_total', help: 'Events dispatched on the bus', labelNames: ['channel'], registers })
    this.onError = init.onError ?? (() => {})
  }

  readonly [Symbol.toStringTag] = 'swarmnet/events'
  start (): void {}
  stop (): void { this.handlers.clear() }

  /** Subscribes to one type, or '*' for all; returns the unsubscribe function. */
  on<K extends keyof P & string> (type: K | '*', handler: BusHandler<P[K]>): () => void
  on (type: MessageType | '*', handler: BusHandler): () => void
  on (type: string, handler: BusHandler<never>): () => void {
    let set = this.handlers.get(type)
    if (set == null) { set = new Set(); this.handlers.set(type, set) }
    set.add(handler)
    return () => { set.delete(handler) }
  }

  /** Number of handlers that would see a message of this type. */
  listenerCount (type: string): number {
    return (this.handlers.get(type)?.size ?? 0) + (this.handlers.get('*')?.size ?? 0)
  }

  /** Emits a local event: sealed like any message, so handlers see one shape. */
  emitLocal<K extends keyof P & string> (type: K, data: P[K]): SwarmMessage
  emitLocal (type: MessageType, data: unknown): SwarmMessage
  emitLocal (type: string, data: unknown): SwarmMessage {
    const { message } = this.components.envelope.seal({ type, payload: data, routing: 'direct', targetAgents: [] })
    this.dispatch(message, 'local')
    return message
  }

  /** Hands a verified message to every matching handler. */
  dispatch (message: SwarmMessage, channel: Channel, topic?: string): void {
    const specific = this.handlers.get(message.type)
    const any = this.handlers.get('*')
    if ((specific == null || specific.size === 0) && (any == null || any.size === 0)) return
    this.delivered.inc({ channel })
    const event = busEvent(message, channel, topic)
    for (const set of [specific, any]) {
      if (set == null) continue
      for (const h of set) this.run(h as BusHandler, event)
    }
  }

  private run (handler: BusHandler, event: BusEvent): void {
    invokeHandler(handler, event, (err) => {
      this.failures.inc({ type: event.message.type })
      this.onError(err, event.message.type)
    })
  }

  async failureCount (): Promise<number> {
    return (await this.failures.get()).values.reduce((a, v) => a + v.value, 0)
  }
}

export function eventBus (init: EventBusInit = {}): (components: { envelope: EnvelopeService }) => EventBus {
  return (components) => new EventBus(components, init)
}

/** The event handlers see: the payload parsed when it is JSON, the raw bytes otherwise. */
export function busEvent (message: SwarmMessage, channel: Channel, topic?: string): BusEvent {
  let data: unknown = message.payload
  if (message.contentType === 'application/json' && message.payload.length > 0) {
    try { data = payloadJson(message) } catch { data = message.payload }
  }
  return { message, data, channel, topic }
}

/** Runs a handler in its own microtask so a throwing or slow one cannot stop the others. */
export function invokeHandler (handler: BusHandler, event: BusEvent, onError: (err: Error) => void): void {
  const fail = (err: unknown): void => { onError(err instanceof Error ? err : new Error(String(err))) }
  queueMicrotask(() => {
    try {
      const r = handler(event)
      if (r != null && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).then(undefined, fail)
    } catch (err) {
      fail(err)
    }
  })
}
