/**
 * The pure core of shared state: one replica's documents, what it owes the network (batched
 * local updates) and the store (every change since the last flush), how it takes remote input,
 * and the state-vector sync session. No I/O, no timers, no randomness of its own: the clock,
 * the random source (Yjs client ids) and the writer id are injected; the adapter moves bytes.
 */
import * as Y from 'yjs'
import { Hlc } from './hlc.js'
import { CrdtError, type CrdtErrorCode } from './errors.js'
import { SharedDoc, checkName, REMOTE, RESTORE, LOCAL, type ChangeEvent, type DocHost } from './doc.js'
import {
  DEFAULT_LIMITS, decodeDelta, decodeFrame, encodeDelta, encodeFrame, encodeHint, validateUpdate,
  type CrdtLimits, type Frame
} from './codec.js'

export type Channel = 'gossip' | 'sync' | 'restore'

export interface ReplicaCounters {
  /** Remote input refused. */
  rejected: (code: CrdtErrorCode, channel: Channel) => void
  /** Remote updates applied, with their size. */
  applied: (channel: Channel, bytes: number) => void
  /** An update that depended on something this replica lacks; a sync fills it in. */
  gap: (channel: Channel) => void
  /** A stamp ahead of our physical clock (a peer's clock runs fast). */
  drift: (ms: number) => void
}

export interface ReplicaInit {
  peerId: string
  /** This peer's writer id for this life of its store. */
  writer: string
  /** Physical clock, ms. */
  now: () => number
  /** Uniform in [0, 1): Yjs client ids. */
  random: () => number
  limits?: Partial<CrdtLimits>
  counters?: Partial<ReplicaCounters>
  /** Collect changes for the store (off for nodes without one). */
  persist?: boolean
  /** A document appeared (created here or learned from a peer). */
  onDocument?: (name: string) => void
  /** Something waits to be flushed (the adapter arms its batch timer). */
  onPending?: () => void
  onChange?: (event: ChangeEvent) => void
  /** Whether anyone outside watches a document's changes. */
  watching?: (doc: string) => boolean
}

export type Receipt =
  | { status: 'applied', doc: string }
  /** Part of it depends on updates this replica lacks: sync with the sender. */
  | { status: 'gap', doc: string }
  /** A hint for an update too large for gossip that this replica lacks: sync with the author. */
  | { status: 'behind', doc: string }
  /** A hint this replica is already up to date with. */
  | { status: 'current', doc: string }
  | { status: 'rejected', code: CrdtErrorCode, message: string }

export interface Outgoing {
  doc: string
  /** The gossip payload: a delta, or a hint when the update is over the gossip cap. */
  payload: Uint8Array
  kind: 'delta' | 'hint'
  /** Size of the merged update it stands for. */
  updateBytes: number
}

export interface Flush {
  /** Merged changes per document, for the store: persist these before publishing. */
  persist: Array<{ doc: string, update: Uint8Array }>
  publish: Outgoing[]
}

const EMPTY_UPDATE_BYTES = 2 // no structs, empty delete set

/**
 * Merges updates in a tree of 16-way merges: Y.mergeUpdates re-sorts its inputs for every
 * struct, so one call over 20,000 updates takes seconds where the tree takes about 100 ms.
 */
export function merge (list: Uint8Array[]): Uint8Array {
  if (list.length === 1) return list[0]!
  if (list.length <= 16) return Y.mergeUpdates(list)
  const level: Uint8Array[] = []
  for (let i = 0; i < list.length; i += 16) level.push(merge(list.slice(i, i + 16)))
  return merge(level)
}

/** Local updates waiting for gossip; past the gossip cap only the fact that there are some. */
interface Pending { updates: Uint8Array[], bytes: number, overflow: boolean }

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export class Replica implements DocHost {
  readonly peerId: string
  readonly writer: string
  readonly hlc: Hlc
  readonly limits: CrdtLimits
  private readonly docs = new Map<string, SharedDoc>()
  private outbox = new Map<string, Pending>()
  private dirty = new Map<string, Uint8Array[]>()
  private readonly counters: ReplicaCounters
  private readonly persist: boolean

  constructor (private readonly init: ReplicaInit) {
    this.peerId = init.peerId
    this.writer = init.writer
    this.hlc = new Hlc(init.now)
    this.limits = { ...DEFAULT_LIMITS, ...init.limits }
    this.persist = init.persist !== false
    const noop = (): void => {}
    this.counters = { rejected: noop, applied: noop, gap: noop, drift: noop, ...init.counters }
  }

  /** The named document, created empty when this replica does not hold it yet. */
  doc (name: string): SharedDoc {
    const existing = this.docs.get(name)
    if (existing != null) return existing
    checkName('document name', name)
    if (this.docs.size >= this.limits.maxDocs) throw new CrdtError('too_many_docs', `this replica already holds ${this.limits.maxDocs} documents`)
    const doc = new SharedDoc(name, this, Math.floor(this.init.random() * 0x100000000))
    this.docs.set(name, doc)
    this.init.onDocument?.(name)
    return doc
  }

  get (name: string): SharedDoc | undefined { return this.docs.get(name) }
  has (name: string): boolean { return this.docs.has(name) }
  names (): string[] { return [...this.docs.keys()].sort() }

  // ---- DocHost ----

  onUpdate (doc: SharedDoc, update: Uint8Array, origin: unknown): void {
    if (origin === RESTORE) return
    const first = this.outbox.size === 0 && this.dirty.size === 0
    if (this.persist) push(this.dirty, doc.name, update)
    if (origin === LOCAL) {
      let p = this.outbox.get(doc.name)
      if (p == null) { p = { updates: [], bytes: 0, overflow: false }; this.outbox.set(doc.name, p) }
      p.bytes += update.length
      if (p.bytes > this.limits.maxGossipBytes) { p.overflow = true; p.updates = [] } else p.updates.push(update)
    }
    if (first && (this.outbox.size > 0 || this.dirty.size > 0)) this.init.onPending?.()
  }

  onChange (event: ChangeEvent): void { this.init.onChange?.(event) }
  watching (doc: string): boolean { return this.init.watching?.(doc) ?? false }
  onDrift (ms: number): void { this.counters.drift(ms) }

  // ---- outgoing ----

  get pending (): boolean { return this.outbox.size > 0 || this.dirty.size > 0 }

  /** Takes everything waiting: merged changes for the store, gossip payloads for the network. */
  flush (): Flush {
    const persist = [...this.dirty].map(([doc, list]) => ({ doc, update: merge(list) }))
    const publish: Outgoing[] = []
    for (const [name, p] of this.outbox) {
      const update = p.overflow ? undefined : merge(p.updates)
      if (update != null && update.length <= this.limits.maxGossipBytes) {
        publish.push({ doc: name, kind: 'delta', payload: encodeDelta(name, update), updateBytes: update.length })
      } else {
        // Too large for gossip: announce it; peers that lack it pull it over a sync stream.
        const d = this.docs.get(name)!.digest()
        publish.push({ doc: name, kind: 'hint', payload: encodeHint(name, d.stateVector, d.hash), updateBytes: p.bytes })
      }
    }
    this.outbox = new Map()
    this.dirty = new Map()
    return { persist, publish }
  }

  // ---- incoming ----

  private reject (err: unknown, channel: Channel): Receipt {
    const e = err instanceof CrdtError ? err : new CrdtError('malformed', (err as Error).message)
    this.counters.rejected(e.code, channel)
    return { status: 'rejected', code: e.code, message: e.message }
  }

  /** Counts a refusal decided outside the core (a non-member, a broken stream). */
  count (code: CrdtErrorCode, channel: Channel): void { this.counters.rejected(code, channel) }

  /** A gossip payload from `from`. Never throws: refusals are counted and returned. */
  receiveDelta (payload: Uint8Array): Receipt {
    let d
    try {
      d = decodeDelta(payload, this.limits)
    } catch (err) {
      return this.reject(err, 'gossip')
    }
    if (d.kind === 'update') return this.applyUpdate(d.doc, d.update, 'gossip')
    const doc = this.docs.get(d.doc)
    if (doc != null && equalBytes(doc.digest().hash, d.hash)) return { status: 'current', doc: d.doc }
    return { status: 'behind', doc: d.doc }
  }

  /** Validates and applies a remote update; never keeps Yjs pending structs (a gap is reported). */
  applyUpdate (name: string, update: Uint8Array, channel: Channel): Receipt {
    let doc: SharedDoc
    try {
      const ends = validateUpdate(update, channel === 'gossip' ? this.limits.maxGossipBytes : this.limits.maxUpdateBytes)
      doc = this.doc(name)
      // Only this replica writes under its client id; Yjs would otherwise switch ids and log.
      const mine = ends.get(doc.ydoc.clientID)
      if (mine != null && mine > Y.getState(doc.ydoc.store, doc.ydoc.clientID)) throw new CrdtError('invalid', 'the update writes under this replica\'s client id')
    } catch (err) {
      return this.reject(err, channel)
    }
    const store = doc.ydoc.store
    try {
      Y.applyUpdate(doc.ydoc, update, REMOTE)
    } catch (err) {
      store.pendingStructs = null
      store.pendingDs = null
      return this.reject(new CrdtError('malformed', `update failed to apply: ${(err as Error).message}`), channel)
    }
    // Structs whose dependencies we lack would wait inside Yjs (and be re-sent by
    // encodeStateAsUpdate). Drop them: a state-vector sync brings them with their dependencies.
    // Deletes of structs not here yet may wait: a write that overwrote another writer's slot
    // often outruns that writer's own delta, and Yjs applies the delete when the struct comes.
    if (store.pendingStructs != null) {
      store.pendingStructs = null
      this.counters.gap(channel)
      return { status: 'gap', doc: name }
    }
    this.counters.applied(channel, update.length)
    return { status: 'applied', doc: name }
  }

  // ---- persistence ----

  /** Loads a document from its stored snapshot and updates. Returns how many records were unusable. */
  restore (name: string, updates: Uint8Array[]): number {
    const doc = this.doc(name)
    const valid: Uint8Array[] = []
    for (const u of updates) {
      try {
        validateUpdate(u, Number.MAX_SAFE_INTEGER)
        valid.push(u)
      } catch (err) {
        this.reject(err, 'restore')
      }
    }
    if (valid.length > 0) {
      try {
        Y.applyUpdate(doc.ydoc, merge(valid), RESTORE)
      } catch (err) {
        this.reject(new CrdtError('malformed', (err as Error).message), 'restore')
        return updates.length
      }
      doc.ydoc.store.pendingStructs = null
      doc.ydoc.store.pendingDs = null
    }
    return updates.length - valid.length
  }

  /** The whole document as one update: what compaction stores in place of its update log. */
  snapshot (name: string): Uint8Array {
    const doc = this.docs.get(name)
    return doc == null ? new Uint8Array([0, 0]) : Y.encodeStateAsUpdate(doc.ydoc)
  }

  /** Digests of every document: what a sync HELLO carries. */
  digests (): Array<{ doc: string, stateVector: Uint8Array, hash: Uint8Array }> {
    return this.names().map(doc => {
      const d = this.docs.get(doc)!.digest()
      return { doc, stateVector: d.stateVector, hash: d.hash }
    })
  }

  /** What a peer with this state vector lacks of a document (undefined when nothing). */
  diff (name: string, stateVector: Uint8Array): Uint8Array | undefined {
    const doc = this.docs.get(name)
    if (doc == null) return undefined
    const update = Y.encodeStateAsUpdate(doc.ydoc, stateVector)
    if (update.length <= EMPTY_UPDATE_BYTES) return undefined
    if (update.length > this.limits.maxUpdateBytes) {
      // The peer would refuse it; say so here rather than break the session there.
      this.counters.rejected('too_large', 'sync')
      return undefined
    }
    return update
  }
}

function push (m: Map<string, Uint8Array[]>, key: string, v: Uint8Array): void {
  const list = m.get(key)
  if (list == null) m.set(key, [v])
  else list.push(v)
}

export interface SessionStats {
  framesIn: number
  framesOut: number
  bytesIn: number
  bytesOut: number
  /** Update frames applied. */
  updates: number
  gaps: number
}

/**
 * One state-vector exchange between two replicas: one round trip and a final push.
 *
 *   initiator -> HELLO (digest of every document it holds)
 *   responder -> UPDATE* (what the initiator lacks, full documents it does not hold) then
 *                DONE (its own digests for the documents that differ)
 *   initiator -> UPDATE* (what the responder lacks) then DONE
 *
 * A document whose digests are equal costs its digest and nothing else.
 *
 * The caller flushes the replica (and persists what the flush returns) in the same turn as it
 * feeds a frame: a sync must never hand out a local write that is not in the store yet, or a
 * crash would leave a peer holding a write its author lost, and the author would then reuse
 * its counter and slot entries behind that write.
 */
export class SyncSession {
  readonly stats: SessionStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, updates: 0, gaps: 0 }
  private state: 'hello' | 'reply' | 'final' | 'done'

  constructor (private readonly replica: Replica, readonly role: 'initiator' | 'responder', readonly peer: string) {
    this.state = role === 'initiator' ? 'reply' : 'hello'
  }

  get done (): boolean { return this.state === 'done' }

  /** The frames that open the session (the initiator's HELLO). */
  open (): Uint8Array[] {
    if (this.role !== 'initiator') return []
    return this.out([encodeFrame({ kind: 'hello', digests: this.replica.digests() })])
  }

  /** Feeds one frame; returns the frames to send. Throws CrdtError (counted) on a violation. */
  receive (bytes: Uint8Array): Uint8Array[] {
    this.stats.framesIn++
    this.stats.bytesIn += bytes.length
    let frame: Frame
    try {
      frame = decodeFrame(bytes, this.replica.limits)
    } catch (err) {
      this.replica.count((err as CrdtError).code ?? 'malformed', 'sync')
      throw err
    }
    if (frame.kind === 'update' && (this.state === 'reply' || this.state === 'final')) {
      const r = this.replica.applyUpdate(frame.doc, frame.update, 'sync')
      if (r.status === 'applied') this.stats.updates++
      else if (r.status === 'gap') this.stats.gaps++
      return []
    }
    if (frame.kind === 'hello' && this.state === 'hello') {
      this.state = 'final'
      return this.out(this.answer(frame.digests))
    }
    if (frame.kind === 'done' && this.state === 'reply') {
      this.state = 'done'
      const frames: Uint8Array[] = []
      for (const d of frame.digests) {
        const update = this.replica.diff(d.doc, d.encoded)
        if (update != null) frames.push(encodeFrame({ kind: 'update', doc: d.doc, update }))
      }
      frames.push(encodeFrame({ kind: 'done', digests: [] }))
      return this.out(frames)
    }
    if (frame.kind === 'done' && this.state === 'final') {
      this.state = 'done'
      return []
    }
    this.replica.count('invalid', 'sync')
    throw new CrdtError('invalid', `unexpected ${frame.kind} frame in state ${this.state}`)
  }

  private answer (digests: Array<{ doc: string, encoded: Uint8Array, hash: Uint8Array }>): Uint8Array[] {
    const frames: Uint8Array[] = []
    const need: Array<{ doc: string, stateVector: Uint8Array, hash: Uint8Array }> = []
    const mentioned = new Set<string>()
    for (const d of digests) {
      mentioned.add(d.doc)
      if (!this.replica.has(d.doc)) {
        try {
          this.replica.doc(d.doc)
        } catch (err) {
          this.replica.count((err as CrdtError).code ?? 'invalid', 'sync')
          continue
        }
      }
      const mine = this.replica.get(d.doc)!.digest()
      if (equalBytes(mine.hash, d.hash)) continue
      const update = this.replica.diff(d.doc, d.encoded)
      if (update != null) frames.push(encodeFrame({ kind: 'update', doc: d.doc, update }))
      need.push({ doc: d.doc, stateVector: mine.stateVector, hash: mine.hash })
    }
    // Documents the initiator does not hold at all: the full snapshot.
    for (const name of this.replica.names()) {
      if (mentioned.has(name)) continue
      const update = this.replica.diff(name, new Uint8Array([0]))
      if (update != null) frames.push(encodeFrame({ kind: 'update', doc: name, update }))
    }
    frames.push(encodeFrame({ kind: 'done', digests: need }))
    return frames
  }

  private out (frames: Uint8Array[]): Uint8Array[] {
    this.stats.framesOut += frames.length
    for (const f of frames) this.stats.bytesOut += f.length
    return frames
  }
}
