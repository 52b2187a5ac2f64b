/**
 * A read cache in front of the node's libp2p datastore (the peer store's records, the DHT's).
 *
 * libp2p's peer store reads a peer's record from the datastore, then writes it back, on every
 * stream either side opens and every DHT answer naming the peer; its lookups read it too. Against
 * LevelDB each read is a round trip through the thread pool that Raft's log writes use. In CPU
 * profiles of every process during rolling restarts under load, the LevelDB datastore's calls were
 * 11.7% of the samples in the windows of the longest write gaps (Raft itself: 11%); with this
 * cache, 3.9%. Writes still reach LevelDB before they resolve (write-through); the cache only
 * answers reads, and is bounded (least recently used first out).
 * Values are shared with the callers, which only decode them (as with any datastore, a value
 * handed to put must not be changed afterwards).
 */
import { BaseDatastore } from 'datastore-core'
import type { Batch, Datastore, Key, KeyQuery, Query } from 'interface-datastore'

type AbortOptions = { signal?: AbortSignal }

export interface CachedDatastoreInit {
  /** Most records kept (default 2,048). */
  maxEntries?: number
  /** Most value bytes kept (default 8 MiB). */
  maxBytes?: number
}

export class CachedDatastore extends BaseDatastore {
  private readonly cache = new Map<string, Uint8Array>()
  private bytes = 0
  /** Bumped as every write starts and ends: a read that overlapped one does not fill the cache. */
  private writes = 0
  /** Writes under way per key, and keys two of them overlapped on. */
  private readonly inflight = new Map<string, number>()
  private readonly overlapped = new Set<string>()
  private readonly maxEntries: number
  private readonly maxBytes: number
  readonly stats = { hits: 0, misses: 0 }

  constructor (private readonly inner: Datastore, init: CachedDatastoreInit = {}) {
    super()
    this.maxEntries = init.maxEntries ?? 2048
    this.maxBytes = init.maxBytes ?? 8 * 1024 * 1024
  }

  override async get (key: Key, options?: AbortOptions): Promise<Uint8Array> {
    const k = key.toString()
    const hit = this.cache.get(k)
    if (hit !== undefined) {
      this.stats.hits++
      // Map order is insertion order: re-inserting makes it the most recently used.
      this.cache.delete(k)
      this.cache.set(k, hit)
      return hit
    }
    this.stats.misses++
    const writes = this.writes
    const value = await this.inner.get(key, options)
    if (writes === this.writes) this.remember(k, value)
    return value
  }

  override async has (key: Key, options?: AbortOptions): Promise<boolean> {
    return this.cache.has(key.toString()) || await this.inner.has(key, options)
  }

  override async put (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    await this.write([key.toString()], async () => { await this.inner.put(key, value, options) }, value)
    return key
  }

  override async delete (key: Key, options?: AbortOptions): Promise<void> {
    await this.write([key.toString()], async () => { await this.inner.delete(key, options) })
  }

  override batch (): Batch {
    const inner = this.inner.batch()
    const touched: string[] = []
    return {
      put: (key: Key, value: Uint8Array) => { touched.push(key.toString()); inner.put(key, value) },
      delete: (key: Key) => { touched.push(key.toString()); inner.delete(key) },
      commit: async (options?: AbortOptions) => { await this.write(touched, async () => { await inner.commit(options) }) }
    }
  }

  /**
   * Runs a write, then caches `value` for the key (a put) or leaves the keys uncached. Two writes
   * to one key that overlap may reach LevelDB in either order: then neither is cached.
   */
  private async write (keys: string[], run: () => Promise<void>, value?: Uint8Array): Promise<void> {
    this.writes++
    for (const k of keys) {
      this.forget(k)
      const n = (this.inflight.get(k) ?? 0) + 1
      this.inflight.set(k, n)
      if (n > 1) this.overlapped.add(k)
    }
    let ok = false
    try {
      await run()
      ok = true
    } finally {
      this.writes++
      for (const k of keys) {
        const n = this.inflight.get(k)! - 1
        if (n > 0) { this.inflight.set(k, n); continue }
        this.inflight.delete(k)
        const clash = this.overlapped.delete(k)
        this.forget(k)
        if (ok && !clash && value !== undefined) this.remember(k, value)
      }
    }
  }

  // Queries read LevelDB itself: every write reached it before resolving, so they agree.
  override query (q: Query, options?: AbortOptions): ReturnType<Datastore['query']> { return this.inner.query(q, options) }
  override queryKeys (q: KeyQuery, options?: AbortOptions): ReturnType<Datastore['queryKeys']> { return this.inner.queryKeys(q, options) }

  private remember (k: string, value: Uint8Array): void {
    // One large record must not push out dozens of small ones: peer records are a few hundred bytes.
    if (value.byteLength > this.maxBytes / 64) return
    this.forget(k)
    this.cache.set(k, value)
    this.bytes += value.byteLength
    while (this.cache.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.cache.keys().next().value
      if (oldest === undefined) break
      this.forget(oldest)
    }
  }

  private forget (k: string): void {
    const v = this.cache.get(k)
    if (v === undefined) return
    this.cache.delete(k)
    this.bytes -= v.byteLength
  }
}
