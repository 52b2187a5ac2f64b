/**
 * Cyclic barriers and double barriers (see state.ts for the rules). Only open generations are
 * kept; a generation's number is the log index of the arrival that opened it, so numbers grow and
 * never repeat for a name although nothing is kept between generations.
 */
import { LeaseIndex } from './lease-index.js'
import {
  fail, type BarrierInfo, type CoordEvent, type CoordFailure, type CoordLimits, type CoordOkResults,
  type CoordSnapshot, type DBarrierInfo, type DGenInfo
} from './types.js'

interface Generation { generation: number, parties: number, arrivals: Map<string, string> } // waiter -> lease

function members (m: Map<string, string>): Array<{ waiter: string, lease: string }> {
  return [...m].map(([waiter, lease]) => ({ waiter, lease }))
}

export class BarrierTable {
  private readonly open = new Map<string, Generation>()
  private readonly byLease = new LeaseIndex()

  constructor (private readonly limits: CoordLimits) {}

  count (lease: string): number { return this.byLease.count(lease) }
  get size (): number { return this.open.size }

  info (name: string): BarrierInfo | null {
    const g = this.open.get(name)
    return g === undefined ? null : { generation: g.generation, parties: g.parties, arrivals: members(g.arrivals) }
  }

  wait (index: number, c: { name: string, parties: number, lease: string, waiter: string }, events: CoordEvent[], barriers: number): CoordOkResults['barrier_wait'] | CoordFailure {
    let g = this.open.get(c.name)
    if (g === undefined) {
      if (barriers >= this.limits.maxBarriers) return fail('limit', `more than ${this.limits.maxBarriers} open barriers`)
      g = { generation: index, parties: c.parties, arrivals: new Map() }
    } else if (g.parties !== c.parties) {
      return fail('parties_mismatch', `generation ${g.generation} of ${c.name} has ${g.parties} parties, not ${c.parties}`)
    } else if (g.arrivals.has(c.waiter)) {
      return fail('already_waiting', `waiter ${c.waiter} already arrived at ${c.name}`)
    }
    g.arrivals.set(c.waiter, c.lease)
    const arrived = g.arrivals.size
    if (arrived < g.parties) {
      this.open.set(c.name, g)
      this.byLease.add(c.lease, c.name)
      return { ok: true, op: 'barrier_wait', generation: g.generation, released: false, arrived, parties: g.parties }
    }
    // The last party: release every arrival of this generation at once and close it, so the next
    // arrival opens a new generation and none of these can be released again.
    for (const [waiter, lease] of g.arrivals) if (waiter !== c.waiter) this.byLease.remove(lease, c.name)
    this.open.delete(c.name)
    events.push({ type: 'barrier_released', name: c.name, generation: g.generation, waiters: [...g.arrivals.keys()] })
    return { ok: true, op: 'barrier_wait', generation: g.generation, released: true, arrived, parties: g.parties }
  }

  cancel (c: { name: string, lease: string, waiter: string }): CoordOkResults['barrier_cancel'] {
    const g = this.open.get(c.name)
    if (g === undefined || g.arrivals.get(c.waiter) !== c.lease) return { ok: true, op: 'barrier_cancel', removed: false, generation: null }
    this.remove(c.name, g, c.waiter, c.lease)
    return { ok: true, op: 'barrier_cancel', removed: true, generation: g.generation }
  }

  dropLease (lease: string, events: CoordEvent[]): void {
    for (const name of this.byLease.names(lease)) {
      const g = this.open.get(name)
      if (g === undefined) continue
      for (const [waiter, l] of [...g.arrivals]) {
        if (l !== lease) continue
        this.remove(name, g, waiter, lease)
        events.push({ type: 'barrier_left', name, generation: g.generation, waiter, lease })
      }
    }
  }

  /** An empty generation is closed: the parties of the next one are fixed by its first arrival. */
  private remove (name: string, g: Generation, waiter: string, lease: string): void {
    g.arrivals.delete(waiter)
    this.byLease.remove(lease, name)
    if (g.arrivals.size === 0) this.open.delete(name)
  }

  dump (): CoordSnapshot['barriers'] {
    return [...this.open.keys()].map(name => ({ name, ...(this.info(name) as BarrierInfo) }))
  }

  load (barriers: CoordSnapshot['barriers']): void {
    this.open.clear()
    this.byLease.clear()
    for (const b of barriers) {
      this.open.set(b.name, { generation: b.generation, parties: b.parties, arrivals: new Map(b.arrivals.map(a => [a.waiter, a.lease])) })
      for (const a of b.arrivals) this.byLease.add(a.lease, b.name)
    }
  }
}

/** A generation of a double barrier; `members` have entered (or are entering) and not left. */
interface DGen { generation: number, parties: number, members: Map<string, string>, left: string[] }
interface DBarrier { entering: DGen | undefined, inside: DGen[] }

function dgenInfo (g: DGen): DGenInfo {
  return { generation: g.generation, parties: g.parties, members: members(g.members), left: [...g.left] }
}

/**
 * ZooKeeper's double barrier: nobody proceeds until `parties` have entered, nobody leaves until all
 * that entered have left. A generation that has entered stays "inside" until its last member
 * leaves, while the next generation may already be entering.
 */
export class DoubleBarrierTable {
  private readonly barriers = new Map<string, DBarrier>()
  private readonly byLease = new LeaseIndex()

  constructor (private readonly limits: CoordLimits) {}

  count (lease: string): number { return this.byLease.count(lease) }
  get size (): number { return this.barriers.size }

  info (name: string): DBarrierInfo | null {
    const b = this.barriers.get(name)
    return b === undefined ? null : { entering: b.entering === undefined ? null : dgenInfo(b.entering), inside: b.inside.map(dgenInfo) }
  }

  enter (index: number, c: { name: string, parties: number, lease: string, waiter: string }, events: CoordEvent[], barriers: number): CoordOkResults['dbarrier_enter'] | CoordFailure {
    let b = this.barriers.get(c.name)
    if (b === undefined) {
      if (barriers >= this.limits.maxBarriers) return fail('limit', `more than ${this.limits.maxBarriers} open barriers`)
      b = { entering: undefined, inside: [] }
    }
    if (b.entering?.members.has(c.waiter) === true) return fail('already_waiting', `waiter ${c.waiter} is already entering ${c.name}`)
    if (b.inside.some(g => g.members.has(c.waiter))) return fail('already_held', `waiter ${c.waiter} is already inside ${c.name}`)
    if (b.entering !== undefined && b.entering.parties !== c.parties) {
      return fail('parties_mismatch', `generation ${b.entering.generation} of ${c.name} has ${b.entering.parties} parties, not ${c.parties}`)
    }
    const g = b.entering ?? { generation: index, parties: c.parties, members: new Map<string, string>(), left: [] }
    g.members.set(c.waiter, c.lease)
    b.entering = g
    this.barriers.set(c.name, b)
    this.byLease.add(c.lease, c.name)
    const arrived = g.members.size
    if (arrived === g.parties) {
      b.entering = undefined
      b.inside.push(g)
      events.push({ type: 'dbarrier_entered', name: c.name, generation: g.generation, waiters: [...g.members.keys()] })
    }
    return { ok: true, op: 'dbarrier_enter', generation: g.generation, entered: arrived === g.parties, arrived, parties: g.parties }
  }

  leave (c: { name: string, lease: string, waiter: string }, events: CoordEvent[]): CoordOkResults['dbarrier_leave'] {
    const b = this.barriers.get(c.name)
    if (b !== undefined && b.entering?.members.get(c.waiter) === c.lease) {
      const g = b.entering
      this.removeMember(c.name, b, g, c.waiter, c.lease, events)
      return { ok: true, op: 'dbarrier_leave', was: 'entering', generation: g.generation, released: false, remaining: g.members.size }
    }
    const g = b?.inside.find(g => g.members.get(c.waiter) === c.lease)
    if (b === undefined || g === undefined) return { ok: true, op: 'dbarrier_leave', was: 'none', generation: null, released: false, remaining: 0 }
    g.left.push(c.waiter)
    this.removeMember(c.name, b, g, c.waiter, c.lease, events)
    return { ok: true, op: 'dbarrier_leave', was: 'inside', generation: g.generation, released: g.members.size === 0, remaining: g.members.size }
  }

  /** A revoked lease leaves everything: entering generations forget it, inside ones count it as left. */
  dropLease (lease: string, events: CoordEvent[]): void {
    for (const name of this.byLease.names(lease)) {
      const b = this.barriers.get(name)
      if (b === undefined) continue
      for (const g of [...b.inside, ...(b.entering === undefined ? [] : [b.entering])]) {
        for (const [waiter, l] of [...g.members]) {
          if (l !== lease) continue
          events.push({ type: 'dbarrier_left', name, generation: g.generation, waiter, lease })
          this.removeMember(name, b, g, waiter, lease, events)
        }
      }
    }
  }

  private removeMember (name: string, b: DBarrier, g: DGen, waiter: string, lease: string, events: CoordEvent[]): void {
    g.members.delete(waiter)
    this.byLease.remove(lease, name)
    if (g.members.size === 0) {
      if (g === b.entering) {
        b.entering = undefined
      } else {
        b.inside = b.inside.filter(x => x !== g)
        events.push({ type: 'dbarrier_left_all', name, generation: g.generation, waiters: [...g.left] })
      }
    }
    if (b.entering === undefined && b.inside.length === 0) this.barriers.delete(name)
  }

  dump (): CoordSnapshot['dbarriers'] {
    return [...this.barriers.keys()].map(name => ({ name, ...(this.info(name) as DBarrierInfo) }))
  }

  load (dbarriers: CoordSnapshot['dbarriers']): void {
    this.barriers.clear()
    this.byLease.clear()
    const gen = (name: string, g: DGenInfo): DGen => {
      for (const m of g.members) this.byLease.add(m.lease, name)
      return { generation: g.generation, parties: g.parties, members: new Map(g.members.map(m => [m.waiter, m.lease])), left: [...g.left] }
    }
    for (const d of dbarriers) {
      this.barriers.set(d.name, { inside: d.inside.map(g => gen(d.name, g)), entering: d.entering === null ? undefined : gen(d.name, d.entering) })
    }
  }
}
