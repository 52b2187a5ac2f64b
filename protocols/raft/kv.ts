/**
 * The replicated key-value state machine, pure: commands are applied in log order and the result
 * depends only on the state and the command, so every replica computes the same answers.
 *
 * A key's version is the log index of the write that last set it. Versions only grow, so a key
 * deleted and written again never reuses one, and a compare-and-set on `prevVersion` cannot be
 * fooled by a delete and recreate in between (no ABA). `prevVersion: 0` means "must not exist".
 */

export const MAX_KEY_BYTES = 1024
export const MAX_VALUE_BYTES = 256 * 1024
export const MAX_RID_LENGTH = 64

import { decodeCoordCommand, validateCommand, type CoordCommand } from '../coordination/core/index.js'

export type Consistency = 'linearizable' | 'stale'

/**
 * A write that only applies while `token` is the fencing token of a current holder of the lock
 * on `resource` (checked in the state machine, in log order): a holder whose lease expired, or
 * who was replaced, is refused with 'fenced'.
 */
export interface Fence { resource: string, token: number }

const COORD_OPS = new Set(['lease_grant', 'lease_revoke', 'lock_acquire', 'lock_release', 'lock_cancel', 'barrier_wait', 'barrier_cancel', 'dbarrier_enter', 'dbarrier_leave', 'campaign', 'resign', 'proclaim'])

/** One log entry's command. `rid` lets the proposer find the result of its own command. */
export type Command =
  | { rid: string, op: 'put', key: string, value: unknown, prevVersion?: number, fence?: Fence }
  | { rid: string, op: 'del', key: string, prevVersion?: number, fence?: Fence }
  | { rid: string, op: 'get', key: string }
  /** Membership, applied by the Raft service rather than here: add these learners. */
  | { rid: string, op: 'learners', ids: string[] }
  /** A coordination command (protocols/coordination), applied by the coordination state machine. */
  | { rid: string, op: 'coord', cmd: CoordCommand }

export type KvCommand = Exclude<Command, { op: 'learners' | 'coord' }>

export interface KvRecord { value: unknown, version: number }

export type KvResult =
  | { ok: true, op: 'put', key: string, version: number }
  | { ok: true, op: 'del', key: string, deleted: boolean, version: number }
  | { ok: true, op: 'get', key: string, value: unknown, version: number }
  | { ok: false, error: 'not_found', key: string }
  | { ok: false, error: 'conflict', key: string, version: number }
  | { ok: false, error: 'fenced', key: string, resource: string, token: number }
  | { ok: false, error: 'invalid', message: string }

export class KvInputError extends Error {
  constructor (message: string) { super(message); this.name = 'KvInputError' }
}

const enc = new TextEncoder()
const dec = new TextDecoder()

/** Throws KvInputError for a key the store does not take. */
export function checkKey (key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw new KvInputError('key must be a non-empty string')
  if (enc.encode(key).length > MAX_KEY_BYTES) throw new KvInputError(`key is longer than ${MAX_KEY_BYTES} bytes`)
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new KvInputError('key must not contain control characters') // eslint-disable-line no-control-regex
  return key
}

export function checkVersion (v: unknown, what = 'prevVersion'): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new KvInputError(`${what} must be an integer >= 0`)
  return v
}

export function checkFence (v: unknown): Fence | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'object' || v === null) throw new KvInputError('fence must be {resource, token}')
  const f = v as Record<string, unknown>
  if (typeof f.resource !== 'string' || f.resource.length === 0 || enc.encode(f.resource).length > 256) throw new KvInputError('fence.resource must be a non-empty string of at most 256 bytes')
  if (typeof f.token !== 'number' || !Number.isSafeInteger(f.token) || f.token < 1) throw new KvInputError('fence.token must be an integer >= 1')
  return { resource: f.resource, token: f.token }
}

export function encodeCommand (cmd: Command): Uint8Array {
  // The coordination command is the entry, with the same rid (its op names tell it apart).
  if (cmd.op === 'coord') return enc.encode(JSON.stringify(validateCommand({ ...cmd.cmd, rid: cmd.rid })))
  if (cmd.op === 'put') {
    if (cmd.value === undefined) throw new KvInputError('value is required')
    const json = JSON.stringify(cmd.value)
    if (enc.encode(json).length > MAX_VALUE_BYTES) throw new KvInputError(`value is larger than ${MAX_VALUE_BYTES} bytes of JSON`)
  }
  return enc.encode(JSON.stringify(cmd))
}

/** The command in an entry's data, or undefined when it is not one (applied as a no-op). */
export function decodeCommand (data: Uint8Array): Command | undefined {
  let v: unknown
  try {
    v = JSON.parse(dec.decode(data))
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null) return undefined
  const c = v as Record<string, unknown>
  if (typeof c.rid !== 'string' || c.rid.length > MAX_RID_LENGTH) return undefined
  try {
    switch (c.op) {
      case 'put': {
        const prevVersion = checkVersion(c.prevVersion)
        const fence = checkFence(c.fence)
        if (!('value' in c)) return undefined
        const put: Command = { rid: c.rid, op: 'put', key: checkKey(c.key), value: c.value }
        if (prevVersion !== undefined) put.prevVersion = prevVersion
        if (fence !== undefined) put.fence = fence
        return put
      }
      case 'del': {
        const prevVersion = checkVersion(c.prevVersion)
        const fence = checkFence(c.fence)
        const del: Command = { rid: c.rid, op: 'del', key: checkKey(c.key) }
        if (prevVersion !== undefined) del.prevVersion = prevVersion
        if (fence !== undefined) del.fence = fence
        return del
      }
      case 'get':
        return { rid: c.rid, op: 'get', key: checkKey(c.key) }
      case 'learners':
        if (!Array.isArray(c.ids) || c.ids.length === 0 || c.ids.length > 1024 || !c.ids.every(id => typeof id === 'string' && id.length > 0 && id.length <= 128)) return undefined
        return { rid: c.rid, op: 'learners', ids: c.ids as string[] }
      default: {
        if (typeof c.op !== 'string' || !COORD_OPS.has(c.op)) return undefined
        const cmd = decodeCoordCommand(c)
        return cmd === undefined ? undefined : { rid: cmd.rid, op: 'coord', cmd }
      }
    }
  } catch {
    return undefined
  }
}

export function encodeRecord (r: KvRecord): Uint8Array {
  return enc.encode(JSON.stringify({ v: r.value, ver: r.version }))
}

export function decodeRecord (data: Uint8Array): KvRecord {
  const r = JSON.parse(dec.decode(data)) as { v: unknown, ver: number }
  return { value: r.v, version: r.ver }
}

export class KvState {
  private readonly data = new Map<string, KvRecord>()

  /** Restores the records of a snapshot (see encodeRecord). */
  load (records: Iterable<[string, Uint8Array]>): void {
    this.data.clear()
    for (const [key, rec] of records) this.data.set(key, decodeRecord(rec))
  }

  get size (): number { return this.data.size }

  /** The records as encoded for a snapshot, from a point-in-time copy (records are immutable). */
  encodedCopy (): Iterable<[string, Uint8Array]> {
    const copy = [...this.data]
    return (function * () { for (const [k, r] of copy) yield [k, encodeRecord(r)] as [string, Uint8Array] })()
  }

  get (key: string): KvRecord | undefined {
    return this.data.get(key)
  }

  /** Applies the command of the entry at `index`; reads and failed compare-and-sets change nothing. */
  apply (index: number, cmd: KvCommand, fenceHolds: (f: Fence) => boolean = () => false): KvResult {
    const cur = this.data.get(cmd.key)
    const version = cur?.version ?? 0
    if (cmd.op === 'get') {
      return cur === undefined ? { ok: false, error: 'not_found', key: cmd.key } : { ok: true, op: 'get', key: cmd.key, value: cur.value, version }
    }
    if (cmd.fence !== undefined && !fenceHolds(cmd.fence)) {
      return { ok: false, error: 'fenced', key: cmd.key, resource: cmd.fence.resource, token: cmd.fence.token }
    }
    if (cmd.prevVersion !== undefined && cmd.prevVersion !== version) {
      return { ok: false, error: 'conflict', key: cmd.key, version }
    }
    if (cmd.op === 'put') {
      this.data.set(cmd.key, { value: cmd.value, version: index })
      return { ok: true, op: 'put', key: cmd.key, version: index }
    }
    if (cur === undefined) return { ok: true, op: 'del', key: cmd.key, deleted: false, version: 0 }
    this.data.delete(cmd.key)
    return { ok: true, op: 'del', key: cmd.key, deleted: true, version }
  }
}
