/**
 * Wire codecs with their limits. Every decoder checks the size before it decodes anything and
 * throws only CrdtError ('too_large', 'malformed', 'invalid'); nothing from the network reaches
 * a document before `validateUpdate` has accepted its shape.
 */
import * as Y from 'yjs'
import { CrdtDelta, SyncFrame as PbSyncFrame, type DocDigest as PbDigest } from '../crdt.pb.js'
import { CrdtError } from './errors.js'
import { NAME_PATTERN, ROOT_PATTERN } from './doc.js'

export interface CrdtLimits {
  /** Documents a replica holds at most; digests per sync frame (default 1,024). */
  maxDocs: number
  /** A local update larger than this goes over a direct stream; a larger gossip delta is refused (default 256 KiB). */
  maxGossipBytes: number
  /** Largest update in one sync frame (default 32 MiB). */
  maxUpdateBytes: number
  /** Largest encoded state vector (default 256 KiB). */
  maxStateVectorBytes: number
}

export const DEFAULT_LIMITS: CrdtLimits = {
  maxDocs: 1024,
  maxGossipBytes: 256 * 1024,
  maxUpdateBytes: 32 * 1024 * 1024,
  maxStateVectorBytes: 256 * 1024
}

const HASH_BYTES = 32
/** Room for the fields around an update in a frame or delta. */
const FRAME_OVERHEAD = 4096

export type Delta =
  | { doc: string, kind: 'update', update: Uint8Array }
  | { doc: string, kind: 'hint', stateVector: Map<number, number>, hash: Uint8Array }

export interface PeerDigest { doc: string, stateVector: Map<number, number>, encoded: Uint8Array, hash: Uint8Array }

export type Frame =
  | { kind: 'hello', digests: PeerDigest[] }
  | { kind: 'update', doc: string, update: Uint8Array }
  | { kind: 'done', digests: PeerDigest[] }

function docName (name: string): string {
  if (!NAME_PATTERN.test(name)) throw new CrdtError('invalid', `document name ${JSON.stringify(name.slice(0, 80))} is not valid`)
  return name
}

/** A Yjs state vector (v1), checked: client ids and clocks are non-negative safe integers. */
export function decodeStateVector (bytes: Uint8Array, limits: CrdtLimits = DEFAULT_LIMITS): Map<number, number> {
  if (bytes.length > limits.maxStateVectorBytes) throw new CrdtError('too_large', `state vector of ${bytes.length} bytes exceeds ${limits.maxStateVectorBytes}`)
  let sv: Map<number, number>
  try {
    sv = Y.decodeStateVector(bytes)
  } catch (err) {
    throw new CrdtError('malformed', `not a state vector: ${(err as Error).message}`)
  }
  for (const [client, clock] of sv) {
    if (!Number.isSafeInteger(client) || client < 0 || !Number.isSafeInteger(clock) || clock < 0) {
      throw new CrdtError('invalid', 'state vector entry out of range')
    }
  }
  return sv
}

/**
 * Accepts a Yjs update (v1) only if it is something our documents can contain: entries of
 * top-level maps with our root names, holding plain values. No nested types, text, XML,
 * subdocuments or binary content. Throws CrdtError; returns, per client, the clock after its
 * last struct.
 */
export function validateUpdate (bytes: Uint8Array, maxBytes: number): Map<number, number> {
  if (bytes.length > maxBytes) throw new CrdtError('too_large', `update of ${bytes.length} bytes exceeds ${maxBytes}`)
  if (bytes.length < 2) throw new CrdtError('malformed', 'update shorter than 2 bytes')
  let decoded: { structs: Array<Y.Item | Y.GC | Y.Skip>, ds: unknown }
  try {
    decoded = Y.decodeUpdate(bytes)
  } catch (err) {
    throw new CrdtError('malformed', `not a Yjs update: ${(err as Error).message}`)
  }
  const ends = new Map<number, number>()
  for (const s of decoded.structs) {
    if (!Number.isSafeInteger(s.id.client) || s.id.client < 0 || !Number.isSafeInteger(s.id.clock) || s.id.clock < 0 ||
      !Number.isSafeInteger(s.length) || s.length < 1) {
      throw new CrdtError('invalid', 'struct id or length out of range')
    }
    ends.set(s.id.client, Math.max(ends.get(s.id.client) ?? 0, s.id.clock + s.length))
    if (s instanceof Y.GC || s instanceof Y.Skip) continue
    if (!(s instanceof Y.Item)) throw new CrdtError('invalid', 'unknown struct')
    if (!(s.content instanceof Y.ContentAny) && !(s.content instanceof Y.ContentDeleted)) {
      throw new CrdtError('invalid', `content ${s.content.constructor.name} is not allowed`)
    }
    // Yjs trusts an item's references to its own client to point backwards; a forward or
    // self reference makes integration throw half-way through an update.
    for (const ref of [s.origin, s.rightOrigin]) {
      if (ref == null) continue
      if (!Number.isSafeInteger(ref.client) || ref.client < 0 || !Number.isSafeInteger(ref.clock) || ref.clock < 0) throw new CrdtError('invalid', 'reference out of range')
      if (ref.client === s.id.client && ref.clock >= s.id.clock) throw new CrdtError('invalid', 'an item refers to itself or to a later item of its client')
    }
    const parent = s.parent as unknown
    if (parent != null) {
      if (typeof parent !== 'string') throw new CrdtError('invalid', 'nested types are not allowed')
      if (!ROOT_PATTERN.test(parent)) throw new CrdtError('invalid', `top-level type ${JSON.stringify(parent.slice(0, 80))} is not allowed`)
      if (typeof s.parentSub !== 'string') throw new CrdtError('invalid', 'only map entries are allowed')
    }
  }
  const ds = decoded.ds as { clients: Map<number, Array<{ clock: number, len: number }>> }
  for (const [client, items] of ds.clients) {
    if (!Number.isSafeInteger(client) || client < 0) throw new CrdtError('invalid', 'delete set client out of range')
    for (const { clock, len } of items) {
      // An empty range makes Yjs throw after it has applied the ranges before it.
      if (!Number.isSafeInteger(clock) || clock < 0 || !Number.isSafeInteger(len) || len < 1 || !Number.isSafeInteger(clock + len)) {
        throw new CrdtError('invalid', 'delete set range out of range')
      }
    }
  }
  return ends
}

export function encodeDelta (doc: string, update: Uint8Array): Uint8Array {
  return CrdtDelta.encode({ doc, update } as CrdtDelta)
}

export function encodeHint (doc: string, stateVector: Uint8Array, hash: Uint8Array): Uint8Array {
  return CrdtDelta.encode({ doc, stateVector, hash } as CrdtDelta)
}

/** A gossip payload: an update up to the gossip cap, or a hint naming a larger one. */
export function decodeDelta (bytes: Uint8Array, limits: CrdtLimits = DEFAULT_LIMITS): Delta {
  if (bytes.length > limits.maxGossipBytes + FRAME_OVERHEAD) throw new CrdtError('too_large', `delta of ${bytes.length} bytes exceeds ${limits.maxGossipBytes}`)
  let pb: CrdtDelta
  try {
    pb = CrdtDelta.decode(bytes)
  } catch (err) {
    throw new CrdtError('malformed', `not a delta: ${(err as Error).message}`)
  }
  const doc = docName(pb.doc)
  if (pb.update.length > 0) {
    if (pb.stateVector.length > 0 || pb.hash.length > 0) throw new CrdtError('invalid', 'a delta carries an update or a hint, not both')
    if (pb.update.length > limits.maxGossipBytes) throw new CrdtError('too_large', `update of ${pb.update.length} bytes exceeds the gossip cap ${limits.maxGossipBytes}`)
    return { doc, kind: 'update', update: pb.update }
  }
  if (pb.hash.length !== HASH_BYTES) throw new CrdtError('invalid', 'a hint needs a 32-byte hash')
  return { doc, kind: 'hint', stateVector: decodeStateVector(pb.stateVector, limits), hash: pb.hash }
}

function digests (list: PbDigest[], limits: CrdtLimits): PeerDigest[] {
  const seen = new Set<string>()
  return list.map(d => {
    const doc = docName(d.doc)
    if (seen.has(doc)) throw new CrdtError('invalid', `document ${doc} listed twice`)
    seen.add(doc)
    if (d.hash.length !== 0 && d.hash.length !== HASH_BYTES) throw new CrdtError('invalid', 'digest hash must be 32 bytes')
    return { doc, stateVector: decodeStateVector(d.stateVector, limits), encoded: d.stateVector, hash: d.hash }
  })
}

export function decodeFrame (bytes: Uint8Array, limits: CrdtLimits = DEFAULT_LIMITS): Frame {
  if (bytes.length > limits.maxUpdateBytes + FRAME_OVERHEAD) throw new CrdtError('too_large', `frame of ${bytes.length} bytes exceeds ${limits.maxUpdateBytes}`)
  let pb: PbSyncFrame
  try {
    pb = PbSyncFrame.decode(bytes, { limits: { digests: limits.maxDocs } })
  } catch (err) {
    throw new CrdtError('malformed', `not a sync frame: ${(err as Error).message}`)
  }
  if (pb.kind === PbSyncFrame.Kind.UPDATE) {
    if (pb.digests.length > 0) throw new CrdtError('invalid', 'an update frame carries no digests')
    if (pb.update.length === 0) throw new CrdtError('invalid', 'empty update frame')
    if (pb.update.length > limits.maxUpdateBytes) throw new CrdtError('too_large', `update of ${pb.update.length} bytes exceeds ${limits.maxUpdateBytes}`)
    return { kind: 'update', doc: docName(pb.doc), update: pb.update }
  }
  if (pb.doc !== '' || pb.update.length > 0) throw new CrdtError('invalid', `a ${pb.kind} frame carries no update`)
  return { kind: pb.kind === PbSyncFrame.Kind.HELLO ? 'hello' : 'done', digests: digests(pb.digests, limits) }
}

export function encodeFrame (frame: { kind: 'hello' | 'done', digests: Array<{ doc: string, stateVector: Uint8Array, hash: Uint8Array }> } | { kind: 'update', doc: string, update: Uint8Array }): Uint8Array {
  if (frame.kind === 'update') return PbSyncFrame.encode({ kind: PbSyncFrame.Kind.UPDATE, doc: frame.doc, update: frame.update } as PbSyncFrame)
  return PbSyncFrame.encode({
    kind: frame.kind === 'hello' ? PbSyncFrame.Kind.HELLO : PbSyncFrame.Kind.DONE,
    digests: frame.digests.map(d => ({ doc: d.doc, stateVector: d.stateVector, hash: d.hash }))
  } as PbSyncFrame)
}
