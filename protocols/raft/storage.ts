/**
 * Durable Raft state in the node's LevelDB (sublevel 'raft'): the log, the hard state, the cluster
 * configuration and the replicated key-value state with its applied index. One key per entry, each
 * record carrying a crc32 of itself, so a torn or corrupt tail is found on open and cut off.
 *
 * Keys (utf8):
 *   e/<index, 16 hex digits>  entry: crc32 u32 | term u64 | index u64 | type u8 | data
 *   m/hs                      hard state: crc32 u32 | JSON {term, vote, commit}
 *   m/conf, m/lock            cluster configuration / formation lock: crc32 u32 | JSON
 *   m/applied                 last applied index: crc32 u32 | JSON number
 *   k/<key>                   one key of the state machine: JSON {v, ver}
 *
 * The log and the hard state are written together in one `sync: true` batch (at most one fsync per
 * Ready, none when only the commit index moved: see mustSync);
 * state machine writes go in ordinary batches: replaying the log from the applied index redoes any
 * that a crash lost, because a batch is atomic and carries its own applied index.
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

/** State machine writes: the applied index and what changed, written atomically. */
export interface StateWrite {
  applied: number
  /** Encoded record per key; null deletes the key. */
  changes: Map<string, Uint8Array | null>
  config?: ClusterConfig
}

export interface Recovered {
  hardState: HardState
  entries: Entry[]
  applied: number
  config: ClusterConfig | null
  lock: string[] | null
  /** State machine keys and their encoded records. */
  state: Array<[string, Uint8Array]>
  /** The latest snapshot the log was compacted to (its entries start after snapshot.index). */
  snapshot: SnapshotMeta | null
  /** A snapshot install was interrupted by a crash: redo it from this snapshot's file. */
  installing: SnapshotMeta | null
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
  append: (hs: HardState | undefined, entries: Entry[], state?: StateWrite, sync?: boolean) => Promise<void>
  /** State machine writes, not fsync'd. */
  writeState: (state: StateWrite) => Promise<void>
  saveConfig: (config: ClusterConfig) => Promise<void>
  /** The state machine has a snapshot at meta.index: drop the stored entries up to it. */
  compact: (meta: SnapshotMeta) => Promise<void>
  /**
   * Replace the state machine by a snapshot's records and the log by nothing (it starts after
   * meta.index); crash-safe: an interrupted install is reported by load() as `installing`.
   */
  installSnapshot: (meta: SnapshotMeta, records: AsyncIterable<[string, Uint8Array]>) => Promise<void>
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

export function emptyState (applied = 0): StateWrite {
  return { applied, changes: new Map() }
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

  constructor (store: ClassicLevel<string, Uint8Array>) {
    this.db = store.sublevel<string, Uint8Array>('raft', { keyEncoding: 'utf8', valueEncoding: 'view' }) as unknown as Sub
  }

  async load (): Promise<Recovered> {
    const snapRec = await this.db.get('m/snap')
    const snapshot = snapRec === undefined ? null : snapshotMetaOf(decodeMeta('m/snap', snapRec as Uint8Array))
    const instRec = await this.db.get('m/installing')
    const installing = instRec === undefined ? null : snapshotMetaOf(decodeMeta('m/installing', instRec as Uint8Array))
    this.base = snapshot?.index ?? 0
    this.snap = snapshot
    const keys: string[] = []
    const recs: Array<Entry | string> = []
    for await (const [key, value] of this.db.iterator({ gt: entryKey(this.base), lt: 'e0' })) {
      keys.push(key as string)
      recs.push(decodeEntry(value as Uint8Array))
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
    const applied = await meta('m/applied')
    const state: Array<[string, Uint8Array]> = []
    for await (const [key, value] of this.db.iterator({ gte: 'k/', lt: 'k0' })) {
      state.push([(key as string).slice(2), value as Uint8Array])
    }
    return {
      hardState: { ...this.hs },
      entries: this.log.slice(),
      applied: typeof applied === 'number' ? applied : 0,
      config: conf === undefined ? null : configOf(conf),
      lock: Array.isArray(lock) ? lock.map(String) : null,
      state,
      snapshot,
      installing,
      truncated: keys.length - n,
      truncatedReason: reason
    }
  }

  async append (hs: HardState | undefined, entries: Entry[], state?: StateWrite, sync = true): Promise<void> {
    const ops: BatchOp[] = []
    const first = entries[0]
    const last = this.base + this.log.length
    if (first !== undefined) {
      for (let i = first.index; i <= last; i++) ops.push({ type: 'del', key: entryKey(i) })
      for (const e of entries) ops.push({ type: 'put', key: entryKey(e.index), value: encodeEntry(e) })
    }
    if (hs !== undefined) ops.push({ type: 'put', key: 'm/hs', value: encodeMeta(hs) })
    if (state !== undefined) stateOps(state, ops)
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
    const drop = this.log.filter(e => e.index <= meta.index)
    const ops: BatchOp[] = drop.map(e => ({ type: 'del', key: entryKey(e.index) }))
    ops.push({ type: 'put', key: 'm/snap', value: encodeMeta(meta) })
    await this.db.batch(ops, SYNC)
    this.log = this.log.slice(drop.length)
    this.base = meta.index
    this.snap = meta
  }

  async installSnapshot (meta: SnapshotMeta, records: AsyncIterable<[string, Uint8Array]>): Promise<void> {
    await this.db.batch([{ type: 'put', key: 'm/installing', value: encodeMeta(meta) }], SYNC)
    // The old state and log go; the snapshot's records come in batches (bounded memory).
    const dels: BatchOp[] = []
    for await (const key of this.db.keys({ gte: 'k/', lt: 'k0' })) dels.push({ type: 'del', key: key as string })
    for await (const key of this.db.keys({ gte: 'e/', lt: 'e0' })) dels.push({ type: 'del', key: key as string })
    for (let i = 0; i < dels.length; i += 1000) await this.db.batch(dels.slice(i, i + 1000))
    let batch: BatchOp[] = []
    for await (const [key, record] of records) {
      batch.push({ type: 'put', key: 'k/' + key, value: record })
      if (batch.length >= 1000) { await this.db.batch(batch); batch = [] }
    }
    batch.push({ type: 'put', key: 'm/applied', value: encodeMeta(meta.index) })
    batch.push({ type: 'put', key: 'm/snap', value: encodeMeta(meta) })
    if (this.hs.commit < meta.index) {
      this.hs = { ...this.hs, commit: meta.index }
      batch.push({ type: 'put', key: 'm/hs', value: encodeMeta(this.hs) })
    }
    batch.push({ type: 'del', key: 'm/installing' })
    await this.db.batch(batch, SYNC)
    this.log = []
    this.base = meta.index
    this.snap = meta
  }

  snapshotMeta (): SnapshotMeta | null { return this.snap }

  async writeState (state: StateWrite): Promise<void> {
    const ops: BatchOp[] = []
    stateOps(state, ops)
    await this.db.batch(ops)
  }

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

function stateOps (state: StateWrite, ops: BatchOp[]): void {
  for (const [key, value] of state.changes) ops.push(value === null ? { type: 'del', key: 'k/' + key } : { type: 'put', key: 'k/' + key, value })
  if (state.config !== undefined) ops.push({ type: 'put', key: 'm/conf', value: encodeMeta(state.config) })
  ops.push({ type: 'put', key: 'm/applied', value: encodeMeta(state.applied) })
}

/** The same contract in memory, for nodes without a store (tests, embedded in-memory nodes). */
export class MemoryRaftStorage implements RaftStorage {
  private log: Entry[] = []
  private hs: HardState = { term: 0, vote: '', commit: 0 }
  private applied = 0
  private config: ClusterConfig | null = null
  private lock: string[] | null = null
  private readonly state = new Map<string, Uint8Array>()
  private snapshot: SnapshotMeta | null = null

  async load (): Promise<Recovered> {
    return {
      hardState: { ...this.hs },
      entries: this.log.slice(),
      applied: this.applied,
      config: this.config === null ? null : structuredClone(this.config),
      lock: this.lock?.slice() ?? null,
      state: [...this.state],
      snapshot: this.snapshot,
      installing: null,
      truncated: 0
    }
  }

  async compact (meta: SnapshotMeta): Promise<void> {
    this.log = this.log.filter(e => e.index > meta.index)
    this.snapshot = meta
  }

  snapshotMeta (): SnapshotMeta | null { return this.snapshot }

  async installSnapshot (meta: SnapshotMeta, records: AsyncIterable<[string, Uint8Array]>): Promise<void> {
    this.state.clear()
    for await (const [key, record] of records) this.state.set(key, record)
    this.log = []
    this.applied = meta.index
    this.snapshot = meta
    if (this.hs.commit < meta.index) this.hs = { ...this.hs, commit: meta.index }
  }

  async append (hs: HardState | undefined, entries: Entry[], state?: StateWrite, _sync?: boolean): Promise<void> {
    const first = entries[0]
    if (first !== undefined) {
      const base = (this.log[0]?.index ?? first.index) - 1
      this.log.length = Math.max(0, Math.min(this.log.length, first.index - 1 - base))
      for (const e of entries) this.log.push(e)
    }
    if (hs !== undefined) this.hs = { ...hs }
    if (state !== undefined) await this.writeState(state)
  }

  async writeState (s: StateWrite): Promise<void> {
    for (const [key, value] of s.changes) {
      if (value === null) this.state.delete(key)
      else this.state.set(key, value)
    }
    if (s.config !== undefined) this.config = structuredClone(s.config)
    this.applied = s.applied
  }

  async saveConfig (config: ClusterConfig): Promise<void> { this.config = structuredClone(config) }
  async saveLock (voters: string[] | null): Promise<void> { this.lock = voters?.slice() ?? null }
  hardState (): HardState { return { ...this.hs } }
  entries (): Entry[] { return this.log }
}
