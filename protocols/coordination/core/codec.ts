/**
 * Input checks and codecs of the coordination state machine. The `check*` functions and
 * `validateCommand` / `validateSnapshot` throw CoordInputError and return a fresh copy holding only
 * the known fields; `decodeCoordCommand` turns any failure into undefined and never throws.
 */
import {
  CoordInputError, MAX_NAME_BYTES, MAX_PARTIES, MAX_RID_BYTES, MAX_TTL_MS, MAX_VALUE_BYTES, MIN_TTL_MS,
  type Candidate, type CoordCommand, type CoordSnapshot, type DGenInfo, type LeaseInfo, type LockHolder,
  type LockMode, type LockWaiter, type Member, type NewLease, type RevokeReason
} from './types.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

function utf8Bytes (s: string): number {
  return enc.encode(s).length
}

/** A resource, barrier or role name, or a lease, owner or waiter id. */
export function checkName (v: unknown, what = 'name'): string {
  if (typeof v !== 'string' || v.length === 0) throw new CoordInputError(`${what} must be a non-empty string`)
  // A UTF-8 encoding is never shorter than the UTF-16 one: a long string is refused before encoding.
  if (v.length > MAX_NAME_BYTES || utf8Bytes(v) > MAX_NAME_BYTES) throw new CoordInputError(`${what} is longer than ${MAX_NAME_BYTES} bytes`)
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new CoordInputError(`${what} must not contain control characters`) // eslint-disable-line no-control-regex
  return v
}

export function checkRid (v: unknown): string {
  if (typeof v !== 'string' || v.length > MAX_RID_BYTES || utf8Bytes(v) > MAX_RID_BYTES) throw new CoordInputError(`rid must be a string of at most ${MAX_RID_BYTES} bytes`)
  return v
}

export function checkValue (v: unknown): string {
  if (typeof v !== 'string' || v.length > MAX_VALUE_BYTES || utf8Bytes(v) > MAX_VALUE_BYTES) throw new CoordInputError(`value must be a string of at most ${MAX_VALUE_BYTES} bytes`)
  return v
}

export function checkInt (v: unknown, min: number, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new CoordInputError(`${what} must be an integer in ${min}..${max}`)
  return v
}

export function checkTtl (v: unknown): number { return checkInt(v, MIN_TTL_MS, MAX_TTL_MS, 'ttlMs') }
export function checkParties (v: unknown): number { return checkInt(v, 1, MAX_PARTIES, 'parties') }
/** A log index, fencing token, generation or revision: all are log indexes, so >= 1. */
export function checkIndex (v: unknown, what = 'index'): number { return checkInt(v, 1, Number.MAX_SAFE_INTEGER, what) }

export function checkMode (v: unknown): LockMode {
  if (v !== 'exclusive' && v !== 'shared') throw new CoordInputError("mode must be 'exclusive' or 'shared'")
  return v
}

function checkReason (v: unknown): RevokeReason {
  if (v !== 'released' && v !== 'expired') throw new CoordInputError("reason must be 'released' or 'expired'")
  return v
}

function record (v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CoordInputError(`${what} must be an object`)
  return v as Record<string, unknown>
}

function list (v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new CoordInputError(`${what} must be an array`)
  return v
}

/** Either an existing `lease`, or `newLease` with `lease` empty. */
function withLease (out: { lease: string, newLease?: NewLease }, c: Record<string, unknown>): void {
  if (c.newLease === undefined) {
    out.lease = checkName(c.lease, 'lease')
    return
  }
  if (c.lease !== undefined && c.lease !== '') throw new CoordInputError('give either lease or newLease')
  const n = record(c.newLease, 'newLease')
  out.newLease = { owner: checkName(n.owner, 'newLease.owner'), ttlMs: checkTtl(n.ttlMs) }
}

/** The command `v` holds, as a fresh object with only its fields; throws CoordInputError. */
export function validateCommand (v: unknown): CoordCommand {
  const c = record(v, 'command')
  const rid = checkRid(c.rid)
  switch (c.op) {
    case 'lease_grant':
      return { rid, op: c.op, owner: checkName(c.owner, 'owner'), ttlMs: checkTtl(c.ttlMs) }
    case 'lease_revoke':
      return { rid, op: c.op, leaseId: checkName(c.leaseId, 'leaseId'), reason: checkReason(c.reason) }
    case 'lock_acquire': {
      const out: CoordCommand = { rid, op: c.op, resource: checkName(c.resource, 'resource'), lease: '', mode: checkMode(c.mode), waiter: checkName(c.waiter, 'waiter') }
      withLease(out, c)
      return out
    }
    case 'lock_release':
      return { rid, op: c.op, resource: checkName(c.resource, 'resource'), lease: checkName(c.lease, 'lease'), fencingToken: checkIndex(c.fencingToken, 'fencingToken') }
    case 'lock_cancel':
      return { rid, op: c.op, resource: checkName(c.resource, 'resource'), lease: checkName(c.lease, 'lease'), waiter: checkName(c.waiter, 'waiter') }
    case 'barrier_wait':
    case 'dbarrier_enter':
      return { rid, op: c.op, name: checkName(c.name), parties: checkParties(c.parties), lease: checkName(c.lease, 'lease'), waiter: checkName(c.waiter, 'waiter') }
    case 'barrier_cancel':
    case 'dbarrier_leave':
      return { rid, op: c.op, name: checkName(c.name), lease: checkName(c.lease, 'lease'), waiter: checkName(c.waiter, 'waiter') }
    case 'campaign': {
      const out: CoordCommand = { rid, op: c.op, role: checkName(c.role, 'role'), lease: '', value: checkValue(c.value), waiter: checkName(c.waiter, 'waiter') }
      withLease(out, c)
      return out
    }
    case 'resign':
      return { rid, op: c.op, role: checkName(c.role, 'role'), lease: checkName(c.lease, 'lease') }
    case 'proclaim':
      return { rid, op: c.op, role: checkName(c.role, 'role'), lease: checkName(c.lease, 'lease'), value: checkValue(c.value) }
    default:
      throw new CoordInputError('unknown op')
  }
}

/** The bytes of a command for a log entry; throws CoordInputError for a malformed one. */
export function encodeCoordCommand (cmd: CoordCommand): Uint8Array {
  return enc.encode(JSON.stringify(validateCommand(cmd)))
}

/**
 * The command in `data` (an entry's bytes, or an already parsed JSON value), or undefined when it
 * is not a valid one. Never throws.
 */
export function decodeCoordCommand (data: unknown): CoordCommand | undefined {
  try {
    const v: unknown = data instanceof Uint8Array ? JSON.parse(dec.decode(data)) : data
    return validateCommand(v)
  } catch {
    return undefined
  }
}

function member (v: unknown, leases: Set<string>, seen: Set<string>, what: string): Member {
  const m = record(v, what)
  const waiter = checkName(m.waiter, `${what}.waiter`)
  const lease = checkName(m.lease, `${what}.lease`)
  if (!leases.has(lease)) throw new CoordInputError(`${what} names unknown lease ${lease}`)
  if (seen.has(waiter)) throw new CoordInputError(`${what}: waiter ${waiter} appears twice`)
  seen.add(waiter)
  return { waiter, lease }
}

function dgen (v: unknown, leases: Set<string>, seen: Set<string>, maxIndex: number, what: string): DGenInfo {
  const g = record(v, what)
  const generation = checkInt(g.generation, 1, maxIndex, `${what}.generation`)
  const parties = checkParties(g.parties)
  const members = list(g.members, `${what}.members`).map(m => member(m, leases, seen, `${what}.member`))
  const left = list(g.left, `${what}.left`).map(w => checkName(w, `${what}.left`))
  if (members.length === 0 || members.length + left.length > parties) throw new CoordInputError(`${what} has a wrong number of members`)
  return { generation, parties, members, left }
}

function unique (name: string, seen: Set<string>, what: string): string {
  if (seen.has(name)) throw new CoordInputError(`${what} ${name} appears twice`)
  seen.add(name)
  return name
}

/**
 * A snapshot (see CoordinationState.snapshot) checked for shape and consistency: every lease it
 * names exists, nothing appears twice, holders are compatible and the queue head is really blocked,
 * indexes are not after appliedIndex. Returns a fresh copy; throws CoordInputError.
 */
export function validateSnapshot (v: unknown): CoordSnapshot {
  const s = record(v, 'snapshot')
  if (s.version !== 1) throw new CoordInputError('unknown snapshot version')
  const appliedIndex = checkInt(s.appliedIndex, 0, Number.MAX_SAFE_INTEGER, 'appliedIndex')
  const leaseIds = new Set<string>()
  const leases = list(s.leases, 'leases').map((v): LeaseInfo => {
    const l = record(v, 'lease')
    return { leaseId: unique(checkName(l.leaseId, 'leaseId'), leaseIds, 'lease'), owner: checkName(l.owner, 'owner'), ttlMs: checkTtl(l.ttlMs) }
  })
  const names = new Set<string>()
  const locks = list(s.locks, 'locks').map(v => {
    const r = record(v, 'lock')
    const resource = unique(checkName(r.resource, 'resource'), names, 'resource')
    const onResource = new Set<string>()
    const entry = (e: Record<string, unknown>): LockWaiter => {
      const lease = checkName(e.lease, 'lease')
      if (!leaseIds.has(lease)) throw new CoordInputError(`lock names unknown lease ${lease}`)
      return { lease: unique(lease, onResource, `lease on ${resource}`), waiter: checkName(e.waiter, 'waiter'), mode: checkMode(e.mode) }
    }
    const holders = list(r.holders, 'holders').map((h): LockHolder => {
      const e = record(h, 'holder')
      return { ...entry(e), fencingToken: checkInt(e.fencingToken, 1, appliedIndex, 'fencingToken') }
    })
    const queue = list(r.queue, 'queue').map(q => entry(record(q, 'waiter')))
    if (holders.length > 1 && holders.some(h => h.mode === 'exclusive')) throw new CoordInputError(`${resource} has an exclusive holder among others`)
    const head = queue[0]
    if (head === undefined ? holders.length === 0 : head.mode === 'exclusive' ? holders.length === 0 : holders.every(h => h.mode === 'shared')) {
      throw new CoordInputError(`${resource} is free or its queue head is grantable`)
    }
    return { resource, holders, queue }
  })
  names.clear()
  const barriers = list(s.barriers, 'barriers').map(v => {
    const b = record(v, 'barrier')
    const name = unique(checkName(b.name), names, 'barrier')
    const generation = checkInt(b.generation, 1, appliedIndex, 'generation')
    const parties = checkParties(b.parties)
    const seen = new Set<string>()
    const arrivals = list(b.arrivals, 'arrivals').map(a => member(a, leaseIds, seen, 'arrival'))
    if (arrivals.length === 0 || arrivals.length >= parties) throw new CoordInputError(`barrier ${name} has a wrong number of arrivals`)
    return { name, generation, parties, arrivals }
  })
  names.clear()
  const dbarriers = list(s.dbarriers, 'dbarriers').map(v => {
    const d = record(v, 'dbarrier')
    const name = unique(checkName(d.name), names, 'double barrier')
    const seen = new Set<string>()
    const inside = list(d.inside, 'inside').map(g => dgen(g, leaseIds, seen, appliedIndex, 'inside'))
    const entering = d.entering === null ? null : dgen(d.entering, leaseIds, seen, appliedIndex, 'entering')
    if (entering !== null && (entering.left.length > 0 || entering.members.length >= entering.parties)) throw new CoordInputError(`double barrier ${name} entering is wrong`)
    const gens = [...inside, ...(entering === null ? [] : [entering])].map(g => g.generation)
    if (gens.length === 0 || gens.some((g, i) => i > 0 && g <= (gens[i - 1] ?? 0))) throw new CoordInputError(`double barrier ${name} generations are wrong`)
    return { name, entering, inside }
  })
  names.clear()
  const elections = list(s.elections, 'elections').map(v => {
    const e = record(v, 'election')
    const role = unique(checkName(e.role, 'role'), names, 'role')
    const onRole = new Set<string>()
    const candidates = list(e.candidates, 'candidates').map((c): Candidate => {
      const m = record(c, 'candidate')
      const lease = checkName(m.lease, 'lease')
      if (!leaseIds.has(lease)) throw new CoordInputError(`candidate names unknown lease ${lease}`)
      return { lease: unique(lease, onRole, `candidate of ${role}`), waiter: checkName(m.waiter, 'waiter'), value: checkValue(m.value), revision: checkInt(m.revision, 1, appliedIndex, 'revision') }
    })
    if (candidates.length === 0) throw new CoordInputError(`role ${role} has no candidate`)
    return { role, candidates }
  })
  return { version: 1, appliedIndex, leases, locks, barriers, dbarriers, elections }
}

export function encodeSnapshot (s: CoordSnapshot): Uint8Array {
  return enc.encode(JSON.stringify(s))
}

/** Throws CoordInputError for bytes that are not a valid snapshot. */
export function decodeSnapshot (data: Uint8Array): CoordSnapshot {
  let v: unknown
  try {
    v = JSON.parse(dec.decode(data))
  } catch {
    throw new CoordInputError('snapshot is not JSON')
  }
  return validateSnapshot(v)
}
