/**
 * Plain data of the coordination state machine: the commands a Raft entry carries, the results
 * the proposer gets back, the events every replica emits, the limits and the snapshot format.
 * Everything is JSON-able; see state.ts for the semantics.
 */

/** Names (resources, barriers, roles) and ids (leases, owners, waiters): non-empty, at most this many UTF-8 bytes. */
export const MAX_NAME_BYTES = 256
/** A request id: any string of at most this many UTF-8 bytes (may be empty). */
export const MAX_RID_BYTES = 256
/** An election value (what the leader proclaims), any string of at most this many UTF-8 bytes. */
export const MAX_VALUE_BYTES = 4096
export const MIN_TTL_MS = 500
export const MAX_TTL_MS = 60 * 60 * 1000
export const MAX_PARTIES = 10_000

export type LockMode = 'exclusive' | 'shared'
/**
 * Grant a lease in the same entry (its id is `l<index>`) and use it: one log entry instead of two
 * for the common "a lease per lock / per candidacy" case. `lease` must then be ''.
 */
export interface NewLease { owner: string, ttlMs: number }
export type RevokeReason = 'released' | 'expired'

/** One log entry's command. `rid` lets the proposer find the result of its own command. */
export type CoordCommand =
  | { rid: string, op: 'lease_grant', owner: string, ttlMs: number }
  | { rid: string, op: 'lease_revoke', leaseId: string, reason: RevokeReason }
  | { rid: string, op: 'lock_acquire', resource: string, lease: string, mode: LockMode, waiter: string, newLease?: NewLease }
  | { rid: string, op: 'lock_release', resource: string, lease: string, fencingToken: number }
  | { rid: string, op: 'lock_cancel', resource: string, lease: string, waiter: string }
  | { rid: string, op: 'barrier_wait', name: string, parties: number, lease: string, waiter: string }
  | { rid: string, op: 'barrier_cancel', name: string, lease: string, waiter: string }
  | { rid: string, op: 'dbarrier_enter', name: string, parties: number, lease: string, waiter: string }
  | { rid: string, op: 'dbarrier_leave', name: string, lease: string, waiter: string }
  | { rid: string, op: 'campaign', role: string, lease: string, value: string, waiter: string, newLease?: NewLease }
  | { rid: string, op: 'resign', role: string, lease: string }
  | { rid: string, op: 'proclaim', role: string, lease: string, value: string }

export type CoordOp = CoordCommand['op']

export type CoordErrorCode =
  | 'lease_not_found' // the command names a lease that was never granted or is revoked
  | 'not_holder' // lock_release of a holding this lease/token does not have
  | 'deadlock' // queuing this lock_acquire would close a cycle in the wait-for graph
  | 'already_held' // the lease already holds the lock / is the leader / has entered
  | 'already_waiting' // the lease (lock, election) or waiter (barrier) is already queued
  | 'parties_mismatch' // a barrier arrival disagrees with the parties of the open generation
  | 'not_leader' // proclaim by a lease that is not the role's leader
  | 'invalid' // a malformed command or log index
  | 'limit' // a size limit is reached (see CoordLimits)

export type CoordFailure =
  | { ok: false, error: 'deadlock', message: string, cycle: string[] }
  | { ok: false, error: Exclude<CoordErrorCode, 'deadlock'>, message: string }

/** The successful result of each command, by op. */
export interface CoordOkResults {
  lease_grant: { ok: true, op: 'lease_grant', leaseId: string, ttlMs: number }
  lease_revoke: { ok: true, op: 'lease_revoke', leaseId: string, owner: string }
  lock_acquire:
  | { ok: true, op: 'lock_acquire', granted: true, fencingToken: number, leaseId?: string }
  /** position 1 is the head of the queue. leaseId: the lease granted by newLease. */
  | { ok: true, op: 'lock_acquire', granted: false, position: number, leaseId?: string }
  lock_release: { ok: true, op: 'lock_release', fencingToken: number }
  lock_cancel: { ok: true, op: 'lock_cancel', was: 'queued' | 'held' | 'none' }
  barrier_wait: { ok: true, op: 'barrier_wait', generation: number, released: boolean, arrived: number, parties: number }
  barrier_cancel: { ok: true, op: 'barrier_cancel', removed: boolean, generation: number | null }
  dbarrier_enter: { ok: true, op: 'dbarrier_enter', generation: number, entered: boolean, arrived: number, parties: number }
  /** remaining: members of that generation (and phase) that have not left yet. */
  dbarrier_leave: { ok: true, op: 'dbarrier_leave', was: 'entering' | 'inside' | 'none', generation: number | null, released: boolean, remaining: number }
  campaign: { ok: true, op: 'campaign', leader: boolean, revision: number, leaseId?: string }
  resign: { ok: true, op: 'resign', was: 'leader' | 'candidate' | 'none' }
  proclaim: { ok: true, op: 'proclaim', revision: number }
}

export type CoordOk = CoordOkResults[CoordOp]
export type CoordResult = CoordOk | CoordFailure

export type CoordEvent =
  /** A lease is gone; everything it held or waited for is released (the events after this one). */
  | { type: 'lease_revoked', leaseId: string, owner: string, reason: RevokeReason }
  /** A queued waiter got the lock (never emitted for a grant the proposer's own result reports). */
  | { type: 'lock_granted', resource: string, lease: string, waiter: string, fencingToken: number, mode: LockMode }
  /** Every arrival of this generation, in arrival order; the barrier's next arrival opens a new generation. */
  | { type: 'barrier_released', name: string, generation: number, waiters: string[] }
  /** An arrival removed by its lease's revocation before its generation was released. */
  | { type: 'barrier_left', name: string, generation: number, waiter: string, lease: string }
  /** `parties` members have entered: all of them may proceed. */
  | { type: 'dbarrier_entered', name: string, generation: number, waiters: string[] }
  /** A member removed by its lease's revocation (counts as leaving, or as not entering). */
  | { type: 'dbarrier_left', name: string, generation: number, waiter: string, lease: string }
  /** Every member of the generation has left; `waiters` are those that left with dbarrier_leave, in order. */
  | { type: 'dbarrier_left_all', name: string, generation: number, waiters: string[] }
  /** The leader of a role or its value changed; all null when the role has no candidate left. */
  | { type: 'election_leader', role: string, lease: string | null, waiter: string | null, value: string | null, revision: number | null }

export interface CoordApplied { result: CoordResult, events: CoordEvent[] }

export interface CoordLimits {
  /** Leases at once (default 100,000). */
  maxLeases: number
  /** Leases of one owner at once (default 1,000). */
  maxLeasesPerOwner: number
  /** Lock requests, barrier arrivals, double-barrier memberships and candidacies of one lease (default 10,000). */
  maxItemsPerLease: number
  /** Resources that are held or waited for (default 100,000). */
  maxResources: number
  /** Queued waiters of one resource (default 10,000). */
  maxWaitersPerResource: number
  /** Barriers and double barriers with an open generation (default 100,000). */
  maxBarriers: number
  /** Roles with a candidate (default 100,000). */
  maxRoles: number
  /** Candidates of one role (default 10,000). */
  maxCandidatesPerRole: number
}

export const DEFAULT_COORD_LIMITS: CoordLimits = {
  maxLeases: 100_000,
  maxLeasesPerOwner: 1_000,
  maxItemsPerLease: 10_000,
  maxResources: 100_000,
  maxWaitersPerResource: 10_000,
  maxBarriers: 100_000,
  maxRoles: 100_000,
  maxCandidatesPerRole: 10_000
}

/** A malformed command or snapshot. The decoders turn it into undefined, apply into 'invalid'. */
export class CoordInputError extends Error {
  constructor (message: string) { super(message); this.name = 'CoordInputError' }
}

export interface LeaseInfo { leaseId: string, owner: string, ttlMs: number }
export interface LockHolder { lease: string, waiter: string, mode: LockMode, fencingToken: number }
export interface LockWaiter { lease: string, waiter: string, mode: LockMode }
export interface LockInfo { holders: LockHolder[], queue: LockWaiter[] }
export interface Member { waiter: string, lease: string }
export interface BarrierInfo { generation: number, parties: number, arrivals: Member[] }
export interface DGenInfo { generation: number, parties: number, members: Member[], left: string[] }
/** `entering`: the open generation still filling up; `inside`: entered generations not yet left by all. */
export interface DBarrierInfo { entering: DGenInfo | null, inside: DGenInfo[] }
export interface Candidate { lease: string, waiter: string, value: string, revision: number }
export interface LeaderInfo { lease: string, waiter: string, value: string, revision: number }

/** The whole state as JSON-able data; every list keeps the order the state keeps. */
export interface CoordSnapshot {
  version: 1
  appliedIndex: number
  leases: LeaseInfo[]
  locks: Array<{ resource: string } & LockInfo>
  barriers: Array<{ name: string } & BarrierInfo>
  dbarriers: Array<{ name: string } & DBarrierInfo>
  elections: Array<{ role: string, candidates: Candidate[] }>
}

export function fail (error: Exclude<CoordErrorCode, 'deadlock'>, message: string): CoordFailure {
  return { ok: false, error, message }
}
