import { strict as assert } from 'node:assert'
import fc from 'fast-check'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { CachedDatastore } from '../../node/cached-datastore.js'

const bytes = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill)
const notFound = (err: Error): boolean => err.name === 'NotFoundError'

/**
 * A datastore whose operations take effect and then resolve each after `ticks()` turns of the
 * event loop, so overlapping writes may resolve in another order than they took effect (as
 * LevelDB's thread pool may answer them).
 */
class SlowDatastore extends MemoryDatastore {
  constructor (private readonly ticks: () => number) { super() }
  private async later (): Promise<void> { for (let i = this.ticks(); i > 0; i--) await new Promise(resolve => setImmediate(resolve)) }
  override async get (key: Key): Promise<Uint8Array> { await this.later(); const v = super.get(key); await this.later(); return v }
  override async put (key: Key, value: Uint8Array): Promise<Key> { await this.later(); super.put(key, value); await this.later(); return key }
  override async delete (key: Key): Promise<void> { await this.later(); super.delete(key); await this.later() }
}

describe('cached datastore (the libp2p datastore read cache)', () => {
  it('answers reads from memory after a write or a first read, and keeps writes in the store', async () => {
    const inner = new MemoryDatastore()
    const ds = new CachedDatastore(inner)
    const k = new Key('/peers/a')
    await ds.put(k, bytes(10, 7))
    assert.deepEqual(await ds.get(k), bytes(10, 7))
    assert.deepEqual(await inner.get(k), bytes(10, 7), 'written through')
    assert.equal(ds.stats.hits, 1)
    await inner.put(new Key('/peers/b'), bytes(3))
    await ds.get(new Key('/peers/b'))
    await ds.get(new Key('/peers/b'))
    assert.deepEqual(ds.stats, { hits: 2, misses: 1 })
    await ds.delete(k)
    await assert.rejects(async () => await ds.get(k), notFound)
    assert.equal(await ds.has(k), false)
    // Queries read the store, which every write reached.
    const keys: string[] = []
    for await (const { key } of ds.query({ prefix: '/peers' })) keys.push(key.toString())
    assert.deepEqual(keys, ['/peers/b'])
  })

  it('stays within its bounds, dropping the least recently used first', async () => {
    const ds = new CachedDatastore(new MemoryDatastore(), { maxEntries: 3, maxBytes: 6400 })
    for (const n of ['a', 'b', 'c']) await ds.put(new Key(`/k/${n}`), bytes(10))
    await ds.get(new Key('/k/a')) // a is now the most recently used
    await ds.put(new Key('/k/d'), bytes(10)) // b goes
    const before = { ...ds.stats }
    await ds.get(new Key('/k/a'))
    await ds.get(new Key('/k/b'))
    assert.deepEqual(ds.stats, { hits: before.hits + 1, misses: before.misses + 1 })
    // A value over a 64th of the byte bound is never kept; bytes bound the rest.
    await ds.put(new Key('/k/big'), bytes(101))
    await ds.get(new Key('/k/big'))
    assert.equal(ds.stats.misses, before.misses + 2)
  })

  it('a batch reaches the store and its keys are read from it again', async () => {
    const inner = new MemoryDatastore()
    const ds = new CachedDatastore(inner)
    await ds.put(new Key('/k/a'), bytes(2, 1))
    const b = ds.batch()
    b.put(new Key('/k/a'), bytes(2, 2))
    b.delete(new Key('/k/x'))
    await b.commit()
    assert.deepEqual(await ds.get(new Key('/k/a')), bytes(2, 2))
  })

  it('never answers a value the store no longer holds, whatever the interleaving', async () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('put' as const), k: fc.integer({ min: 0, max: 3 }), v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ t: fc.constant('del' as const), k: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ t: fc.constant('get' as const), k: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ t: fc.constant('batch' as const), k: fc.integer({ min: 0, max: 3 }), v: fc.integer({ min: 0, max: 255 }) })
    )
    await fc.assert(fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }), fc.infiniteStream(fc.integer({ min: 0, max: 3 })), async (rounds, delays) => {
      const it = delays[Symbol.iterator]()
      const inner = new SlowDatastore(() => it.next().value as number)
      const ds = new CachedDatastore(inner, { maxEntries: 3 })
      const key = (k: number): Key => new Key(`/k/${k}`)
      for (const ops of rounds) {
        // Each round's operations run at once (the peer store locks per peer, other users need not).
        await Promise.all(ops.map(async o => {
          if (o.t === 'put') await ds.put(key(o.k), bytes(1, o.v))
          else if (o.t === 'del') await ds.delete(key(o.k))
          else if (o.t === 'get') await ds.get(key(o.k)).catch(() => undefined)
          else { const b = ds.batch(); b.put(key(o.k), bytes(1, o.v)); await b.commit() }
        }))
        for (let k = 0; k <= 3; k++) {
          const truth = await Promise.resolve().then(() => MemoryDatastore.prototype.get.call(inner, key(k))).then(v => v[0], () => 'none')
          const seen = await ds.get(key(k)).then(v => v[0], () => 'none')
          assert.equal(seen, truth, `key ${k}`)
        }
      }
    }), { numRuns: 300 })
  })
})
