/**
 * What a node holds only while it leads one term: a Progress per follower, the commit rule, the
 * reads waiting for a heartbeat round, a leadership transfer in progress, and the appends waiting
 * for the next ready(). Appends are collected during steps and sent by flush(), so every proposal
 * made between two ready() calls shares one append per follower and one persist (group commit).
 */
import type { RaftLog } from './log.js'
import type { Membership } from './membership.js'
import { Progress } from './progress.js'
import { NONE } from './types.js'
import type { AnyMessage, Entry, NodeId, RaftConfig, RaftStats } from './types.js'

export interface LeaderContext {
  id: NodeId
  term: number
  cfg: RaftConfig
  /** The configuration in force; the node updates it in place and then calls applyConfig(). */
  members: Membership
  log: RaftLog
  stats: RaftStats
  send: (m: Omit<AnyMessage, 'from'>) => void
  /** A read confirmed at `index`: answer whoever asked (this node or a follower). */
  serveRead: (from: NodeId, ctx: string, index: number) => void
}

/** A read waiting for heartbeat round `round`; index 0 until this term has a committed entry. */
interface PendingRead { from: NodeId, ctx: string, round: number, index: number }

/** Lease length in the leader's ticks: what a follower's lease surely outlasts (see RaftConfig.leaseRead). */
export function leaseTicks (cfg: RaftConfig): number {
  return Math.floor((cfg.electionTicks - 1) / (cfg.maxClockDrift ?? 1.25))
}

export class Leader {
  readonly prs = new Map<NodeId, Progress>()
  /**
   * A tick passed: a commit index that followers have not heard yet goes out now. Otherwise it
   * rides on the next append, so a loaded leader sends one message per batch, not two (followers
   * only need it to apply; clients are answered by the leader).
   */
  commitDue = false
  /** Leadership transfer in progress to this voter (NONE: none); proposals wait meanwhile. */
  transferee: NodeId = NONE
  private transferElapsed = 0
  /** MsgTimeoutNow to the transferee: none yet, sent once all was sent, or once all was acknowledged. */
  private timeoutNowSent: 'no' | 'early' | 'acked' = 'no'
  /** A MsgTimeoutNow went out this term: a voter may grant a vote despite its lease. */
  private leaseBroken = false
  private readonly mustSend = new Set<NodeId>()
  /**
   * Followers waiting on the commit index reaching an index (an entry they forwarded, a read
   * served at it): told as soon as it does, not at the next append or tick.
   */
  private readonly commitWanted = new Map<NodeId, number>()
  /** Nodes the configuration in force removed, served until that configuration commits. */
  private readonly leaving = new Set<NodeId>()

  // ReadIndex (thesis §6.4): each heartbeat broadcast is a numbered round; an acknowledgement of
  // round r by a quorum proves this node was still leader after every read queued for round <= r.
  private ticks = 0
  private round = 0
  private roundWanted = false
  private readonly acked = new Map<NodeId, number>()
  private readonly reads: PendingRead[] = []
  /** Leader tick at which each round went out, for the lease (only with leaseRead). */
  private readonly roundSentAt = new Map<number, number>()
  /** Rounds up to here were acknowledged under an older configuration: no lease from them. */
  private leaseFloor = 0

  constructor (private readonly ctx: LeaderContext) {
    const next = ctx.log.lastIndex() + 1
    for (const id of [...ctx.members.voters, ...ctx.members.learners, ctx.id]) {
      if (!this.prs.has(id)) this.prs.set(id, new Progress(next, ctx.cfg.maxInflightAppends, ctx.members.learners.has(id)))
    }
    const self = this.prs.get(ctx.id)
    if (self !== undefined) {
      // Its own copy counts only as far as it is durable.
      self.match = Math.min(next - 1, ctx.log.stabled)
      self.recentActive = true
    }
  }

  /** Append with this term; returns the last index. */
  append (ents: Array<Pick<Entry, 'data' | 'type'>>): number {
    const { log, term } = this.ctx
    let index = log.lastIndex()
    const own: Entry[] = ents.map(e => e.type === undefined || e.type === 'normal'
      ? { term, index: ++index, data: e.data }
      : { term, index: ++index, data: e.data, type: e.type })
    log.appendOwn(own)
    return index
  }

  /** `from` waits for the commit index to reach `index`: send it as soon as it does. */
  wantCommit (from: NodeId, index: number): void {
    if (from === this.ctx.id || !this.prs.has(from)) return
    if (index > (this.commitWanted.get(from) ?? 0)) this.commitWanted.set(from, index)
  }

  /** The driver made the log durable up to `index`: the leader's own copy now counts. */
  persisted (index: number): void {
    const self = this.prs.get(this.ctx.id)
    if (self === undefined) return
    if (self.maybeUpdate(index)) this.maybeCommit()
  }

  /** Has this term an entry committed? Until then the commit index may lag the cluster's. */
  termCommitted (): boolean {
    const { log, term } = this.ctx
    return log.term(log.committed) === term
  }

  /** The highest index a majority of voters stores, if it is of this term (thesis §3.6.2). */
  private maybeCommit (): boolean {
    const { log, members, term, cfg } = this.ctx
    const matches: number[] = []
    for (const id of members.voters) matches.push(this.prs.get(id)?.match ?? 0)
    matches.sort((a, b) => b - a)
    const mci = matches[members.quorum() - 1] ?? 0
    if (mci <= log.committed) return false
    if (log.term(mci) !== term && cfg.unsafe?.commitOldTermByCounting !== true) return false
    log.commitTo(mci)
    return true
  }

  /** The configuration changed (this leader appended a config entry): follow it. */
  applyConfig (): void {
    const { members, log, cfg, id: self } = this.ctx
    for (const id of [...members.voters, ...members.learners]) {
      const pr = this.prs.get(id)
      if (pr !== undefined) {
        pr.isLearner = members.learners.has(id)
        continue
      }
      this.prs.set(id, new Progress(log.lastIndex() + 1, cfg.maxInflightAppends, members.learners.has(id)))
      // Probe it now rather than at its first heartbeat answer.
      this.mustSend.add(id)
    }
    // A removed node keeps getting the log until its removal commits: so it learns it was
    // removed (and stops campaigning, and its driver can shut it down). It counts for nothing.
    for (const id of this.prs.keys()) if (id !== self && !members.isMember(id)) this.leaving.add(id)
    for (const id of this.leaving) if (members.isMember(id)) this.leaving.delete(id)
    if (this.transferee !== NONE && !members.voters.has(this.transferee)) this.abortTransfer()
    this.leaseFloor = this.round
    // Fewer voters may make a quorum of what is already stored.
    this.maybeCommit()
  }

  /** Answers of this term from followers; anything else is ignored. */
  step (m: AnyMessage): void {
    const pr = this.prs.get(m.from)
    if (pr === undefined) return
    if (m.type === 'MsgAppResp') {
      pr.recentActive = true
      this.onAppendResp(m, pr)
    } else if (m.type === 'MsgHeartbeatResp') {
      pr.recentActive = true
      pr.probeSent = false
      // A lost ack must not stall a full pipeline forever.
      if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne()
      if (pr.match < this.ctx.log.lastIndex()) this.mustSend.add(m.from)
      const r = m.index ?? 0
      if (r <= this.round && r > (this.acked.get(m.from) ?? 0)) this.acked.set(m.from, r)
    } else {
      this.ctx.stats.ignoredStaleTerm++
    }
  }

  private onAppendResp (m: AnyMessage, pr: Progress): void {
    const log = this.ctx.log
    const index = m.index ?? 0
    if (m.reject === true) {
      // Fast back-off: resume after our last entry of the follower's conflicting term, or
      // before its whole run of that term when we have none.
      const hintTerm = m.logTerm ?? 0
      const hint = m.rejectHint ?? 0
      let next = hint + 1
      if (hintTerm > 0) {
        const mine = log.lastIndexOfTerm(hintTerm, index)
        next = mine === undefined ? hint : mine + 1
      }
      if (pr.maybeDecrTo(index, next)) this.mustSend.add(m.from)
      return
    }
    if (index > log.lastIndex()) { this.ctx.stats.ignoredMalformed++; return }
    const wasPaused = pr.isPaused()
    if (pr.maybeUpdate(index) || (pr.state === 'probe' && pr.match === index)) {
      if (pr.state === 'probe') pr.becomeReplicate()
      else if (pr.state === 'snapshot') {
        // The snapshot (or anything past our log's start) arrived: plain appends from here.
        if (pr.match + 1 >= log.firstIndex()) pr.becomeReplicate()
      } else pr.inflights.freeLE(index)
      this.maybeCommit()
      // A paused follower may have entries waiting: they go now.
      if (wasPaused) this.mustSend.add(m.from)
    }
    if (m.from === this.transferee && pr.match === log.lastIndex()) this.sendTimeoutNow()
  }

  /** Check-quorum: did a quorum of voters answer since the last call? Starts a new round. */
  quorumActiveRound (): boolean {
    const { members, id: self } = this.ctx
    let active = 0
    for (const id of members.voters) if (this.prs.get(id)?.recentActive === true) active++
    for (const [id, pr] of this.prs) pr.recentActive = id === self
    return active >= members.quorum()
  }

  /** One tick of the leader's clock: lease age, and the deadline of a transfer. */
  tick (): void {
    this.ticks++
    if (this.transferee === NONE || ++this.transferElapsed < this.ctx.cfg.electionTicks) return
    // The target did not win within an election timeout (down, or lost the race): lead on.
    this.abortTransfer()
    this.ctx.stats.transfersAborted++
  }

  heartbeat (): void {
    const { id: self, term, log, cfg } = this.ctx
    this.round++
    this.roundWanted = false
    if (cfg.leaseRead === true) this.pruneRounds()
    for (const [id, pr] of this.prs) {
      if (id === self) continue
      // Only what the follower is known to hold: its entries up to there match ours.
      const commit = Math.min(pr.match, log.committed)
      this.ctx.send({ type: 'MsgHeartbeat', to: id, term, commit, index: this.round })
      pr.commitSent = Math.max(pr.commitSent, commit)
    }
  }

  // ---- reads --------------------------------------------------------------------------------

  /**
   * A linearizable read asked by `from` (this node or a follower). Its index is the commit index
   * now, once this term has a committed entry (before that the commit index may be behind
   * entries earlier leaders committed); it is served once a quorum acknowledged a heartbeat
   * round sent after now, or at once while the lease holds.
   */
  readIndex (from: NodeId, ctx: string): void {
    const { log, cfg } = this.ctx
    const committed = this.termCommitted()
    if (cfg.unsafe?.readIndexWithoutQuorum === true || (committed && this.inLease())) {
      this.ctx.serveRead(from, ctx, log.committed)
      return
    }
    this.reads.push({ from, ctx, round: this.round + 1, index: committed ? log.committed : 0 })
    this.roundWanted = true
  }

  /** Highest round a quorum of voters acknowledged (this node counts as acknowledging its latest). */
  private confirmedRound (): number {
    const { members, id: self } = this.ctx
    const rounds: number[] = []
    for (const id of members.voters) rounds.push(id === self ? this.round : this.acked.get(id) ?? 0)
    rounds.sort((a, b) => b - a)
    return rounds[members.quorum() - 1] ?? 0
  }

  private releaseReads (): void {
    if (this.reads.length === 0) return
    const confirmed = this.confirmedRound()
    const committed = this.termCommitted()
    let n = 0
    for (const r of this.reads) {
      if (r.round > confirmed) break
      if (r.index === 0) {
        if (!committed) break
        r.index = this.ctx.log.committed
      }
      this.ctx.serveRead(r.from, r.ctx, r.index)
      n++
    }
    if (n > 0) this.reads.splice(0, n)
  }

  private inLease (): boolean {
    const cfg = this.ctx.cfg
    if (cfg.leaseRead !== true || !cfg.checkQuorum || this.leaseBroken || this.transferee !== NONE) return false
    const r = this.confirmedRound()
    if (r <= this.leaseFloor) return false
    const sent = this.roundSentAt.get(r)
    return sent !== undefined && this.ticks < sent + leaseTicks(cfg)
  }

  private pruneRounds (): void {
    const confirmed = this.confirmedRound()
    for (const r of this.roundSentAt.keys()) if (r < confirmed) this.roundSentAt.delete(r)
    this.roundSentAt.set(this.round, this.ticks)
  }

  // ---- leadership transfer (thesis §3.10) ---------------------------------------------------

  /** The voter most worth handing over to: the most up to date, among the recently active if any. */
  bestTransferTarget (): NodeId {
    const { members, id: self } = this.ctx
    let best = NONE
    let bestScore = -1
    for (const id of members.voters) {
      const pr = this.prs.get(id)
      if (id === self || pr === undefined) continue
      const score = pr.match * 2 + (pr.recentActive ? 1 : 0)
      if (score > bestScore) {
        best = id
        bestScore = score
      }
    }
    return best
  }

  startTransfer (to: NodeId): void {
    this.transferee = to
    this.transferElapsed = 0
    this.timeoutNowSent = 'no'
    const pr = this.prs.get(to)
    if (pr !== undefined && pr.match === this.ctx.log.lastIndex()) this.sendTimeoutNow()
    // Not caught up: an append, even an empty one (a target that lost one answers it with a
    // reject and gets what it lacks without waiting for the next heartbeat), and flush() sends
    // the campaign order behind it once everything is on its way.
    else this.mustSend.add(to)
  }

  /**
   * Every entry is on its way to `pr`, in order (replicating, nothing left to send). MsgTimeoutNow
   * then goes at once, after them on the same stream, instead of after their ack: one follower
   * fsync and round trip off every handover. It names the leader's last entry, and a target that
   * does not hold it (an append was lost) does not campaign; the ack of everything sends it again.
   */
  private allSent (pr: Progress): boolean {
    return pr.state === 'replicate' && pr.next > this.ctx.log.lastIndex()
  }

  /** A transfer is under way and its target has been told to campaign. */
  campaignOrdered (): boolean {
    return this.transferee !== NONE && this.timeoutNowSent !== 'no'
  }

  abortTransfer (): void {
    this.transferee = NONE
    this.transferElapsed = 0
  }

  /**
   * Tell a caught-up voter to campaign now (`early`: its appends are sent, not yet acknowledged);
   * also used by a leader leaving the configuration.
   */
  sendTimeoutNow (to = this.transferee, early = false): void {
    if (to === this.transferee) {
      if (this.timeoutNowSent === 'acked' || (early && this.timeoutNowSent === 'early')) return
      this.timeoutNowSent = early ? 'early' : 'acked'
    }
    this.leaseBroken = true
    const { log, term } = this.ctx
    this.ctx.send({ type: 'MsgTimeoutNow', to, term, index: log.lastIndex(), logTerm: log.lastTerm() })
  }

  isCaughtUp (id: NodeId): boolean {
    return (this.prs.get(id)?.match ?? -1) === this.ctx.log.lastIndex()
  }

  // ---- snapshots ----------------------------------------------------------------------------

  /** The driver finished (ok) or gave up sending the snapshot to `to`. */
  reportSnapshot (to: NodeId, ok: boolean): void {
    const pr = this.prs.get(to)
    if (pr === undefined || pr.state !== 'snapshot') return
    if (!ok) pr.pendingSnapshot = 0
    pr.becomeProbe()
    // Wait for the follower's answer, or the next heartbeat's, before probing again.
    pr.probeSent = true
  }

  // ---- sending ------------------------------------------------------------------------------

  /** Sends what the last steps left pending: a read round, new entries, a changed commit, probes; serves confirmed reads. */
  flush (): void {
    if (this.leaving.size > 0 && this.ctx.log.committed >= this.ctx.log.confIndex()) {
      for (const id of this.leaving) {
        this.prs.delete(id)
        this.acked.delete(id)
        this.commitWanted.delete(id)
        this.mustSend.delete(id)
      }
      this.leaving.clear()
    }
    if (this.roundWanted) this.heartbeat()
    this.releaseReads()
    const log = this.ctx.log
    for (const [id, pr] of this.prs) {
      if (id === this.ctx.id) continue
      const wanted = this.commitWanted.get(id)
      const due = wanted !== undefined && log.committed >= wanted && pr.commitSent < wanted
      const force = this.mustSend.has(id) || due || (this.commitDue && pr.commitSent < log.committed)
      if (this.sendAppend(id, pr, force)) {
        while (pr.state === 'replicate' && this.sendAppend(id, pr, false)) { /* fill the pipeline */ }
      }
      if (id === this.transferee && this.allSent(pr)) this.sendTimeoutNow(id, true)
      if (wanted !== undefined && pr.commitSent >= wanted) this.commitWanted.delete(id)
    }
    this.commitDue = false
    this.mustSend.clear()
  }

  private sendAppend (to: NodeId, pr: Progress, sendIfEmpty: boolean): boolean {
    const { log, term, cfg } = this.ctx
    if (pr.isPaused()) return false
    const prev = pr.next - 1
    const prevTerm = log.term(prev)
    if (prevTerm === undefined) {
      // The follower needs entries compacted away: the snapshot replaces them.
      const snapshot = log.snapshotMeta()
      this.ctx.send({ type: 'MsgSnap', to, term, snapshot })
      this.ctx.stats.snapshotsSent++
      pr.becomeSnapshot(snapshot.index)
      return false
    }
    const entries = log.slice(pr.next, log.lastIndex() + 1, cfg.maxEntriesPerAppend)
    if (entries.length === 0 && !sendIfEmpty) return false
    this.ctx.send({ type: 'MsgApp', to, term, index: prev, logTerm: prevTerm, entries, commit: log.committed })
    pr.commitSent = log.committed
    pr.sentEntries(entries.length, prev + entries.length)
    return true
  }
}
