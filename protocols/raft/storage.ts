/**
 * Durable Raft state in the node's LevelDB (sublevel 'raft'): the log, the hard state and the
 * cluster configuration. One key per entry, each record carrying a crc32 of itself, so a torn or
 * corrupt tail is found on open and cut off.
 *
 * Keys (utf8):
 *   e/<index, 16 hex digits>  entry: crc32 u32 | term u64 | index u64 | type u8 | data
 *   m/hs                      hard state: crc32 u32 | JSON {term, vote, commit}
 *   m/conf, m/lock            cluster configuration / formation lock: crc32 u32 | JSON
 *   m/snap                    the snapshot the stored log starts after: crc32 u32 | JSON meta
 *
 * The log and the hard state are written together in one `sync: true` batch (at most one fsync per
 * Ready, none when only the commit index moved: see mustSync). The state machines are not stored
 * here: they live in memory, and after a restart they are the newest snapshot file (snapshot.ts)
 * plus the log after it, replayed.
 */
import { crc32 } from 'node:zlib'
import type { BatchOptions, ClassicLevel } from 'classic-level'
import type { Entry, EntryType, HardState, SnapshotMeta } from './core/index.js'

/** The voters and learners a node runs Raft with; `cluster` names the voter set it was formed with. */
export interface ClusterConfig {
  cluster: string
  voters: string[]
  learners: string[]
}

export interface Recovered {
  hardState: HardState
  entries: Entry[]
  config: ClusterConfig | null
  lock: string[] | null
  /** The latest snapshot the log was compacted to (its entries start after snapshot.index). */
  snapshot: SnapshotMeta | null
  /** Entries dropped from the tail because they failed their checksum or broke the sequence. */
  truncated: number
  /** Why the first dropped entry was dropped. */
  truncatedReason?: string
}

export interface RaftStorage {
  /** Reads everything back, truncating a torn or corrupt log tail. Call once, before the rest. */
  load: () => Promise<Recovered>
  /**
   * A Ready's hard state and entries (drop index >= entries[0].index, then append) in one batch,
   * fsync'd unless `sync` is false (see mustSync).
   */
  append: (hs: HardState | undefined, entries: Entry[], sync?: boolean) => Promise<void>
  saveConfig: (config: ClusterConfig) => Promise<void>
  /** The state machine has a snapshot at meta.index: drop the stored entries up to it. */
  compact: (meta: SnapshotMeta) => Promise<void>
  /**
   * A snapshot (its file complete and verified) replaces the log: the log starts after meta.index,
   * and the commit index is at least that. One atomic batch.
   */
  installSnapshot: (meta: SnapshotMeta) => Promise<void>
  saveLock: (voters: string[] | null) => Promise<void>
  /** What is durable now (the driver rebuilds the core from it). */
  hardState: () => HardState
  entries: () => Entry[]
  /** The snapshot the stored log starts after (null: none). */
  snapshotMeta: () => SnapshotMeta | null
}

export class CorruptStateError extends Error {
  constructor (message: string) { super(message); this.name = 'CorruptStateError' }
}

/**
 * Whether a Ready must be fsync'd before its messages go out: new entries, a new term or a new
 * vote must survive a crash; a commit index alone need not (etcd's MustSync): a restarted node
 * relearns it from the leader, and a batch lost with it only makes it re-apply from the log.
 */
export function mustSync (hs: HardState | undefined, prev: HardState, entries: number): boolean {
  return entries > 0 || (hs !== undefined && (hs.term !== prev.term || hs.vote !== prev.vote))
}

const TYPE_CODE: Record<EntryType, number> = { normal: 0, noop: 1, config: 2 }
const CODE_TYPE: EntryType[] = ['normal', 'noop', 'config']
const HEADER = 4 + 8 + 8 + 1

export function entryKey (index: number): string {
  return 'e/' + index.toString(16).padStart(16, '0')
}

function setU64 (view: DataView, offset: number, n: number): void {
  view.setUint32(offset, Math.floor(n / 2 ** 32))
  view.setUint32(offset + 4, n >>> 0)
}

function getU64 (view: DataView, offset: number): number {
  return view.getUint32(offset) * 2 ** 32 + view.getUint32(offset + 4)
}

export function encodeEntry (e: Entry): Uint8Array {
  const out = new Uint8Array(HEADER + e.data.length)
  const view = new DataView(out.buffer)
  setU64(view, 4, e.term)
  setU64(view, 12, e.index)
  out[20] = TYPE_CODE[e.type ?? 'normal']
  out.set(e.data, HEADER)
  view.setUint32(0, crc32(out.subarray(4)))
  return out
}

/** The entry, or why the record is not one. */
export function decodeEntry (rec: Uint8Array): Entry | string {
  if (rec.length < HEADER) return `record of ${rec.length} bytes is shorter than its header`
  const view = new DataView(rec.buffer, rec.byteOffset, rec.byteLength)
  if (view.getUint32(0) !== crc32(rec.subarray(4))) return 'checksum mismatch'
  const type = CODE_TYPE[rec[20] ?? 255]
  if (type === undefined) return `unknown entry type ${rec[20]}`
  // A copy, as a plain Uint8Array (LevelDB hands out Buffers over shared memory).
  const data = new Uint8Array(rec.length - HEADER)
  data.set(rec.subarray(HEADER))
  const e: Entry = { term: getU64(view, 4), index: getU64(view, 12), data }
  if (type !== 'normal') e.type = type
  return e
}

/** crc32 | JSON, for the small metadata records. */
export function encodeMeta (value: unknown): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(value))
  const out = new Uint8Array(4 + json.length)
  out.set(json, 4)
  new DataView(out.buffer).setUint32(0, crc32(json))
  return out
}

export function decodeMeta (key: string, rec: Uint8Array): unknown {
  const view = new DataView(rec.buffer, rec.byteOffset, rec.byteLength)
  if (rec.length < 4 || view.getUint32(0) !== crc32(rec.subarray(4))) {
    throw new CorruptStateError(`raft storage: ${key} fails its checksum; refusing to start with a possibly forgotten vote or configuration`)
  }
  return JSON.parse(new TextDecoder().decode(rec.subarray(4)))
}

function hardStateOf (v: unknown): HardState {
  const h = v as Partial<HardState>
  if (typeof h?.term !== 'number' || typeof h.vote !== 'string' || typeof h.commit !== 'number') throw new CorruptStateError('raft storage: m/hs is not a hard state')
  return { term: h.term, vote: h.vote, commit: h.commit }
}

function configOf (v: unknown): ClusterConfig {
  const c = v as Partial<ClusterConfig>
  if (typeof c?.cluster !== 'string' || !Array.isArray(c.voters) || !Array.isArray(c.learners)) throw new CorruptStateError('raft storage: m/conf is not a configuration')
  return { cluster: c.cluster, voters: c.voters.map(String), learners: c.learners.map(String) }
}

/** Checks a log read back in index order; returns how many leading entries are sound. */
function soundPrefix (entries: Array<Entry | string>, keys: string[], base = 0): { n: number, reason?: string } {
  let prevTerm = 0
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    if (typeof e === 'string') return { n: i, reason: `${keys[i]}: ${e}` }
    if (e.index !== base + i + 1 || keys[i] !== entryKey(e.index)) return { n: i, reason: `${keys[i]}: expected index ${base + i + 1}, found ${e.index}` }
    if (e.term < prevTerm) return { n: i, reason: `${keys[i]}: term ${e.term} after term ${prevTerm}` }
    prevTerm = e.term
  }
  return { n: entries.length }
}

type Sub = ReturnType<ClassicLevel<string, Uint8Array>['sublevel']>
/** Entries read from LevelDB per call when loading the log. */
const LOAD_BATCH = 1024
/** fsync the write; the sublevel hands its options to classic-level, whose types omit `sync`. */
const SYNC = { sync: true } as BatchOptions<string, Uint8Array>
type BatchOp = { type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }

/** The node's LevelDB, sublevel 'raft'. */
export class LevelRaftStorage implements RaftStorage {
  private readonly db: Sub
  private log: Entry[] = []
  /** Index of the entry before log[0] (the snapshot's). */
  private base = 0
  private snap: SnapshotMeta | null = null
  private hs: HardState = { term: 0, vote: '', commit: 0 }
  /**
   * Lowest entry key a compaction must delete from. Until one has succeeded in this process it is
   * the start of the log range, which also takes entries a crash left below the base; after that,
   * the key after the base: a range delete seeks to its start and then steps over every deleted
   * key LevelDB has not yet compacted away (from 'e/' after a long history: 10-27 ms of a LevelDB
   * thread at every snapshot, against 1-2 ms from the old base).
   */
  private clearFrom = 'e/'

  constructor (store: ClassicLevel<string, Uint8Array>) {
    this.db = store.sublevel<string, Uint8Array>('raft', { keyEncoding: 'utf8', valueEncoding: 'view' }) as unknown as Sub
  }

  async load (): Promise<Recovered> {
    const snapRec = await this.db.get('m/snap')
    const snapshot = snapRec === undefined ? null : snapshotMetaOf(decodeMeta('m/snap', snapRec as Uint8Array))
    this.base = snapshot?.index ?? 0
    this.snap = snapshot
    const keys: string[] = []
    const recs: Array<Entry | string> = []
    // Batches, not one await per entry: a restart reads up to 15,000 entries (a snapshot
    // interval and the tail kept behind it) and this was most of its time to rejoin.
    const it = this.db.iterator({ gt: entryKey(this.base), lt: 'e0' })
    try {
      for (let batch = await it.nextv(LOAD_BATCH); batch.length > 0; batch = await it.nextv(LOAD_BATCH)) {
        for (const [key, value] of batch) {
          keys.push(key as string)
          recs.push(decodeEntry(value as Uint8Array))
        }
      }
    } finally {
      await it.close()
    }
    const { n, reason } = soundPrefix(recs, keys, this.base)
    if (n < keys.length) {
      // Everything from the first bad record on goes: a log must be contiguous.
      await this.db.batch(keys.slice(n).map(key => ({ type: 'del' as const, key })), SYNC)
    }
    this.log = recs.slice(0, n) as Entry[]
    const meta = async (key: string): Promise<unknown> => {
      const v = await this.db.get(key)
      return v === undefined ? undefined : decodeMeta(key, v as Uint8Array)
    }
    const hs = await meta('m/hs')
    this.hs = hs === undefined ? { term: 0, vote: '', commit: 0 } : hardStateOf(hs)
    const conf = await meta('m/conf')
    const lock = await meta('m/lock')
    return {
      hardState: { ...this.hs },
      entries: this.log.slice(),
      config: conf === undefined ? null : configOf(conf),
      lock: Array.isArray(lock) ? lock.map(String) : null,
      snapshot,
      truncated: keys.length - n,
      truncatedReason: reason
    }
  }

  async append (hs: HardState | undefined, entries: Entry[], sync = true): Promise<void> {
    const ops: BatchOp[] = []
    const first = entries[0]
    const last = this.base + this.log.length
    if (first !== undefined) {
      for (let i = first.index; i <= last; i++) ops.push({ type: 'del', key: entryKey(i) })
      for (const e of entries) ops.push({ type: 'put', key: entryKey(e.index), value: encodeEntry(e) })
    }
    if (hs !== undefined) ops.push({ type: 'put', key: 'm/hs', value: encodeMeta(hs) })
    if (sync) await this.db.batch(ops, SYNC)
    else await this.db.batch(ops)
    if (first !== undefined) {
      this.log.length = Math.max(0, Math.min(this.log.length, first.index - 1 - this.base))
      for (const e of entries) this.log.push(e)
    }
    if (hs !== undefined) this.hs = { ...hs }
  }

  async compact (meta: SnapshotMeta): Promise<void> {
    if (meta.index <= this.base) return
    // The new base first: load() reads only entries after it, so entries left below it by a
    // crash before the range delete are never read, and the next compaction deletes them.
    await this.db.batch([{ type: 'put', key: 'm/snap', value: encodeMeta(meta) }], SYNC)
    this.log = this.log.slice(Math.max(0, meta.index - this.base))
    this.base = meta.index
    this.snap = meta
    // One range delete in LevelDB's own thread, instead of thousands of deletes built here.
    await this.db.clear({ gte: this.clearFrom, lte: entryKey(meta.index) })
    this.clearFrom = entryKey(meta.index + 1)
  }

  async installSnapshot (meta: SnapshotMeta): Promise<void> {
    const ops: BatchOp[] = []
    for await (const key of this.db.keys({ gte: this.clearFrom, lt: 'e0' })) ops.push({ type: 'del', key: key as string })
    ops.push({ type: 'put', key: 'm/snap', value: encodeMeta(meta) })
    const hs = this.hs.commit < meta.index ? { ...this.hs, commit: meta.index } : this.hs
    if (hs !== this.hs) ops.push({ type: 'put', key: 'm/hs', value: encodeMeta(hs) })
    await this.db.batch(ops, SYNC)
    this.hs = hs
    this.log = []
    this.base = meta.index
    this.snap = meta
    this.clearFrom = entryKey(meta.index + 1)
  }

  snapshotMeta (): SnapshotMeta | null { return this.snap }

  async saveConfig (config: ClusterConfig): Promise<void> {
    await this.db.batch([{ type: 'put', key: 'm/conf', value: encodeMeta(config) }], SYNC)
  }

  async saveLock (voters: string[] | null): Promise<void> {
    await this.db.batch([voters === null ? { type: 'del', key: 'm/lock' } : { type: 'put', key: 'm/lock', value: encodeMeta(voters) }], SYNC)
  }

  hardState (): HardState { return { ...this.hs } }
  entries (): Entry[] { return this.log }
}

function snapshotMetaOf (v: unknown): SnapshotMeta {
  const m = v as Partial<SnapshotMeta>
  if (typeof m?.index !== 'number' || typeof m.term !== 'number' || !Array.isArray(m.voters) || !Array.isArray(m.learners)) throw new CorruptStateError('raft storage: m/snap is not a snapshot meta')
  return { index: m.index, term: m.term, voters: m.voters.map(String), learners: m.learners.map(String) }
}

/** The same contract in memory, for nodes without a store (tests, embedded in-memory nodes). */
export class MemoryRaftStorage implements RaftStorage {
  private log: Entry[] = []
  private hs: HardState = { term: 0, vote: '', commit: 0 }
  private config: ClusterConfig | null = null
  private lock: string[] | null = null
  private snapshot: SnapshotMeta | null = null

  async load (): Promise<Recovered> {
    return {
      hardState: { ...this.hs },
      entries: this.log.slice(),
      config: this.config === null ? null : structuredClone(this.config),
      lock: this.lock?.slice() ?? null,
      snapshot: this.snapshot,
      truncated: 0
    }
  }

  async compact (meta: SnapshotMeta): Promise<void> {
    this.log = this.log.filter(e => e.index > meta.index)
    this.snapshot = meta
  }

  snapshotMeta (): SnapshotMeta | null { return this.snapshot }

  async installSnapshot (meta: SnapshotMeta): Promise<void> {
    this.log = []
    this.snapshot = meta
    if (this.hs.commit < meta.index) this.hs = { ...this.hs, commit: meta.index }
  }

  async append (hs: HardState | undefined, entries: Entry[], _sync?: boolean): Promise<void> {
    const first = entries[0]
    if (first !== undefined) {
      const base = (this.log[0]?.index ?? first.index) - 1
      this.log.length = Math.max(0, Math.min(this.log.length, first.index - 1 - base))
      for (const e of entries) this.log.push(e)
    }
    if (hs !== undefined) this.hs = { ...hs }
  }

  async saveConfig (config: ClusterConfig): Promise<void> { this.config = structuredClone(config) }
  async saveLock (voters: string[] | null): Promise<void> { this.lock = voters?.slice() ?? null }
  hardState (): HardState { return { ...this.hs } }
  entries (): Entry[] { return this.log }
}
