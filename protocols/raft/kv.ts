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

export type Consistency = 'linearizable' | 'stale'

/** One log entry's command. `rid` lets the proposer find the result of its own command. */
export type Command =
  | { rid: string, op: 'put', key: string, value: unknown, prevVersion?: number }
  | { rid: string, op: 'del', key: string, prevVersion?: number }
  | { rid: string, op: 'get', key: string }
  /** Membership, applied by the Raft service rather than here: add these learners. */
  | { rid: string, op: 'learners', ids: string[] }

export type KvCommand = Exclude<Command, { op: 'learners' }>

export interface KvRecord { value: unknown, version: number }

export type KvResult =
  | { ok: true, op: 'put', key: string, version: number }
  | { ok: true, op: 'del', key: string, deleted: boolean, version: number }
  | { ok: true, op: 'get', key: string, value: unknown, version: number }
  | { ok: false, error: 'not_found', key: string }
  | { ok: false, error: 'conflict', key: string, version: number }
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

export function encodeCommand (cmd: Command): Uint8Array {
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
        if (!('value' in c)) return undefined
        return prevVersion === undefined
          ? { rid: c.rid, op: 'put', key: checkKey(c.key), value: c.value }
          : { rid: c.rid, op: 'put', key: checkKey(c.key), value: c.value, prevVersion }
      }
      case 'del': {
        const prevVersion = checkVersion(c.prevVersion)
        return prevVersion === undefined ? { rid: c.rid, op: 'del', key: checkKey(c.key) } : { rid: c.rid, op: 'del', key: checkKey(c.key), prevVersion }
      }
      case 'get':
        return { rid: c.rid, op: 'get', key: checkKey(c.key) }
      case 'learners':
        if (!Array.isArray(c.ids) || c.ids.length === 0 || c.ids.length > 1024 || !c.ids.every(id => typeof id === 'string' && id.length > 0 && id.length <= 128)) return undefined
        return { rid: c.rid, op: 'learners', ids: c.ids as string[] }
      default:
        return undefined
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

  /** Restores the records a storage wrote (see encodeRecord). */
  load (records: Iterable<[string, Uint8Array]>): void {
    this.data.clear()
    for (const [key, rec] of records) this.data.set(key, decodeRecord(rec))
  }

  get size (): number { return this.data.size }

  get (key: string): KvRecord | undefined {
    return this.data.get(key)
  }

  /**
   * Applies the command of the entry at `index`. `change` is the key's new record (null: deleted)
   * for the storage; reads and failed compare-and-sets change nothing.
   */
  apply (index: number, cmd: KvCommand): { result: KvResult, change?: [string, KvRecord | null] } {
    const cur = this.data.get(cmd.key)
    const version = cur?.version ?? 0
    if (cmd.op === 'get') {
      return { result: cur === undefined ? { ok: false, error: 'not_found', key: cmd.key } : { ok: true, op: 'get', key: cmd.key, value: cur.value, version } }
    }
    if (cmd.prevVersion !== undefined && cmd.prevVersion !== version) {
      return { result: { ok: false, error: 'conflict', key: cmd.key, version } }
    }
    if (cmd.op === 'put') {
      const rec = { value: cmd.value, version: index }
      this.data.set(cmd.key, rec)
      return { result: { ok: true, op: 'put', key: cmd.key, version: index }, change: [cmd.key, rec] }
    }
    if (cur === undefined) return { result: { ok: true, op: 'del', key: cmd.key, deleted: false, version: 0 } }
    this.data.delete(cmd.key)
    return { result: { ok: true, op: 'del', key: cmd.key, deleted: true, version }, change: [cmd.key, null] }
  }
}
