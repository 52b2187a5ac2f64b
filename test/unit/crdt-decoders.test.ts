/**
 * Every decoder of the CRDT layer, fuzzed: random bytes and mutations of valid input (flipped,
 * inserted and deleted bytes, truncation) never throw anything but CrdtError, never get past a
 * size limit, and never damage a document: a refused update leaves it exactly as it was, and an
 * accepted one leaves it readable and able to sync.
 */
import { strict as assert } from 'node:assert'
import fc from 'fast-check'
import * as Y from 'yjs'
import {
  Replica, SyncSession, CrdtError, DEFAULT_LIMITS, decodeDelta, decodeFrame, decodeStateVector, validateUpdate,
  encodeDelta, encodeFrame, encodeHint, type SharedDoc
} from '../../protocols/crdt/core/index.js'

// 10,000 cases per binary decoder; CRDT_FUZZ_RUNS=100000 fuzzes deeper.
const BINARY_RUNS = Number(process.env.CRDT_FUZZ_RUNS ?? 10_000)

function replica (peer = 'peer-a', writer = 'wa', seed = 1): Replica {
  let s = seed
  const random = (): number => { s = (s * 16807) % 2147483647; return s / 2147483647 }
  return new Replica({ peerId: peer, writer, now: () => 1_700_000_000_000, random })
}

/** A document with some of everything in it. */
function populate (doc: SharedDoc): void {
  doc.transact(() => {
    doc.map('m').set('a', { x: [1, 2, 'three'] })
    doc.map('m').set('b', 2)
    doc.map('m').delete('b')
    doc.set('s').add('e1')
    doc.set('s').add(7)
    doc.set('s').remove(7)
    doc.counter('c').increment(5)
    doc.counter('c').increment(-2)
  })
}

/** Valid samples of every wire format, to mutate. */
function samples (): { updates: Uint8Array[], deltas: Uint8Array[], frames: Uint8Array[], svs: Uint8Array[] } {
  const a = replica('peer-a', 'wa', 1)
  const updates: Uint8Array[] = []
  const d = a.doc('d')
  d.ydoc.on('update', (u: Uint8Array) => { updates.push(u) })
  populate(d)
  d.map('m').set('long', 'z'.repeat(300))
  const b = replica('peer-b', 'wb', 2)
  populate(b.doc('d'))
  const full = Y.encodeStateAsUpdate(d.ydoc)
  updates.push(full, Y.encodeStateAsUpdate(b.get('d')!.ydoc))
  const sv = Y.encodeStateVector(d.ydoc)
  const digest = d.digest()
  const deltas = [encodeDelta('d', updates[0]!), encodeDelta('d', full), encodeHint('d', digest.stateVector, digest.hash)]
  const frames = [
    encodeFrame({ kind: 'hello', digests: [{ doc: 'd', stateVector: sv, hash: digest.hash }, { doc: 'other', stateVector: new Uint8Array([0]), hash: new Uint8Array(32) }] }),
    encodeFrame({ kind: 'update', doc: 'd', update: full }),
    encodeFrame({ kind: 'done', digests: [{ doc: 'd', stateVector: sv, hash: digest.hash }] }),
    encodeFrame({ kind: 'done', digests: [] })
  ]
  return { updates, deltas, frames, svs: [sv, Y.encodeStateVector(b.get('d')!.ydoc), new Uint8Array([0])] }
}

type Edit = [number, number, 'set' | 'ins' | 'del' | 'trunc']
const edits = fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom('set' as const, 'ins' as const, 'del' as const, 'trunc' as const)), { minLength: 1, maxLength: 4 })

function mutate (bytes: Uint8Array, list: Edit[]): Uint8Array {
  let b = [...bytes]
  for (const [pos, value, kind] of list) {
    const at = b.length === 0 ? 0 : pos % b.length
    if (kind === 'set' && b.length > 0) b[at] = value
    else if (kind === 'ins') b.splice(at, 0, value)
    else if (kind === 'del') b.splice(at, 1)
    else b = b.slice(0, at)
  }
  return new Uint8Array(b)
}

/** Runs `fn`; anything thrown must be a CrdtError. */
function onlyCrdtErrors (fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    if (!(err instanceof CrdtError)) throw new Error(`threw ${(err as Error)?.name}: ${(err as Error)?.message}`, { cause: err })
  }
}

describe('crdt decoders under fuzzing', function () {
  this.timeout(120_000)
  const s = samples()
  const pick = <T> (list: T[], i: number): T => list[i % list.length]!
  const input = (list: Uint8Array[]): fc.Arbitrary<Uint8Array> => fc.oneof(
    fc.uint8Array({ maxLength: 512 }),
    fc.tuple(fc.nat(), edits).map(([i, e]) => mutate(pick(list, i), e))
  )

  it(`gossip deltas: ${BINARY_RUNS} cases`, () => {
    fc.assert(fc.property(input(s.deltas), (bytes) => { onlyCrdtErrors(() => decodeDelta(bytes)) }), { numRuns: BINARY_RUNS })
  })

  it(`sync frames: ${BINARY_RUNS} cases`, () => {
    fc.assert(fc.property(input(s.frames), (bytes) => { onlyCrdtErrors(() => decodeFrame(bytes)) }), { numRuns: BINARY_RUNS })
  })

  it(`state vectors: ${BINARY_RUNS} cases`, () => {
    fc.assert(fc.property(input(s.svs), (bytes) => { onlyCrdtErrors(() => decodeStateVector(bytes)) }), { numRuns: BINARY_RUNS })
  })

  it(`updates: ${BINARY_RUNS} cases, a refused one changes nothing, an accepted one leaves a readable, syncable document`, () => {
    let target = replica('peer-t', 'wt', 3)
    populate(target.doc('d'))
    let seed = 100
    const fresh = (): Replica => {
      const r = replica('peer-t', 'wt', seed++)
      assert.equal(r.applyUpdate('d', Y.encodeStateAsUpdate(base.ydoc), 'sync').status, 'applied')
      return r
    }
    const base = target.get('d')!
    let accepted = 0
    let refused = 0
    fc.assert(fc.property(input(s.updates), fc.constantFrom('gossip' as const, 'sync' as const), (bytes, channel) => {
      const doc = target.get('d')!
      const before = Buffer.from(doc.digest().hash).toString('hex')
      const json = JSON.stringify(doc.toJSON())
      const r = target.applyUpdate('d', bytes, channel)
      if (r.status === 'rejected') {
        refused++
        assert.equal(Buffer.from(doc.digest().hash).toString('hex'), before)
        assert.equal(JSON.stringify(doc.toJSON()), json)
        return
      }
      accepted++
      assert.equal(doc.ydoc.store.pendingStructs, null, 'no pending structs are kept')
      doc.toJSON()
      // What it accepted, it can hand on: a new replica syncs to the same document.
      const other = replica('peer-o', 'wo', seed++)
      other.applyUpdate('d', Y.encodeStateAsUpdate(doc.ydoc), 'sync')
      assert.deepEqual(other.get('d')!.toJSON(), doc.toJSON())
      target = fresh()
    }), { numRuns: BINARY_RUNS })
    assert.ok(refused > BINARY_RUNS / 2, `${refused} refused, ${accepted} accepted`)
  })

  it(`sync sessions fed garbage frames: ${BINARY_RUNS / 5} cases, only CrdtError, nothing changes`, () => {
    const r = replica('peer-r', 'wr', 5)
    populate(r.doc('d'))
    const before = Buffer.from(r.get('d')!.digest().hash).toString('hex')
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 256 }), fc.tuple(fc.nat(), edits).map(([i, e]) => mutate(pick(s.frames.slice(0, 1), i), e))), (bytes) => {
      const session = new SyncSession(r, 'responder', 'peer-x')
      onlyCrdtErrors(() => session.receive(bytes))
    }), { numRuns: BINARY_RUNS / 5 })
    // A HELLO may have made the responder create documents it was told about, nothing else.
    assert.equal(Buffer.from(r.get('d')!.digest().hash).toString('hex'), before)
  })

  it('checks sizes before decoding', () => {
    const big = new Uint8Array(DEFAULT_LIMITS.maxGossipBytes + 5000)
    assert.throws(() => decodeDelta(big), (e: unknown) => e instanceof CrdtError && e.code === 'too_large')
    assert.throws(() => decodeStateVector(new Uint8Array(DEFAULT_LIMITS.maxStateVectorBytes + 1)), (e: unknown) => e instanceof CrdtError && e.code === 'too_large')
    assert.throws(() => validateUpdate(new Uint8Array(100), 99), (e: unknown) => e instanceof CrdtError && e.code === 'too_large')
    assert.throws(() => decodeFrame(new Uint8Array(DEFAULT_LIMITS.maxUpdateBytes + 5000)), (e: unknown) => e instanceof CrdtError && e.code === 'too_large')
    // A delta whose update alone is over the gossip cap, though the frame is not.
    const r = replica()
    r.doc('d').map('m').set('k', 'v'.repeat(3000))
    const update = Y.encodeStateAsUpdate(r.get('d')!.ydoc)
    assert.throws(() => decodeDelta(encodeDelta('d', update), { ...DEFAULT_LIMITS, maxGossipBytes: 1000 }), (e: unknown) => e instanceof CrdtError && e.code === 'too_large')
  })

  it('refuses what our documents never contain: text, nested types, foreign roots', () => {
    const r = replica()
    const before = r.doc('d').digest().hash
    const foreign = new Y.Doc()
    foreign.getText('m:notes').insert(0, 'hello')
    const nested = new Y.Doc()
    nested.getMap('m:x').set('k\u0000w', new Y.Map())
    const otherRoot = new Y.Doc()
    otherRoot.getMap('elsewhere').set('k', 1)
    for (const doc of [foreign, nested, otherRoot]) {
      const res = r.applyUpdate('d', Y.encodeStateAsUpdate(doc), 'gossip')
      assert.equal(res.status, 'rejected')
      assert.equal((res as { code: string }).code, 'invalid')
    }
    assert.deepEqual(r.get('d')!.digest().hash, before)
  })

  it('reports a gap instead of keeping pending structs, and a sync fills it', () => {
    const a = replica('peer-a', 'wa', 1)
    const b = replica('peer-b', 'wb', 2)
    const ups: Uint8Array[] = []
    a.doc('d').ydoc.on('update', (u: Uint8Array) => { ups.push(u) })
    a.doc('d').map('m').set('k', 1)
    a.doc('d').map('m').set('k', 2)
    assert.equal(b.applyUpdate('d', ups[1]!, 'gossip').status, 'gap')
    assert.equal(b.get('d')!.ydoc.store.pendingStructs, null)
    const i = new SyncSession(b, 'initiator', 'peer-a')
    const rs = new SyncSession(a, 'responder', 'peer-b')
    const toA = i.open()
    const toB: Uint8Array[] = []
    while (toA.length + toB.length > 0) {
      for (const f of toA.splice(0)) toB.push(...rs.receive(f))
      for (const f of toB.splice(0)) toA.push(...i.receive(f))
    }
    assert.equal(b.get('d')!.map('m').get('k'), 2)
  })

  it('restores what it can from a damaged store and counts the rest', () => {
    const a = replica()
    const ups: Uint8Array[] = []
    a.doc('d').ydoc.on('update', (u: Uint8Array) => { ups.push(u) })
    a.doc('d').counter('c').increment(3)
    a.doc('d').map('m').set('k', 'v')
    const r = replica('peer-b', 'wb', 2)
    const bad = r.restore('d', [ups[0]!, new Uint8Array([9, 9, 9]), ups[1]!])
    assert.equal(bad, 1)
    assert.equal(r.get('d')!.counter('c').value(), 3)
    assert.equal(r.get('d')!.map('m').get('k'), 'v')
  })
})
