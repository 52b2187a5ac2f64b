/**
 * Plain data shared by the Raft core and whoever drives it. Everything here is a plain object of
 * numbers, strings and Uint8Arrays so an adapter can encode it (protobuf) without knowing the core.
 */

/** Peer ids as strings; '' means "none" (no vote, no known leader). */
export type NodeId = string
export const NONE: NodeId = ''

/** 'config' is reserved for membership changes (a later issue); the core never creates it yet. */
export type EntryType = 'normal' | 'noop' | 'config'

export interface Entry {
  term: number
  index: number
  data: Uint8Array
  /** Missing means 'normal'. */
  type?: EntryType
}

/** What must survive a crash, written before any message of the same Ready is sent. */
export interface HardState {
  term: number
  vote: NodeId
  commit: number
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader'

/** Volatile, for observers only: never persist it. */
export interface SoftState {
  role: Role
  leader: NodeId
}

export type MessageType =
  | 'MsgProp'
  | 'MsgApp' | 'MsgAppResp'
  | 'MsgVote' | 'MsgVoteResp'
  | 'MsgPreVote' | 'MsgPreVoteResp'
  | 'MsgHeartbeat' | 'MsgHeartbeatResp'
// A later issue adds 'MsgSnap' carrying a Snapshot (metadata: index, term, voters, learners).

/**
 * One message. The meaning of index/logTerm depends on the type:
 * - MsgApp: index/logTerm are the entry just before `entries` (prev index/term); commit = leader commit
 * - MsgAppResp accept: index = last index now known to match the leader
 * - MsgAppResp reject: index = the rejected prev index; rejectHint/logTerm = the fast back-off hint
 *   (logTerm > 0: the follower's conflicting term and rejectHint the first index it holds of it;
 *   logTerm 0: the follower's log is too short and rejectHint is its last index)
 * - MsgVote/MsgPreVote: index/logTerm = candidate's last entry
 * - MsgHeartbeat: commit = min(leader commit, follower's match)
 * - MsgProp: entries carry only data/type; term is 0 (proposals are not tied to a term)
 */
export interface Message {
  type: MessageType
  from: NodeId
  to: NodeId
  term: number
  index?: number
  logTerm?: number
  entries?: Entry[]
  commit?: number
  reject?: boolean
  rejectHint?: number
}

/**
 * One batch of work for the driver. Its rule: persist hardState and entries (durably, fsync),
 * then send messages, then apply committedEntries, then call advance(ready).
 * Persisting entries means: drop every stored entry with index >= entries[0].index, then append
 * (a conflict on a follower truncates the log tail).
 */
export interface Ready {
  hardState?: HardState
  softState?: SoftState
  entries: Entry[]
  messages: Message[]
  committedEntries: Entry[]
  /**
   * The messages may go out before `entries` and `hardState` are persisted (thesis §10.2.1): set
   * for a leader whose term and vote did not change in this Ready. Its appends then travel while
   * it fsyncs, and it counts its own copy only once advance() says the entries are durable.
   */
  sendFirst?: true
}

export type ProposeResult =
  | { status: 'accepted', index: number, term: number }
  | { status: 'forwarded', to: NodeId }
  | { status: 'dropped', reason: 'no-leader' | 'not-a-member' }

/**
 * Deliberately broken behaviour, for the simulator's own tests only: each flag violates a Raft
 * rule so the simulator must catch it. Never set these outside tests.
 */
export interface UnsafeFlags {
  /** Grant (pre-)votes without the "candidate's log is at least as up to date" check. */
  grantVoteWithoutLogCheck?: boolean
  /** Commit any index a majority stores, even from an earlier term (Raft paper figure 8). */
  commitOldTermByCounting?: boolean
}

export interface RaftConfig {
  id: NodeId
  voters: NodeId[]
  learners?: NodeId[]
  /** A follower campaigns after a random timeout in [electionTicks, 2 * electionTicks). */
  electionTicks: number
  /** A leader sends heartbeats every heartbeatTicks; must be < electionTicks. */
  heartbeatTicks: number
  /** Uniform in [0, 1): the only randomness the core uses. */
  rand: () => number
  /** Append messages in flight to one follower in replicate state before pausing. */
  maxInflightAppends: number
  /** Entries in one append message. */
  maxEntriesPerAppend: number
  checkQuorum: boolean
  preVote: boolean
  unsafe?: UnsafeFlags
}

/** Durable state a restarted node comes back with (what it persisted from earlier Readys). */
export interface RestoredState {
  hardState: HardState
  entries: Entry[]
  /** Last index the state machine already applied (default 0: re-apply from the start). */
  applied?: number
}

/** Counters of odd things seen, for metrics; none of them is an error of this node. */
export interface RaftStats {
  received: number
  ignoredNonMember: number
  ignoredMalformed: number
  ignoredMisaddressed: number
  ignoredStaleTerm: number
  ignoredVoteInLease: number
  /** Vote traffic to or from a learner (learners never vote nor campaign). */
  ignoredLearnerVote: number
  proposalsDropped: number
  proposalsForwarded: number
  elections: number
  stepDowns: number
}
