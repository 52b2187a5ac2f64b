/**
 * The receiving side of direct streams. Each envelope is verified, deduplicated per sender
 * (a retried message reaches its handler exactly once and is acked again with the same
 * answer), handed to the event bus and to the handler for its type, and acked when the
 * handler is done. Handlers run concurrently; past `maxConcurrent` the stream stops reading.
 */
import type { Stream } from '@libp2p/interface'
import { FrameDecoder, FrameError, decodeFrame, encodeFrame } from './frames.js'
import { FrameWriter } from './writer.js'
import { Ack } from './direct.pb.js'
import { SignedEnvelope, SwarmMessage as PbMessage } from '../envelope/envelope.pb.js'
import { EnvelopeError } from '../envelope/errors.js'
import { ReplayGuard } from '../envelope/replay.js'
import type { EnvelopeService } from '../envelope/service.js'
import type { EventBus } from '../events/bus.js'
import type { SwarmMessage } from '../envelope/types.js'
import { uuidFromString } from '../envelope/uuid.js'

export interface HandlerContext { from: string }
/** Serves one message type. Its return value is the response payload when one is required. */
export type RequestHandler = (message: SwarmMessage, ctx: HandlerContext) => unknown

type Entry = { state: 'pending', writers: Set<FrameWriter> } | { state: 'done', ack: Uint8Array }

export interface InboundContext {
  envelope: EnvelopeService
  bus: EventBus
  handlers: Map<string, RequestHandler>
  maxConcurrent: number
  maxEntriesPerPeer: number
  count: (what: string) => void
  log: (msg: string, ...args: unknown[]) => void
}

const MAX_REASON = 256

export class Inbound {
  private readonly seen = new Map<string, ReplayGuard<Entry>>()

  constructor (private readonly ctx: InboundContext) {}

  private guard (peer: string): ReplayGuard<Entry> {
    let g = this.seen.get(peer)
    if (g == null) {
      g = new ReplayGuard<Entry>({ windowMs: this.ctx.envelope.replayWindowMs, maxEntries: this.ctx.maxEntriesPerPeer })
      this.seen.set(peer, g)
    }
    return g
  }

  async serve (stream: Stream, remote: string): Promise<void> {
    const decoder = new FrameDecoder(this.ctx.envelope.maxMessageBytes + 64)
    const writer = new FrameWriter(stream)
    let active = 0
    const done = (): void => {
      active--
      if (active === Math.floor(this.ctx.maxConcurrent / 2) && stream.readStatus === 'paused') stream.resume()
    }
    try {
      for await (const chunk of stream) {
        for (const body of decoder.push(chunk)) {
          let frame
          try {
            frame = decodeFrame(body)
          } catch {
            this.ctx.envelope.reject('malformed', 'direct')
            continue // the framing is intact, so the stream can go on
          }
          if (frame.envelope.length === 0) { this.ctx.count('unexpected_frame'); continue }
          active++
          if (active >= this.ctx.maxConcurrent) stream.pause()
          this.onEnvelope(frame.envelope, remote, writer).finally(done)
        }
        if (decoder.failure != null) throw decoder.failure
      }
    } catch (err) {
      // A bad length prefix leaves no way to find the next frame: drop the stream.
      if (err instanceof FrameError) {
        this.ctx.envelope.reject(err.code === 'too_large' ? 'too_large' : 'malformed', 'direct')
        this.ctx.log('dropping direct stream from %s: %s', remote, err.message)
      }
      stream.abort(err as Error)
    }
  }

  private async onEnvelope (bytes: Uint8Array, remote: string, writer: FrameWriter): Promise<void> {
    let msg: SwarmMessage
    try {
      msg = this.ctx.envelope.open(bytes, 'direct', remote)
    } catch (err) {
      const id = messageIdOf(bytes)
      if (id != null) writer.write(ackFrame(id, 'REJECTED', (err as EnvelopeError).code ?? 'malformed'))
      return
    }
    const guard = this.guard(remote)
    const now = this.ctx.envelope.now()
    const verdict = guard.check(msg.messageId, msg.timestamp, now)
    const id = uuidFromString(msg.messageId)!
    if (verdict.kind === 'duplicate') {
      this.ctx.count('duplicate')
      if (verdict.value.state === 'done') writer.write(verdict.value.ack)
      else verdict.value.writers.add(writer)
      return
    }
    if (verdict.kind === 'stale') {
      this.ctx.envelope.reject('stale', 'direct')
      writer.write(ackFrame(id, 'REJECTED', 'stale'))
      return
    }
    const entry: Entry = { state: 'pending', writers: new Set([writer]) }
    guard.remember(msg.messageId, msg.timestamp, entry, now)
    const ack = await this.process(msg, id, remote)
    guard.update(msg.messageId, { state: 'done', ack })
    for (const w of entry.writers) w.write(ack)
  }

  private async process (msg: SwarmMessage, id: Uint8Array, from: string): Promise<Uint8Array> {
    this.ctx.bus.dispatch(msg, 'direct')
    const handler = this.ctx.handlers.get(msg.type)
    if (handler == null) {
      return msg.requiresResponse
        ? ackFrame(id, 'REJECTED', `no handler for type ${msg.type}`)
        : ackFrame(id, 'OK')
    }
    try {
      const result = await handler(msg, { from })
      if (!msg.requiresResponse) return ackFrame(id, 'OK')
      const { bytes } = this.ctx.envelope.seal({
        type: 'data_response',
        payload: result ?? null,
        correlationId: msg.messageId,
        routing: 'direct',
        targetAgents: [msg.sourceAgent],
        priority: msg.priority
      })
      return ackFrame(id, 'OK', '', bytes)
    } catch (err) {
      this.ctx.count('handler_error')
      return ackFrame(id, 'REJECTED', `handler failed: ${String((err as Error)?.message ?? err).slice(0, MAX_REASON)}`)
    }
  }

  forget (peer: string): void { this.seen.delete(peer) }
}

function ackFrame (messageId: Uint8Array, status: 'OK' | 'REJECTED', reason = '', response?: Uint8Array): Uint8Array {
  return encodeFrame({
    envelope: new Uint8Array(0),
    ack: { messageId, status: status === 'OK' ? Ack.Status.OK : Ack.Status.REJECTED, reason, response: response ?? new Uint8Array(0) }
  } as Parameters<typeof encodeFrame>[0])
}

/** Best effort: the id of an envelope that failed verification, so the sender learns why. */
function messageIdOf (bytes: Uint8Array): Uint8Array | undefined {
  try {
    const id = PbMessage.decode(SignedEnvelope.decode(bytes).message).messageId
    return id.length === 16 ? id : undefined
  } catch {
    return undefined
  }
}
