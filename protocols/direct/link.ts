/**
 * The sending side towards one peer: a priority queue, a bounded in-flight window, one
 * long-lived stream (reopened when it fails), retries with backoff and jitter, and the
 * peer's circuit breaker. Every send ends exactly once: acked, rejected, or failed.
 */
import type { PeerId, Stream } from '@libp2p/interface'
import { CircuitBreaker, backoffDelay } from './breaker.js'
import { PriorityQueue } from './queue.js'
import { FrameDecoder, decodeFrame } from './frames.js'
import { FrameWriter } from './writer.js'
import { TimeoutError, UnreachableError, RejectedError, type MessagingError } from './errors.js'
import type { Ack } from './direct.pb.js'
import type { SwarmMessage } from '../envelope/types.js'
import { uuidToString } from '../envelope/uuid.js'

export interface SendResult {
  messageId: string
  latencyMs: number
  attempts: number
  response?: SwarmMessage
}

export interface Pending {
  id: string
  frame: Uint8Array
  rank: number
  requiresResponse: boolean
  startedAt: number
  deadline: number
  attemptTimeoutMs: number
  maxRetries: number
  attempts: number
  probe: boolean
  done: boolean
  lastError?: string
  deadlineTimer?: ReturnType<typeof setTimeout>
  attemptTimer?: ReturnType<typeof setTimeout>
  stream?: Stream
  resolve: (r: SendResult) => void
  reject: (e: MessagingError) => void
}

export interface LinkContext {
  now: () => number
  rand: () => number
  window: number
  maxFrameBytes: number
  openStream: (peer: PeerId, signal: AbortSignal) => Promise<Stream>
  /** Verifies a response envelope from this peer; throws EnvelopeError. */
  openResponse: (bytes: Uint8Array, from: string) => SwarmMessage
  onOutcome: (outcome: 'acked' | 'rejected' | 'timeout' | 'unreachable') => void
  log: (msg: string, ...args: unknown[]) => void
}

export class PeerLink {
  readonly queue = new PriorityQueue<Pending>()
  readonly inflight = new Map<string, Pending>()
  readonly breaker: CircuitBreaker
  readonly peerId: string
  private writer?: FrameWriter
  private opening = false
  private dialFailures = 0
  private redialTimer?: ReturnType<typeof setTimeout>
  private closed = false
  private readonly controller = new AbortController()

  constructor (readonly peer: PeerId, private readonly ctx: LinkContext, breaker: CircuitBreaker) {
    this.peerId = peer.toString()
    this.breaker = breaker
  }

  enqueue (p: Pending): void {
    const delay = Math.max(0, p.deadline - this.ctx.now())
    p.deadlineTimer = setTimeout(() => { this.expire(p) }, delay)
    this.queue.push(p, p.rank)
    this.pump()
  }

  /** Moves queued sends into the window and onto the stream. */
  private pump (): void {
    if (this.closed) return
    if (this.writer == null) { this.connect(); return }
    if (this.writer.blocked) return
    while (this.inflight.size < this.ctx.window && this.queue.size > 0) {
      const p = this.queue.shift()!
      if (p.done) continue
      this.inflight.set(p.id, p)
      this.transmit(p)
    }
  }

  private transmit (p: Pending): void {
    const w = this.writer
    if (w == null || p.done) return
    p.attempts++
    p.stream = w.stream
    w.write(p.frame)
    clearTimeout(p.attemptTimer)
    const wait = Math.min(p.attemptTimeoutMs, Math.max(0, p.deadline - this.ctx.now()))
    p.attemptTimer = setTimeout(() => { this.onAttemptTimeout(p) }, wait)
  }

  private onAttemptTimeout (p: Pending): void {
    if (p.done) return
    if (p.attempts > p.maxRetries) return // the deadline timer ends it
    p.lastError = 'no ack'
    // The same frame again: the receiver deduplicates by message id.
    p.attemptTimer = setTimeout(() => {
      if (this.writer != null && !this.writer.blocked) this.transmit(p)
      else p.stream = undefined // resent when a stream is up again
    }, backoffDelay(p.attempts - 1, this.ctx.rand))
  }

  private connect (): void {
    if (this.opening || this.closed || this.redialTimer != null) return
    this.opening = true
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(10_000)])
    this.ctx.openStream(this.peer, signal).then(stream => {
      this.opening = false
      if (this.closed) { stream.abort(new Error('link closed')); return }
      this.dialFailures = 0
      this.attach(stream)
    }, (err: Error) => {
      this.opening = false
      this.onDialFailure(err)
    })
  }

  private attach (stream: Stream): void {
    const writer = new FrameWriter(stream, () => { this.pump() })
    this.writer = writer
    void this.readAcks(stream)
    // Sends that were in flight on a dead stream go first, then the queue.
    for (const p of this.inflight.values()) {
      if (p.stream == null || p.stream !== stream) this.transmit(p)
    }
    this.pump()
  }

  private async readAcks (stream: Stream): Promise<void> {
    const decoder = new FrameDecoder(this.ctx.maxFrameBytes)
    try {
      for await (const chunk of stream) {
        for (const body of decoder.push(chunk)) {
          const frame = decodeFrame(body)
          if (frame.ack != null) this.onAck(frame.ack)
        }
        if (decoder.failure != null) throw decoder.failure
      }
    } catch (err) {
      this.ctx.log('stream to %s failed: %s', this.peerId, (err as Error).message)
      stream.abort(err as Error)
    } finally {
      this.onStreamClosed(stream)
    }
  }

  private onStreamClosed (stream: Stream): void {
    if (this.writer?.stream === stream) this.writer = undefined
    if (this.closed) return
    let waiting = 0
    for (const p of this.inflight.values()) {
      if (p.stream !== stream) continue
      p.stream = undefined
      p.lastError = 'stream closed'
      clearTimeout(p.attemptTimer)
      if (p.attempts > p.maxRetries) this.finish(p, new UnreachableError(`stream to ${this.peerId} closed after ${p.attempts} attempts`), 'unreachable')
      else waiting++
    }
    if (waiting > 0 || this.queue.size > 0) this.scheduleRedial()
  }

  private onDialFailure (err: Error): void {
    this.dialFailures++
    this.ctx.log('cannot open a stream to %s: %s', this.peerId, err.message)
    const reason = `cannot reach ${this.peerId}: ${err.message}`
    // Each waiting send spends one attempt per failed dial.
    for (const p of [...this.inflight.values(), ...this.queue.drain()]) {
      if (p.done) continue
      p.attempts++
      p.lastError = reason
      if (p.attempts > p.maxRetries || this.ctx.now() >= p.deadline) {
        this.finish(p, new UnreachableError(reason), 'unreachable')
      } else if (!this.inflight.has(p.id)) {
        this.queue.push(p, p.rank)
      }
    }
    if (this.inflight.size > 0 || this.queue.size > 0) this.scheduleRedial()
  }

  private scheduleRedial (): void {
    if (this.redialTimer != null || this.closed) return
    this.redialTimer = setTimeout(() => {
      this.redialTimer = undefined
      this.connect()
    }, backoffDelay(this.dialFailures, this.ctx.rand))
  }

  private onAck (ack: Ack): void {
    const id = uuidToString(ack.messageId)
    const p = this.inflight.get(id)
    if (p == null || p.done) return // a late or repeated ack
    if (ack.status === 'REJECTED') {
      this.finish(p, new RejectedError(ack.reason === '' ? 'refused' : ack.reason), 'rejected')
      return
    }
    let response: SwarmMessage | undefined
    if (ack.response.length > 0) {
      try {
        response = this.ctx.openResponse(ack.response, this.peerId)
      } catch (err) {
        this.finish(p, new RejectedError(`invalid response: ${(err as Error).message}`), 'rejected')
        return
      }
      if (response.correlationId !== p.id) {
        this.finish(p, new RejectedError('response does not correlate with the request'), 'rejected')
        return
      }
    } else if (p.requiresResponse) {
      this.finish(p, new RejectedError('no response'), 'rejected')
      return
    }
    this.finish(p, { messageId: p.id, latencyMs: this.ctx.now() - p.startedAt, attempts: p.attempts, response }, 'acked')
  }

  private expire (p: Pending): void {
    if (p.done) return
    this.queue.remove(p)
    const err = p.lastError != null && p.lastError !== 'no ack'
      ? new UnreachableError(`${p.lastError} (gave up after ${p.attempts} attempts)`)
      : new TimeoutError(`no ack from ${this.peerId} within ${p.deadline - p.startedAt} ms (${p.attempts} attempts)`)
    this.finish(p, err, err instanceof TimeoutError ? 'timeout' : 'unreachable')
  }

  private finish (p: Pending, outcome: SendResult | MessagingError, kind: 'acked' | 'rejected' | 'timeout' | 'unreachable'): void {
    if (p.done) return
    p.done = true
    clearTimeout(p.deadlineTimer)
    clearTimeout(p.attemptTimer)
    this.inflight.delete(p.id)
    // A rejection proves the peer is alive: only silence and unreachability trip the breaker.
    if (kind === 'acked' || kind === 'rejected') this.breaker.success()
    else this.breaker.failure(this.ctx.now(), p.probe)
    this.ctx.onOutcome(kind)
    if (kind === 'acked') p.resolve(outcome as SendResult)
    else p.reject(outcome as MessagingError)
    this.pump()
  }

  get idle (): boolean { return this.inflight.size === 0 && this.queue.size === 0 }

  close (reason: string): void {
    this.closed = true
    this.controller.abort()
    clearTimeout(this.redialTimer)
    for (const p of [...this.inflight.values(), ...this.queue.drain()]) {
      if (!p.done) this.finish(p, new UnreachableError(reason), 'unreachable')
    }
    const w = this.writer
    this.writer = undefined
    w?.stream.abort(new Error(reason))
  }
}
