/**
 * A named shared document: one Yjs document holding typed structures, each a top-level Y.Map
 * (top-level types exist on every replica by name, so two peers creating "the same" structure
 * concurrently can never shadow each other's writes):
 *
 * - LWW map (`m:<name>`): one slot per key and writer, `<key>\0<writer>` -> [wall, logical,
 *   deleted, value]. A read returns the slot with the greatest HLC stamp (ties: peer id, then
 *   writer id), not the one Yjs would pick by client id. A write first observes every slot of
 *   the key, so its stamp is later than all of them, then deletes them and writes its own slot;
 *   a concurrent write elsewhere lands in a slot this delete never saw, so both survive until
 *   the next write and the read picks the later.
 * - OR-set (`s:<name>`), add-wins: `<element>\0<writer>` slots; add writes (always) the adder's
 *   slot, remove deletes the slots it has seen. An add concurrent with a remove survives.
 * - PN-counter (`c:<name>`): `<writer>\0p` and `<writer>\0n`, each written only by its writer
 *   and only upwards; the value is the sum of p minus the sum of n.
 * - `_w`: writer id -> peer id, for tie-breaks.
 *
 * A writer is one peer during one life of its store (its incarnation), so a peer that lost its
 * state never writes over a slot it cannot see. Pure: the clock comes from the HLC, the
 * replica hands in the Yjs client id.
 */
import { createHash } from 'node:crypto'
import * as Y from 'yjs'
import { compareStamps, isClock, type Hlc, type Stamp } from './hlc.js'
import { CrdtError } from './errors.js'

export const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/
export const MAX_KEY_LENGTH = 1024
export const SEP = '\u0000'
export const WRITERS_ROOT = '_w'
/** Every top-level name a valid update may touch. */
export const ROOT_PATTERN = /^(?:[msc]:[A-Za-z0-9_.:-]{1,64}|_w)$/

export type Kind = 'map' | 'set' | 'counter'
const PREFIX: Record<Kind, string> = { map: 'm:', set: 's:', counter: 'c:' }
const KIND_OF: Record<string, Kind> = { 'm:': 'map', 's:': 'set', 'c:': 'counter' }

/** Transaction origins. */
export const LOCAL = 'swarmnet:local'
export const RESTORE = 'swarmnet:restore'
export const REMOTE = 'swarmnet:remote'

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }
export type SetElement = string | number | boolean

export interface Change {
  kind: Kind
  name: string
  /** Map key. */
  key?: string
  /** Map: the value now (absent when deleted). Counter: the total now. */
  value?: JsonValue
  deleted?: boolean
  /** Set element, and whether it is in the set now. */
  element?: SetElement
  present?: boolean
}

export interface ChangeEvent { doc: string, origin: 'local' | 'remote', changes: Change[] }
export type ChangeHandler = (event: ChangeEvent) => void

export interface DocJson {
  maps: Record<string, Record<string, JsonValue>>
  sets: Record<string, SetElement[]>
  counters: Record<string, number>
}

export interface Digest {
  /** Yjs state vector (v1 encoding). */
  stateVector: Uint8Array
  /** SHA-256 of state vector plus delete set: equal on two replicas iff they hold the same document. */
  hash: Uint8Array
  /** Structs plus deletions: grows with every change, equal on replicas with the same document. */
  version: number
}

/** What a document needs from its replica. */
export interface DocHost {
  readonly peerId: string
  readonly writer: string
  readonly hlc: Hlc
  onUpdate: (doc: SharedDoc, update: Uint8Array, origin: unknown) => void
  onChange: (event: ChangeEvent) => void
  /** True when someone listens to this document's changes (values are only computed then). */
  watching: (doc: string) => boolean
  onDrift: (ms: number) => void
}

interface Slot { wall: number, logical: number, deleted: boolean, value: JsonValue }

type YType = Y.AbstractType<any> // eslint-disable-line @typescript-eslint/no-explicit-any

function liveItem (type: YType, key: string): Y.Item | undefined {
  const item = type._map.get(key)
  return item !== undefined && !item.deleted ? item : undefined
}

function itemValue (item: Y.Item): unknown {
  const content = item.content.getContent()
  return content[item.length - 1]
}

function parseSlot (v: unknown): Slot | undefined {
  if (!Array.isArray(v) || v.length !== 4) return undefined
  const [wall, logical, deleted, value] = v as [unknown, unknown, unknown, JsonValue]
  if (!isClock(wall, logical) || (deleted !== 0 && deleted !== 1)) return undefined
  return { wall: wall as number, logical: logical as number, deleted: deleted === 1, value }
}

function isCount (v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

export function checkName (what: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new CrdtError('invalid_operation', `${what} ${JSON.stringify(String(name).slice(0, 80))} must be 1-64 letters, digits or _.:-`)
  }
  return name
}

export function checkKey (key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH || key.includes(SEP)) {
    throw new CrdtError('invalid_operation', `key must be a string of 1-${MAX_KEY_LENGTH} characters without NUL`)
  }
  return key
}

/** Copies a value as JSON, refusing what JSON cannot hold (NaN, undefined, functions, cycles). */
export function toJsonValue (v: unknown, depth = 0): JsonValue {
  if (depth > 64) throw new CrdtError('invalid_operation', 'value nests deeper than 64 levels')
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new CrdtError('invalid_operation', 'numbers must be finite')
    return v
  }
  if (Array.isArray(v)) return v.map(x => toJsonValue(x, depth + 1))
  if (typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    const out: Record<string, JsonValue> = {}
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = toJsonValue(x, depth + 1)
    return out
  }
  throw new CrdtError('invalid_operation', `a ${typeof v} is not a JSON value`)
}

export function elementKey (e: unknown): string {
  if (typeof e === 'string' || typeof e === 'boolean' || (typeof e === 'number' && Number.isFinite(e))) {
    const key = JSON.stringify(e)
    if (key.length > MAX_KEY_LENGTH) throw new CrdtError('invalid_operation', `set elements are at most ${MAX_KEY_LENGTH} characters`)
    return key
  }
  throw new CrdtError('invalid_operation', 'set elements are strings, finite numbers or booleans')
}

function parseElement (key: string): SetElement {
  try {
    const v = JSON.parse(key) as unknown
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v
  } catch { // a slot written by something else: show it raw
  }
  return key
}

function splitSlot (slot: string): [string, string] | undefined {
  const at = slot.lastIndexOf(SEP)
  return at <= 0 ? undefined : [slot.slice(0, at), slot.slice(at + 1)]
}

export class SharedDoc {
  readonly ydoc: Y.Doc
  /** Root name -> user key (or set element key) -> writers with a live slot. Built on first use. */
  private readonly index = new Map<string, Map<string, Set<string>>>()
  private readonly rootNames = new Map<YType, string>()
  private readonly listeners = new Set<ChangeHandler>()
  private readonly helpers = new Map<string, LwwMap | OrSet | PnCounter>()
  private cached?: Digest

  constructor (readonly name: string, private readonly host: DocHost, clientId: number) {
    this.ydoc = new Y.Doc({ gc: true })
    this.ydoc.clientID = clientId
    this.ydoc.on('update', (update: Uint8Array, origin: unknown) => {
      this.cached = undefined
      this.host.onUpdate(this, update, origin)
    })
    this.ydoc.on('afterTransaction', (tr: Y.Transaction) => { this.afterTransaction(tr) })
  }

  map (name: string): LwwMap { return this.helper('map', name) as LwwMap }
  set (name: string): OrSet { return this.helper('set', name) as OrSet }
  counter (name: string): PnCounter { return this.helper('counter', name) as PnCounter }

  private helper (kind: Kind, name: string): LwwMap | OrSet | PnCounter {
    const root = PREFIX[kind] + checkName(`${kind} name`, name)
    let h = this.helpers.get(root)
    if (h == null) {
      h = kind === 'map' ? new LwwMap(this, name, root) : kind === 'set' ? new OrSet(this, name, root) : new PnCounter(this, name, root)
      this.helpers.set(root, h)
    }
    return h
  }

  /** Runs several operations as one change (one update on the wire, one change event). */
  transact<T> (fn: () => T): T {
    let out!: T
    this.ydoc.transact(() => { out = fn() }, LOCAL)
    return out
  }

  /** Calls `handler` after every change, local or remote. Returns the unsubscribe function. */
  onChange (handler: ChangeHandler): () => void {
    this.listeners.add(handler)
    return () => { this.listeners.delete(handler) }
  }

  digest (): Digest {
    if (this.cached != null) return this.cached
    const snap = Y.snapshot(this.ydoc)
    let version = 0
    for (const clock of snap.sv.values()) version += clock
    for (const items of snap.ds.clients.values()) for (const it of items) version += it.len
    this.cached = {
      stateVector: Y.encodeStateVector(this.ydoc),
      hash: createHash('sha256').update(Y.encodeSnapshot(snap)).digest(),
      version
    }
    return this.cached
  }

  get version (): number { return this.digest().version }

  /**
   * The whole document: every structure by kind and name, keys and elements sorted. A
   * structure with no live entry is left out: whether its root exists depends on the history
   * a replica saw (a root whose entries were all deleted may have arrived only as GC).
   */
  toJSON (): DocJson {
    const out: DocJson = { maps: {}, sets: {}, counters: {} }
    for (const [root, type] of [...this.ydoc.share].sort((a, b) => a[0] < b[0] ? -1 : 1)) {
      const kind = KIND_OF[root.slice(0, 2)]
      const name = root.slice(2)
      if (kind == null || !NAME_PATTERN.test(name)) continue
      let live = false
      for (const item of type._map.values()) if (!item.deleted) { live = true; break }
      if (!live) continue
      if (kind === 'map') out.maps[name] = this.map(name).toJSON()
      else if (kind === 'set') out.sets[name] = this.set(name).values()
      else out.counters[name] = this.counter(name).value()
    }
    return out
  }

  // ---- internals shared by the structures ----

  /** The root as a Y.Map; undefined when nobody has written it yet and `create` is false. */
  root (name: string, create: boolean): Y.Map<unknown> | undefined {
    if (!create && !this.ydoc.share.has(name)) return undefined
    return this.ydoc.getMap(name)
  }

  /** Keys of a map or set root, each with the writers holding a live slot. */
  slots (root: string): Map<string, Set<string>> {
    let idx = this.index.get(root)
    if (idx == null) {
      idx = new Map()
      const type = this.root(root, false)
      if (type != null) {
        for (const [slot, item] of type._map) {
          if (item.deleted) continue
          const parts = splitSlot(slot)
          if (parts != null) addTo(idx, parts[0], parts[1])
        }
      }
      this.index.set(root, idx)
    }
    return idx
  }

  peerOf (writer: string): string {
    const w = this.ydoc.share.get(WRITERS_ROOT)
    const item = w == null ? undefined : liveItem(w, writer)
    const v = item == null ? undefined : itemValue(item)
    return typeof v === 'string' ? v : writer
  }

  slotValue (type: YType, slot: string): unknown {
    const item = liveItem(type, slot)
    return item == null ? undefined : itemValue(item)
  }

  /** The winning slot of a map key: greatest stamp, ties by peer id then writer. */
  winner (root: string, key: string): (Slot & { stamp: Stamp }) | undefined {
    const writers = this.slots(root).get(key)
    const type = writers == null ? undefined : this.root(root, false)
    if (writers == null || type == null) return undefined
    let best: (Slot & { stamp: Stamp }) | undefined
    for (const w of writers) {
      const s = parseSlot(this.slotValue(type, key + SEP + w))
      if (s == null) continue // garbage from a buggy or hostile member is never a winner
      const stamp: Stamp = { wall: s.wall, logical: s.logical, peer: this.peerOf(w), writer: w }
      if (best == null || compareStamps(stamp, best.stamp) > 0) best = { ...s, stamp }
    }
    return best
  }

  /** A local change, with this writer registered in the same update. */
  local (fn: () => void): void {
    this.ydoc.transact(() => {
      const w = this.ydoc.getMap(WRITERS_ROOT)
      if (liveItem(w, this.host.writer) == null) w.set(this.host.writer, this.host.peerId)
      fn()
    }, LOCAL)
  }

  get writer (): string { return this.host.writer }
  get hlc (): Hlc { return this.host.hlc }
  observeStamp (wall: number, logical: number): void {
    const drift = this.host.hlc.drift({ wall, logical })
    if (drift > 0) this.host.onDrift(drift)
    this.host.hlc.observe({ wall, logical })
  }

  private rootName (type: YType): string | undefined {
    const hit = this.rootNames.get(type)
    if (hit != null) return hit
    // A root created by a remote update, or retyped by getMap since: look again.
    this.rootNames.clear()
    for (const [name, t] of this.ydoc.share) this.rootNames.set(t, name)
    return this.rootNames.get(type)
  }

  private afterTransaction (tr: Y.Transaction): void {
    if (tr.changed.size === 0) return
    const watching = this.listeners.size > 0 || this.host.watching(this.name)
    const changes = new Map<string, Change>()
    const rawKeys = new Map<Change, string>()
    for (const [type, keys] of tr.changed) {
      if (type._item !== null) continue // no nested types here
      const root = this.rootName(type)
      if (root == null) continue
      const kind = KIND_OF[root.slice(0, 2)]
      if (kind == null) continue
      const name = root.slice(2)
      if (kind === 'counter') {
        if (watching) changes.set(root, { kind, name })
        continue
      }
      const idx = this.index.get(root)
      if (idx == null && !watching) continue
      for (const slot of keys) {
        if (slot == null) continue
        const parts = splitSlot(slot)
        if (parts == null) continue
        const [key, writer] = parts
        if (idx != null) {
          if (liveItem(type, slot) != null) addTo(idx, key, writer)
          else removeFrom(idx, key, writer)
        }
        if (!watching) continue
        const id = root + SEP + key
        if (changes.has(id)) continue
        const change: Change = kind === 'map' ? { kind, name, key } : { kind, name, element: parseElement(key) }
        changes.set(id, change)
        rawKeys.set(change, key)
      }
    }
    if (changes.size === 0 || !watching) return
    const list = [...changes.values()]
    for (const c of list) {
      if (c.kind === 'map') {
        const v = this.map(c.name).get(c.key!)
        if (v === undefined) c.deleted = true
        else c.value = v
      } else if (c.kind === 'set') {
        c.present = (this.slots(PREFIX.set + c.name).get(rawKeys.get(c)!)?.size ?? 0) > 0
      } else {
        c.value = this.counter(c.name).value()
      }
    }
    const event: ChangeEvent = { doc: this.name, origin: tr.origin === LOCAL ? 'local' : 'remote', changes: list }
    for (const l of this.listeners) {
      try { l(event) } catch { /* a listener's failure is its own */ }
    }
    this.host.onChange(event)
  }
}

function addTo (idx: Map<string, Set<string>>, key: string, writer: string): void {
  let s = idx.get(key)
  if (s == null) { s = new Set(); idx.set(key, s) }
  s.add(writer)
}

function removeFrom (idx: Map<string, Set<string>>, key: string, writer: string): void {
  const s = idx.get(key)
  if (s == null) return
  s.delete(writer)
  if (s.size === 0) idx.delete(key)
}

/** A map whose keys resolve last-writer-wins by HLC stamp. */
export class LwwMap {
  constructor (private readonly doc: SharedDoc, readonly name: string, private readonly root: string) {}

  get (key: string): JsonValue | undefined {
    const w = this.doc.winner(this.root, key)
    return w == null || w.deleted ? undefined : w.value
  }

  has (key: string): boolean { return this.get(key) !== undefined }

  /** The stamp of the write the key holds now (a delete's, when it was deleted last). */
  stamp (key: string): Stamp | undefined { return this.doc.winner(this.root, key)?.stamp }

  set (key: string, value: unknown): Stamp {
    return this.write(checkKey(key), toJsonValue(value), false)
  }

  delete (key: string): Stamp {
    return this.write(checkKey(key), null, true)
  }

  private write (key: string, value: JsonValue, deleted: boolean): Stamp {
    const type = this.doc.root(this.root, true)!
    const writers = [...(this.doc.slots(this.root).get(key) ?? [])]
    // Our stamp must be later than every write to this key we have seen.
    for (const w of writers) {
      const s = parseSlot(this.doc.slotValue(type, key + SEP + w))
      if (s != null) this.doc.observeStamp(s.wall, s.logical)
    }
    const t = this.doc.hlc.now()
    const me = this.doc.writer
    this.doc.local(() => {
      for (const w of writers) if (w !== me) type.delete(key + SEP + w)
      type.set(key + SEP + me, [t.wall, t.logical, deleted ? 1 : 0, value])
    })
    return { ...t, peer: this.doc.peerOf(me), writer: me }
  }

  keys (): string[] {
    return [...this.doc.slots(this.root).keys()].filter(k => this.get(k) !== undefined).sort()
  }

  toJSON (): Record<string, JsonValue> {
    const out: Record<string, JsonValue> = {}
    for (const k of [...this.doc.slots(this.root).keys()].sort()) {
      const v = this.get(k)
      if (v !== undefined) out[k] = v
    }
    return out
  }
}

/** An observed-remove set with add-wins semantics. */
export class OrSet {
  constructor (private readonly doc: SharedDoc, readonly name: string, private readonly root: string) {}

  add (element: SetElement): void {
    const key = elementKey(element)
    const type = this.doc.root(this.root, true)!
    const t = this.doc.hlc.now()
    // Always a fresh write, even when present: a concurrent remove never saw it, so the add wins.
    this.doc.local(() => { type.set(key + SEP + this.doc.writer, [t.wall, t.logical]) })
  }

  /** Removes the element as far as this replica has seen it added. */
  remove (element: SetElement): void {
    const key = elementKey(element)
    const writers = this.doc.slots(this.root).get(key)
    if (writers == null || writers.size === 0) return
    const type = this.doc.root(this.root, true)!
    const list = [...writers]
    this.doc.local(() => { for (const w of list) type.delete(key + SEP + w) })
  }

  has (element: SetElement): boolean {
    return (this.doc.slots(this.root).get(elementKey(element))?.size ?? 0) > 0
  }

  values (): SetElement[] {
    return [...this.doc.slots(this.root).keys()].sort().map(parseElement)
  }
}

/** A PN-counter: per writer, one entry for increments and one for decrements. */
export class PnCounter {
  constructor (private readonly doc: SharedDoc, readonly name: string, private readonly root: string) {}

  /** Adds `by` (a safe integer, negative to decrement). */
  increment (by = 1): void {
    if (!Number.isSafeInteger(by) || Math.abs(by) > 2 ** 40) {
      throw new CrdtError('invalid_operation', 'increments are integers of magnitude at most 2^40')
    }
    if (by === 0) return
    const type = this.doc.root(this.root, true)!
    const key = this.doc.writer + SEP + (by > 0 ? 'p' : 'n')
    const prev = this.doc.slotValue(type, key)
    const total = (isCount(prev) ? prev : 0) + Math.abs(by)
    this.doc.local(() => { type.set(key, total) })
  }

  decrement (by = 1): void { this.increment(-by) }

  value (): number {
    const type = this.doc.root(this.root, false)
    if (type == null) return 0
    let sum = 0
    for (const [key, item] of type._map) {
      if (item.deleted) continue
      const v = itemValue(item)
      if (!isCount(v)) continue
      if (key.endsWith(SEP + 'p')) sum += v
      else if (key.endsWith(SEP + 'n')) sum -= v
    }
    return sum
  }
}
