/**
 * Role elections in the manner of etcd's concurrency.Election: candidates of a role queue in
 * campaign order and the head is the leader. A role exists only while it has a candidate.
 */
import { LeaseIndex } from './lease-index.js'
import {
  fail, type Candidate, type CoordEvent, type CoordFailure, type CoordLimits, type CoordOkResults,
  type CoordSnapshot, type LeaderInfo
} from './types.js'

function leaderEvent (role: string, c: Candidate | undefined): CoordEvent {
  return c === undefined
    ? { type: 'election_leader', role, lease: null, waiter: null, value: null, revision: null }
    : { type: 'election_leader', role, lease: c.lease, waiter: c.waiter, value: c.value, revision: c.revision }
}

export class ElectionTable {
  private readonly roles = new Map<string, Candidate[]>()
  private readonly byLease = new LeaseIndex()

  constructor (private readonly limits: CoordLimits) {}

  count (lease: string): number { return this.byLease.count(lease) }

  leader (role: string): LeaderInfo | null {
    const c = this.roles.get(role)?.[0]
    return c === undefined ? null : { ...c }
  }

  candidates (role: string): Candidate[] {
    return this.roles.get(role)?.map(c => ({ ...c })) ?? []
  }

  campaign (index: number, c: { role: string, lease: string, value: string, waiter: string }, events: CoordEvent[]): CoordOkResults['campaign'] | CoordFailure {
    const queue = this.roles.get(c.role) ?? []
    const mine = queue.findIndex(x => x.lease === c.lease)
    if (mine === 0) return fail('already_held', `lease ${c.lease} already leads ${c.role}`)
    if (mine > 0) return fail('already_waiting', `lease ${c.lease} already campaigns for ${c.role}`)
    if (queue.length === 0 && this.roles.size >= this.limits.maxRoles) return fail('limit', `more than ${this.limits.maxRoles} roles`)
    if (queue.length >= this.limits.maxCandidatesPerRole) return fail('limit', `more than ${this.limits.maxCandidatesPerRole} candidates for ${c.role}`)
    const candidate: Candidate = { lease: c.lease, waiter: c.waiter, value: c.value, revision: index }
    queue.push(candidate)
    this.roles.set(c.role, queue)
    this.byLease.add(c.lease, c.role)
    if (queue.length === 1) events.push(leaderEvent(c.role, candidate))
    return { ok: true, op: 'campaign', leader: queue.length === 1, revision: index }
  }

  resign (c: { role: string, lease: string }, events: CoordEvent[]): CoordOkResults['resign'] {
    const i = this.roles.get(c.role)?.findIndex(x => x.lease === c.lease) ?? -1
    if (i < 0) return { ok: true, op: 'resign', was: 'none' }
    this.remove(c.role, c.lease, events)
    return { ok: true, op: 'resign', was: i === 0 ? 'leader' : 'candidate' }
  }

  /** Changes the leader's value; observers get an election_leader event with it. */
  proclaim (c: { role: string, lease: string, value: string }, events: CoordEvent[]): CoordOkResults['proclaim'] | CoordFailure {
    const head = this.roles.get(c.role)?.[0]
    if (head === undefined || head.lease !== c.lease) return fail('not_leader', `lease ${c.lease} is not the leader of ${c.role}`)
    head.value = c.value
    events.push(leaderEvent(c.role, head))
    return { ok: true, op: 'proclaim', revision: head.revision }
  }

  dropLease (lease: string, events: CoordEvent[]): void {
    for (const role of this.byLease.names(lease)) this.remove(role, lease, events)
  }

  private remove (role: string, lease: string, events: CoordEvent[]): void {
    const queue = this.roles.get(role)
    const i = queue?.findIndex(x => x.lease === lease) ?? -1
    if (queue === undefined || i < 0) return
    queue.splice(i, 1)
    this.byLease.remove(lease, role)
    if (queue.length === 0) this.roles.delete(role)
    if (i === 0) events.push(leaderEvent(role, queue[0]))
  }

  dump (): CoordSnapshot['elections'] {
    return [...this.roles.keys()].map(role => ({ role, candidates: this.candidates(role) }))
  }

  load (elections: CoordSnapshot['elections']): void {
    this.roles.clear()
    this.byLease.clear()
    for (const e of elections) {
      this.roles.set(e.role, e.candidates.map(c => ({ ...c })))
      for (const c of e.candidates) this.byLease.add(c.lease, e.role)
    }
  }
}
