/**
 * Plain data shared by the Raft core and whoever drives it. Everything here is a plain object of
 * numbers, strings and Uint8Arrays so an adapter can encode it (protobuf) without knowing the core.
 *
 * The driver contract, in one place (details at each field and method):
 * - Each Ready, in order: install `snapshot` (if any); persist `hardState`, `entries` (and
 *   `config` if the driver keeps it) in one durable write; send `messages` and `extMessages`
 *   (before persisting when `sendFirst`); apply `committedEntries`, skipping 'noop' and 'config'
 *   entries; serve each of `readStates` once the state machine has applied its index; advance().
 * - Reads: readIndex(ctx) with a ctx unique among the driver's reads in flight; every read gets
 *   a deadline, since one lost on the way (leader gone, message lost) is never reported.
 * - Transfers: transferLeadership(); softState shows the outcome; proposals made meanwhile come
 *   back 'dropped' with reason 'transferring' (retry them once a leader is known) until the
 *   target is told to campaign, then 'forwarded' to it (answered once applied, as any forward).
 * - Membership: proposeConfChange() on the leader; the change is in force on each node from the
 *   Ready that carries its entry (Ready.config), and done once the entry shows up in
 *   committedEntries. RaftConfig.voters/learners stay the initial configuration at every
 *   restart; the current one comes from the log (or RestoredState.snapshot). The transport must
 *   let through leader traffic (MsgApp, MsgHeartbeat, MsgSnap, MsgTimeoutNow, MsgReadIndexResp)
 *   and vote requests from peers outside the current configuration: a node behind may not know
 *   of the leader yet. A node whose configuration no longer lists it (after the entry commits)
 *   may be shut down.
 * - Snapshots: compact(index <= applied) once the state machine has a snapshot at index; store
 *   the returned meta with the data, drop stored entries up to index. A MsgSnap is sent with
 *   snapshot data (the driver's own, at least as new) and its outcome reported with
 *   reportSnapshot(); a received one goes to step() only once its data is complete, and is
 *   installed when a Ready's `snapshot` names it. Restart with RestoredState.snapshot.
 */

/** Peer ids as strings; '' means "none" (no vote, no known leader). */
export type NodeId = string
export const NONE: NodeId = ''

/**
 * 'config' entries change the membership: their data is the change and the whole resulting
 * configuration (decodeConfEntry). They carry no state machine command: drivers skip them when
 * applying, like 'noop'.
 */
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

/** Who votes and who only receives the log. A node is in at most one of the two lists. */
export interface ConfState {
  voters: NodeId[]
  learners: NodeId[]
}

export type ConfChangeOp = 'add-learner' | 'promote' | 'add-voter' | 'remove'

/**
 * One single-server membership change (thesis §4.1):
 * - 'add-learner': a node that is not a member starts receiving the log, without a vote
 * - 'promote': a learner that has caught up becomes a voter
 * - 'add-voter': the same as 'promote' for a learner; refused ('not-caught-up') for a node that
 *   is not a member yet, whose empty log would stall commits: add it as a learner first
 * - 'remove': a voter or learner leaves (never the last voter)
 */
export interface ConfChange {
  op: ConfChangeOp
  id: NodeId
}

/**
 * A snapshot as the core knows it: the state machine after applying every entry up to `index`
 * (of `term`), and the configuration in force at that index. The data itself is the driver's.
 */
export interface SnapshotMeta {
  index: number
  term: number
  voters: NodeId[]
  learners: NodeId[]
}

/** A confirmed linearizable read: serve `ctx` once the state machine has applied `index`. */
export interface ReadState {
  ctx: string
  index: number
}

/**
 * The message types of the first protocol version. Kept as they were so drivers that map each
 * type exhaustively keep compiling; the later types are ExtMessageType.
 */
export type MessageType =
  | 'MsgProp'
  | 'MsgApp' | 'MsgAppResp'
  | 'MsgVote' | 'MsgVoteResp'
  | 'MsgPreVote' | 'MsgPreVoteResp'
  | 'MsgHeartbeat' | 'MsgHeartbeatResp'

/**
 * Types added with ReadIndex, leadership transfer and snapshots. They travel in Ready.extMessages
 * and go to step() like any other message.
 */
export type ExtMessageType =
  | 'MsgReadIndex' | 'MsgReadIndexResp'
  | 'MsgTimeoutNow'
  | 'MsgSnap'

export type AnyMessageType = MessageType | ExtMessageType

/**
 * One message. The meaning of index/logTerm depends on the type:
 * - MsgApp: index/logTerm are the entry just before `entries` (prev index/term); commit = leader commit
 * - MsgAppResp accept: index = last index now known to match the leader
 * - MsgAppResp reject: index = the rejected prev index; rejectHint/logTerm = the fast back-off hint
 *   (logTerm > 0: the follower's conflicting term and rejectHint the first index it holds of it;
 *   logTerm 0: the follower's log is too short and rejectHint is its last index)
 * - MsgVote/MsgPreVote: index/logTerm = candidate's last entry; MsgVote `transfer` = the campaign
 *   was asked for by the leader (MsgTimeoutNow), so voters grant despite their leader lease
 * - MsgHeartbeat: commit = min(leader commit, follower's match); index = the leader's heartbeat
 *   round, echoed in MsgHeartbeatResp's index (ReadIndex counts those acknowledgements)
 * - MsgProp: entries carry only data/type; term is 0 (proposals are not tied to a term). With
 *   reject, the proposals come back from a node that did not take them (Ready.refusedProposals)
 * - MsgReadIndex: context = the reader's ctx; term is 0 (like MsgProp)
 * - MsgReadIndexResp: context = that ctx, index = the read index
 * - MsgTimeoutNow: campaign now (leadership transfer)
 * - MsgSnap: snapshot = what the follower must install; see Ready.extMessages for the data
 */
export interface AnyMessage {
  type: AnyMessageType
  from: NodeId
  to: NodeId
  term: number
  index?: number
  logTerm?: number
  entries?: Entry[]
  commit?: number
  reject?: boolean
  rejectHint?: number
  context?: string
  transfer?: boolean
  snapshot?: SnapshotMeta
}

/** A message of one of the original types (Ready.messages). */
export interface Message extends AnyMessage {
  type: MessageType
}

/** A message of one of the later types (Ready.extMessages). */
export interface ExtMessage extends AnyMessage {
  type: ExtMessageType
}

/**
 * One batch of work for the driver. Its rule: install `snapshot` if present, persist hardState
 * and entries (durably, fsync), then send messages and extMessages, then apply committedEntries,
 * serve readStates, then call advance(ready).
 * Persisting entries means: drop every stored entry with index >= entries[0].index, then append
 * (a conflict on a follower truncates the log tail).
 */
export interface Ready {
  hardState?: HardState
  softState?: SoftState
  entries: Entry[]
  messages: Message[]
  /**
   * Messages of the later types, under the same rules as `messages` (persist first unless
   * sendFirst), sent after them: a transfer's MsgTimeoutNow then follows the appends it names,
   * and the proposals (MsgProp) a leader hands on to its transfer target follow the MsgTimeoutNow.
   * Another order is safe, only slower (the target refuses what comes too early). A MsgSnap names a snapshot by
   * its meta: the driver sends that snapshot's data with it, or a newer snapshot of its own, then
   * with the message's `snapshot` replaced by that one's meta; afterwards it calls
   * reportSnapshot(to, ...) with how the transfer went. On the receiving side the driver keeps
   * the data and calls step(MsgSnap) only once all of it has arrived.
   */
  extMessages: Array<ExtMessage | Message>
  committedEntries: Entry[]
  /**
   * The messages may go out before `entries` and `hardState` are persisted (thesis §10.2.1): set
   * for a leader whose term and vote did not change in this Ready (its appends travel while it
   * fsyncs; it counts its own copy only once advance() says the entries are durable), and for a
   * candidate whose Ready holds only its vote requests (it counts its own vote, and can win, only
   * once advance() says its new term and vote are durable).
   */
  sendFirst?: true
  /**
   * A candidate's vote requests when its Ready holds more (entries, answers to appends): send
   * these before persisting, the rest (`messages`, `extMessages`) after, as usual. Same reason as
   * sendFirst: it counts its own vote only once advance() says its term and vote are durable.
   */
  firstMessages?: Message[]
  /**
   * Reads confirmed linearizable (readIndex). For each, serve the read with ctx once the state
   * machine has applied `index` (possibly after applying this Ready's committedEntries). A ctx
   * the driver does not know (it timed that read out, or restarted since) is ignored.
   */
  readStates?: ReadState[]
  /**
   * Proposals this node forwarded that the node it sent them to refused (it was handing
   * leadership over, or no longer led): their data, as proposed. Nothing of them was appended;
   * propose them again (the leader may have changed meanwhile).
   */
  refusedProposals?: Uint8Array[]
  /**
   * The configuration changed (a config entry was appended or truncated, or a snapshot
   * installed). It follows the log: persist it with this Ready's entries if the driver keeps it
   * (for its transport or admission decisions); the core itself derives it from the log. The
   * configuration at start (before any such Ready) is in status().voters/learners.
   */
  config?: ConfState
  /**
   * Install this snapshot first: replace the state machine by the snapshot data received with
   * the MsgSnap that named it, store the data with this meta durably, and drop the whole stored
   * log (the log now starts after meta.index). Then handle the rest of the Ready as usual.
   */
  snapshot?: SnapshotMeta
}

export type ProposeResult =
  | { status: 'accepted', index: number, term: number }
  | { status: 'forwarded', to: NodeId }
  | { status: 'dropped', reason: 'no-leader' | 'not-a-member' | 'transferring' }

/**
 * readIndex's answer. 'pending': the read is being confirmed here (leader) and comes out in a
 * later Ready's readStates; 'forwarded': a MsgReadIndex went to the leader, whose answer comes out
 * the same way. Neither is guaranteed: a read dropped on the way (leader lost, message lost) is
 * never reported, so the driver gives every read a deadline.
 */
export type ReadIndexResult =
  | { status: 'pending' }
  | { status: 'forwarded', to: NodeId }
  | { status: 'dropped', reason: 'no-leader' | 'not-a-member' }

export type TransferResult =
  | { status: 'started', to: NodeId }
  | { status: 'refused', reason: 'not-leader' | 'not-a-voter' | 'no-target' }

export type ConfChangeRefusal =
  | 'not-leader'
  /** The leader has not committed an entry of its term yet (the fix to single-server changes). */
  | 'not-ready'
  /** An earlier config entry is not committed yet: one change at a time. */
  | 'pending-config'
  | 'transferring'
  | 'not-caught-up'
  | 'last-voter'
  /** The change does not fit the configuration (e.g. promote a node that is not a learner). */
  | 'invalid'

export type ConfChangeResult =
  | { status: 'accepted', index: number, term: number }
  | { status: 'refused', reason: ConfChangeRefusal }

/**
 * Deliberately broken behaviour, for the simulator's own tests only: each flag violates a Raft
 * rule so the simulator must catch it. Never set these outside tests.
 */
export interface UnsafeFlags {
  /** Grant (pre-)votes without the "candidate's log is at least as up to date" check. */
  grantVoteWithoutLogCheck?: boolean
  /** Commit any index a majority stores, even from an earlier term (Raft paper figure 8). */
  commitOldTermByCounting?: boolean
  /** Serve ReadIndex at the leader's commit index at once, without a heartbeat round. */
  readIndexWithoutQuorum?: boolean
}

export interface RaftConfig {
  id: NodeId
  /**
   * The configuration at the start of the log: for a founding node the bootstrap members, for a
   * node admitted later the configuration it was admitted with (listing it as a learner). Config
   * entries in the log and a restored snapshot's meta take precedence; pass the same value at
   * every restart (not the latest Ready.config).
   */
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
  /**
   * Check-quorum's window, in the leader's ticks (default electionTicks): a leader steps down when
   * a quorum of voters was silent for a whole window. Longer than electionTicks keeps a leader in
   * office through a follower's brief stall (a GC pause, a slow fsync on a busy host); it only
   * delays how soon a leader cut off from its quorum notices. Safety does not depend on it, and
   * leaseRead's lease is timed from acknowledged heartbeats, not from this window.
   */
  checkQuorumTicks?: number
  preVote: boolean
  /**
   * Serve reads on the leader without a heartbeat round while its lease holds (needs
   * checkQuorum, on every node). The lease starts when the leader sent the heartbeat a quorum
   * acknowledged and lasts floor((electionTicks - 1) / maxClockDrift) of its ticks: followers
   * ignore vote requests for electionTicks of theirs after hearing it. This is only safe when
   * no node's ticks run more than maxClockDrift times faster than another's in real time,
   * including a paused process whose timer skips ticks (a paused leader thinks its lease is
   * young). A driver that cannot bound that should not set this flag.
   */
  leaseRead?: boolean
  /** Ratio bound between any two nodes' tick rates, for leaseRead; default 1.25. */
  maxClockDrift?: number
  unsafe?: UnsafeFlags
}

/** Durable state a restarted node comes back with (what it persisted from earlier Readys). */
export interface RestoredState {
  hardState: HardState
  /** The stored log; with a snapshot, the entries after snapshot.index. */
  entries: Entry[]
  /** Last index the state machine already applied (default: the snapshot's index, or 0). */
  applied?: number
  /**
   * The latest snapshot the driver stored (after compact() or a Ready.snapshot): the log's base
   * and the configuration at that index. The state machine is restored from its data.
   */
  snapshot?: SnapshotMeta
}

/** Counters of odd things seen, for metrics; none of them is an error of this node. */
export interface RaftStats {
  received: number
  ignoredNonMember: number
  ignoredMalformed: number
  ignoredMisaddressed: number
  ignoredStaleTerm: number
  ignoredVoteInLease: number
  /** Votes from nodes that are not voters here, and campaign orders to a node that cannot campaign. */
  ignoredLearnerVote: number
  /** Campaign orders naming an entry this node does not hold (an append before it was lost). */
  ignoredEarlyTimeoutNow: number
  proposalsDropped: number
  proposalsForwarded: number
  /** Proposals a transfer's target held while it campaigned. */
  proposalsQueued: number
  elections: number
  stepDowns: number
  /** Pre-campaigns abandoned for a rival pre-candidate with a better log (or, logs equal, a smaller id). */
  preVoteYields: number
  /** Followers told their leader's connection closed, campaigning early (leaderUnreachable). */
  leaderLost: number
  /** Read requests that reached a node that is not leader (the reader's driver times them out). */
  readsDropped: number
  transfersAborted: number
  snapshotsSent: number
  snapshotsInstalled: number
}
