/**
 * Chunked transfer of a snapshot file (snapshot.ts) from a leader to one follower, as two state
 * machines the raft transport drives; neither does I/O beyond its own file.
 *
 * The sender reads chunks at its offset, at most `window` of them unacknowledged, the first
 * chunk after (re)starting carrying the offer (meta, size, crc). The receiver appends chunks at
 * contiguous offsets to `<dir>/incoming-<index>.part` and answers each with the offset it needs
 * next; that offset is the whole protocol: the sender moves its window on it, rewinds to it when
 * the receiver missed something, and jumps to it when the receiver already has more (a part file
 * kept across a restart). On the last byte the receiver verifies the file (size, crc, meta) and
 * renames it to `snap-<index>.snap`. Memory on either side: the chunks in flight.
 *
 * Driver sketch, leader: `s = await SnapshotSender.open(path)`; send every `await s.next()` until
 * null; on an ack `s.ack(a.offset)` and send again; when no ack came for a while `s.resumeFrom(
 * s.acknowledged)`; stop on `a.done` or `a.error`, then `s.close()`.
 * Follower: on a chunk with `meta` newer than the current receiver (or with another crc), abort
 * that one and `r = await SnapshotReceiver.open(dir, chunk.meta)`; `await r.accept(offset, data)`;
 * once `complete`, `await r.finish()` and install; answer every chunk with `r.ack()` (or with
 * `{index, offset: 0, error}` after an error, having called `r.abort()`).
 */
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import {
  END_RECORD_BYTES, PART_NAME, SnapshotCorruptError, encodeHeader, fileSize, metaProblem, padIndex,
  readSnapshotMeta, sameMeta, snapshotPath, syncDir, verifySnapshot, type SnapshotFileMeta
} from './snapshot.js'

export const DEFAULT_CHUNK_BYTES = 256 * 1024
export const DEFAULT_WINDOW = 4
/** The largest chunk either side takes. */
export const MAX_CHUNK_BYTES = 4 * 1024 * 1024

/** What the receiver needs to know up front: the snapshot's meta, its size and its end crc. */
export interface SnapshotOffer extends SnapshotFileMeta {
  crc: number
  total: number
}

/** Leader to follower. */
export interface SnapshotChunk {
  index: number
  term: number
  offset: number
  total: number
  data: Uint8Array
  /** On the first chunk after the sender starts or rewinds. */
  meta?: SnapshotOffer
}

/** Follower to leader: `offset` is the next byte the follower needs. */
export interface SnapshotAck {
  index: number
  offset: number
  /** The snapshot is complete, verified and in place. */
  done?: boolean
  /** The follower gave up on this transfer (and removed what it had). */
  error?: string
}

export interface OutgoingChunk extends SnapshotChunk {
  /** This chunk ends at the last byte. */
  done: boolean
}

export type AcceptStatus = 'ok' | 'duplicate' | 'gap'

export interface AcceptResult {
  status: AcceptStatus
  /** The offset the receiver needs next. */
  next: number
  /** Every byte is in: call finish(). */
  complete: boolean
}

/** A peer broke the transfer protocol: an offset or size that does not fit the offer. */
export class SnapshotTransferError extends Error {
  constructor (message: string) { super(message); this.name = 'SnapshotTransferError' }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isU32 = (v: unknown): v is number => isCount(v) && v <= 0xffffffff

/** Why `o` is not an offer a receiver can take, or undefined. */
export function offerProblem (o: unknown): string | undefined {
  const problem = metaProblem(o)
  if (problem !== undefined) return problem
  const offer = o as SnapshotOffer
  if (!isU32(offer.crc)) return 'offer.crc is not a u32'
  if (!isCount(offer.total)) return 'offer.total is not an integer >= 0'
  let header: Uint8Array
  try {
    header = encodeHeader(offer)
  } catch (err) {
    return (err as Error).message
  }
  if (offer.total < header.length + END_RECORD_BYTES) return `offer.total ${offer.total} is smaller than an empty snapshot`
  return undefined
}

async function readFully (fh: FileHandle, into: Uint8Array, position: number): Promise<number> {
  let got = 0
  while (got < into.length) {
    const { bytesRead } = await fh.read(into, got, into.length - got, position + got)
    if (bytesRead === 0) break
    got += bytesRead
  }
  return got
}

async function writeFully (fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done)
    done += bytesWritten
  }
}

/** Sends one snapshot file to one follower; see the top of the file. */
export class SnapshotSender {
  /** Next byte to send. */
  private sent = 0
  /** The receiver's last reported next offset. */
  private acked = 0
  /** [start, end) of the chunks sent and not yet acknowledged, in order. */
  private inflight: Array<[number, number]> = []
  private announce = true
  private closed = false

  private constructor (private readonly fh: FileHandle, readonly offer: SnapshotOffer, readonly window: number) {}

  /**
   * For a snapshot file that verified (writeSnapshot, latestSnapshot): only its header and end
   * record are read here. `window`: chunks in flight at most.
   */
  static async open (path: string, opts: { window?: number } = {}): Promise<SnapshotSender> {
    const window = opts.window ?? DEFAULT_WINDOW
    if (!Number.isSafeInteger(window) || window < 1) throw new RangeError('SnapshotSender: window must be an integer >= 1')
    const meta = await readSnapshotMeta(path)
    const fh = await open(path, 'r')
    try {
      const total = (await fh.stat()).size
      const end = new Uint8Array(END_RECORD_BYTES)
      // The end record: kind 3 | count u64 | crc u32 (snapshot.ts).
      if (total < END_RECORD_BYTES || await readFully(fh, end, total - END_RECORD_BYTES) !== END_RECORD_BYTES || end[0] !== 3) {
        throw new SnapshotCorruptError('no end record', path)
      }
      const crc = new DataView(end.buffer).getUint32(9)
      return new SnapshotSender(fh, { ...meta, crc, total }, window)
    } catch (err) {
      await fh.close()
      throw err
    }
  }

  get index (): number { return this.offer.index }
  get total (): number { return this.offer.total }
  /** The receiver's next wanted offset, as last acknowledged. */
  get acknowledged (): number { return this.acked }
  /** Chunks sent and not acknowledged. */
  get inFlight (): number { return this.inflight.length }
  /** The receiver has every byte (its final ack, with done, says whether it verified them). */
  get done (): boolean { return this.acked >= this.offer.total }

  /**
   * The next chunk, of at most `maxChunk` bytes, or null while the window is full or everything
   * is sent. Concurrent calls get consecutive chunks.
   */
  async next (maxChunk = DEFAULT_CHUNK_BYTES): Promise<OutgoingChunk | null> {
    if (this.closed) throw new SnapshotTransferError('sender is closed')
    if (!Number.isSafeInteger(maxChunk) || maxChunk < 1 || maxChunk > MAX_CHUNK_BYTES) throw new RangeError(`SnapshotSender: maxChunk must be 1..${MAX_CHUNK_BYTES}`)
    const { total } = this.offer
    if (this.inflight.length >= this.window || this.sent >= total) return null
    // Claimed before the read, so a concurrent call takes the following range.
    const offset = this.sent
    const end = Math.min(total, offset + maxChunk)
    this.sent = end
    this.inflight.push([offset, end])
    const chunk: OutgoingChunk = { index: this.offer.index, term: this.offer.term, offset, total, data: new Uint8Array(end - offset), done: end === total }
    if (this.announce) {
      chunk.meta = { ...this.offer, voters: this.offer.voters.slice(), learners: this.offer.learners.slice() }
      this.announce = false
    }
    if (await readFully(this.fh, chunk.data, offset) !== chunk.data.length) throw new SnapshotCorruptError(`file shrank below ${end} bytes while sending`)
    return chunk
  }

  /**
   * The receiver needs `offset` next. Chunks below it are done; when it is short of the oldest
   * chunk in flight (it missed one) or past what was sent (it had more), sending goes on from it.
   */
  ack (offset: number): void {
    if (!isCount(offset) || offset > this.offer.total) throw new SnapshotTransferError(`ack offset ${offset} outside 0..${this.offer.total}`)
    this.acked = offset
    while (this.inflight.length > 0 && this.inflight[0]![1] <= offset) this.inflight.shift()
    const oldest = this.inflight[0]
    if (oldest !== undefined ? oldest[0] > offset : this.sent !== offset) this.rewind(offset)
  }

  /** Starts over from `offset` (what the receiver reported it has), announcing the offer again. */
  resumeFrom (offset: number): void {
    if (!isCount(offset) || offset > this.offer.total) throw new SnapshotTransferError(`resume offset ${offset} outside 0..${this.offer.total}`)
    this.acked = offset
    this.rewind(offset)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.fh.close()
  }

  private rewind (offset: number): void {
    this.sent = offset
    this.inflight = []
    this.announce = true
  }
}

/** Receives one snapshot into `<dir>/incoming-<index>.part`; see the top of the file. */
export class SnapshotReceiver {
  private state: 'open' | 'finished' | 'closed' = 'open'
  private queue: Promise<unknown> = Promise.resolve()

  private constructor (
    readonly dir: string,
    readonly offer: SnapshotOffer,
    readonly partPath: string,
    private fh: FileHandle | null,
    private next: number
  ) {}

  static partPath (dir: string, index: number): string {
    return join(dir, `incoming-${padIndex(index)}.part`)
  }

  /**
   * Removes part files of older snapshots, and takes up the part file of this one where it ends
   * (unless it cannot belong to this offer: longer than it, or a different header). Throws
   * SnapshotTransferError for a malformed offer.
   */
  static async open (dir: string, offer: SnapshotOffer): Promise<SnapshotReceiver> {
    const problem = offerProblem(offer)
    if (problem !== undefined) throw new SnapshotTransferError(`snapshot offer: ${problem}`)
    const own: SnapshotOffer = { ...offer, voters: offer.voters.slice(), learners: offer.learners.slice() }
    await mkdir(dir, { recursive: true })
    for (const name of await readdir(dir)) {
      const m = PART_NAME.exec(name)
      if (m !== null && Number(m[1]) < offer.index) await rm(join(dir, name), { force: true })
    }
    const path = SnapshotReceiver.partPath(dir, offer.index)
    const size = await fileSize(path)
    const fh = await open(path, size === null ? 'w+' : 'r+')
    try {
      let next = size ?? 0
      if (next > 0 && (next > offer.total || !await startsWith(fh, encodeHeader(own), next))) {
        await fh.truncate(0)
        next = 0
      }
      return new SnapshotReceiver(dir, own, path, fh, next)
    } catch (err) {
      await fh.close()
      throw err
    }
  }

  get index (): number { return this.offer.index }
  /** Every byte is in. */
  get complete (): boolean { return this.next === this.offer.total }

  /** Where the transfer continues: the bytes already in the part file (0 for a new one). */
  resumeOffset (): number { return this.next }

  /** The answer to the last chunk. */
  ack (): SnapshotAck {
    const a: SnapshotAck = { index: this.offer.index, offset: this.next }
    if (this.state === 'finished') a.done = true
    return a
  }

  /**
   * Writes the chunk if it continues the part file: 'ok'. Already had it: 'duplicate'. It starts
   * past the end of the part file: 'gap' (nothing written). A chunk overlapping the end is
   * written from the end on. Calls are serialized.
   */
  async accept (offset: number, data: Uint8Array): Promise<AcceptResult> {
    return await this.serial(async () => {
      const fh = this.fh
      if (this.state !== 'open' || fh === null) throw new SnapshotTransferError('receiver is closed')
      if (!isCount(offset)) throw new SnapshotTransferError(`chunk offset ${offset} is not an integer >= 0`)
      if (data.length > MAX_CHUNK_BYTES) throw new SnapshotTransferError(`chunk of ${data.length} bytes is over ${MAX_CHUNK_BYTES}`)
      const end = offset + data.length
      if (end > this.offer.total) throw new SnapshotTransferError(`chunk ${offset}..${end} ends past the announced ${this.offer.total} bytes`)
      let status: AcceptStatus
      if (offset > this.next) status = 'gap'
      else if (end <= this.next) status = 'duplicate'
      else {
        await writeFully(fh, data.subarray(this.next - offset), this.next)
        this.next = end
        status = 'ok'
      }
      return { status, next: this.next, complete: this.complete }
    })
  }

  /**
   * With every byte in: fsyncs the part file, verifies it (size, crc and meta as offered, then
   * every record and the file's own crc), renames it to `snap-<index>.snap` and returns that
   * path. A part that fails is removed (SnapshotCorruptError): the transfer starts over.
   */
  async finish (): Promise<string> {
    return await this.serial(async () => {
      const fh = this.fh
      if (this.state !== 'open' || fh === null) throw new SnapshotTransferError('receiver is closed')
      if (!this.complete) throw new SnapshotTransferError(`have ${this.next} of ${this.offer.total} bytes`)
      await fh.sync()
      await fh.close()
      this.fh = null
      this.state = 'closed'
      try {
        const info = await verifySnapshot(this.partPath)
        if (info.bytes !== this.offer.total) throw new SnapshotCorruptError(`${info.bytes} bytes, ${this.offer.total} offered`, this.partPath)
        if (info.crc !== this.offer.crc) throw new SnapshotCorruptError(`crc ${info.crc}, ${this.offer.crc} offered`, this.partPath)
        if (!sameMeta(info.meta, this.offer)) throw new SnapshotCorruptError('meta differs from the offer', this.partPath)
      } catch (err) {
        if (err instanceof SnapshotCorruptError) await rm(this.partPath, { force: true })
        throw err
      }
      const path = snapshotPath(this.dir, this.offer.index)
      await rename(this.partPath, path)
      await syncDir(this.dir)
      this.state = 'finished'
      return path
    })
  }

  /** Gives the transfer up and removes the part file. */
  async abort (): Promise<void> {
    await this.serial(async () => {
      await this.release()
      if (this.state !== 'finished') {
        this.state = 'closed'
        await rm(this.partPath, { force: true })
      }
    })
  }

  /** Lets go of the part file but keeps it, for a later receiver to resume (shutdown). */
  async close (): Promise<void> {
    await this.serial(async () => {
      await this.release()
      if (this.state === 'open') this.state = 'closed'
    })
  }

  private async release (): Promise<void> {
    const fh = this.fh
    this.fh = null
    await fh?.close()
  }

  private async serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn)
    this.queue = run.catch(() => undefined)
    return await run
  }
}

/** Whether the file's first `size` bytes are a prefix of `header` or start with all of it. */
async function startsWith (fh: FileHandle, header: Uint8Array, size: number): Promise<boolean> {
  const want = header.subarray(0, Math.min(size, header.length))
  const have = new Uint8Array(want.length)
  if (await readFully(fh, have, 0) !== have.length) return false
  return have.every((b, i) => b === want[i])
}
