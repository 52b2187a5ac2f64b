import { strict as assert } from 'node:assert'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import type { Entry } from '../../protocols/raft/core/index.js'
import {
  CorruptStateError, LevelRaftStorage, MemoryRaftStorage, encodeEntry, entryKey, type RaftStorage
} from '../../protocols/raft/storage.js'

const enc = new TextEncoder()
const entry = (index: number, term: number, text = `e${index}`): Entry => ({ index, term, data: enc.encode(text) })
const range = (from: number, to: number, term: number): Entry[] => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term))

async function openDb (dir: string): Promise<ClassicLevel<string, Uint8Array>> {
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  return db
}

interface Raw {
  put: (key: string, value: Uint8Array) => Promise<void>
  get: (key: string) => Promise<Uint8Array | undefined>
  del: (key: string) => Promise<void>
}

/** The raft sublevel itself, for writing damage straight into it. */
function raw (db: ClassicLevel<string, Uint8Array>): Raw {
  return db.sublevel<string, Uint8Array>('raft', { keyEncoding: 'utf8', valueEncoding: 'view' }) as unknown as Raw
}

describe('raft storage', () => {
  const dbs: Array<ClassicLevel<string, Uint8Array>> = []
  afterEach(async () => { await Promise.all(dbs.splice(0).map(async d => d.close())) })
  const dir = (): string => mkdtempSync(join(tmpdir(), 'swarmnet-raft-storage-'))
  async function level (path: string): Promise<{ db: ClassicLevel<string, Uint8Array>, s: LevelRaftStorage }> {
    const db = await openDb(path)
    dbs.push(db)
    return { db, s: new LevelRaftStorage(db) }
  }
  async function reopen (path: string, db: ClassicLevel<string, Uint8Array>): Promise<LevelRaftStorage> {
    await db.close()
    dbs.splice(dbs.indexOf(db), 1)
    return (await level(path)).s
  }

  for (const kind of ['level', 'memory'] as const) {
    it(`${kind}: appends, truncates a conflicting tail, keeps the hard state and configuration`, async () => {
      const s: RaftStorage = kind === 'memory' ? new MemoryRaftStorage() : (await level(dir())).s
      const first = await s.load()
      assert.deepEqual(first.hardState, { term: 0, vote: '', commit: 0 })
      assert.equal(first.entries.length, 0)
      assert.equal(first.config, null)
      await s.append({ term: 1, vote: 'a', commit: 0 }, range(1, 5, 1))
      // A new leader's entries replace index 4 and after.
      await s.append({ term: 2, vote: 'b', commit: 3 }, [entry(4, 2, 'new4')])
      await s.append(undefined, [entry(5, 2)])
      await s.saveConfig({ cluster: 'c', voters: ['a', 'b', 'c'], learners: ['d'] })
      await s.saveLock(['a', 'b', 'c'])
      assert.deepEqual(s.entries().map(e => [e.index, e.term]), [[1, 1], [2, 1], [3, 1], [4, 2], [5, 2]])
      const r = await s.load()
      assert.deepEqual(r.hardState, { term: 2, vote: 'b', commit: 3 })
      assert.deepEqual(r.entries.map(e => [e.index, e.term, new TextDecoder().decode(e.data)]), [[1, 1, 'e1'], [2, 1, 'e2'], [3, 1, 'e3'], [4, 2, 'new4'], [5, 2, 'e5']])
      assert.deepEqual(r.config, { cluster: 'c', voters: ['a', 'b', 'c'], learners: ['d'] })
      assert.deepEqual(r.lock, ['a', 'b', 'c'])
      assert.equal(r.truncated, 0)
    })

    it(`${kind}: compaction drops a prefix; an installed snapshot replaces the whole log and raises the commit index`, async () => {
      const path = dir()
      let s: RaftStorage = kind === 'memory' ? new MemoryRaftStorage() : (await level(path)).s
      await s.load()
      await s.append({ term: 1, vote: 'a', commit: 6 }, range(1, 8, 1))
      const meta = { index: 5, term: 1, voters: ['a', 'b', 'c'], learners: [] }
      await s.compact(meta)
      assert.deepEqual(s.entries().map(e => e.index), [6, 7, 8])
      assert.deepEqual(s.snapshotMeta(), meta)
      const installed = { index: 20, term: 3, voters: ['a', 'b', 'c'], learners: ['d'] }
      await s.installSnapshot(installed)
      assert.deepEqual(s.entries(), [])
      assert.equal(s.hardState().commit, 20)
      if (kind === 'level') s = await reopen(path, dbs[dbs.length - 1]!)
      const r = await s.load()
      assert.deepEqual(r.entries, [])
      assert.deepEqual(r.snapshot, installed)
      assert.deepEqual(r.hardState, { term: 1, vote: 'a', commit: 20 })
      // The log goes on after the snapshot.
      await s.append(undefined, [entry(21, 3)])
      assert.deepEqual(s.entries().map(e => e.index), [21])
    })
  }

  it('compactions delete every entry at or below the base, including those a crash left behind', async () => {
    const path = dir()
    const { db, s } = await level(path)
    await s.load()
    await s.append({ term: 1, vote: 'a', commit: 40 }, range(1, 40, 1))
    await s.compact({ index: 10, term: 1, voters: ['a'], learners: [] })
    // As if the process had crashed between writing the new base and deleting below it.
    for (let i = 1; i <= 10; i++) await raw(db).put(entryKey(i), encodeEntry(entry(i, 1)))
    const s2 = await reopen(path, db)
    assert.deepEqual((await s2.load()).entries.map(e => e.index), range(11, 40, 1).map(e => e.index), 'the leftovers are not read back')
    const keys = async (): Promise<number[]> => {
      const out: number[] = []
      for await (const k of dbs[dbs.length - 1]!.sublevel('raft', { keyEncoding: 'utf8' }).keys({ gte: 'e/', lt: 'e0' })) out.push(parseInt(k.slice(2), 16))
      return out
    }
    // The first compaction of the new process deletes them; later ones each delete their stretch.
    await s2.compact({ index: 20, term: 1, voters: ['a'], learners: [] })
    assert.deepEqual(await keys(), range(21, 40, 1).map(e => e.index))
    await s2.compact({ index: 30, term: 1, voters: ['a'], learners: [] })
    assert.deepEqual(await keys(), range(31, 40, 1).map(e => e.index))
    await s2.append(undefined, range(41, 45, 1))
    await s2.installSnapshot({ index: 50, term: 2, voters: ['a'], learners: [] })
    assert.deepEqual(await keys(), [])
    assert.deepEqual((await (await reopen(path, dbs[dbs.length - 1]!)).load()).entries, [])
  })

  it('recovers everything after a reopen, including entry types and large data', async () => {
    const path = dir()
    const { db, s } = await level(path)
    await s.load()
    const big = new Uint8Array(200_000).map((_, i) => i % 251)
    await s.append({ term: 3, vote: 'x', commit: 2 }, [entry(1, 1), { index: 2, term: 3, data: new Uint8Array(0), type: 'noop' }, { index: 3, term: 3, data: big }])
    const s2 = await reopen(path, db)
    const r = await s2.load()
    assert.deepEqual(r.hardState, { term: 3, vote: 'x', commit: 2 })
    assert.equal(r.entries.length, 3)
    assert.equal(r.entries[1]!.type, 'noop')
    assert.deepEqual(r.entries[2]!.data, big)
    assert.equal(s2.entries().length, 3, 'the mirror matches what was loaded')
  })

  it('drops a torn or corrupt tail at the first bad record, and everything after it', async () => {
    const cases: Array<[string, (sub: ReturnType<typeof raw>) => Promise<void>, number]> = [
      ['a partial record (torn write)', async sub => { await sub.put(entryKey(7), encodeEntry(entry(7, 2)).subarray(0, 10)) }, 6],
      ['a flipped bit in the data', async sub => {
        const rec = encodeEntry(entry(5, 2))
        rec[rec.length - 1]! ^= 0x01
        await sub.put(entryKey(5), rec)
      }, 4],
      ['a flipped bit in the header', async sub => {
        const rec = encodeEntry(entry(6, 2))
        rec[8]! ^= 0x80
        await sub.put(entryKey(6), rec)
      }, 5],
      ['garbage', async sub => { await sub.put(entryKey(3), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22])) }, 2],
      ['a record under the wrong key', async sub => { await sub.put(entryKey(4), encodeEntry(entry(9, 2))) }, 3],
      ['a gap', async sub => { await sub.del(entryKey(6)) }, 5],
      ['a term going down', async sub => { await sub.put(entryKey(8), encodeEntry(entry(8, 1))) }, 7]
    ]
    for (const [what, damage, keep] of cases) {
      const path = dir()
      const { db, s } = await level(path)
      await s.load()
      await s.append({ term: 2, vote: 'a', commit: 2 }, [...range(1, 3, 1), ...range(4, 8, 2)])
      await damage(raw(db))
      const s2 = await reopen(path, db)
      const r = await s2.load()
      assert.equal(r.entries.length, keep, what)
      assert.equal(r.truncated, 8 - keep + (what === 'a gap' ? -1 : 0), `${what}: truncated count`)
      assert.ok(r.truncatedReason !== undefined, what)
      assert.deepEqual(r.entries.map(e => e.index), Array.from({ length: keep }, (_, i) => i + 1), what)
      // The damage is gone from disk: a second open finds a clean log, and appending continues.
      const s3 = await reopen(path, dbs[dbs.length - 1]!)
      const again = await s3.load()
      assert.equal(again.entries.length, keep, `${what}: second open`)
      assert.equal(again.truncated, 0, `${what}: second open`)
      await s3.append(undefined, [entry(keep + 1, 3)])
      assert.equal(s3.entries().length, keep + 1)
    }
  })

  it('refuses to start on a corrupt hard state rather than forget a vote', async () => {
    const path = dir()
    const { db, s } = await level(path)
    await s.load()
    await s.append({ term: 5, vote: 'b', commit: 0 }, [])
    const sub = raw(db)
    const rec = (await sub.get('m/hs'))!
    rec[rec.length - 2]! ^= 0xff
    await sub.put('m/hs', rec)
    const s2 = await reopen(path, db)
    await assert.rejects(s2.load(), CorruptStateError)
  })
})
