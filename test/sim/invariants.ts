/**
 * Raft's safety properties (thesis figure 3.2), checked incrementally as the simulator observes
 * each node persist, become leader and apply. Each check is a few map lookups, so it runs on
 * every step of every schedule.
 */
import type { Entry, HardState } from '../../protocols/raft/core/index.js'

export class InvariantViolation extends Error {
  constructor (readonly invariant: string, readonly detail: string) {
    super(`${invariant}: ${detail}`)
    this.name = 'InvariantViolation'
  }
}

export function sameEntry (a: Entry, b: Entry): boolean {
  if (a.term !== b.term || a.index !== b.index || (a.type ?? 'normal') !== (b.type ?? 'normal')) return false
  if (a.data.length !== b.data.length) return false
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false
  return true
}

export class Checker {
  private readonly leaderOfTerm = new Map<number, string>()
  /** Terms of the leader's log when it took office, position i = index i. */
  private readonly leaderLogs = new Map<number, number[]>()
  /** Every (index, term) ever persisted anywhere, with the term before it. */
  private readonly written = new Map<string, { prevTerm: number, entry: Entry }>()
  /** The entry applied at each index, by whoever applied it first. */
  private readonly appliedAt: Entry[] = [{ term: 0, index: 0, data: new Uint8Array(0) }]
  /** Lowest term at which any node saw index i committed. */
  private readonly committedInTerm: number[] = []
  private readonly lastHard = new Map<string, HardState>()

  /** Highest index any node has applied (so: reported committed). */
  get maxCommitted (): number { return this.appliedAt.length - 1 }
  get leaders (): number { return this.leaderOfTerm.size }

  entryAt (index: number): Entry | undefined { return this.appliedAt[index] }

  /**
   * A node durably wrote `hs` and/or entries [from..] of `log` (its whole durable log after the
   * write, following a snapshot of index `base`, term `baseTerm`). Log Matching, by induction on the index: an (index, term) pair names one entry and
   * one predecessor term everywhere, so equal pairs imply equal prefixes.
   */
  onPersist (node: string, hs: HardState | undefined, log: readonly Entry[], from: number, base = 0, baseTerm = 0): void {
    if (hs !== undefined) {
      const last = this.lastHard.get(node)
      if (last !== undefined) {
        if (hs.term < last.term) throw new InvariantViolation('Durable Term', `${node} term went from ${last.term} to ${hs.term}`)
        if (hs.term === last.term && last.vote !== '' && hs.vote !== last.vote) {
          throw new InvariantViolation('One Vote Per Term', `${node} voted ${last.vote} then ${hs.vote} in term ${hs.term}`)
        }
      }
      this.lastHard.set(node, hs)
    }
    for (let i = from; i < log.length; i++) {
      const e = log[i]!
      const prevTerm = i === 0 ? baseTerm : log[i - 1]!.term
      const key = e.index + '/' + e.term
      const seen = this.written.get(key)
      if (seen === undefined) {
        this.written.set(key, { prevTerm, entry: e })
      } else if (seen.prevTerm !== prevTerm || !sameEntry(seen.entry, e)) {
        throw new InvariantViolation('Log Matching', `${node} holds a different entry or prefix at index ${e.index} term ${e.term}`)
      }
    }
    const commit = this.lastHard.get(node)?.commit ?? 0
    if (commit > base + log.length) throw new InvariantViolation('Durable Commit', `${node} persisted commit ${commit} past its last index ${base + log.length}`)
  }

  /** `node` took office in `term` holding `log` (already durable). */
  onLeader (node: string, term: number, log: readonly Entry[]): void {
    const other = this.leaderOfTerm.get(term)
    if (other !== undefined && other !== node) {
      throw new InvariantViolation('Election Safety', `${other} and ${node} both leaders of term ${term}`)
    }
    this.leaderOfTerm.set(term, node)
    const terms = [0, ...log.map(e => e.term)]
    this.leaderLogs.set(term, terms)
    for (let i = 1; i < this.appliedAt.length; i++) {
      const c = this.committedInTerm[i]
      if (c !== undefined && c < term) this.checkLeaderHas(term, terms, this.appliedAt[i]!)
    }
  }

  /** `node`, currently in `term`, applied `e`: committed, as far as it knows. */
  onApply (node: string, term: number, e: Entry): void {
    const first = this.appliedAt[e.index]
    if (first !== undefined && !sameEntry(first, e)) {
      throw new InvariantViolation('State Machine Safety', `${node} applied term ${e.term} at index ${e.index}, another node applied term ${first.term}`)
    }
    // Each node applies 1, 2, 3... (the simulator checks), so this array stays dense.
    if (first === undefined) this.appliedAt[e.index] = e
    const known = this.committedInTerm[e.index]
    if (known !== undefined && known <= term) return
    this.committedInTerm[e.index] = term
    // Leader Completeness: every leader of a later term must have taken office holding it.
    for (const [t, terms] of this.leaderLogs) if (t > term) this.checkLeaderHas(t, terms, e)
  }

  private checkLeaderHas (term: number, terms: number[], e: Entry): void {
    if (terms[e.index] !== e.term) {
      const who = this.leaderOfTerm.get(term) ?? '?'
      throw new InvariantViolation('Leader Completeness', `leader ${who} of term ${term} lacks committed index ${e.index} (term ${e.term}, committed by term ${this.committedInTerm[e.index] ?? '?'})`)
    }
  }
}
