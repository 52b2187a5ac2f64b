/**
 * Sequential models for the linearizability checker: a key-value store seen as one register per
 * key, and a fenced mutex per resource. Both split histories by key or resource
 * (P-compositionality), so each register or lock is checked on its own.
 *
 * What goes into a history: every operation whose effect is known (it returned an answer) and
 * every operation whose effect is unknown (timed out, connection lost, node crashed: record
 * `return: Infinity` and no output). Leave out operations that failed definitely and so took no
 * effect (rejected as invalid, refused before being proposed, a lock that was busy): they tell
 * the checker nothing and the models have no outputs for them.
 *
 * Versions and fencing tokens only grow. The models keep the highest one known (`floor`): a new
 * write or grant must report a higher one. A write or grant whose number was not reported (its
 * answer was lost, or the system does not report versions) has some number above the floor,
 * unknown until an observation pins it down (a read's version, an accepted fenced write). The
 * floor deliberately does not move for an unknown number: then the state after such an
 * operation does not depend on how many of them came before, which keeps the search small when
 * many answers were lost.
 */
import type { Model, Operation, StepResult } from './checker.js'

/** Splits a history by a key of each input; parts are named by the key. */
export function partitionBy<I, O> (keyOf: (input: I) => string): {
  partition: (history: Array<Operation<I, O>>) => Array<Array<Operation<I, O>>>
  partitionName: (part: Array<Operation<I, O>>) => string
} {
  return {
    partition: (history) => {
      const parts = new Map<string, Array<Operation<I, O>>>()
      for (const op of history) {
        const key = keyOf(op.input)
        let part = parts.get(key)
        if (part === undefined) {
          part = []
          parts.set(key, part)
        }
        part.push(op)
      }
      return [...parts.values()]
    },
    partitionName: (part) => part[0] === undefined ? '(empty)' : JSON.stringify(keyOf(part[0].input))
  }
}

/** JSON with object keys sorted, so equal values give equal strings. */
export function canonicalJson (v: unknown): string {
  if (v === undefined) return 'undefined'
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? String(v)
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  const o = v as Record<string, unknown>
  const fields = Object.keys(o).sort().filter(k => o[k] !== undefined).map(k => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
  return `{${fields.join(',')}}`
}

type Match = 'yes' | 'maybe' | 'no'

function ok<S> (state: S): StepResult<S> {
  return { ok: true, state }
}

function fail<S> (state: S): StepResult<S> {
  return { ok: false, state }
}

// ---------------------------------------------------------------------------------------------
// Key-value register

/**
 * Operations on one key. `cas` compares either the value (`expect`, deep equality; undefined
 * means the key must be absent) or, when `expectVersion` is given, the version (0 means absent),
 * like the Raft store's `prevVersion`.
 */
export type KvInput =
  | { op: 'put', key: string, value: unknown }
  | { op: 'get', key: string }
  | { op: 'delete', key: string }
  | { op: 'cas', key: string, value: unknown, expect?: unknown, expectVersion?: number }

/**
 * Answers, by operation (omit `version` where the system does not report one):
 * - put: `{ ok: true, version? }`
 * - get: `{ found: false }` or `{ found: true, value, version? }` (a not-found error is a read
 *   that found nothing, not a failure)
 * - delete: `{ ok: true, deleted? }`, `deleted` telling whether the key existed
 * - cas: `{ ok: true, version? }` when it wrote, `{ ok: false }` when the comparison failed
 */
export interface KvOutput {
  ok?: boolean
  found?: boolean
  value?: unknown
  version?: number
  deleted?: boolean
}

export interface RegisterState {
  readonly present: boolean
  /** Canonical JSON of the value; '' when absent. */
  readonly value: string
  /** The current value's version; null when the write did not report it. */
  readonly version: number | null
  /** The highest version known; the next write's is above it, and so is an unreported one. */
  readonly floor: number
}

const ABSENT: RegisterState = { present: false, value: '', version: null, floor: 0 }

function writeValue (s: RegisterState, value: unknown, version: number | undefined): RegisterState | undefined {
  if (version === undefined) return { present: true, value: canonicalJson(value), version: null, floor: s.floor }
  if (!(version > s.floor)) return undefined
  return { present: true, value: canonicalJson(value), version, floor: version }
}

function versionMatch (s: RegisterState, v: number): Match {
  if (!s.present) return 'no'
  if (s.version !== null) return s.version === v ? 'yes' : 'no'
  return v > s.floor ? 'maybe' : 'no'
}

function pinVersion (s: RegisterState, v: number): RegisterState {
  return { ...s, version: v, floor: Math.max(s.floor, v) }
}

function kvStep (s: RegisterState, input: KvInput, out: KvOutput | undefined): StepResult<RegisterState> {
  switch (input.op) {
    case 'get': {
      if (out === undefined) return ok(s)
      const found = out.found === true
      if (found !== s.present) return fail(s)
      if (!found) return ok(s)
      if (canonicalJson(out.value) !== s.value) return fail(s)
      if (out.version === undefined) return ok(s)
      const m = versionMatch(s, out.version)
      return m === 'no' ? fail(s) : ok(m === 'maybe' ? pinVersion(s, out.version) : s)
    }
    case 'put': {
      const next = writeValue(s, input.value, out?.version)
      return next === undefined ? fail(s) : ok(next)
    }
    case 'delete': {
      if (out?.deleted !== undefined && out.deleted !== s.present) return fail(s)
      return ok({ present: false, value: '', version: null, floor: s.floor })
    }
    case 'cas': {
      const ev = input.expectVersion
      let m: Match
      if (ev !== undefined) m = ev === 0 ? (s.present ? 'no' : 'yes') : versionMatch(s, ev)
      else if (input.expect === undefined) m = s.present ? 'no' : 'yes'
      else m = s.present && s.value === canonicalJson(input.expect) ? 'yes' : 'no'
      if (out !== undefined && out.ok !== true) return m === 'yes' ? fail(s) : ok(s)
      if (m === 'no') return out === undefined ? ok(s) : fail(s)
      const base = m === 'maybe' && ev !== undefined ? pinVersion(s, ev) : s
      const next = writeValue(base, input.value, out?.version)
      return next === undefined ? fail(s) : ok(next)
    }
  }
}

/** A register per key: put, get, delete and compare-and-set, checked key by key. */
export const kvRegisterModel: Model<RegisterState, KvInput, KvOutput> = {
  init: () => ABSENT,
  step: kvStep,
  hash: (s) => `${s.present ? '+' : '-'}${s.version ?? '?'}/${s.floor}/${s.value}`,
  // A read changes nothing but may pin down an unknown version, which only narrows.
  readOnly: (input) => input.op === 'get',
  ...partitionBy<KvInput, KvOutput>((input) => input.key),
  describeState: (s) => s.present ? `${s.value} (version ${s.version ?? `> ${s.floor}`})` : 'absent'
}

// ---------------------------------------------------------------------------------------------
// Fenced mutex

/**
 * Operations on one lock. `client` in acquire and release is the lock owner's identity (it may
 * differ from the history's `client`).
 */
export type LockInput =
  | { op: 'acquire', resource: string, client: string }
  | { op: 'release', resource: string, client: string, token: number }
  | { op: 'fencedWrite', resource: string, token: number, value?: unknown }

/**
 * Answers, by operation:
 * - acquire: `{ token }`, the fencing token granted (leave a busy refusal out of the history)
 * - release: `{ ok: true }` (or `{}`) when released, `{ ok: false }` when the caller did not
 *   hold the lock with that token
 * - fencedWrite: `{ accepted }`
 */
export interface LockOutput {
  token?: number
  ok?: boolean
  accepted?: boolean
}

export interface LockState {
  /** The owner holding the lock, null when free. */
  readonly holder: string | null
  /** The holder's token; null when the grant's answer was lost. */
  readonly token: number | null
  /** The highest token known; the next grant's is above it, and so is an unknown holder's. */
  readonly floor: number
}

const FREE: LockState = { holder: null, token: null, floor: 0 }

function tokenMatch (s: LockState, t: number): Match {
  if (s.holder === null) return 'no'
  if (s.token !== null) return s.token === t ? 'yes' : 'no'
  return t > s.floor ? 'maybe' : 'no'
}

function pinToken (s: LockState, t: number): LockState {
  return { ...s, token: t, floor: Math.max(s.floor, t) }
}

function lockStep (leases: boolean): (s: LockState, input: LockInput, out: LockOutput | undefined) => StepResult<LockState> {
  return (s, input, out) => {
    switch (input.op) {
      case 'acquire': {
        if (out === undefined) {
          // Had it taken effect while held, a mutex would have refused or re-granted the same
          // grant: no change, which is the same as never taking effect.
          if (s.holder !== null && !leases) return ok(s)
          return ok({ holder: input.client, token: null, floor: s.floor })
        }
        const t = out.token
        if (typeof t !== 'number') return fail(s)
        if (s.holder === input.client) {
          // The same grant again (a retried request), with its token now known.
          const m = tokenMatch(s, t)
          if (m === 'yes') return ok(s)
          if (m === 'maybe') return ok(pinToken(s, t))
        }
        if (s.holder !== null && !leases) return fail(s)
        if (!(t > s.floor)) return fail(s)
        return ok({ holder: input.client, token: t, floor: t })
      }
      case 'release': {
        const m = s.holder === input.client ? tokenMatch(s, input.token) : 'no'
        const released = out === undefined || out.ok !== false
        if (!released) return m === 'yes' ? fail(s) : ok(s)
        if (m === 'no') return out === undefined ? ok(s) : fail(s)
        const pinned = m === 'maybe' ? pinToken(s, input.token) : s
        return ok({ holder: null, token: null, floor: pinned.floor })
      }
      case 'fencedWrite': {
        if (out === undefined) return ok(s)
        const m = tokenMatch(s, input.token)
        if (out.accepted !== true) return m === 'yes' ? fail(s) : ok(s)
        if (m === 'no') return fail(s)
        return ok(m === 'maybe' ? pinToken(s, input.token) : s)
      }
    }
  }
}

function makeLockModel (leases: boolean): Model<LockState, LockInput, LockOutput> {
  return {
    init: () => FREE,
    step: lockStep(leases),
    hash: (s) => `${s.holder === null ? '' : JSON.stringify(s.holder)}|${s.token ?? '?'}|${s.floor}`,
    // A fenced write changes nothing in the lock but may pin down an unknown token.
    readOnly: (input) => input.op === 'fencedWrite',
    ...partitionBy<LockInput, LockOutput>((input) => input.resource),
    describeState: (s) => s.holder === null
      ? `free (last token ${s.floor})`
      : `held by ${JSON.stringify(s.holder)} with token ${s.token ?? `> ${s.floor}`}`
  }
}

/**
 * A fenced mutex per resource. Checks that there is never more than one holder (a grant needs
 * the lock free, or is the same grant again to its holder), that tokens strictly increase from
 * grant to grant, that a fenced write is accepted exactly when its token is the current
 * holder's, and that only the holder releases.
 */
export const lockModel: Model<LockState, LockInput, LockOutput> = makeLockModel(false)

/**
 * The same with leases: a grant may also take the lock over from a holder whose lease ran out,
 * without a release. The old holder stops being the holder at that point: its fenced writes must
 * be refused from then on, and its release must fail.
 */
export const leaseLockModel: Model<LockState, LockInput, LockOutput> = makeLockModel(true)
