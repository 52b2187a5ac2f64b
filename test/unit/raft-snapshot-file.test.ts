import { strict as assert } from 'node:assert'
import { appendFile, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import fc from 'fast-check'
import { tempDirs } from '../harness/temp.js'
import { CoordinationState, decodeSnapshot, encodeSnapshot } from '../../protocols/coordination/core/index.js'
import { decodeRecord, encodeRecord } from '../../protocols/raft/kv.js'
import {
  MAX_SNAPSHOT_KEY_BYTES, MAX_SNAPSHOT_RECORD_BYTES, SnapshotCorruptError, latestSnapshot, listSnapshots, pruneSnapshots,
  readSnapshotMeta, readSnapshotRecords, verifySnapshot, writeSnapshot, type SnapshotFileMeta
} from '../../protocols/raft/snapshot.js'
import {
  SnapshotReceiver, SnapshotSender, SnapshotTransferError, type AcceptStatus, type SnapshotAck, type SnapshotChunk, type SnapshotOffer
} from '../../protocols/raft/snapshot-transfer.js'

const enc = new TextEncoder()
const meta = (index: number, createdAt = 1_700_000_000_000): SnapshotFileMeta =>
  ({ index, term: 3, voters: ['a', 'b', 'c'], learners: ['d'], cluster: 'test', createdAt })

/** A coordination state with `n` held locks (each on its own lease), as snapshot bytes. */
function coordBytes (n: number): { state: CoordinationState, bytes: Uint8Array } {
  const state = new CoordinationState()
  for (let i = 1; i <= n; i++) {
    const r = state.apply(i, { rid: `r${i}`, op: 'lock_acquire', resource: `res/${i}`, lease: '', mode: 'exclusive', waiter: `w${i}`, newLease: { owner: `o${i}`, ttlMs: 10_000 } })
    assert.equal(r.result.ok, true)
  }
  return { state, bytes: encodeSnapshot(state.snapshot()) }
}

function * records (n: number, pad = 40): Generator<[string, Uint8Array]> {
  for (let i = 0; i < n; i++) yield [`key/${i}`, encodeRecord({ value: { n: i, s: 'v'.repeat(i % pad) }, version: i + 1 })]
}

/** Every record, or the error reading stopped at. */
async function readAll (path: string): Promise<unknown> {
  try {
    let kv = 0
    let coord = 0
    for await (const r of readSnapshotRecords(path)) {
      if (r.kind === 'kv') kv++
      else coord++
    }
    return { kv, coord }
  } catch (err) {
    return err
  }
}

/** The gc() of a context made after --expose-gc, so memory samples count live data only. */
function exposeGc (): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc')
    const gc: unknown = runInNewContext('gc')
    return typeof gc === 'function' ? gc as () => void : undefined
  } catch {
    return undefined
  }
}

function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('raft snapshot files and transfer', () => {
  const dir = tempDirs('swarmnet-raft-snapfile-')

  it('writes and reads back 100k kv records and the coordination state', async () => {
    const d = dir()
    const coord = coordBytes(300)
    const w = await writeSnapshot(d, { index: 1234, term: 3, voters: ['a', 'b', 'c'], learners: ['d'], cluster: 'test' }, records(100_000), coord.bytes)
    assert.equal(w.path, join(d, 'snap-0000000000001234.snap'))
    assert.equal((await stat(w.path)).size, w.bytes)
    assert.deepEqual(await readdir(d), ['snap-0000000000001234.snap'], 'no .tmp left behind')
    assert.ok(Math.abs(w.meta.createdAt - Date.now()) < 60_000, 'createdAt defaults to now')
    assert.deepEqual(await readSnapshotMeta(w.path), w.meta)

    const expected = records(100_000)
    let kv = 0
    let coordData: Uint8Array | undefined
    for await (const r of readSnapshotRecords(w.path)) {
      if (r.kind === 'coord') {
        coordData = r.data
        continue
      }
      const [key, rec] = expected.next().value as [string, Uint8Array]
      assert.equal(r.key, key)
      assert.ok(Buffer.from(r.record).equals(rec), key)
      if (kv === 12_345) assert.deepEqual(decodeRecord(r.record), { value: { n: 12_345, s: 'v'.repeat(12_345 % 40) }, version: 12_346 })
      kv++
    }
    assert.equal(kv, 100_000)
    assert.ok(coordData !== undefined)
    assert.deepEqual(decodeSnapshot(coordData), coord.state.snapshot())
    assert.deepEqual(CoordinationState.restore(decodeSnapshot(coordData)).snapshot(), coord.state.snapshot())

    const info = await verifySnapshot(w.path)
    assert.deepEqual([info.records, info.crc, info.bytes], [100_001, w.crc, w.bytes])
  })

  it('lets other work run while it writes records that come from memory', async () => {
    // Small records fill no stream buffer, so without yielding the whole write would be one
    // microtask chain: the node's raft messages would wait it out. Each record takes 0.1 ms here.
    let ranMeanwhile = false
    let ranBeforeLast = false
    function * slow (): Generator<[string, Uint8Array]> {
      for (let i = 0; i < 1000; i++) {
        if (i === 0) setImmediate(() => { ranMeanwhile = true })
        if (i === 999) ranBeforeLast = ranMeanwhile
        const until = performance.now() + 0.1
        while (performance.now() < until) { /* the cost of encoding a record */ }
        yield [`k${i}`, new Uint8Array(8)]
      }
    }
    const w = await writeSnapshot(dir(), meta(7), slow(), new Uint8Array(0))
    assert.equal(ranBeforeLast, true, 'an immediate queued at the first record ran before the last one')
    assert.equal((await verifySnapshot(w.path)).records, 1001)
  })

  it('takes records from an async iterable, up to the limits, and refuses what is over them', async () => {
    const d = dir()
    const bigKey = 'k'.repeat(MAX_SNAPSHOT_KEY_BYTES)
    const bigRec = new Uint8Array(MAX_SNAPSHOT_RECORD_BYTES).map((_, i) => i % 251)
    async function * gen (): AsyncGenerator<[string, Uint8Array]> {
      yield [bigKey, bigRec]
      await new Promise(resolve => setImmediate(resolve))
      yield ['ключ', new Uint8Array(0)]
    }
    const w = await writeSnapshot(d, meta(5), gen(), new Uint8Array(0))
    const got: Array<[string, number]> = []
    for await (const r of readSnapshotRecords(w.path)) got.push(r.kind === 'kv' ? [r.key, r.record.length] : ['(coord)', r.data.length])
    assert.deepEqual(got, [[bigKey, MAX_SNAPSHOT_RECORD_BYTES], ['ключ', 0], ['(coord)', 0]])

    await assert.rejects(writeSnapshot(d, meta(6), [[bigKey + 'k', new Uint8Array(1)]], new Uint8Array(0)), RangeError)
    await assert.rejects(writeSnapshot(d, meta(6), [['', new Uint8Array(1)]], new Uint8Array(0)), RangeError)
    await assert.rejects(writeSnapshot(d, meta(6), [['k', new Uint8Array(MAX_SNAPSHOT_RECORD_BYTES + 1)]], new Uint8Array(0)), RangeError)
    async function * failing (): AsyncGenerator<[string, Uint8Array]> {
      yield ['a', new Uint8Array(10)]
      throw new Error('source failed')
    }
    await assert.rejects(writeSnapshot(d, meta(6), failing(), new Uint8Array(0)), /source failed/)
    await assert.rejects(writeSnapshot(d, { ...meta(6), term: -1 }, [], new Uint8Array(0)), TypeError)
    assert.deepEqual(await readdir(d), ['snap-0000000000000005.snap'], 'failed writes leave nothing behind')
  })

  it('keeps memory well below the size of a 50 MB snapshot while writing and reading it', async () => {
    const gc = exposeGc()
    const d = dir()
    const coord = new Uint8Array(1024 * 1024).fill(7)
    const value = 'x'.repeat(440)
    const N = 100_000
    const sample = (): number => {
      gc?.()
      const m = process.memoryUsage()
      return m.heapUsed + m.arrayBuffers
    }
    const base = sample()
    let writePeak = 0
    function * kvs (): Generator<[string, Uint8Array]> {
      for (let i = 0; i < N; i++) {
        if (i % 5000 === 0) writePeak = Math.max(writePeak, sample() - base)
        yield [`key/${i}`, encodeRecord({ value: value + i, version: i })]
      }
    }
    const w = await writeSnapshot(d, meta(9), kvs(), coord)
    assert.ok(w.bytes > 45e6, `snapshot of ${w.bytes} bytes`)
    let readPeak = 0
    let i = 0
    for await (const r of readSnapshotRecords(w.path)) {
      if (r.kind === 'kv' && i++ % 5000 === 0) readPeak = Math.max(readPeak, sample() - base)
    }
    assert.equal(i, N)
    // Holding the snapshot would add ~50 MB; a few buffers and loose garbage is all that may grow.
    const bound = gc !== undefined ? w.bytes / 8 : w.bytes / 2
    assert.ok(writePeak < bound, `writing grew memory by ${writePeak} bytes (bound ${bound}, gc ${gc !== undefined})`)
    assert.ok(readPeak < bound, `reading grew memory by ${readPeak} bytes (bound ${bound}, gc ${gc !== undefined})`)
  })

  describe('damage', () => {
    let d: string
    let good: Uint8Array
    before(async () => {
      d = dir()
      const kv: Array<[string, Uint8Array]> = [...records(40, 200)]
      kv.push(['big', new Uint8Array(70_000).map((_, i) => i % 13)]) // larger than one read buffer
      const w = await writeSnapshot(d, meta(1), kv, coordBytes(5).bytes)
      good = new Uint8Array(await readFile(w.path))
    })
    const isCorrupt = (e: unknown): boolean => e instanceof SnapshotCorruptError

    it('finds every truncation (fuzz)', async () => {
      const path = join(d, 'torn.snap')
      await fc.assert(fc.asyncProperty(fc.nat(good.length - 1), async cut => {
        await writeFile(path, good.subarray(0, cut))
        assert.ok(isCorrupt(await readAll(path)), `cut at ${cut}: ${String(await readAll(path))}`)
        await assert.rejects(verifySnapshot(path), SnapshotCorruptError)
        try {
          await readSnapshotMeta(path)
        } catch (err) {
          assert.ok(isCorrupt(err), String(err))
        }
      }), { numRuns: 250, timeout: 5000 })
    })

    it('finds flipped bytes anywhere (fuzz)', async () => {
      const path = join(d, 'flipped.snap')
      await fc.assert(fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat(good.length - 1), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 }),
        async flips => {
          const bad = good.slice()
          for (const { at, xor } of flips) bad[at]! ^= xor
          fc.pre(!Buffer.from(bad).equals(good))
          await writeFile(path, bad)
          const got = await readAll(path)
          assert.ok(isCorrupt(got), `${JSON.stringify(flips)}: ${String(got)}`)
          await assert.rejects(verifySnapshot(path), SnapshotCorruptError)
        }
      ), { numRuns: 300, timeout: 5000 })
    })

    it('rejects bad magic, versions, oversized lengths and trailing bytes before allocating', async () => {
      const path = join(d, 'crafted.snap')
      const metaLen = new DataView(good.buffer).getUint32(8)
      const firstRecord = 16 + metaLen
      const cases: Array<[string, (b: Uint8Array) => Uint8Array, RegExp]> = [
        ['empty', () => new Uint8Array(0), /truncated/],
        ['bad magic', b => { b[0] = 0x58; return b }, /bad magic/],
        ['version 2', b => { b[7] = 2; return b }, /version 2/],
        ['meta length 4 GiB', b => { new DataView(b.buffer).setUint32(8, 0xffffffff); return b }, /meta length/],
        ['meta crc', b => { b[firstRecord - 2]! ^= 1; return b }, /meta fails/],
        ['key length 0', b => { new DataView(b.buffer).setUint16(firstRecord + 1, 0); return b }, /key length 0/],
        ['record length 4 GiB', b => { new DataView(b.buffer).setUint32(firstRecord + 3, 0xffffffff); return b }, /record length/],
        ['record past the end', b => { new DataView(b.buffer).setUint32(firstRecord + 3, 400_000); return b }, /truncated/],
        ['coordination state past the end', b => {
          const c = new Uint8Array(firstRecord + 5)
          c.set(b.subarray(0, firstRecord))
          c[firstRecord] = 2
          new DataView(c.buffer).setUint32(firstRecord + 1, 200 * 1024 * 1024)
          return c
        }, /truncated/],
        ['unknown kind', b => { b[firstRecord] = 9; return b }, /unknown record kind 9/],
        ['a trailing byte', b => { const c = new Uint8Array(b.length + 1); c.set(b); return c }, /checksum|after the end/]
      ]
      for (const [what, damage, message] of cases) {
        await writeFile(path, damage(good.slice()))
        const before = process.memoryUsage().arrayBuffers
        const err = await readAll(path)
        assert.ok(isCorrupt(err), `${what}: ${String(err)}`)
        assert.match((err as Error).message, message, what)
        assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024, `${what}: allocated for the bad length`)
      }
    })
  })

  it('lists snapshots and picks the newest sound one', async () => {
    const d = dir()
    for (const index of [10, 20, 30]) await writeSnapshot(d, meta(index), records(100), coordBytes(2).bytes)
    const listed = await listSnapshots(d)
    assert.deepEqual(listed.map(s => s.index), [30, 20, 10])
    // The newest is torn, a write at 40 was interrupted, and a file claims an index it is not.
    const thirty = listed[0]!.path
    const bytes = await readFile(thirty)
    await writeFile(thirty, bytes.subarray(0, bytes.length - 3))
    await writeFile(join(d, 'snap-0000000000000040.tmp'), bytes)
    await writeFile(join(d, 'snap-0000000000000035.snap'), await readFile(listed[1]!.path))
    await writeFile(join(d, 'incoming-0000000000000015.part'), bytes.subarray(0, 100))
    const latest = await latestSnapshot(d)
    assert.equal(latest?.meta.index, 20)
    assert.equal(latest?.path, listed[1]!.path)
    assert.equal(latest?.records, 101)
    assert.equal(await latestSnapshot(join(d, 'missing')), null)
    assert.deepEqual(await listSnapshots(join(d, 'missing')), [])
  })

  it('prunes all but the newest snapshots, and leftovers at or below the newest', async () => {
    const d = dir()
    const name = (kind: string, index: number): string => kind === 'part' ? `incoming-${String(index).padStart(16, '0')}.part` : `snap-${String(index).padStart(16, '0')}.${kind}`
    for (const index of [10, 20, 30]) await writeSnapshot(d, meta(index), records(10), coordBytes(1).bytes)
    for (const [kind, index] of [['tmp', 25], ['tmp', 40], ['part', 15], ['part', 45]] as const) await writeFile(join(d, name(kind, index)), 'x')
    const removed = await pruneSnapshots(d)
    assert.deepEqual(removed.map(p => p.slice(d.length + 1)).sort(), [name('part', 15), name('snap', 10), name('tmp', 25)])
    assert.deepEqual((await readdir(d)).sort(), [name('part', 45), name('snap', 20), name('snap', 30), name('tmp', 40)])
    assert.deepEqual(await pruneSnapshots(d, 2), [])
    await assert.rejects(pruneSnapshots(d, 0), RangeError)
  })

  describe('transfer', () => {
    let src: string
    let srcBytes: Uint8Array
    let tiny: string
    before(async () => {
      const d = dir()
      src = (await writeSnapshot(d, meta(50), records(1000, 300), coordBytes(20).bytes)).path
      srcBytes = new Uint8Array(await readFile(src))
      tiny = (await writeSnapshot(dir(), meta(51), [], enc.encode('{}'))).path
    })

    interface Net { drop: number, dup: number, reorder: number }
    const statuses: Record<AcceptStatus, number> = { ok: 0, duplicate: 0, gap: 0 }

    /**
     * One transfer over a network that loses, duplicates and reorders chunks and loses acks; the
     * leader rewinds to the last ack when everything in flight is gone (its timeout).
     */
    async function transfer (path: string, into: string, sizes: number[], window: number, net: Net, seed: number): Promise<string> {
      const rng = mulberry32(seed)
      const sender = await SnapshotSender.open(path, { window })
      let receiver: SnapshotReceiver | null = null
      const wire: SnapshotChunk[] = []
      const acks: SnapshotAck[] = []
      let k = 0
      try {
        for (let steps = 0; ; steps++) {
          assert.ok(steps < 50_000, 'no progress')
          for (let c = await sender.next(sizes[k++ % sizes.length]); c !== null; c = await sender.next(sizes[k++ % sizes.length])) {
            wire.push(c)
            if (rng() < net.dup) wire.push(c)
          }
          if (wire.length === 0) {
            sender.resumeFrom(sender.acknowledged)
            continue
          }
          const [c] = wire.splice(rng() < net.reorder ? Math.floor(rng() * wire.length) : 0, 1)
          if (c === undefined || rng() < net.drop) continue
          if (c.meta !== undefined && receiver === null) receiver = await SnapshotReceiver.open(into, c.meta)
          if (receiver === null) continue // no offer seen yet: a real follower answers with an error
          const r = await receiver.accept(c.offset, c.data)
          statuses[r.status]++
          if (r.complete) {
            const done = await receiver.finish()
            assert.deepEqual(receiver.ack(), { index: c.index, offset: c.total, done: true })
            return done
          }
          acks.push(receiver.ack())
          for (const a of acks.splice(0)) if (rng() >= net.drop) sender.ack(a.offset)
        }
      } finally {
        await sender.close()
      }
    }

    it('moves a snapshot with random chunk sizes over a lossy, duplicating, reordering link (fuzz)', async () => {
      await fc.assert(fc.asyncProperty(
        fc.array(fc.integer({ min: 97, max: 16 * 1024 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 6 }),
        fc.record({ drop: fc.double({ min: 0, max: 0.2, noNaN: true }), dup: fc.double({ min: 0, max: 0.3, noNaN: true }), reorder: fc.double({ min: 0, max: 0.5, noNaN: true }) }),
        fc.integer(),
        async (sizes, window, net, seed) => {
          const into = dir()
          const path = await transfer(src, into, sizes, window, net, seed)
          assert.equal(path, join(into, 'snap-0000000000000050.snap'))
          assert.ok(Buffer.from(await readFile(path)).equals(srcBytes))
          assert.deepEqual(await readdir(into), ['snap-0000000000000050.snap'])
        }
      ), { numRuns: 30, timeout: 10_000 })
      assert.ok(statuses.duplicate > 0 && statuses.gap > 0, JSON.stringify(statuses))
      // Chunks of one byte, in order.
      const into = dir()
      const path = await transfer(tiny, into, [1], 4, { drop: 0, dup: 0, reorder: 0 }, 1)
      assert.ok(Buffer.from(await readFile(path)).equals(await readFile(tiny)))
    })

    /** Sends in order with `size` chunks until the receiver has at least `until` bytes. */
    async function pump (sender: SnapshotSender, receiver: SnapshotReceiver, size: number, until: number): Promise<number> {
      let sent = 0
      while (receiver.resumeOffset() < until) {
        const c = await sender.next(size)
        assert.ok(c !== null, 'the window holds a chunk')
        sent += c.data.length
        await receiver.accept(c.offset, c.data)
        sender.ack(receiver.ack().offset)
      }
      return sent
    }

    it('resumes an interrupted transfer from the part file', async () => {
      const into = dir()
      const s1 = await SnapshotSender.open(src, { window: 2 })
      const first = await s1.next(7000)
      assert.ok(first?.meta !== undefined)
      assert.deepEqual([first.offset, first.total, first.meta.crc, first.meta.total], [0, srcBytes.length, (await verifySnapshot(src)).crc, srcBytes.length])
      const offer: SnapshotOffer = first.meta
      const r1 = await SnapshotReceiver.open(into, offer)
      assert.equal(r1.resumeOffset(), 0)
      assert.equal((await r1.accept(0, first.data)).status, 'ok')
      s1.ack(r1.ack().offset)
      await pump(s1, r1, 7000, srcBytes.length / 2)
      const had = r1.resumeOffset()
      // Both sides go down; the follower's part file stays.
      await r1.close()
      await s1.close()
      await assert.rejects(r1.accept(had, new Uint8Array(1)), SnapshotTransferError)

      const r2 = await SnapshotReceiver.open(into, offer)
      assert.equal(r2.resumeOffset(), had)
      assert.equal((await stat(SnapshotReceiver.partPath(into, 50))).size, had)
      const s2 = await SnapshotSender.open(src)
      s2.resumeFrom(r2.resumeOffset())
      const again = await s2.next(5000)
      assert.deepEqual([again?.offset, again?.meta?.index], [had, 50], 'the first chunk after resuming announces the snapshot')
      await r2.accept(again!.offset, again!.data)
      s2.ack(r2.ack().offset)
      const rest = await pump(s2, r2, 5000, srcBytes.length)
      assert.equal(again!.data.length + rest, srcBytes.length - had, 'only the missing bytes travel')
      const path = await r2.finish()
      assert.ok(Buffer.from(await readFile(path)).equals(srcBytes))
      assert.ok(s2.done)
      await s2.close()
    })

    it('a sender that starts from 0 jumps to what the receiver already has', async () => {
      const into = dir()
      const s1 = await SnapshotSender.open(src)
      const first = (await s1.next(10_000))!
      const r1 = await SnapshotReceiver.open(into, first.meta!)
      await r1.accept(0, first.data)
      s1.ack(r1.ack().offset)
      await pump(s1, r1, 10_000, 60_000)
      await r1.close()
      await s1.close()

      const r2 = await SnapshotReceiver.open(into, first.meta!)
      const s2 = await SnapshotSender.open(src, { window: 3 })
      const chunks = [(await s2.next(1000))!, (await s2.next(1000))!, (await s2.next(1000))!]
      assert.equal(await s2.next(1000), null, 'the window is full')
      assert.equal(s2.inFlight, 3)
      for (const c of chunks) {
        assert.equal((await r2.accept(c.offset, c.data)).status, 'duplicate')
        s2.ack(r2.ack().offset)
      }
      const next = (await s2.next(1000))!
      assert.equal(next.offset, r2.resumeOffset())
      await r2.accept(next.offset, next.data)
      s2.ack(r2.ack().offset)
      await pump(s2, r2, 64 * 1024, srcBytes.length)
      assert.ok(Buffer.from(await readFile(await r2.finish())).equals(srcBytes))
      await s2.close()
    })

    it('a part with a bad tail fails verification and the transfer starts over', async () => {
      const into = dir()
      const s1 = await SnapshotSender.open(src)
      const first = (await s1.next(8192))!
      const offer = first.meta!
      const r1 = await SnapshotReceiver.open(into, offer)
      await r1.accept(0, first.data)
      s1.ack(r1.ack().offset)
      await pump(s1, r1, 8192, 40_000)
      await r1.close()
      await s1.close()
      // Junk the crash left at the end of the part: the resume offset includes it.
      const part = SnapshotReceiver.partPath(into, 50)
      await appendFile(part, new Uint8Array(333).fill(0))
      const r2 = await SnapshotReceiver.open(into, offer)
      const s2 = await SnapshotSender.open(src)
      s2.resumeFrom(r2.resumeOffset())
      await pump(s2, r2, 65_536, srcBytes.length)
      await assert.rejects(r2.finish(), SnapshotCorruptError)
      await assert.rejects(stat(part), /ENOENT/)
      await s2.close()

      const r3 = await SnapshotReceiver.open(into, offer)
      assert.equal(r3.resumeOffset(), 0)
      const s3 = await SnapshotSender.open(src)
      await pump(s3, r3, 65_536, srcBytes.length)
      assert.ok(Buffer.from(await readFile(await r3.finish())).equals(srcBytes))
      await s3.close()

      // A part of the same index but another snapshot (another header) is not resumed.
      await writeFile(part, srcBytes.subarray(0, 5000))
      const other = await SnapshotReceiver.open(into, { ...offer, createdAt: offer.createdAt + 1 })
      assert.equal(other.resumeOffset(), 0)
      await other.abort()
      await assert.rejects(stat(part), /ENOENT/, 'abort removes the part')
    })

    it('a receiver for a newer index discards an older part file, not a newer one', async () => {
      const into = dir()
      const newer = (await writeSnapshot(dir(), meta(70), records(500), coordBytes(3).bytes)).path
      const part = (index: number): string => SnapshotReceiver.partPath(into, index)

      const s50 = await SnapshotSender.open(src)
      const c50 = (await s50.next(4096))!
      const r50 = await SnapshotReceiver.open(into, c50.meta!)
      await r50.accept(0, c50.data)
      await r50.close()
      await s50.close()
      assert.equal((await stat(part(50))).size, 4096)

      const s70 = await SnapshotSender.open(newer)
      const c70 = (await s70.next(4096))!
      const r70 = await SnapshotReceiver.open(into, c70.meta!)
      await assert.rejects(stat(part(50)), /ENOENT/)
      await r70.accept(0, c70.data)
      await r70.close()

      // An offer for an older snapshot (a deposed leader) leaves the newer part alone.
      const stale = await SnapshotReceiver.open(into, c50.meta!)
      assert.equal((await stat(part(70))).size, 4096)
      await stale.abort()
      const r70b = await SnapshotReceiver.open(into, c70.meta!)
      assert.equal(r70b.resumeOffset(), 4096)
      s70.resumeFrom(4096)
      await pump(s70, r70b, 50_000, (await stat(newer)).size)
      const path = await r70b.finish()
      assert.ok(Buffer.from(await readFile(path)).equals(await readFile(newer)))
      assert.deepEqual((await readdir(into)).sort(), ['snap-0000000000000070.snap'])
      await s70.close()
    })

    it('refuses chunks and offers that do not fit', async () => {
      const into = dir()
      const s = await SnapshotSender.open(src)
      const c = (await s.next(1000))!
      const offer = c.meta!
      await assert.rejects(SnapshotReceiver.open(into, { ...offer, total: 10 }), SnapshotTransferError)
      await assert.rejects(SnapshotReceiver.open(into, { ...offer, crc: -1 }), SnapshotTransferError)
      await assert.rejects(SnapshotReceiver.open(into, { ...offer, voters: 'a' as unknown as string[] }), SnapshotTransferError)
      const r = await SnapshotReceiver.open(into, offer)
      await assert.rejects(r.accept(offer.total - 10, new Uint8Array(20)), SnapshotTransferError)
      await assert.rejects(r.accept(-1, new Uint8Array(1)), SnapshotTransferError)
      assert.deepEqual(await r.accept(5000, new Uint8Array(10)), { status: 'gap', next: 0, complete: false })
      assert.deepEqual(await r.accept(0, c.data), { status: 'ok', next: 1000, complete: false })
      assert.deepEqual(await r.accept(500, c.data.subarray(500)), { status: 'duplicate', next: 1000, complete: false })
      // Overlapping the end: only the new part is written.
      assert.deepEqual(await r.accept(900, srcBytes.subarray(900, 1500)), { status: 'ok', next: 1500, complete: false })
      await assert.rejects(r.finish(), SnapshotTransferError)
      assert.throws(() => s.ack(offer.total + 1), SnapshotTransferError)
      assert.throws(() => s.resumeFrom(-1), SnapshotTransferError)
      await assert.rejects(s.next(0), RangeError)
      await r.abort()
      assert.deepEqual(await readdir(into), [])
      await s.close()
      await assert.rejects(s.next(), SnapshotTransferError)

      // A sender refuses a file that is not a snapshot.
      const junk = join(into, 'junk.snap')
      await writeFile(junk, srcBytes.subarray(0, 200))
      await assert.rejects(SnapshotSender.open(junk), SnapshotCorruptError)
    })
  })
})
