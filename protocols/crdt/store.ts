/**
 * Documents in the node's LevelDB (a sublevel): each document is a snapshot plus an append-only
 * log of updates written with `sync: true`; compaction replaces the log by a new snapshot in one
 * atomic batch. Keys: `i` (this store's incarnation), `d/<doc>/s` (snapshot),
 * `d/<doc>/u/<seq>` (updates, seq in fixed-width base 36 so they sort in order).
 */

/** The part of a (sub)level the store uses; ClassicLevel sublevels fit it. */
export interface KvStore {
  get: (key: string) => Promise<Uint8Array | undefined>
  batch: (ops: Array<{ type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }>, options?: { sync?: boolean }) => Promise<void>
  iterator: (options: { gte: string, lt: string }) => AsyncIterable<[string, Uint8Array]>
}

const SEQ_WIDTH = 11 // base 36: beyond 2^53
const enc = new TextEncoder()
const dec = new TextDecoder()

function updateKey (doc: string, seq: number): string {
  return `d/${doc}/u/${seq.toString(36).padStart(SEQ_WIDTH, '0')}`
}

export interface StoredDoc { doc: string, records: Uint8Array[] }

export class DocStore {
  /** Next sequence number and updates logged since the last snapshot, per document. */
  private readonly seq = new Map<string, number>()
  private readonly logged = new Map<string, number>()

  constructor (private readonly db: KvStore) {}

  /** This store's incarnation: made once, kept for the life of the data dir. */
  async incarnation (make: () => string): Promise<string> {
    const v = await this.db.get('i')
    if (v != null && v.length > 0) return dec.decode(v)
    const id = make()
    await this.db.batch([{ type: 'put', key: 'i', value: enc.encode(id) }], { sync: true })
    return id
  }

  /** Every document: its snapshot (if any) first, then its updates in order. */
  async load (): Promise<StoredDoc[]> {
    const docs = new Map<string, StoredDoc>()
    for await (const [key, value] of this.db.iterator({ gte: 'd/', lt: 'd0' })) {
      const m = /^d\/([^/]+)\/(s|u\/([0-9a-z]+))$/.exec(key)
      if (m == null) continue
      const doc = m[1]!
      let entry = docs.get(doc)
      if (entry == null) { entry = { doc, records: [] }; docs.set(doc, entry) }
      entry.records.push(value)
      if (m[3] != null) {
        const n = parseInt(m[3], 36)
        this.seq.set(doc, Math.max(this.seq.get(doc) ?? 0, n + 1))
        this.logged.set(doc, (this.logged.get(doc) ?? 0) + 1)
      }
    }
    return [...docs.values()]
  }

  /** Appends one update per document, all in one synced batch. */
  async append (records: Array<{ doc: string, update: Uint8Array }>): Promise<void> {
    if (records.length === 0) return
    const ops = records.map(r => {
      const n = this.seq.get(r.doc) ?? 0
      this.seq.set(r.doc, n + 1)
      this.logged.set(r.doc, (this.logged.get(r.doc) ?? 0) + 1)
      return { type: 'put' as const, key: updateKey(r.doc, n), value: r.update }
    })
    await this.db.batch(ops, { sync: true })
  }

  /** Updates logged since the document's last snapshot. */
  loggedSince (doc: string): number { return this.logged.get(doc) ?? 0 }

  /** Documents with at least `min` logged updates. */
  due (min: number): string[] {
    return [...this.logged].filter(([, n]) => n >= min).map(([doc]) => doc)
  }

  /**
   * Replaces the document's log by `snapshot`, which must contain every logged update (take it
   * after the updates were appended). Updates appended later stay in the log.
   */
  async compact (doc: string, snapshot: Uint8Array): Promise<void> {
    const upTo = this.seq.get(doc) ?? 0
    const ops: Array<{ type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }> = [
      { type: 'put', key: `d/${doc}/s`, value: snapshot }
    ]
    for await (const [key] of this.db.iterator({ gte: `d/${doc}/u/`, lt: updateKey(doc, upTo) })) ops.push({ type: 'del', key })
    await this.db.batch(ops, { sync: true })
    this.logged.set(doc, 0)
  }
}

/** The node's LevelDB as the store's key-value interface: the `crdt` sublevel. */
export function crdtStore (db: { sublevel: (name: string, options: { keyEncoding: 'utf8', valueEncoding: 'view' }) => unknown }): KvStore {
  // abstract-level's typings omit `sync`, which classic-level honours on batch.
  return db.sublevel('crdt', { keyEncoding: 'utf8', valueEncoding: 'view' }) as KvStore
}
