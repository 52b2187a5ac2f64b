/**
 * Cluster formation, like Consul's bootstrap-expect, as a pure state machine (the service feeds it
 * hellos and the clock). A node without a cluster:
 *
 * 1. collects candidates: itself and every peer whose recent hello says it has no cluster either
 *    and expects the same number of voters N;
 * 2. once it sees at least N and the set has not changed for `settleMs`, proposes the N smallest
 *    peer ids (a proposal is only announced, it binds nobody);
 * 3. locks that set when every member of it proposes the same set. A lock is persisted before it
 *    is announced and is final: a locked node never starts with any other voter set;
 * 4. starts Raft with the set when every member of it is locked to it (or already runs it).
 *
 * Since every voter of a started cluster was locked to exactly that set, two started clusters can
 * never share a voter. A node that meets a running cluster it is not a voter of (and has not
 * locked itself elsewhere) asks that cluster's leader to add it as a learner.
 */

export type HelloState = 'forming' | 'locked' | 'member'

export interface PeerHello {
  state: HelloState
  expect: number
  proposal: string[]
  voters: string[]
  learners: string[]
  cluster: string
  leader: string
}

export type Decision =
  | { kind: 'wait', reason: string }
  | { kind: 'lock', voters: string[] }
  | { kind: 'start', voters: string[] }
  | { kind: 'join', via: string, cluster: string }

interface Seen { hello: PeerHello, at: number }

export interface FormationInit {
  self: string
  expect: number
  settleMs: number
  /** A peer whose last hello is older than this no longer counts. */
  staleMs: number
  /** Restored from storage: a lock survives restarts. */
  lock: string[] | null
}

const key = (ids: string[]): string => ids.join(',')

export class Formation {
  readonly self: string
  readonly expect: number
  locked: string[] | null
  proposal: string[] | null = null
  private readonly seen = new Map<string, Seen>()
  private candidateKey = ''
  private stableSince = 0
  private readonly settleMs: number
  private readonly staleMs: number
  /** Peers ignored because they expect another N (reported once each). */
  readonly mismatched = new Set<string>()

  constructor (init: FormationInit) {
    this.self = init.self
    this.expect = init.expect
    this.settleMs = init.settleMs
    this.staleMs = init.staleMs
    this.locked = init.lock
  }

  onHello (from: string, hello: PeerHello, now: number): void {
    if (from === this.self) return
    this.seen.set(from, { hello, at: now })
  }

  forget (peer: string): void { this.seen.delete(peer) }

  private fresh (now: number): Array<[string, PeerHello]> {
    const out: Array<[string, PeerHello]> = []
    for (const [id, s] of this.seen) {
      if (now - s.at > this.staleMs) { this.seen.delete(id); continue }
      out.push([id, s.hello])
    }
    return out
  }

  /** Candidates now: self plus fresh peers without a cluster that expect our N and are not locked elsewhere. */
  candidates (now: number): string[] {
    const ids = [this.self]
    for (const [id, h] of this.fresh(now)) {
      if (h.state === 'member') continue
      if (h.expect !== this.expect) { this.mismatched.add(id); continue }
      if (h.state === 'locked' && !h.voters.includes(this.self)) continue
      ids.push(id)
    }
    return ids.sort()
  }

  /** What to do now; the caller acts on lock/start/join and calls again later. */
  decide (now: number): Decision {
    const peers = this.fresh(now)
    const members = peers.filter(([, h]) => h.state === 'member')

    if (this.locked !== null) {
      const mine = key(this.locked)
      // Someone of our set already runs it: everyone was locked, so start too.
      if (members.some(([id, h]) => this.locked!.includes(id) && key(h.voters) === mine)) return { kind: 'start', voters: this.locked }
      const missing = this.locked.filter(id => id !== this.self && !peers.some(([pid, h]) => pid === id && h.state === 'locked' && key(h.voters) === mine))
      if (missing.length === 0) return { kind: 'start', voters: this.locked }
      return { kind: 'wait', reason: `locked to ${this.locked.length} voters; waiting for ${missing.length} of them to lock too: ${missing.join(', ')}` }
    }

    if (members.length > 0) {
      const [via, h] = members.find(([, mh]) => mh.leader !== '') ?? members[0]!
      if (h.voters.includes(this.self)) {
        // Only possible if this node lost its state (a wiped store with a kept key): joining as
        // a voter with an empty log could undo committed writes, so it stays out.
        return { kind: 'wait', reason: `cluster ${h.cluster} lists this node as a voter but it has no raft state; give it a new identity to join as a learner` }
      }
      return { kind: 'join', via: h.leader !== '' ? h.leader : via, cluster: h.cluster }
    }

    // A peer that locked a set with us in it saw us propose that set: take it.
    for (const [, h] of peers) {
      if (h.state === 'locked' && h.expect === this.expect && h.voters.includes(this.self)) return { kind: 'lock', voters: h.voters }
    }

    const cands = this.candidates(now)
    const k = key(cands)
    if (k !== this.candidateKey) {
      this.candidateKey = k
      this.stableSince = now
      this.proposal = null
    }
    if (cands.length < this.expect) {
      return { kind: 'wait', reason: `waiting for ${this.expect} voters: ${cands.length} seen (${cands.join(', ')})` }
    }
    if (now - this.stableSince < this.settleMs) return { kind: 'wait', reason: `${cands.length} candidates seen; waiting ${this.settleMs} ms for the set to settle` }
    this.proposal = cands.slice(0, this.expect)
    if (!this.proposal.includes(this.self)) {
      return { kind: 'wait', reason: `not among the ${this.expect} smallest peer ids; will join the cluster they form as a learner` }
    }
    const p = key(this.proposal)
    const disagree = this.proposal.filter(id => id !== this.self && !peers.some(([pid, h]) => pid === id && key(h.proposal) === p))
    if (disagree.length > 0) return { kind: 'wait', reason: `proposed ${this.proposal.length} voters; waiting for ${disagree.join(', ')} to propose the same set` }
    return { kind: 'lock', voters: this.proposal }
  }
}
