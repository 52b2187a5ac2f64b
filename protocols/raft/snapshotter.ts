/**
 * The Raft service's snapshots: taking them (a file per snapshot, snapshot.ts), streaming one to
 * a follower that needs entries the leader compacted away (snapshot-transfer.ts over raft frames),
 * and receiving one. A received file, once complete and verified, is handed to the core as the
 * MsgSnap the chunks carried (core contract: step only when the data is all there).
 */
import type { Logger } from 'pino'
import type { SnapshotMeta } from './core/index.js'
import { SnapshotSender, SnapshotReceiver, type SnapshotOffer } from './snapshot-transfer.js'
import { latestSnapshot, pruneSnapshots, readSnapshotMeta, writeSnapshot } from './snapshot.js'
import type { RaftFrame } from './raft.pb.js'

/** A transfer with no acknowledged progress for this long is given up (the core retries). */
const STALL_MS = 10_000
/** No acknowledged progress for this long: chunks or acks were lost, send again from the follower's offset. */
const RESEND_MS = 1000
const CHECK_MS = 250

export interface SnapshotterHost {
  dir: string
  cluster: () => string
  /** False when the frame was dropped. */
  send: (to: string, frame: RaftFrame) => boolean
  /** Resolves when a frame to `to` would not be dropped for backpressure. */
  writable: (to: string) => Promise<void>
  reportSnapshot: (to: string, status: 'finished' | 'failed') => void
  /** A complete, verified snapshot from `from` (the leader) for the core. */
  received: (from: string, term: number, meta: SnapshotMeta) => void
  log?: Logger
}

interface Outgoing { sender: SnapshotSender, term: number, lastProgress: number, resentAt: number, pumping: boolean }

const enc = new TextEncoder()
const dec = new TextDecoder()

export class Snapshotter {
  private readonly outgoing = new Map<string, Outgoing>()
  private incoming: { r: SnapshotReceiver, index: number, crc: number } | null = null
  private chunks: Promise<void> = Promise.resolve()
  private timer?: ReturnType<typeof setInterval>
  /** Bytes sent and received, for status and the benchmark. */
  readonly stats = { taken: 0, lastIndex: 0, lastBytes: 0, sentBytes: 0, receivedBytes: 0, installs: 0 }

  constructor (private readonly host: SnapshotterHost) {}

  start (): void {
    this.timer = setInterval(() => { this.checkStalls() }, CHECK_MS)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    for (const o of this.outgoing.values()) await o.sender.close().catch(() => {})
    this.outgoing.clear()
    await this.incoming?.r.close().catch(() => {})
    this.incoming = null
  }

  /** Writes a snapshot file (records streamed, not buffered) and keeps the newest two. */
  async take (meta: SnapshotMeta, kv: Iterable<[string, Uint8Array]>, coord: Uint8Array): Promise<number> {
    const written = await writeSnapshot(this.host.dir, { index: meta.index, term: meta.term, voters: meta.voters, learners: meta.learners, cluster: this.host.cluster() }, kv, coord)
    await pruneSnapshots(this.host.dir, 2)
    this.stats.taken++
    this.stats.lastIndex = meta.index
    this.stats.lastBytes = written.bytes
    return written.bytes
  }

  // ---- leader side ----------------------------------------------------------------------

  /** The core wants `to` to get a snapshot at least as new as `index`. */
  async send (to: string, term: number, index: number): Promise<void> {
    if (this.outgoing.has(to)) return
    const latest = await latestSnapshot(this.host.dir).catch(() => null)
    if (latest === null || latest.meta.index < index) {
      this.host.log?.warn({ to, index }, 'raft: a follower needs a snapshot this node does not have yet')
      this.host.reportSnapshot(to, 'failed')
      return
    }
    const sender = await SnapshotSender.open(latest.path)
    this.outgoing.set(to, { sender, term, lastProgress: performance.now(), resentAt: 0, pumping: false })
    this.host.log?.info({ to, index: latest.meta.index, bytes: latest.bytes }, 'raft: sending a snapshot')
    await this.pump(to)
  }

  onAck (from: string, ack: { index: number, offset: number, done: boolean, error: string }): void {
    const o = this.outgoing.get(from)
    if (o === undefined || ack.index !== o.sender.index) return
    if (ack.error !== '') { void this.finish(from, 'failed'); return }
    if (ack.offset > o.sender.acknowledged) o.lastProgress = performance.now()
    o.sender.ack(ack.offset)
    if (ack.done) { void this.finish(from, 'finished'); return }
    void this.pump(from)
  }

  private async pump (to: string): Promise<void> {
    const o = this.outgoing.get(to)
    if (o === undefined || o.pumping) return
    o.pumping = true
    try {
      for (;;) {
        const c = await o.sender.next()
        if (c === null) break
        // A chunk dropped behind the appends would only be sent again after RESEND_MS.
        await this.host.writable(to)
        if (this.outgoing.get(to) !== o) break
        const sent = this.host.send(to, { snapChunk: { index: c.index, term: o.term, offset: c.offset, total: c.total, data: c.data as Uint8Array<ArrayBuffer>, meta: c.meta !== undefined ? enc.encode(JSON.stringify(c.meta)) : new Uint8Array(0) } })
        if (!sent) {
          // Unreachable for now: the stall check sends again from what the follower has.
          o.sender.resumeFrom(o.sender.acknowledged)
          break
        }
        this.stats.sentBytes += c.data.length
      }
    } catch (err) {
      this.host.log?.warn({ err, to }, 'raft: reading the snapshot to send failed')
      await this.finish(to, 'failed')
    } finally {
      o.pumping = false
    }
  }

  private async finish (to: string, status: 'finished' | 'failed'): Promise<void> {
    const o = this.outgoing.get(to)
    if (o === undefined) return
    this.outgoing.delete(to)
    await o.sender.close().catch(() => {})
    this.host.log?.info({ to, status }, 'raft: snapshot transfer ended')
    this.host.reportSnapshot(to, status)
  }

  private checkStalls (): void {
    const now = performance.now()
    for (const [to, o] of this.outgoing) {
      if (now - o.lastProgress > STALL_MS) { void this.finish(to, 'failed'); continue }
      if (now - Math.max(o.lastProgress, o.resentAt) < RESEND_MS) continue
      o.resentAt = now
      // Acks lost: resend from what the follower has.
      o.sender.resumeFrom(o.sender.acknowledged)
      void this.pump(to)
    }
  }

  // ---- follower side --------------------------------------------------------------------

  onChunk (from: string, c: { index: number, term: number, offset: number, total: number, data: Uint8Array, meta: Uint8Array }): void {
    // One chunk at a time, in arrival order: chunks that arrive while the first one still opens
    // the part file must not find no transfer and be answered "from 0" (lost until a resend).
    // Queued chunks are bounded by the sender's window.
    this.chunks = this.chunks.then(async () => { await this.accept(from, c) }).catch(err => {
      this.host.log?.warn({ err: (err as Error).message }, 'raft: a snapshot chunk failed')
      this.host.send(from, { snapAck: { index: c.index, offset: 0, done: false, error: (err as Error).message.slice(0, 200) } })
    })
  }

  private async accept (from: string, c: { index: number, term: number, offset: number, total: number, data: Uint8Array, meta: Uint8Array }): Promise<void> {
    if (c.meta.length > 0) {
      const offer = JSON.parse(dec.decode(c.meta)) as SnapshotOffer
      if (this.incoming === null || this.incoming.index !== offer.index || this.incoming.crc !== offer.crc) {
        await this.incoming?.r.close().catch(() => {})
        this.incoming = { r: await SnapshotReceiver.open(this.host.dir, offer), index: offer.index, crc: offer.crc }
      }
    }
    const inc = this.incoming
    if (inc === null || inc.index !== c.index) {
      // A chunk of a transfer we have no offer for: ask from the start (the offer comes again).
      this.host.send(from, { snapAck: { index: c.index, offset: 0, done: false, error: '' } })
      return
    }
    const r = await inc.r.accept(c.offset, c.data)
    this.stats.receivedBytes += r.status === 'ok' ? c.data.length : 0
    if (!r.complete) {
      this.host.send(from, { snapAck: { index: c.index, offset: r.next, done: false, error: '' } })
      return
    }
    const path = await inc.r.finish()
    this.incoming = null
    const meta = await readSnapshotMeta(path)
    this.stats.installs++
    this.host.received(from, c.term, { index: meta.index, term: meta.term, voters: meta.voters, learners: meta.learners })
    this.host.send(from, { snapAck: { index: c.index, offset: r.next, done: true, error: '' } })
  }
}
