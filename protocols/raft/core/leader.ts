/**
 * What a node holds only while it leads one term: a Progress per follower, the commit rule, and
 * the appends waiting for the next ready(). Appends are collected during steps and sent by
 * flush(), so every proposal made between two ready() calls shares one append per follower and
 * one persist (group commit).
 */
import type { RaftLog } from './log.js'
import { Progress } from './progress.js'
import type { Entry, Message, NodeId, RaftConfig, RaftStats } from './types.js'

export interface LeaderContext {
  id: NodeId
  term: number
  cfg: RaftConfig
  voters: ReadonlySet<NodeId>
  learners: ReadonlySet<NodeId>
  quorum: number
  log: RaftLog
  stats: RaftStats
  send: (m: Omit<Message, 'from'>) => void
}

export class Leader {
  readonly prs = new Map<NodeId, Progress>()
  /**
   * A tick passed: a commit index that followers have not heard yet goes out now. Otherwise it
   * rides on the next append, so a loaded leader sends one message per batch, not two (followers
   * only need it to apply; clients are answered by the leader).
   */
  commitDue = false
  private readonly mustSend = new Set<NodeId>()

  constructor (private readonly ctx: LeaderContext) {
    const next = ctx.log.lastIndex() + 1
    for (const id of [...ctx.voters, ...ctx.learners]) {
      this.prs.set(id, new Progress(next, ctx.cfg.maxInflightAppends, ctx.learners.has(id)))
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

  /** The driver made the log durable up to `index`: the leader's own copy now counts. */
  persisted (index: number): void {
    const self = this.prs.get(this.ctx.id)
    if (self === undefined) return
    if (self.maybeUpdate(index)) this.maybeCommit()
  }

  /** The highest index a majority of voters stores, if it is of this term (thesis §3.6.2). */
  private maybeCommit (): boolean {
    const { log, voters, quorum, term, cfg } = this.ctx
    const matches: number[] = []
    for (const id of voters) matches.push(this.prs.get(id)?.match ?? 0)
    matches.sort((a, b) => b - a)
    const mci = matches[quorum - 1] ?? 0
    if (mci <= log.committed) return false
    if (log.term(mci) !== term && cfg.unsafe?.commitOldTermByCounting !== true) return false
    log.commitTo(mci)
    return true
  }

  /** Answers of this term from followers; anything else is ignored. */
  step (m: Message): void {
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
    } else {
      this.ctx.stats.ignoredStaleTerm++
    }
  }

  private onAppendResp (m: Message, pr: Progress): void {
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
      else pr.inflights.freeLE(index)
      this.maybeCommit()
      // A paused follower may have entries waiting: they go now.
      if (wasPaused) this.mustSend.add(m.from)
    }
  }

  /** Check-quorum: did a quorum of voters answer since the last call? Starts a new round. */
  quorumActiveRound (): boolean {
    let active = 0
    for (const id of this.ctx.voters) if (this.prs.get(id)?.recentActive === true) active++
    for (const [id, pr] of this.prs) pr.recentActive = id === this.ctx.id
    return active >= this.ctx.quorum
  }

  heartbeat (): void {
    const { id: self, term, log } = this.ctx
    for (const [id, pr] of this.prs) {
      if (id === self) continue
      // Only what the follower is known to hold: its entries up to there match ours.
      const commit = Math.min(pr.match, log.committed)
      this.ctx.send({ type: 'MsgHeartbeat', to: id, term, commit })
      pr.commitSent = Math.max(pr.commitSent, commit)
    }
  }

  /** Sends what the last steps left pending: new entries, a changed commit, probes. */
  flush (): void {
    const log = this.ctx.log
    for (const [id, pr] of this.prs) {
      if (id === this.ctx.id) continue
      const force = this.mustSend.has(id) || (this.commitDue && pr.commitSent < log.committed)
      if (this.sendAppend(id, pr, force)) {
        while (pr.state === 'replicate' && this.sendAppend(id, pr, false)) { /* fill the pipeline */ }
      }
    }
    this.commitDue = false
    this.mustSend.clear()
  }

  private sendAppend (to: NodeId, pr: Progress, sendIfEmpty: boolean): boolean {
    const { log, term, cfg } = this.ctx
    if (pr.isPaused()) return false
    const prev = pr.next - 1
    const prevTerm = log.term(prev)
    if (prevTerm === undefined) return false // would need a snapshot (later issue)
    const entries = log.slice(pr.next, log.lastIndex() + 1, cfg.maxEntriesPerAppend)
    if (entries.length === 0 && !sendIfEmpty) return false
    this.ctx.send({ type: 'MsgApp', to, term, index: prev, logTerm: prevTerm, entries, commit: log.committed })
    pr.commitSent = log.committed
    pr.sentEntries(entries.length, prev + entries.length)
    return true
  }
}
