/**
 * The in-memory Raft log: every entry, plus three cursors. `stabled` is the last index the driver
 * has persisted, `committed` the last index known committed, `applied` the last one handed out to
 * the state machine. Entries are immutable once created.
 *
 * `base`/`baseTerm` describe the entry just before entries[0]; today that is index 0 term 0, and a
 * snapshot (later issue) will move it forward without changing the rest.
 */
import type { Entry } from './types.js'

export class RaftLog {
  private entries: Entry[] = []
  private base = 0
  private baseTerm = 0
  committed = 0
  applied = 0
  stabled = 0

  constructor (restored?: { entries: Entry[], commit: number, applied?: number }) {
    if (restored === undefined) return
    let want = 1
    for (const e of restored.entries) {
      if (e.index !== want) throw new Error(`restored log is not contiguous from 1 at index ${e.index}`)
      want++
    }
    this.entries = restored.entries.slice()
    this.stabled = this.lastIndex()
    if (restored.commit > this.lastIndex()) throw new Error(`restored commit ${restored.commit} is past the last index ${this.lastIndex()}`)
    this.committed = restored.commit
    this.applied = Math.min(restored.applied ?? 0, this.committed)
  }

  firstIndex (): number { return this.base + 1 }
  lastIndex (): number { return this.base + this.entries.length }
  lastTerm (): number { return this.term(this.lastIndex()) ?? 0 }

  /** Term of the entry at i, or undefined when i is outside the log. */
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

  /** Leader path: entries already carry their index, contiguous after lastIndex. */
  appendOwn (ents: Entry[]): void {
    for (const e of ents) this.entries.push(e)
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
    for (const e of ents) this.entries.push(e)
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
}
