/**
 * The Raft state machine, pure: no I/O, no clock, no randomness of its own. The driver calls
 * tick() on its timer, step() for each received message and propose() for client data, then
 * drains ready() → persist, send, apply → advance(). Shape and rules after etcd-io/raft and
 * Ongaro's thesis; every line written here.
 */
import { Leader } from './leader.js'
import { RaftLog } from './log.js'
import { sanitize } from './validate.js'
import { NONE } from './types.js'
import type {
  HardState, Message, MessageType, NodeId, ProposeResult, RaftConfig, RaftStats, Ready,
  RestoredState, Role, SoftState
} from './types.js'

const EMPTY = new Uint8Array(0)

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
    proposalsDropped: 0,
    proposalsForwarded: 0,
    elections: 0,
    stepDowns: 0
  }

  private readonly cfg: RaftConfig
  private readonly voters: ReadonlySet<NodeId>
  private readonly learners: ReadonlySet<NodeId>
  private readonly quorum: number
  private readonly log: RaftLog
  private term = 0
  private vote: NodeId = NONE
  private lead: NodeId = NONE
  private role: Role = 'follower'
  /** Set exactly while role is 'leader'. */
  private leader: Leader | null = null
  private readonly votes = new Map<NodeId, boolean>()
  private msgs: Message[] = []
  private electionElapsed = 0
  private heartbeatElapsed = 0
  private randomizedElectionTimeout = 0
  private prevHard: HardState
  private prevSoft: SoftState = { role: 'follower', leader: NONE }
  private outstanding: Ready | null = null

  constructor (config: RaftConfig, restored?: RestoredState) {
    checkConfig(config)
    this.cfg = config
    this.id = config.id
    this.voters = new Set(config.voters)
    this.learners = new Set(config.learners ?? [])
    this.quorum = Math.floor(this.voters.size / 2) + 1
    if (restored !== undefined) {
      const hs = restored.hardState
      this.log = new RaftLog({ entries: restored.entries, commit: hs.commit, applied: restored.applied })
      this.term = hs.term
      this.vote = hs.vote
    } else {
      this.log = new RaftLog()
    }
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
      const index = this.leader.append([{ data }])
      return { status: 'accepted', index, term: this.term }
    }
    if (!this.isMember(this.id)) {
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

  /** Never throws on what the network delivers: odd messages are counted in stats and dropped. */
  step (raw: Message): void {
    this.stats.received++
    const m = sanitize(raw)
    if (m === undefined || m.from === this.id) { this.stats.ignoredMalformed++; return }
    if (m.to !== this.id) { this.stats.ignoredMisaddressed++; return }
    if (!this.isMember(m.from)) { this.stats.ignoredNonMember++; return }
    if (m.type === 'MsgProp') { this.stepProp(m); return }
    const isVoteReq = m.type === 'MsgVote' || m.type === 'MsgPreVote'
    if (isVoteReq && (!this.promotable() || !this.voters.has(m.from))) {
      this.stats.ignoredLearnerVote++
      return
    }
    if (!this.stepTerm(m, isVoteReq)) return

    if (isVoteReq) { this.handleVoteRequest(m); return }
    if (this.leader !== null) this.leader.step(m)
    else if (this.role === 'follower') this.stepFollower(m)
    else this.stepCandidate(m)
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
    if (!hsChanged && !ssChanged && entries.length === 0 && committedEntries.length === 0 && this.msgs.length === 0) return null
    const rd: Ready = { entries, messages: this.msgs, committedEntries }
    if (hsChanged) rd.hardState = hs
    if (ssChanged) rd.softState = ss
    if (this.leader !== null && hs.term === this.prevHard.term && hs.vote === this.prevHard.vote) rd.sendFirst = true
    this.msgs = []
    this.prevHard = hs
    this.prevSoft = ss
    this.outstanding = rd
    return rd
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
  }

  hardState (): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed }
  }

  status (): RaftStatus {
    const st: RaftStatus = {
      id: this.id,
      role: this.role,
      leader: this.lead,
      term: this.term,
      vote: this.vote,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      lastTerm: this.log.lastTerm()
    }
    if (this.leader !== null) {
      st.progress = {}
      for (const [id, pr] of this.leader.prs) st.progress[id] = { match: pr.match, next: pr.next, state: pr.state, inflight: pr.inflights.count }
    }
    return st
  }

  // ---- membership & roles -----------------------------------------------------------------

  private isMember (id: NodeId): boolean { return this.voters.has(id) || this.learners.has(id) }
  private promotable (): boolean { return this.voters.has(this.id) }

  private reset (term: number): void {
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
    this.reset(this.term)
    this.role = 'leader'
    this.lead = this.id
    this.leader = new Leader({
      id: this.id,
      term: this.term,
      cfg: this.cfg,
      voters: this.voters,
      learners: this.learners,
      quorum: this.quorum,
      log: this.log,
      stats: this.stats,
      send: m => { this.send(m) }
    })
    // Entries of earlier terms commit only under an entry of this term (thesis §3.6.2).
    this.leader.append([{ data: EMPTY, type: 'noop' }])
  }

  // ---- timers -------------------------------------------------------------------------------

  private tickElection (): void {
    this.electionElapsed++
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.campaign(this.cfg.preVote)
    }
  }

  private tickLeader (leader: Leader): void {
    this.heartbeatElapsed++
    this.electionElapsed++
    if (this.electionElapsed >= this.cfg.electionTicks) {
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

  /** Pre-vote asks "would you vote for me at term+1?" without touching anyone's term. */
  private campaign (pre: boolean): void {
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
      this.vote = this.id
      this.stats.elections++
      voteTerm = this.term
      type = 'MsgVote'
    }
    if (this.poll(this.id, true) === 'won') {
      if (pre) this.campaign(false)
      else this.becomeLeader()
      return
    }
    for (const id of this.voters) {
      if (id === this.id) continue
      this.send({ type, to: id, term: voteTerm, index: this.log.lastIndex(), logTerm: this.log.lastTerm() })
    }
  }

  private poll (from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(from)) this.votes.set(from, granted)
    let yes = 0
    let no = 0
    for (const [id, v] of this.votes) {
      if (!this.voters.has(id)) continue
      if (v) yes++
      else no++
    }
    if (yes >= this.quorum) return 'won'
    if (no > this.voters.size - this.quorum) return 'lost'
    return 'pending'
  }

  /**
   * Term rules common to every role. Returns false when the message is consumed here.
   * Check-quorum's lease: a node that heard from a leader within the election timeout ignores
   * vote requests, so a rejoining node cannot depose a healthy leader.
   */
  private stepTerm (m: Message, isVoteReq: boolean): boolean {
    if (m.term > this.term) {
      if (isVoteReq && this.cfg.checkQuorum && this.lead !== NONE && this.electionElapsed < this.cfg.electionTicks) {
        this.stats.ignoredVoteInLease++
        return false
      }
      // A pre-vote (and a granted answer to one) is about a term nobody has entered yet.
      if (m.type === 'MsgPreVote' || (m.type === 'MsgPreVoteResp' && m.reject !== true)) return true
      const fromLeader = m.type === 'MsgApp' || m.type === 'MsgHeartbeat'
      this.becomeFollower(m.term, fromLeader ? m.from : NONE)
      return true
    }
    if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'MsgApp' || m.type === 'MsgHeartbeat')) {
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

  private handleVoteRequest (m: Message): void {
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
      }
    } else {
      this.send({ type, to: m.from, term: this.term, reject: true })
    }
  }

  private stepCandidate (m: Message): void {
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
      case want: {
        if (!this.voters.has(m.from)) { this.stats.ignoredLearnerVote++; return }
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

  private stepFollower (m: Message): void {
    if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat') {
      this.electionElapsed = 0
      this.lead = m.from
      if (m.type === 'MsgApp') this.handleAppend(m)
      else this.handleHeartbeat(m)
      return
    }
    this.stats.ignoredStaleTerm++
  }

  private stepProp (m: Message): void {
    const entries = m.entries ?? []
    // Only the leader takes remote proposals: re-forwarding could loop while leadership moves.
    if (this.leader === null || entries.length === 0) {
      this.stats.proposalsDropped++
      return
    }
    this.leader.append(entries.map(e => ({ data: e.data })))
  }

  private handleAppend (m: Message): void {
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

  private handleHeartbeat (m: Message): void {
    // The leader sends min(its commit, our match): entries up to there are ours already.
    this.log.commitTo(m.commit ?? 0)
    this.send({ type: 'MsgHeartbeatResp', to: m.from, term: this.term })
  }

  private send (m: Omit<Message, 'from'>): void {
    this.msgs.push({ ...m, from: this.id })
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
}
