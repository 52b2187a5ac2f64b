/**
 * The in-memory Raft log: the entries after a base, plus three cursors. `stabled` is the last
 * index the driver has persisted, `committed` the last index known committed, `applied` the last
 * one handed out to the state machine. Entries are immutable once created.
 *
 * `base`/`baseTerm` describe the entry just before entries[0]: index 0 term 0 for a whole log,
 * else the last entry a snapshot covers (compact() moves it forward, restore() replaces the log).
 *
 * The log also tracks the configuration: the one at the base, and each config entry after it.
 * The latest of them is in force (membership.ts says why), so appending, truncating, compacting
 * and restoring keep that list in step; `confVersion` counts changes for the node to notice.
 */
import { decodeConfEntry } from './membership.js'
import type { ConfState, Entry, SnapshotMeta } from './types.js'

interface ConfAt { index: number, conf: ConfState }

export class RaftLog {
  private entries: Entry[] = []
  private base = 0
  private baseTerm = 0
  private baseConf: ConfState
  /** Config entries after the base, in index order. */
  private confs: ConfAt[] = []
  confVersion = 0
  committed = 0
  applied = 0
  stabled = 0

  constructor (initial: ConfState, restored?: { entries: Entry[], commit: number, applied?: number, snapshot?: SnapshotMeta }) {
    this.baseConf = initial
    if (restored === undefined) return
    const snap = restored.snapshot
    if (snap !== undefined) {
      this.base = snap.index
      this.baseTerm = snap.term
      this.baseConf = { voters: snap.voters.slice(), learners: snap.learners.slice() }
    }
    let want = this.base + 1
    for (const e of restored.entries) {
      // A crash between storing a snapshot and dropping the entries it covers leaves them behind.
      if (e.index <= this.base) continue
      if (e.index !== want) throw new Error(`restored log is not contiguous from ${this.base + 1} at index ${e.index}`)
      want++
      this.entries.push(e)
      this.noteConf(e, true)
    }
    this.stabled = this.lastIndex()
    const commit = Math.max(restored.commit, this.base)
    if (commit > this.lastIndex()) throw new Error(`restored commit ${commit} is past the last index ${this.lastIndex()}`)
    this.committed = commit
    this.applied = Math.max(this.base, Math.min(restored.applied ?? 0, this.committed))
  }

  firstIndex (): number { return this.base + 1 }
  lastIndex (): number { return this.base + this.entries.length }
  lastTerm (): number { return this.term(this.lastIndex()) ?? 0 }

  /** Term of the entry at i, or undefined when i is outside the log (compacted or not there yet). */
  term (i: number): number | undefined {
    if (i === this.base) return this.baseTerm
    if (i < this.base || i > this.lastIndex()) return undefined
    return this.entries[i - this.base - 1]?.term
  }

  matchTerm (i: number, term: number): boolean { return this.term(i) === term }

  /** Raft's voting rule: a log with a later last term, or the same term and at least as long, wins. */
  isUpToDate (lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm()
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex())
  }

  /** Entries [lo, hi) capped at max entries; lo must be >= firstIndex. */
  slice (lo: number, hi: number, max = Infinity): Entry[] {
    const from = Math.max(lo, this.firstIndex())
    const to = Math.min(hi, this.lastIndex() + 1, from + max)
    if (to <= from) return []
    return this.entries.slice(from - this.base - 1, to - this.base - 1)
  }

  // ---- configuration ------------------------------------------------------------------------

  /** The configuration in force: the latest in the log. */
  conf (): ConfState { return this.confs[this.confs.length - 1]?.conf ?? this.baseConf }

  /** Index of the entry that set the configuration in force (the base when none after it). */
  confIndex (): number { return this.confs[this.confs.length - 1]?.index ?? this.base }

  /** The configuration in force at index i (i >= base). */
  confAt (i: number): ConfState {
    let c = this.baseConf
    for (const x of this.confs) {
      if (x.index > i) break
      c = x.conf
    }
    return c
  }

  private noteConf (e: Entry, restoring = false): void {
    if (e.type !== 'config') return
    const cc = decodeConfEntry(e.data)
    if (cc === undefined) {
      // The sanitizer and the leader only let well-formed ones in; a stored one is corrupt.
      if (restoring) throw new Error(`restored config entry ${e.index} does not decode`)
      return
    }
    this.confs.push({ index: e.index, conf: { voters: cc.voters, learners: cc.learners } })
    this.confVersion++
  }

  // ---- appending ----------------------------------------------------------------------------

  /** Leader path: entries already carry their index, contiguous after lastIndex. */
  appendOwn (ents: Entry[]): void {
    for (const e of ents) {
      this.entries.push(e)
      this.noteConf(e)
    }
  }

  /**
   * Follower path: the leader's entries after (prevIndex, prevTerm). Returns the last index known
   * to match the leader, 'reject' when prev does not match, or 'committed-conflict' when the leader
   * would overwrite a committed entry (impossible in correct Raft; the caller ignores the message).
   */
  maybeAppend (prevIndex: number, prevTerm: number, leaderCommit: number, ents: Entry[]): number | 'reject' | 'committed-conflict' {
    if (!this.matchTerm(prevIndex, prevTerm)) return 'reject'
    const lastNew = prevIndex + ents.length
    const conflict = this.findConflict(ents)
    if (conflict !== 0) {
      if (conflict <= this.committed) return 'committed-conflict'
      const first = ents[0]?.index ?? conflict
      this.truncateAndAppend(ents.slice(conflict - first))
    }
    this.commitTo(Math.min(leaderCommit, lastNew))
    return lastNew
  }

  /** Index of the first entry that is new or differs in term from ours, 0 if none. */
  private findConflict (ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index
    }
    return 0
  }

  private truncateAndAppend (ents: Entry[]): void {
    const first = ents[0]
    if (first === undefined) return
    this.entries.length = Math.max(0, first.index - this.base - 1)
    // A truncated config entry takes its configuration with it: the previous one is back.
    let n = this.confs.length
    while (n > 0 && (this.confs[n - 1]?.index ?? 0) >= first.index) n--
    if (n < this.confs.length) {
      this.confs.length = n
      this.confVersion++
    }
    for (const e of ents) {
      this.entries.push(e)
      this.noteConf(e)
    }
    // The tail the driver persisted is gone: it must rewrite from here.
    if (this.stabled >= first.index) this.stabled = first.index - 1
  }

  /** Follower's back-off hint: first index of the run of entries sharing the term at i. */
  firstIndexOfTermAt (i: number): number {
    const t = this.term(i)
    while (i > this.firstIndex() && this.term(i - 1) === t) i--
    return i
  }

  /** Leader's use of the hint: last index <= i holding exactly `term`, or undefined. */
  lastIndexOfTerm (term: number, i: number): number | undefined {
    i = Math.min(i, this.lastIndex())
    for (;;) {
      const t = this.term(i)
      if (t === undefined || t < term) return undefined
      if (t === term) return i
      i--
    }
  }

  commitTo (i: number): void {
    i = Math.min(i, this.lastIndex())
    if (i > this.committed) this.committed = i
  }

  unstableEntries (): Entry[] { return this.slice(this.stabled + 1, this.lastIndex() + 1) }

  /** The driver persisted up to (i, term); ignored when a truncation replaced that entry meanwhile. */
  stableTo (i: number, term: number): void {
    if (i > this.stabled && this.matchTerm(i, term)) this.stabled = i
  }

  nextCommittedEntries (): Entry[] { return this.slice(this.applied + 1, this.committed + 1) }

  appliedTo (i: number): void {
    if (i > this.applied && i <= this.committed) this.applied = i
  }

  // ---- snapshots ----------------------------------------------------------------------------

  /** The snapshot the log starts after (index 0 when it was never compacted). */
  snapshotMeta (): SnapshotMeta {
    const c = this.baseConf
    return { index: this.base, term: this.baseTerm, voters: c.voters.slice(), learners: c.learners.slice() }
  }

  /** Drop the entries up to i (applied and durable): a snapshot of the state machine covers them. */
  compact (i: number): void {
    if (i <= this.base) return
    const term = this.term(i)
    if (term === undefined || i > this.applied || i > this.stabled) throw new Error(`raft: cannot compact to ${i} (applied ${this.applied}, stable ${this.stabled}, last ${this.lastIndex()})`)
    this.baseConf = this.confAt(i)
    let n = 0
    while (n < this.confs.length && (this.confs[n]?.index ?? 0) <= i) n++
    // The configuration in force does not change: the dropped entries only move into the base.
    this.confs.splice(0, n)
    this.entries.splice(0, i - this.base)
    this.base = i
    this.baseTerm = term
  }

  /** Replace the whole log by a snapshot (a follower far behind its leader). */
  restore (s: SnapshotMeta): void {
    this.entries = []
    this.base = s.index
    this.baseTerm = s.term
    this.baseConf = { voters: s.voters.slice(), learners: s.learners.slice() }
    this.confs = []
    this.confVersion++
    this.committed = s.index
    this.applied = s.index
    // The driver stores the snapshot before anything that follows it in the same Ready.
    this.stabled = s.index
  }
}
