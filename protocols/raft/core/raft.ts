/**
 * The Raft state machine, pure: no I/O, no clock, no randomness of its own. The driver calls
 * tick() on its timer, step() for each received message and propose() for client data, then
 * drains ready() → persist, send, apply → advance(). Shape and rules after etcd-io/raft and
 * Ongaro's thesis; every line written here.
 */
import { Leader } from './leader.js'
import { RaftLog } from './log.js'
import { changeConf, encodeConfEntry, Membership } from './membership.js'
import { sanitize } from './validate.js'
import { NONE } from './types.js'
import type {
  AnyMessage, AnyMessageType, ConfChange, ConfChangeResult, ConfState, Entry, ExtMessage, HardState, Message,
  MessageType, NodeId, ProposeResult, RaftConfig, RaftStats, ReadIndexResult, ReadState, Ready,
  RestoredState, Role, SnapshotMeta, SoftState, TransferResult
} from './types.js'

const EMPTY = new Uint8Array(0)
/** Bounds on what a transfer's target holds while it campaigns (entries, bytes). */
const MAX_QUEUED = 4096
const MAX_QUEUED_BYTES = 8 * 1024 * 1024

const EXT_TYPES = new Set<AnyMessageType>(['MsgReadIndex', 'MsgReadIndexResp', 'MsgTimeoutNow', 'MsgSnap'])
/**
 * Taken from nodes outside our configuration too (thesis §4.1: servers answer without consulting
 * their configuration). What a leader sends: a node whose log is behind may not know the leader
 * yet (added by entries it has not got), and could otherwise never catch up. Vote requests: our
 * configuration may be stale (an uncommitted entry from a deposed leader) and the candidate's
 * the real one, which may need our vote; only the candidate's tally decides whose votes count.
 * Pre-vote and the leader lease keep outsiders from disrupting a working cluster.
 */
const OPEN_TRAFFIC = new Set<AnyMessageType>([
  'MsgApp', 'MsgHeartbeat', 'MsgSnap', 'MsgTimeoutNow', 'MsgReadIndexResp', 'MsgVote', 'MsgPreVote'
])

export interface RaftStatus {
  id: NodeId
  role: Role
  leader: NodeId
  term: number
  vote: NodeId
  commit: number
  applied: number
  lastIndex: number
  lastTerm: number
  /** The configuration in force (the latest in the log, committed or not). */
  voters: NodeId[]
  learners: NodeId[]
  /** Index of the entry that set it (the snapshot's index when it predates the log). */
  configIndex: number
  /** The log starts after this snapshot (index 0: never compacted). */
  snapshotIndex: number
  snapshotTerm: number
  /** Leader only, while a leadership transfer is in progress: its target. */
  transferee?: NodeId
  /** Leader only: each follower's match/next/state. */
  progress?: Record<NodeId, { match: number, next: number, state: string, inflight: number }>
}

export class RaftNode {
  readonly id: NodeId
  readonly stats: RaftStats = {
    received: 0,
    ignoredNonMember: 0,
    ignoredMalformed: 0,
    ignoredMisaddressed: 0,
    ignoredStaleTerm: 0,
    ignoredVoteInLease: 0,
    ignoredLearnerVote: 0,
    ignoredEarlyTimeoutNow: 0,
    proposalsDropped: 0,
    proposalsForwarded: 0,
    proposalsQueued: 0,
    elections: 0,
    stepDowns: 0,
    preVoteYields: 0,
    leaderLost: 0,
    readsDropped: 0,
    transfersAborted: 0,
    snapshotsSent: 0,
    snapshotsInstalled: 0
  }

  private readonly cfg: RaftConfig
  /** The configuration in force, kept equal to log.conf() by syncConfig(). */
  private readonly members: Membership
  private readonly log: RaftLog
  private term = 0
  private vote: NodeId = NONE
  private lead: NodeId = NONE
  private role: Role = 'follower'
  /** Set exactly while role is 'leader'. */
  private leader: Leader | null = null
  private readonly votes = new Map<NodeId, boolean>()
  private msgs: Message[] = []
  private extMsgs: Array<ExtMessage | Message> = []
  private readStates: ReadState[] = []
  /** A snapshot restored from a MsgSnap, for the next Ready. */
  private installed: SnapshotMeta | null = null
  private electionElapsed = 0
  private heartbeatElapsed = 0
  private randomizedElectionTimeout = 0
  /**
   * With leaseRead, a node that just started honours the lease of a leader it may have heard
   * before it went down: no vote for anyone during its first election timeout.
   */
  private startupLease: boolean
  private seenConfVersion: number
  private confChanged = false
  private prevHard: HardState
  private prevSoft: SoftState = { role: 'follower', leader: NONE }
  private outstanding: Ready | null = null
  /** Data of proposals forwarded from here that came back refused (Ready.refusedProposals). */
  private refused: Uint8Array[] = []
  /** Candidate by a transfer only: proposals its leader handed on, appended if it wins. */
  private queued: Array<{ from: NodeId, data: Uint8Array }> = []
  private queuedBytes = 0
  private transferCampaign = false

  constructor (config: RaftConfig, restored?: RestoredState) {
    checkConfig(config)
    this.cfg = config
    this.id = config.id
    const initial: ConfState = { voters: config.voters.slice(), learners: (config.learners ?? []).slice() }
    if (restored !== undefined) {
      const hs = restored.hardState
      this.log = new RaftLog(initial, { entries: restored.entries, commit: hs.commit, applied: restored.applied, snapshot: restored.snapshot })
      this.term = hs.term
      this.vote = hs.vote
    } else {
      this.log = new RaftLog(initial)
    }
    this.members = new Membership(this.log.conf())
    this.seenConfVersion = this.log.confVersion
    this.startupLease = config.leaseRead === true
    this.prevHard = this.hardState()
    this.becomeFollower(this.term, NONE)
  }

  // ---- driver API -------------------------------------------------------------------------

  tick (): void {
    if (this.leader !== null) {
      this.leader.commitDue = true
      this.tickLeader(this.leader)
    }
    else this.tickElection()
  }

  propose (data: Uint8Array): ProposeResult {
    if (this.leader !== null) {
      const to = this.leader.transferee
      if (to !== NONE && this.leader.campaignOrdered()) {
        // Behind the campaign order on the same stream: the target appends it with its first entry.
        this.stats.proposalsForwarded++
        this.send({ type: 'MsgProp', to, term: 0, entries: [{ term: 0, index: 0, data }] }, true)
        return { status: 'forwarded', to }
      }
      if (to !== NONE) {
        this.stats.proposalsDropped++
        return { status: 'dropped', reason: 'transferring' }
      }
      const index = this.leader.append([{ data }])
      return { status: 'accepted', index, term: this.term }
    }
    if (!this.members.isMember(this.id)) {
      this.stats.proposalsDropped++
      return { status: 'dropped', reason: 'not-a-member' }
    }
    if (this.lead === NONE) {
      this.stats.proposalsDropped++
      return { status: 'dropped', reason: 'no-leader' }
    }
    this.stats.proposalsForwarded++
    this.send({ type: 'MsgProp', to: this.lead, term: 0, entries: [{ term: 0, index: 0, data }] })
    return { status: 'forwarded', to: this.lead }
  }

  /**
   * A linearizable read (thesis §6.4) named by `ctx`, which the driver keeps unique among its
   * reads in flight. The leader confirms it is still leader, then Ready.readStates says from which
   * index the state machine may answer it. A follower or learner asks its leader. The core keeps
   * no state for a read that fails on the way (leader lost, message lost): the driver times it
   * out, and may give up early when softState shows the leader it asked is gone.
   */
  readIndex (ctx: string): ReadIndexResult {
    if (this.leader !== null) {
      this.leader.readIndex(this.id, ctx)
      return { status: 'pending' }
    }
    if (!this.members.isMember(this.id)) return { status: 'dropped', reason: 'not-a-member' }
    if (this.lead === NONE) return { status: 'dropped', reason: 'no-leader' }
    this.send({ type: 'MsgReadIndex', to: this.lead, term: 0, context: ctx })
    return { status: 'forwarded', to: this.lead }
  }

  /**
   * Hand leadership to `to`, or to the most up-to-date voter (thesis §3.10). The target is
   * brought up to date, then told to campaign at once (MsgTimeoutNow), and its votes pass other
   * voters' leases. Proposals are dropped ('transferring') until that order is sent, then handed
   * on behind it to the target, which appends them if it wins and sends them back if not. The
   * transfer ends when this node steps down, or is abandoned after an election timeout. Calling
   * it again retargets.
   */
  transferLeadership (to?: NodeId): TransferResult {
    const leader = this.leader
    if (leader === null) return { status: 'refused', reason: 'not-leader' }
    const target = to ?? leader.bestTransferTarget()
    if (target === NONE || target === this.id) return { status: 'refused', reason: 'no-target' }
    if (!this.members.voters.has(target)) return { status: 'refused', reason: 'not-a-voter' }
    if (leader.transferee !== target) leader.startTransfer(target)
    return { status: 'started', to: target }
  }

  /**
   * Propose one membership change (leader only). It takes effect on each node as soon as the
   * config entry is in its log; Ready.config reports it. One at a time: refused while an earlier
   * change is uncommitted, and until this leader has committed an entry of its own term (else a
   * change appended by a previous leader and one appended now could both be in force on
   * different nodes without sharing a majority). A leader that removes itself leads until the
   * change commits, then hands over (MsgTimeoutNow to a caught-up voter) and steps down.
   */
  proposeConfChange (cc: ConfChange): ConfChangeResult {
    const leader = this.leader
    if (leader === null) return { status: 'refused', reason: 'not-leader' }
    if (leader.transferee !== NONE) return { status: 'refused', reason: 'transferring' }
    if (!leader.termCommitted()) return { status: 'refused', reason: 'not-ready' }
    if (this.log.confIndex() > this.log.committed) return { status: 'refused', reason: 'pending-config' }
    if (typeof cc.id !== 'string' || cc.id === '') return { status: 'refused', reason: 'invalid' }
    if (cc.op === 'add-voter' && !this.members.isMember(cc.id)) return { status: 'refused', reason: 'not-caught-up' }
    const next = changeConf(this.members.state(), cc)
    if (typeof next === 'string') return { status: 'refused', reason: next }
    // Caught up: replicating and within two appends of the commit index. Requiring match >=
    // commit would never hold under a steady write load (the pipeline is always in flight); a
    // slightly late new voter costs only liveness, never safety.
    const pr = leader.prs.get(cc.id)
    if ((cc.op === 'promote' || cc.op === 'add-voter') && (pr === undefined || pr.state !== 'replicate' || pr.match + 2 * this.cfg.maxEntriesPerAppend < this.log.committed)) {
      return { status: 'refused', reason: 'not-caught-up' }
    }
    const index = leader.append([{ data: encodeConfEntry(cc, next), type: 'config' }])
    this.afterChange()
    return { status: 'accepted', index, term: this.term }
  }

  /**
   * The driver's state machine has a snapshot covering every entry up to `index` (<= applied):
   * the log drops them. Returns the meta to store with the snapshot data (and to pass back in
   * RestoredState.snapshot). The driver then drops its stored entries up to meta.index. A
   * follower that needs them later gets a MsgSnap instead. Throws when index is past applied.
   */
  compact (index: number): SnapshotMeta {
    if (!Number.isSafeInteger(index) || index < 0) throw new Error(`raft: bad compact index ${index}`)
    this.log.compact(index)
    return this.log.snapshotMeta()
  }

  /**
   * Leader side of a snapshot transfer: the driver finished sending the snapshot named by a
   * MsgSnap to `to`, or gave up. Until one of this or the follower's answer arrives, nothing else
   * is sent to it.
   */
  reportSnapshot (to: NodeId, status: 'finished' | 'failed'): void {
    this.leader?.reportSnapshot(to, status === 'finished')
  }

  /**
   * The driver saw the connection to `id` close (a crashed process's sockets close at once). If
   * `id` is this follower's leader, its lease here is over and the follower campaigns within a
   * few ticks instead of waiting out the election timeout. Only liveness changes: the pre-vote
   * still needs a majority, and members that still hear from the leader refuse it (check-quorum
   * lease). Random 1..electionTicks/4 ticks, so survivors do not all start in the same tick.
   * True when it was the leader.
   */
  leaderUnreachable (id: NodeId): boolean {
    if (this.role !== 'follower' || id === NONE || this.lead !== id || !this.promotable()) return false
    this.stats.leaderLost++
    this.lead = NONE
    this.electionElapsed = Math.max(this.electionElapsed, this.cfg.electionTicks)
    const r = Math.min(Math.max(this.cfg.rand(), 0), 0.999999)
    const soon = this.electionElapsed + 1 + Math.floor(r * Math.max(1, Math.floor(this.cfg.electionTicks / 4)))
    this.randomizedElectionTimeout = Math.min(this.randomizedElectionTimeout, soon)
    return true
  }

  /** Never throws on what the network delivers: odd messages are counted in stats and dropped. */
  step (raw: AnyMessage): void {
    this.stats.received++
    const m = sanitize(raw)
    if (m === undefined || m.from === this.id) { this.stats.ignoredMalformed++; return }
    if (m.to !== this.id) { this.stats.ignoredMisaddressed++; return }
    if (!OPEN_TRAFFIC.has(m.type) && !this.members.isMember(m.from)) { this.stats.ignoredNonMember++; return }
    this.stepChecked(m)
    this.afterChange()
  }

  /** The next batch of work, or null when there is none. Call advance(ready) before the next ready(). */
  ready (): Ready | null {
    if (this.outstanding !== null) throw new Error('raft: ready() called again before advance()')
    this.leader?.flush()
    const hs = this.hardState()
    const ss: SoftState = { role: this.role, leader: this.lead }
    const hsChanged = hs.term !== this.prevHard.term || hs.vote !== this.prevHard.vote || hs.commit !== this.prevHard.commit
    const ssChanged = ss.role !== this.prevSoft.role || ss.leader !== this.prevSoft.leader
    const entries = this.log.unstableEntries()
    const committedEntries = this.log.nextCommittedEntries()
    if (!hsChanged && !ssChanged && entries.length === 0 && committedEntries.length === 0 && this.msgs.length === 0 &&
      this.extMsgs.length === 0 && this.readStates.length === 0 && !this.confChanged && this.installed === null && this.refused.length === 0) return null
    const rd: Ready = { entries, messages: this.msgs, extMessages: this.extMsgs, committedEntries }
    if (hsChanged) rd.hardState = hs
    if (ssChanged) rd.softState = ss
    if (this.leader !== null && hs.term === this.prevHard.term && hs.vote === this.prevHard.vote) rd.sendFirst = true
    // A candidate's vote requests need not wait for its own vote to be durable: it counts that
    // vote only in advance(). Anything else in the Ready (an append's answer, a vote granted
    // earlier) waits for the disk as always.
    else if (this.ownVoteUncounted() && this.installed === null) {
      const isVote = (m: Message): boolean => m.type === 'MsgVote' && m.term === hs.term
      if (entries.length === 0 && this.extMsgs.length === 0 && this.msgs.every(isVote)) rd.sendFirst = true
      else if (this.msgs.some(isVote)) {
        // Entries came in with the campaign order (a transfer's MsgTimeoutNow follows its
        // appends): the vote requests still go first, their answers and the rest after the disk.
        rd.firstMessages = this.msgs.filter(isVote)
        rd.messages = this.msgs.filter(m => !isVote(m))
      }
    }
    if (this.readStates.length > 0) rd.readStates = this.readStates
    if (this.refused.length > 0) rd.refusedProposals = this.refused
    if (this.confChanged) rd.config = this.members.state()
    if (this.installed !== null) rd.snapshot = this.installed
    this.msgs = []
    this.extMsgs = []
    this.readStates = []
    this.refused = []
    this.confChanged = false
    this.installed = null
    this.prevHard = hs
    this.prevSoft = ss
    this.outstanding = rd
    return rd
  }

  /**
   * A leader's messages queued since the last ready() (heartbeats, answers to reads and votes),
   * for the driver to send while it still persists the outstanding Ready. A leader's messages
   * never wait on its own disk (Ready.sendFirst), and a slow fsync must not keep it silent long
   * enough for its followers to campaign. Empty for any other node, and while the outstanding
   * Ready persists a new term or vote.
   */
  takeMessages (): Message[] {
    if (this.leader === null || (this.outstanding !== null && this.outstanding.sendFirst !== true)) return []
    const out = this.msgs
    this.msgs = []
    return out
  }

  /** The driver persisted, sent and applied everything in `rd`. */
  advance (rd: Ready): void {
    if (rd !== this.outstanding) throw new Error('raft: advance() of a Ready not handed out last')
    const lastEntry = rd.entries[rd.entries.length - 1]
    if (lastEntry !== undefined) {
      this.log.stableTo(lastEntry.index, lastEntry.term)
      this.leader?.persisted(this.log.stabled)
    }
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1]
    if (lastApplied !== undefined) this.log.appliedTo(lastApplied.index)
    this.outstanding = null
    if (this.ownVoteUncounted() && rd.hardState?.term === this.term && rd.hardState.vote === this.id && this.poll(this.id, true) === 'won') this.becomeLeader()
    this.afterChange()
  }

  hardState (): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed }
  }

  status (): RaftStatus {
    const snap = this.log.snapshotMeta()
    const st: RaftStatus = {
      id: this.id,
      role: this.role,
      leader: this.lead,
      term: this.term,
      vote: this.vote,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      lastTerm: this.log.lastTerm(),
      voters: [...this.members.voters],
      learners: [...this.members.learners],
      configIndex: this.log.confIndex(),
      snapshotIndex: snap.index,
      snapshotTerm: snap.term
    }
    if (this.leader !== null) {
      if (this.leader.transferee !== NONE) st.transferee = this.leader.transferee
      st.progress = {}
      for (const [id, pr] of this.leader.prs) st.progress[id] = { match: pr.match, next: pr.next, state: pr.state, inflight: pr.inflights.count }
    }
    return st
  }

  // ---- membership & roles -----------------------------------------------------------------

  private promotable (): boolean { return this.members.voters.has(this.id) }

  /**
   * After anything that may have changed the log: adopt a new configuration, and retire a leader
   * whose own removal just committed.
   */
  private afterChange (): void {
    if (this.log.confVersion !== this.seenConfVersion) {
      this.seenConfVersion = this.log.confVersion
      this.members.set(this.log.conf())
      this.confChanged = true
      this.leader?.applyConfig()
    }
    const leader = this.leader
    if (leader !== null && !this.members.voters.has(this.id) && this.log.committed >= this.log.confIndex()) {
      const to = leader.bestTransferTarget()
      if (to !== NONE && leader.isCaughtUp(to)) leader.sendTimeoutNow(to)
      this.stats.stepDowns++
      this.becomeFollower(this.term, NONE)
    }
  }

  private reset (term: number): void {
    this.transferCampaign = false
    if (this.queued.length > 0) this.refuseQueued()
    if (term !== this.term) {
      this.term = term
      this.vote = NONE
    }
    this.lead = NONE
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.randomizeTimeout()
    this.votes.clear()
    this.leader = null
  }

  private randomizeTimeout (): void {
    const r = Math.min(Math.max(this.cfg.rand(), 0), 0.999999)
    this.randomizedElectionTimeout = this.cfg.electionTicks + Math.floor(r * this.cfg.electionTicks)
  }

  private becomeFollower (term: number, lead: NodeId): void {
    this.reset(term)
    this.role = 'follower'
    this.lead = lead
  }

  private becomeLeader (): void {
    const queued = this.queued
    this.queued = []
    this.queuedBytes = 0
    this.reset(this.term)
    this.role = 'leader'
    this.lead = this.id
    this.leader = new Leader({
      id: this.id,
      term: this.term,
      cfg: this.cfg,
      members: this.members,
      log: this.log,
      stats: this.stats,
      send: m => { this.send(m) },
      serveRead: (from, ctx, index) => {
        if (from === this.id) this.readStates.push({ ctx, index })
        else {
          this.send({ type: 'MsgReadIndexResp', to: from, term: this.term, index, context: ctx })
          // The follower serves the read once it applied `index`.
          this.leader?.wantCommit(from, index)
        }
      }
    })
    // Entries of earlier terms commit only under an entry of this term (thesis §3.6.2).
    this.leader.append([{ data: EMPTY, type: 'noop' }])
    // What the old leader handed on while this node campaigned: in the same first append.
    for (const q of queued) this.leader.wantCommit(q.from, this.leader.append([{ data: q.data }]))
  }

  /** Back to the nodes that handed them on: they propose them again (Ready.refusedProposals). */
  private refuseQueued (): void {
    const byFrom = new Map<NodeId, Entry[]>()
    for (const q of this.queued) {
      let list = byFrom.get(q.from)
      if (list === undefined) byFrom.set(q.from, list = [])
      list.push({ term: 0, index: 0, data: q.data })
    }
    this.stats.proposalsDropped += this.queued.length
    this.queued = []
    this.queuedBytes = 0
    for (const [to, entries] of byFrom) this.send({ type: 'MsgProp', to, term: 0, reject: true, entries })
  }

  // ---- timers -------------------------------------------------------------------------------

  private tickElection (): void {
    this.electionElapsed++
    if (this.electionElapsed >= this.cfg.electionTicks) this.startupLease = false
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.campaign(this.cfg.preVote)
    }
  }

  private tickLeader (leader: Leader): void {
    leader.tick()
    this.heartbeatElapsed++
    this.electionElapsed++
    if (this.electionElapsed >= (this.cfg.checkQuorumTicks ?? this.cfg.electionTicks)) {
      this.electionElapsed = 0
      if (this.cfg.checkQuorum && !leader.quorumActiveRound()) {
        this.stats.stepDowns++
        this.becomeFollower(this.term, NONE)
        return
      }
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0
      leader.heartbeat()
    }
  }

  // ---- elections ----------------------------------------------------------------------------

  /**
   * Pre-vote asks "would you vote for me at term+1?" without touching anyone's term. A transfer
   * campaign skips it: the leader asked for it, so there is a live leader to defeat on purpose.
   */
  private campaign (pre: boolean, transfer = false): void {
    this.startupLease = false
    let voteTerm: number
    let type: MessageType
    if (pre) {
      this.reset(this.term)
      this.role = 'pre-candidate'
      voteTerm = this.term + 1
      type = 'MsgPreVote'
    } else {
      this.reset(this.term + 1)
      this.role = 'candidate'
      this.transferCampaign = transfer
      this.vote = this.id
      this.stats.elections++
      voteTerm = this.term
      type = 'MsgVote'
    }
    // A pre-vote changes nothing durable: it counts itself at once. A real vote counts itself
    // once persisted (advance), so the requests may leave while it is written (Ready.sendFirst).
    if (pre && this.poll(this.id, true) === 'won') {
      this.campaign(false)
      return
    }
    for (const id of this.members.voters) {
      if (id === this.id) continue
      const m: Omit<Message, 'from'> = { type, to: id, term: voteTerm, index: this.log.lastIndex(), logTerm: this.log.lastTerm() }
      if (transfer) m.transfer = true
      this.send(m)
    }
  }

  /** A candidate whose own vote is not durable yet: it counts that vote in advance(). */
  private ownVoteUncounted (): boolean {
    return this.role === 'candidate' && !this.votes.has(this.id)
  }

  private poll (from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(from)) this.votes.set(from, granted)
    let yes = 0
    let no = 0
    for (const [id, v] of this.votes) {
      if (!this.members.voters.has(id)) continue
      if (v) yes++
      else no++
    }
    const quorum = this.members.quorum()
    // Never leader before its own term and vote are durable, even on others' votes alone: a node
    // that led term T undurably could restart behind T, be elected in T again by the same voters
    // and write different entries under the same (index, term).
    if (yes >= quorum) return this.ownVoteUncounted() ? 'pending' : 'won'
    if (no > this.members.voters.size - quorum) return 'lost'
    return 'pending'
  }

  private stepChecked (m: AnyMessage): void {
    switch (m.type) {
      case 'MsgProp': return this.stepProp(m)
      case 'MsgReadIndex':
        if (this.leader !== null) this.leader.readIndex(m.from, m.context ?? '')
        else this.stats.readsDropped++
        return
      case 'MsgReadIndexResp':
        // Confirmed by a leader after the read was asked: valid whatever happened since.
        this.readStates.push({ ctx: m.context ?? '', index: m.index ?? 0 })
        return
    }
    // Learners answer too (etcd does the same): one may have been promoted by an entry it has
    // not got yet, and its vote be needed.
    const isVoteReq = m.type === 'MsgVote' || m.type === 'MsgPreVote'
    if (!this.stepTerm(m, isVoteReq)) return

    if (isVoteReq) { this.handleVoteRequest(m); return }
    if (this.leader !== null) this.leader.step(m)
    else if (this.role === 'follower') this.stepFollower(m)
    else this.stepCandidate(m)
  }

  /**
   * Term rules common to every role. Returns false when the message is consumed here.
   * Check-quorum's lease: a node that heard from a leader within the election timeout ignores
   * vote requests, so a rejoining node cannot depose a healthy leader; a transfer vote passes.
   */
  private stepTerm (m: AnyMessage, isVoteReq: boolean): boolean {
    if (m.term > this.term) {
      if (isVoteReq && this.cfg.checkQuorum && m.transfer !== true && (this.lead !== NONE || this.startupLease) &&
        this.electionElapsed < this.cfg.electionTicks) {
        this.stats.ignoredVoteInLease++
        return false
      }
      // A pre-vote (and a granted answer to one) is about a term nobody has entered yet.
      if (m.type === 'MsgPreVote' || (m.type === 'MsgPreVoteResp' && m.reject !== true)) return true
      const fromLeader = m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap'
      this.becomeFollower(m.term, fromLeader ? m.from : NONE)
      return true
    }
    if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap')) {
        // A stale leader (partitioned, now back) learns our term from this and steps down; with
        // pre-vote it could otherwise never hear a higher term. A heartbeat answer is harmless
        // should it reach that node after it became leader of our term.
        this.send({ type: 'MsgHeartbeatResp', to: m.from, term: this.term })
      } else if (m.type === 'MsgPreVote') {
        this.send({ type: 'MsgPreVoteResp', to: m.from, term: this.term, reject: true })
      } else {
        this.stats.ignoredStaleTerm++
      }
      return false
    }
    return true
  }

  private handleVoteRequest (m: AnyMessage): void {
    const pre = m.type === 'MsgPreVote'
    const canVote = this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (pre && m.term > this.term)
    const logOk = this.cfg.unsafe?.grantVoteWithoutLogCheck === true ||
      this.log.isUpToDate(m.index ?? 0, m.logTerm ?? 0)
    const type = pre ? 'MsgPreVoteResp' : 'MsgVoteResp'
    if (canVote && logOk) {
      // A granted answer carries the asked term so the (pre-)candidate counts it.
      this.send({ type, to: m.from, term: m.term })
      if (!pre) {
        this.electionElapsed = 0
        this.vote = m.from
      } else if (this.role === 'pre-candidate' && m.term === this.term + 1 && this.yieldsTo(m)) {
        // Two pre-candidates that both win would split the real vote and wait out another
        // timeout: the one with the worse log (logs equal: the larger id) stands down.
        this.stats.preVoteYields++
        this.becomeFollower(this.term, NONE)
      }
    } else {
      this.send({ type, to: m.from, term: this.term, reject: true })
    }
  }

  /** Whether a rival pre-candidate's log beats ours, ties going to the smaller id. */
  private yieldsTo (m: AnyMessage): boolean {
    const term = m.logTerm ?? 0
    const index = m.index ?? 0
    if (term !== this.log.lastTerm()) return term > this.log.lastTerm()
    if (index !== this.log.lastIndex()) return index > this.log.lastIndex()
    return m.from < this.id
  }

  private stepCandidate (m: AnyMessage): void {
    const want = this.role === 'pre-candidate' ? 'MsgPreVoteResp' : 'MsgVoteResp'
    switch (m.type) {
      case 'MsgApp':
        this.becomeFollower(m.term, m.from)
        this.handleAppend(m)
        return
      case 'MsgHeartbeat':
        this.becomeFollower(m.term, m.from)
        this.handleHeartbeat(m)
        return
      case 'MsgSnap':
        this.becomeFollower(m.term, m.from)
        this.handleSnapshot(m)
        return
      case want: {
        if (!this.members.voters.has(m.from)) { this.stats.ignoredLearnerVote++; return }
        const res = this.poll(m.from, m.reject !== true)
        if (res === 'won') {
          if (this.role === 'pre-candidate') this.campaign(false)
          else this.becomeLeader()
        } else if (res === 'lost') {
          this.becomeFollower(this.term, NONE)
        }
        return
      }
      default:
        this.stats.ignoredStaleTerm++
    }
  }

  // ---- follower -----------------------------------------------------------------------------

  private stepFollower (m: AnyMessage): void {
    switch (m.type) {
      case 'MsgApp':
      case 'MsgHeartbeat':
      case 'MsgSnap':
        this.electionElapsed = 0
        this.lead = m.from
        if (m.type === 'MsgApp') this.handleAppend(m)
        else if (m.type === 'MsgHeartbeat') this.handleHeartbeat(m)
        else this.handleSnapshot(m)
        return
      case 'MsgTimeoutNow':
        // Our leader hands over: campaign now, without pre-vote, votes passing leases. Not
        // without the leader's last entry (an append before this one was lost): the leader asks
        // again once we acknowledge it. (Index 0: a sender that names none.)
        if (!this.promotable()) this.stats.ignoredLearnerVote++
        else if ((m.index ?? 0) > 0 && this.log.term(m.index ?? 0) !== m.logTerm) this.stats.ignoredEarlyTimeoutNow++
        else this.campaign(false, true)
        return
      default:
        this.stats.ignoredStaleTerm++
    }
  }

  private stepProp (m: AnyMessage): void {
    const entries = m.entries ?? []
    if (m.reject === true) {
      // Ours, refused: the driver proposes them again instead of waiting out their deadline.
      for (const e of entries) this.refused.push(e.data)
      return
    }
    // A transfer's target, campaigning, holds what its leader handed on (bounded) until it knows
    // whether it won: appended in its first entries, or sent back.
    if (this.role === 'candidate' && this.transferCampaign && entries.length > 0 &&
      this.queued.length + entries.length <= MAX_QUEUED && this.queuedBytes <= MAX_QUEUED_BYTES) {
      this.stats.proposalsQueued += entries.length
      for (const e of entries) {
        this.queued.push({ from: m.from, data: e.data })
        this.queuedBytes += e.data.length
      }
      return
    }
    // Only the leader takes remote proposals: re-forwarding could loop while leadership moves.
    if (this.leader === null || entries.length === 0 || this.leader.transferee !== NONE) {
      this.stats.proposalsDropped++
      // Sent back so the forwarder retries now; it learns the leader from the usual traffic.
      if (entries.length > 0) this.send({ type: 'MsgProp', to: m.from, term: 0, reject: true, entries })
      return
    }
    // The forwarder answers its client once it applies them: it hears the commit at once.
    this.leader.wantCommit(m.from, this.leader.append(entries.map(e => ({ data: e.data }))))
  }

  private handleAppend (m: AnyMessage): void {
    const prev = m.index ?? 0
    if (prev < this.log.committed) {
      // Everything up to our commit matches any current leader.
      this.send({ type: 'MsgAppResp', to: m.from, term: this.term, index: this.log.committed })
      return
    }
    const res = this.log.maybeAppend(prev, m.logTerm ?? 0, m.commit ?? 0, m.entries ?? [])
    if (typeof res === 'number') {
      this.send({ type: 'MsgAppResp', to: m.from, term: this.term, index: res })
      return
    }
    if (res === 'committed-conflict') { this.stats.ignoredMalformed++; return }
    // Fast back-off: tell the leader where our log can match, so it skips a whole term per round.
    const last = this.log.lastIndex()
    let hint = last
    let hintTerm = 0
    if (prev <= last) {
      hintTerm = this.log.term(prev) ?? 0
      hint = this.log.firstIndexOfTermAt(prev)
    }
    this.send({ type: 'MsgAppResp', to: m.from, term: this.term, index: prev, reject: true, rejectHint: hint, logTerm: hintTerm })
  }

  private handleHeartbeat (m: AnyMessage): void {
    // The leader sends min(its commit, our match): entries up to there are ours already.
    this.log.commitTo(m.commit ?? 0)
    // Echo the round: the leader's pending reads count it.
    this.send({ type: 'MsgHeartbeatResp', to: m.from, term: this.term, index: m.index ?? 0 })
  }

  /**
   * The leader's snapshot, whose data the driver already holds. A snapshot at or below our
   * commit index tells nothing new; one whose last entry we hold only moves the commit index;
   * otherwise it replaces the whole log (and, through its meta, the configuration).
   */
  private handleSnapshot (m: AnyMessage): void {
    const s = m.snapshot
    if (s === undefined) return
    if (s.index > this.log.committed) {
      if (this.log.matchTerm(s.index, s.term)) {
        this.log.commitTo(s.index)
      } else {
        this.log.restore(s)
        this.installed = { index: s.index, term: s.term, voters: s.voters.slice(), learners: s.learners.slice() }
        this.stats.snapshotsInstalled++
      }
    }
    this.send({ type: 'MsgAppResp', to: m.from, term: this.term, index: this.log.committed })
  }

  /** `last`: into extMessages whatever its type, so it goes after every message of this Ready. */
  private send (m: Omit<AnyMessage, 'from'>, last = false): void {
    const full = { ...m, from: this.id }
    if (last || EXT_TYPES.has(m.type)) this.extMsgs.push(full as ExtMessage)
    else this.msgs.push(full as Message)
  }
}

function checkConfig (c: RaftConfig): void {
  const bad = (why: string): never => { throw new Error(`raft config: ${why}`) }
  if (c.voters.length === 0) bad('voters is empty')
  if (new Set(c.voters).size !== c.voters.length) bad('voters has duplicates')
  for (const l of c.learners ?? []) if (c.voters.includes(l)) bad(`${l} is both voter and learner`)
  if (!Number.isSafeInteger(c.heartbeatTicks) || c.heartbeatTicks < 1) bad('heartbeatTicks must be >= 1')
  if (!Number.isSafeInteger(c.electionTicks) || c.electionTicks <= c.heartbeatTicks) bad('electionTicks must be > heartbeatTicks')
  if (!Number.isSafeInteger(c.maxInflightAppends) || c.maxInflightAppends < 1) bad('maxInflightAppends must be >= 1')
  if (!Number.isSafeInteger(c.maxEntriesPerAppend) || c.maxEntriesPerAppend < 1) bad('maxEntriesPerAppend must be >= 1')
  if (c.leaseRead === true && !c.checkQuorum) bad('leaseRead needs checkQuorum')
  if (c.checkQuorumTicks !== undefined && (!Number.isSafeInteger(c.checkQuorumTicks) || c.checkQuorumTicks < c.electionTicks)) bad('checkQuorumTicks must be an integer >= electionTicks')
  if (c.maxClockDrift !== undefined && !(c.maxClockDrift >= 1)) bad('maxClockDrift must be >= 1')
  if (c.leaseRead === true && Math.floor((c.electionTicks - 1) / (c.maxClockDrift ?? 1.25)) < 1) bad('electionTicks too small for a lease')
}
