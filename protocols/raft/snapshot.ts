/**
 * Raft snapshot files: the key-value state and the coordination state at one log index, written
 * and read as a stream so that neither side ever holds the whole snapshot in memory.
 *
 * Layout (integers big-endian):
 *   header   "SWSNAP1" | version u8 (1) | meta length u32 | crc32(meta) u32 | meta
 *            meta: JSON {index, term, voters, learners, cluster, createdAt}, utf8, <= 1 MiB
 *   records  kind u8, then by kind:
 *     1 kv     key length u16 | record length u32 | key (utf8, <= 1 KiB) | record (<= 512 KiB, kv.ts encodeRecord)
 *     2 coord  length u32 | data (<= 256 MiB, coordination encodeSnapshot); exactly one per file
 *   end      kind u8 (3) | record count u64 (kv and coord) | crc32 u32
 *            the crc covers every byte of the file before it; nothing may follow it
 *
 * The meta has its own crc so readSnapshotMeta can trust it without reading the file; the end
 * crc, written last, is what makes a file complete: a torn write never ends in a matching one.
 * Every length is checked against its limit and against the bytes left in the file before
 * anything is allocated for it, so a corrupt length fails fast instead of exhausting memory.
 *
 * Files in a snapshot directory (index: 16 decimal digits, so names sort by index):
 *   snap-<index>.snap      a complete snapshot (written as .tmp, fsync'd, renamed, dir fsync'd)
 *   snap-<index>.tmp       a write in progress, or one a crash interrupted: never read
 *   incoming-<index>.part  a snapshot being received (snapshot-transfer.ts)
 */
import { once } from 'node:events'
import { createWriteStream, type WriteStream } from 'node:fs'
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import { crc32 } from 'node:zlib'

export const SNAPSHOT_MAGIC = 'SWSNAP1'
export const SNAPSHOT_VERSION = 1
export const MAX_SNAPSHOT_KEY_BYTES = 1024
export const MAX_SNAPSHOT_RECORD_BYTES = 512 * 1024
export const MAX_SNAPSHOT_COORD_BYTES = 256 * 1024 * 1024
export const MAX_SNAPSHOT_META_BYTES = 1024 * 1024

const KIND_KV = 1
const KIND_COORD = 2
const KIND_END = 3
const MAGIC = new TextEncoder().encode(SNAPSHOT_MAGIC)
/** magic | version | meta length | meta crc */
const HEADER_FIXED = MAGIC.length + 1 + 4 + 4
/** kind | count | crc */
export const END_RECORD_BYTES = 1 + 8 + 4
/** Reads and writes go through buffers of this size; small records are batched into them. */
const IO_CHUNK = 64 * 1024
/** Longest stretch a snapshot write keeps the event loop before letting other work in (ms). */
const WRITE_SLICE_MS = 4

/** What a snapshot is of: the state after applying every entry up to `index` (of `term`). */
export interface SnapshotFileMeta {
  index: number
  term: number
  voters: string[]
  learners: string[]
  cluster: string
  /** Milliseconds since the epoch. */
  createdAt: number
}

export type SnapshotRecord =
  | { kind: 'kv', key: string, record: Uint8Array }
  | { kind: 'coord', data: Uint8Array }

export interface WrittenSnapshot {
  path: string
  /** File size. */
  bytes: number
  /** The crc of the end record (what a transfer announces). */
  crc: number
  meta: SnapshotFileMeta
}

/** A snapshot file that was read through and verified. */
export interface SnapshotInfo extends WrittenSnapshot {
  /** kv and coord records. */
  records: number
}

export interface SnapshotFile {
  index: number
  path: string
}

/** A snapshot file (or a received one) that is not what the writer wrote: bad magic, crc, length, truncated. */
export class SnapshotCorruptError extends Error {
  constructor (message: string, readonly path?: string) {
    super(path === undefined ? message : `${path}: ${message}`)
    this.name = 'SnapshotCorruptError'
  }
}

const enc = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

export function padIndex (index: number): string {
  return String(index).padStart(16, '0')
}

export function snapshotPath (dir: string, index: number): string {
  return join(dir, `snap-${padIndex(index)}.snap`)
}

function setU64 (view: DataView, offset: number, n: number): void {
  view.setUint32(offset, Math.floor(n / 2 ** 32))
  view.setUint32(offset + 4, n >>> 0)
}

function getU64 (view: DataView, offset: number): number {
  return view.getUint32(offset) * 2 ** 32 + view.getUint32(offset + 4)
}

function viewOf (b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength)
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(s => typeof s === 'string')

/** Why `v` is not a SnapshotFileMeta, or undefined when it is one. */
export function metaProblem (v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return 'meta is not an object'
  const m = v as Record<string, unknown>
  if (!isCount(m.index)) return 'meta.index is not an integer >= 0'
  if (!isCount(m.term)) return 'meta.term is not an integer >= 0'
  if (!isStrings(m.voters)) return 'meta.voters is not a list of strings'
  if (!isStrings(m.learners)) return 'meta.learners is not a list of strings'
  if (typeof m.cluster !== 'string') return 'meta.cluster is not a string'
  if (!isCount(m.createdAt)) return 'meta.createdAt is not an integer >= 0'
  return undefined
}

/** A copy holding only the meta fields, in a fixed order (the header bytes depend on it). */
function cleanMeta (m: SnapshotFileMeta): SnapshotFileMeta {
  return { index: m.index, term: m.term, voters: m.voters.slice(), learners: m.learners.slice(), cluster: m.cluster, createdAt: m.createdAt }
}

export function sameMeta (a: SnapshotFileMeta, b: SnapshotFileMeta): boolean {
  return JSON.stringify(cleanMeta(a)) === JSON.stringify(cleanMeta(b))
}

/** The header a snapshot with this meta starts with; the same meta always gives the same bytes. */
export function encodeHeader (meta: SnapshotFileMeta): Uint8Array {
  const problem = metaProblem(meta)
  if (problem !== undefined) throw new TypeError(`snapshot: ${problem}`)
  const json = enc.encode(JSON.stringify(cleanMeta(meta)))
  if (json.length > MAX_SNAPSHOT_META_BYTES) throw new RangeError(`snapshot: meta of ${json.length} bytes is over ${MAX_SNAPSHOT_META_BYTES}`)
  const out = new Uint8Array(HEADER_FIXED + json.length)
  out.set(MAGIC)
  const view = viewOf(out)
  out[MAGIC.length] = SNAPSHOT_VERSION
  view.setUint32(MAGIC.length + 1, json.length)
  view.setUint32(MAGIC.length + 5, crc32(json))
  out.set(json, HEADER_FIXED)
  return out
}

/**
 * Buffered output to a file write stream: small writes are batched into IO_CHUNK buffers, and a
 * full stream buffer (write() returning false) is waited out, so memory stays at a few chunks.
 */
class Sink {
  private buf = new Uint8Array(IO_CHUNK)
  private fill = 0
  private failure: Error | null = null
  private readonly stream: WriteStream
  /** crc32 of everything handed to the stream; the buffered rest is folded in by `crc`. */
  private flushedCrc = 0
  bytes = 0

  constructor (path: string) {
    // flush: the stream fsyncs the file before it closes it (and fails if that fails).
    this.stream = createWriteStream(path, { flush: true, highWaterMark: 4 * IO_CHUNK })
    this.stream.on('error', err => { this.failure ??= err })
  }

  /** crc32 of everything put so far. */
  get crc (): number { return crc32(this.buf.subarray(0, this.fill), this.flushedCrc) }

  /**
   * Copies `data` into the output; `direct` passes it to the stream as is (it must not change
   * until close). Undefined when it fit in the buffer: a snapshot has millions of small puts, and
   * neither a promise nor a checksum call per put is free.
   */
  put (data: Uint8Array, direct = false): Promise<void> | undefined {
    if (!direct && data.length <= IO_CHUNK - this.fill) {
      this.buf.set(data, this.fill)
      this.fill += data.length
      this.bytes += data.length
      return undefined
    }
    return this.putSlow(data, direct)
  }

  private async putSlow (data: Uint8Array, direct: boolean): Promise<void> {
    this.bytes += data.length
    if (direct && data.length >= IO_CHUNK) {
      await this.flush()
      this.flushedCrc = crc32(data, this.flushedCrc)
      await this.write(data)
      return
    }
    let at = 0
    while (at < data.length) {
      const n = Math.min(data.length - at, IO_CHUNK - this.fill)
      this.buf.set(data.subarray(at, at + n), this.fill)
      this.fill += n
      at += n
      if (this.fill === IO_CHUNK) await this.flush()
    }
  }

  /** Writes what is buffered, then resolves once the file is fsync'd and closed. */
  async close (): Promise<void> {
    await this.flush()
    this.check()
    this.stream.end()
    await finished(this.stream)
  }

  /** Stops writing; resolves once the file is closed. */
  async destroy (): Promise<void> {
    if (!this.stream.closed) {
      const closed = once(this.stream, 'close')
      this.stream.destroy()
      await closed.catch(() => undefined)
    }
  }

  private check (): void {
    if (this.failure !== null) throw this.failure
    if (this.stream.destroyed) throw new Error('snapshot: write stream closed early')
  }

  private async flush (): Promise<void> {
    if (this.fill === 0) return
    // A fresh buffer: the stream keeps the old one until it is written.
    const chunk = this.buf.subarray(0, this.fill)
    this.flushedCrc = crc32(chunk, this.flushedCrc)
    this.buf = new Uint8Array(IO_CHUNK)
    this.fill = 0
    await this.write(chunk)
  }

  private async write (chunk: Uint8Array): Promise<void> {
    this.check()
    if (this.stream.write(chunk)) return
    const ac = new AbortController()
    try {
      await Promise.race([once(this.stream, 'drain', { signal: ac.signal }), once(this.stream, 'close', { signal: ac.signal })])
    } finally {
      ac.abort()
    }
    this.check()
  }
}

/** fsync a directory so a rename in it survives a crash; platforms that cannot are skipped. */
export async function syncDir (dir: string): Promise<void> {
  let fh: FileHandle
  try {
    fh = await open(dir, 'r')
  } catch (err) {
    if (isCode(err, 'EISDIR', 'EPERM', 'EACCES')) return
    throw err
  }
  try {
    await fh.sync()
  } catch (err) {
    if (!isCode(err, 'EISDIR', 'EPERM', 'EINVAL', 'EBADF')) throw err
  } finally {
    await fh.close()
  }
}

export function isCode (err: unknown, ...codes: string[]): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && codes.includes(code)
}

/**
 * Writes a snapshot to `<dir>/snap-<index>.tmp`, fsyncs it, renames it to `snap-<index>.snap`
 * and fsyncs the directory. kv records are consumed one at a time (an async iterable may produce
 * them lazily); `coord` is written as it is and must not change until the promise settles.
 * Throws RangeError for a key or record over its limit (nothing is left behind).
 */
export async function writeSnapshot (
  dir: string,
  meta: Omit<SnapshotFileMeta, 'createdAt'> & { createdAt?: number },
  kvRecords: Iterable<[string, Uint8Array]> | AsyncIterable<[string, Uint8Array]>,
  coord: Uint8Array
): Promise<WrittenSnapshot> {
  const full: SnapshotFileMeta = cleanMeta({ ...meta, createdAt: meta.createdAt ?? Date.now() })
  const header = encodeHeader(full)
  if (coord.length > MAX_SNAPSHOT_COORD_BYTES) throw new RangeError(`snapshot: coordination state of ${coord.length} bytes is over ${MAX_SNAPSHOT_COORD_BYTES}`)
  await mkdir(dir, { recursive: true })
  const tmp = join(dir, `snap-${padIndex(full.index)}.tmp`)
  const sink = new Sink(tmp)
  let crc: number
  let done = false
  try {
    await sink.put(header)
    let count = 0
    const head = new Uint8Array(7)
    const hv = viewOf(head)
    let sliceFrom = performance.now()
    for await (const [key, record] of kvRecords) {
      const k = enc.encode(key)
      if (k.length === 0 || k.length > MAX_SNAPSHOT_KEY_BYTES) throw new RangeError(`snapshot: key of ${k.length} bytes (1..${MAX_SNAPSHOT_KEY_BYTES})`)
      if (record.length > MAX_SNAPSHOT_RECORD_BYTES) throw new RangeError(`snapshot: record of ${JSON.stringify(key.slice(0, 80))} has ${record.length} bytes, over ${MAX_SNAPSHOT_RECORD_BYTES}`)
      head[0] = KIND_KV
      hv.setUint16(1, k.length)
      hv.setUint32(3, record.length)
      let w = sink.put(head)
      if (w !== undefined) await w
      w = sink.put(k)
      if (w !== undefined) await w
      w = sink.put(record)
      if (w !== undefined) await w
      count++
      // The records come from memory and the stream takes 256 KiB before it pushes back, so
      // without this a snapshot ran as one microtask chain: a node's raft messages waited out
      // the whole of it (60-150 ms, seen as write gaps when a follower snapshotted).
      if ((count & 63) === 0 && performance.now() - sliceFrom > WRITE_SLICE_MS) {
        await new Promise(resolve => setImmediate(resolve))
        sliceFrom = performance.now()
      }
    }
    const ch = new Uint8Array(5)
    ch[0] = KIND_COORD
    viewOf(ch).setUint32(1, coord.length)
    await sink.put(ch)
    await sink.put(coord, true)
    count++
    const end = new Uint8Array(END_RECORD_BYTES)
    end[0] = KIND_END
    setU64(viewOf(end), 1, count)
    crc = crc32(end.subarray(0, 9), sink.crc)
    viewOf(end).setUint32(9, crc)
    await sink.put(end)
    await sink.close()
    done = true
  } finally {
    if (!done) {
      await sink.destroy()
      await rm(tmp, { force: true })
    }
  }
  const path = snapshotPath(dir, full.index)
  await rename(tmp, path)
  await syncDir(dir)
  return { path, bytes: sink.bytes, crc, meta: full }
}

/**
 * Sequential reads of a file handle through one IO_CHUNK buffer, keeping the crc of every byte
 * consumed. Every length is checked against the bytes left before anything is allocated.
 */
class Reader {
  private buf = new Uint8Array(IO_CHUNK)
  private lo = 0
  private hi = 0
  /** File offset of buf[hi]. */
  private filePos = 0
  crc = 0

  constructor (private readonly fh: FileHandle, readonly size: number, readonly path: string) {}

  /** File offset of the next byte to consume. */
  get pos (): number { return this.filePos - (this.hi - this.lo) }
  get left (): number { return this.size - this.pos }

  corrupt (message: string): SnapshotCorruptError {
    return new SnapshotCorruptError(`${message} (at byte ${this.pos} of ${this.size})`, this.path)
  }

  /** `n` bytes: a copy, or (copy false, n <= IO_CHUNK) a view valid until the next call. */
  async take (n: number, what: string, copy = true): Promise<Uint8Array> {
    if (n > this.left) throw this.corrupt(`truncated: ${what} needs ${n} bytes, ${this.left} left`)
    let out: Uint8Array
    if (n <= IO_CHUNK) {
      await this.ensure(n, what)
      out = copy ? this.buf.slice(this.lo, this.lo + n) : this.buf.subarray(this.lo, this.lo + n)
      this.lo += n
    } else {
      // Larger than the buffer (a big record): read straight into its own allocation.
      out = new Uint8Array(n)
      let got = this.hi - this.lo
      out.set(this.buf.subarray(this.lo, this.hi))
      this.lo = this.hi = 0
      while (got < n) {
        const { bytesRead } = await this.fh.read(out, got, n - got, this.filePos)
        if (bytesRead === 0) throw this.corrupt(`truncated while reading ${what}`)
        got += bytesRead
        this.filePos += bytesRead
      }
    }
    this.crc = crc32(out, this.crc)
    return out
  }

  /** Consumes `n` bytes for their crc only, a buffer at a time. */
  async skip (n: number, what: string): Promise<void> {
    if (n > this.left) throw this.corrupt(`truncated: ${what} needs ${n} bytes, ${this.left} left`)
    while (n > 0) {
      const step = Math.min(n, IO_CHUNK)
      await this.take(step, what, false)
      n -= step
    }
  }

  private async ensure (n: number, what: string): Promise<void> {
    if (this.hi - this.lo >= n) return
    this.buf.copyWithin(0, this.lo, this.hi)
    this.hi -= this.lo
    this.lo = 0
    while (this.hi < n) {
      const { bytesRead } = await this.fh.read(this.buf, this.hi, IO_CHUNK - this.hi, this.filePos)
      if (bytesRead === 0) throw this.corrupt(`truncated while reading ${what}`)
      this.hi += bytesRead
      this.filePos += bytesRead
    }
  }
}

async function readHeader (r: Reader): Promise<SnapshotFileMeta> {
  const fixed = await r.take(HEADER_FIXED, 'header', false)
  for (let i = 0; i < MAGIC.length; i++) {
    if (fixed[i] !== MAGIC[i]) throw r.corrupt('not a snapshot file (bad magic)')
  }
  const version = fixed[MAGIC.length]
  if (version !== SNAPSHOT_VERSION) throw r.corrupt(`unknown format version ${version}`)
  const view = viewOf(fixed)
  const len = view.getUint32(MAGIC.length + 1)
  const crc = view.getUint32(MAGIC.length + 5)
  if (len > MAX_SNAPSHOT_META_BYTES) throw r.corrupt(`meta length ${len} is over ${MAX_SNAPSHOT_META_BYTES}`)
  const json = await r.take(len, 'meta')
  if (crc32(json) !== crc) throw r.corrupt('meta fails its checksum')
  let meta: unknown
  try {
    meta = JSON.parse(strictUtf8.decode(json))
  } catch {
    throw r.corrupt('meta is not JSON')
  }
  const problem = metaProblem(meta)
  if (problem !== undefined) throw r.corrupt(problem)
  return cleanMeta(meta as SnapshotFileMeta)
}

interface Summary { meta?: SnapshotFileMeta, records: number, crc: number }

/**
 * Walks a snapshot from its header to its end record, checking every length and the crc.
 * `emit` false checks without yielding (and without copying records); the summary is filled in
 * once the whole file has checked out.
 */
async function * walk (r: Reader, emit: boolean, summary: Summary): AsyncGenerator<SnapshotRecord> {
  const meta = await readHeader(r)
  let count = 0
  let coords = 0
  for (;;) {
    const kind = (await r.take(1, 'record kind', false))[0]
    if (kind === KIND_KV) {
      const v = viewOf(await r.take(6, 'kv lengths', false))
      const klen = v.getUint16(0)
      const rlen = v.getUint32(2)
      if (klen === 0 || klen > MAX_SNAPSHOT_KEY_BYTES) throw r.corrupt(`key length ${klen} (1..${MAX_SNAPSHOT_KEY_BYTES})`)
      if (rlen > MAX_SNAPSHOT_RECORD_BYTES) throw r.corrupt(`record length ${rlen} is over ${MAX_SNAPSHOT_RECORD_BYTES}`)
      if (klen + rlen > r.left) throw r.corrupt(`truncated: kv record needs ${klen + rlen} bytes, ${r.left} left`)
      let key: string
      try {
        key = strictUtf8.decode(await r.take(klen, 'key', false))
      } catch (err) {
        if (err instanceof SnapshotCorruptError) throw err
        throw r.corrupt('key is not utf8')
      }
      count++
      if (emit) yield { kind: 'kv', key, record: await r.take(rlen, 'record') }
      else await r.skip(rlen, 'record')
    } else if (kind === KIND_COORD) {
      const len = viewOf(await r.take(4, 'coord length', false)).getUint32(0)
      if (len > MAX_SNAPSHOT_COORD_BYTES) throw r.corrupt(`coordination state length ${len} is over ${MAX_SNAPSHOT_COORD_BYTES}`)
      if (++coords > 1) throw r.corrupt('a second coordination record')
      count++
      if (emit) yield { kind: 'coord', data: await r.take(len, 'coordination state') }
      else await r.skip(len, 'coordination state')
    } else if (kind === KIND_END) {
      const n = getU64(viewOf(await r.take(8, 'record count', false)), 0)
      const expected = r.crc
      const crc = viewOf(await r.take(4, 'crc', false)).getUint32(0)
      if (crc !== expected) throw r.corrupt('checksum mismatch')
      if (n !== count) throw r.corrupt(`end record counts ${n} records, the file has ${count}`)
      if (coords !== 1) throw r.corrupt('no coordination record')
      if (r.left !== 0) throw r.corrupt(`${r.left} bytes after the end record`)
      summary.meta = meta
      summary.records = count
      summary.crc = crc
      return
    } else {
      throw r.corrupt(`unknown record kind ${kind}`)
    }
  }
}

async function withReader<T> (path: string, fn: (r: Reader) => Promise<T>): Promise<T> {
  const fh = await open(path, 'r')
  try {
    return await fn(new Reader(fh, (await fh.stat()).size, path))
  } finally {
    await fh.close()
  }
}

/** The header's meta (checked against its own crc; the rest of the file is not read). */
export async function readSnapshotMeta (path: string): Promise<SnapshotFileMeta> {
  return await withReader(path, readHeader)
}

/**
 * The records of a snapshot, read in IO_CHUNK pieces. The file's crc is only known at its end:
 * records yielded before a SnapshotCorruptError must be thrown away, so load them into a fresh
 * state and swap it in only when the loop completes (or verifySnapshot first).
 */
export async function * readSnapshotRecords (path: string): AsyncGenerator<SnapshotRecord> {
  const fh = await open(path, 'r')
  try {
    const r = new Reader(fh, (await fh.stat()).size, path)
    yield * walk(r, true, { records: 0, crc: 0 })
  } finally {
    await fh.close()
  }
}

/** Reads a snapshot through without keeping it; throws SnapshotCorruptError unless all of it checks out. */
export async function verifySnapshot (path: string): Promise<SnapshotInfo> {
  return await withReader(path, async r => {
    const s: Summary = { records: 0, crc: 0 }
    for await (const _ of walk(r, false, s)) { /* checking only */ }
    if (s.meta === undefined) throw r.corrupt('incomplete')
    return { path, bytes: r.size, crc: s.crc, meta: s.meta, records: s.records }
  })
}

const SNAP_NAME = /^snap-(\d{16})\.snap$/
const TMP_NAME = /^snap-(\d{16})\.tmp$/
export const PART_NAME = /^incoming-(\d{16})\.part$/

async function names (dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch (err) {
    if (isCode(err, 'ENOENT')) return []
    throw err
  }
}

/** Complete snapshot files by name (not verified), newest first. */
export async function listSnapshots (dir: string): Promise<SnapshotFile[]> {
  const out: SnapshotFile[] = []
  for (const name of await names(dir)) {
    const m = SNAP_NAME.exec(name)
    if (m !== null) out.push({ index: Number(m[1]), path: join(dir, name) })
  }
  return out.sort((a, b) => b.index - a.index)
}

/**
 * The newest snapshot that verifies (read through: a torn or corrupt file, or one whose meta
 * names another index than its file name, is skipped), or null.
 */
export async function latestSnapshot (dir: string): Promise<SnapshotInfo | null> {
  for (const f of await listSnapshots(dir)) {
    try {
      const info = await verifySnapshot(f.path)
      if (info.meta.index === f.index) return info
    } catch (err) {
      if (!(err instanceof SnapshotCorruptError) && !isCode(err, 'ENOENT')) throw err
    }
  }
  return null
}

/**
 * Keeps the `keep` newest snapshots (by index: call it after a snapshot was written or received,
 * when the newest is known to be good) and removes the older ones, along with .tmp and .part
 * files at or below the newest kept index. A sender reading a removed file keeps its open handle.
 * Returns the removed paths.
 */
export async function pruneSnapshots (dir: string, keep = 2): Promise<string[]> {
  if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError('pruneSnapshots: keep must be an integer >= 1')
  const snaps = await listSnapshots(dir)
  const newest = snaps[0]?.index
  const doomed = snaps.slice(keep).map(s => s.path)
  if (newest !== undefined) {
    for (const name of await names(dir)) {
      const m = TMP_NAME.exec(name) ?? PART_NAME.exec(name)
      if (m !== null && Number(m[1]) <= newest) doomed.push(join(dir, name))
    }
  }
  for (const path of doomed) await rm(path, { force: true })
  return doomed
}

/** Size of a file, or null when there is none. */
export async function fileSize (path: string): Promise<number | null> {
  try {
    return (await stat(path)).size
  } catch (err) {
    if (isCode(err, 'ENOENT')) return null
    throw err
  }
}
