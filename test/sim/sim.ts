/**
 * Deterministic Raft simulator. One seed fixes everything: the scenario (cluster size, learner,
 * flow-control knobs), every network delay, loss, duplicate and partition, every crash, every
 * client proposal, and each node's election-timeout draws. The simulator plays the driver for
 * each RaftNode (tick, step, ready → persist → send → apply → advance) on a virtual clock, checks
 * the safety invariants after every step, then heals everything and checks liveness.
 */
import { RaftNode } from '../../protocols/raft/core/index.js'
import type { Entry, HardState, Message, RaftConfig, Ready, UnsafeFlags } from '../../protocols/raft/core/index.js'
import { Checker, InvariantViolation } from './invariants.js'
import { CALM, Network } from './network.js'
import { Prng } from './prng.js'
import { EventQueue } from './queue.js'
import { drawScenario, drawWeather } from './scenario.js'
import type { Profile, Scenario } from './scenario.js'

export type { Profile, Scenario } from './scenario.js'

/** Virtual time units per tick. */
export const TICK = 10
/**
 * After healing, the cluster must converge within this many ticks, plus two per entry of the
 * longest log: a follower far behind catches up at one append per round trip when the scenario
 * allows one entry per append and one append in flight.
 */
const LIVENESS_TICKS = 300

export interface SimOptions {
  seed: number
  unsafe?: UnsafeFlags
  profile?: Profile
  /** One line per event, for reading a replayed seed. */
  log?: (line: string) => void
}

export interface SimCounts {
  sent: number
  delivered: number
  lost: number
  duplicated: number
  proposals: number
  accepted: number
  forwarded: number
  dropped: number
  crashes: number
  restarts: number
  partitions: number
}

export interface SimResult {
  seed: number
  traceHash: string
  steps: number
  time: number
  scenario: Scenario
  counts: SimCounts
  leaders: number
  maxTerm: number
  committed: number
  leader: string
}

export class SimViolation extends Error {
  constructor (readonly seed: number, readonly step: number, readonly time: number, readonly invariant: string, detail: string) {
    super(`seed ${seed} step ${step} t=${time}: ${invariant}: ${detail}`)
    this.name = 'SimViolation'
  }
}

type SimEvent =
  | { kind: 'tick', node: SimNode }
  | { kind: 'deliver', msg: Message }
  | { kind: 'client' }
  | { kind: 'fault' }
  | { kind: 'heal' }
  | { kind: 'check' }

const MSG_CODES: Record<Message['type'], number> = {
  MsgProp: 1, MsgApp: 2, MsgAppResp: 3, MsgVote: 4, MsgVoteResp: 5, MsgPreVote: 6, MsgPreVoteResp: 7, MsgHeartbeat: 8, MsgHeartbeatResp: 9
}

/** A node as the driver sees it: the core (null while crashed) and what it made durable. */
class SimNode {
  raft: RaftNode | null = null
  hard: HardState = { term: 0, vote: '', commit: 0 }
  log: Entry[] = []
  applied = 0
  constructor (readonly id: string, readonly idx: number, readonly rng: Prng, readonly tickEvery: number) {}
}

export function runSim (opts: SimOptions): SimResult {
  return new Sim(opts).run()
}

class Sim {
  private readonly rng: Prng
  private readonly net: Network
  private readonly queue = new EventQueue<SimEvent>()
  private readonly checker = new Checker()
  private readonly sc: Scenario
  private readonly nodes: SimNode[] = []
  private readonly byId = new Map<string, SimNode>()
  private readonly voterIds: string[] = []
  private readonly learnerIds: string[] = []
  private readonly counts: SimCounts = {
    sent: 0, delivered: 0, lost: 0, duplicated: 0, proposals: 0, accepted: 0, forwarded: 0, dropped: 0, crashes: 0, restarts: 0, partitions: 0
  }

  private now = 0
  private step = 0
  private h1 = 0x811c9dc5
  private h2 = 0x01234567
  private healed = false
  private deadline = Infinity
  private done = false
  /** The proposal the liveness check pushes through the final leader. */
  private marker: { index: number, term: number } | null = null
  private nextValue = 1

  constructor (private readonly opts: SimOptions) {
    this.rng = new Prng(opts.seed)
    this.sc = drawScenario(this.rng, opts.profile)
    this.net = new Network(this.rng.fork())
    this.net.weather = drawWeather(this.rng)
    for (let i = 1; i <= this.sc.voters; i++) this.voterIds.push('n' + i)
    for (let i = 1; i <= this.sc.learners; i++) this.learnerIds.push('l' + i)
    for (const id of [...this.voterIds, ...this.learnerIds]) {
      const node = new SimNode(id, this.nodes.length, this.rng.fork(), TICK + this.rng.between(-1, 1))
      this.nodes.push(node)
      this.byId.set(id, node)
    }
  }

  run (): SimResult {
    for (const node of this.nodes) {
      node.raft = new RaftNode(this.config(node))
      this.queue.push(this.rng.between(1, TICK), { kind: 'tick', node })
    }
    this.queue.push(this.rng.between(1, this.sc.clientGap), { kind: 'client' })
    this.queue.push(this.rng.between(1, this.sc.faultGap), { kind: 'fault' })
    const healAt = this.sc.chaosTicks * TICK
    this.queue.push(healAt, { kind: 'heal' })
    try {
      while (!this.done) {
        const ev = this.queue.pop()
        if (ev === undefined) throw new InvariantViolation('Liveness', 'nothing left to simulate')
        this.now = ev.time
        this.step++
        if (this.now > this.deadline) throw new InvariantViolation('Liveness', `not converged ${(this.deadline - healAt) / TICK} ticks after healing: ${this.describe()}`)
        this.handle(ev.item)
      }
    } catch (err) {
      if (err instanceof InvariantViolation) throw new SimViolation(this.opts.seed, this.step, this.now, err.invariant, err.detail)
      throw err
    }
    return this.result()
  }

  private config (node: SimNode): RaftConfig {
    return {
      id: node.id,
      voters: this.voterIds,
      learners: this.learnerIds,
      electionTicks: this.sc.electionTicks,
      heartbeatTicks: this.sc.heartbeatTicks,
      rand: () => node.rng.float(),
      maxInflightAppends: this.sc.maxInflightAppends,
      maxEntriesPerAppend: this.sc.maxEntriesPerAppend,
      checkQuorum: true,
      preVote: true,
      unsafe: this.opts.unsafe
    }
  }

  private handle (ev: SimEvent): void {
    switch (ev.kind) {
      case 'tick': {
        const node = ev.node
        this.mix(1, node.idx)
        if (node.raft !== null) {
          node.raft.tick()
          this.drive(node)
        }
        this.queue.push(this.now + node.tickEvery, ev)
        return
      }
      case 'deliver': return this.deliver(ev.msg)
      case 'client':
        if (this.healed) return
        this.clientBurst()
        this.queue.push(this.now + this.rng.between(1, 2 * this.sc.clientGap), ev)
        return
      case 'fault':
        if (this.healed) return
        this.fault()
        this.queue.push(this.now + this.rng.between(1, 2 * this.sc.faultGap), ev)
        return
      case 'heal': return this.heal()
      case 'check':
        if (this.converged()) this.done = true
        else this.queue.push(this.now + TICK, ev)
    }
  }

  private deliver (m: Message): void {
    const node = this.byId.get(m.to)
    if (node?.raft == null || !this.net.linkUp(m.from, m.to)) {
      this.counts.lost++
      this.mix(2, -1)
      return
    }
    this.counts.delivered++
    this.mixMsg(3, m)
    this.trace(() => `deliver ${fmtMsg(m)}`)
    node.raft.step(m)
    this.drive(node)
  }

  /** The driver loop, with the adapter's rule: persist, then send (a leader may send first), then apply, then advance. */
  private drive (node: SimNode): void {
    const raft = node.raft
    if (raft === null) return
    for (;;) {
      const rd = raft.ready()
      if (rd === null) return
      const risk = rd.softState?.role === 'leader' ? this.sc.crashNewLeader : this.sc.crashMidReady
      if (rd.sendFirst === true) {
        // A leader's appends travel while it persists: it may crash with them sent, not durable.
        for (const m of rd.messages) this.send(m)
        if (!this.healed && this.rng.chance(risk)) {
          this.trace(() => `crash ${node.id} (leader, after sending, before persisting)`)
          this.crash(node)
          return
        }
        this.persist(node, rd)
      } else {
        this.persist(node, rd)
        if (!this.healed && this.rng.chance(risk)) {
          this.trace(() => `crash ${node.id} (after persisting, before sending)`)
          this.crash(node)
          return
        }
        for (const m of rd.messages) this.send(m)
      }
      if (rd.softState !== undefined) {
        this.mix(4, node.idx)
        this.trace(() => `${node.id} is ${rd.softState?.role} (leader ${rd.softState?.leader || '-'}) term ${node.hard.term}`)
        if (rd.softState.role === 'leader') this.checker.onLeader(node.id, node.hard.term, node.log)
      }
      for (const e of rd.committedEntries) {
        if (e.index !== node.applied + 1) throw new InvariantViolation('Apply Order', `${node.id} applied index ${e.index} after ${node.applied}`)
        this.checker.onApply(node.id, node.hard.term, e)
        node.applied = e.index
      }
      raft.advance(rd)
      if (!this.healed && rd.committedEntries.length > 0 && raft.status().role === 'leader' && this.rng.chance(this.sc.crashAfterCommit)) {
        this.trace(() => `crash ${node.id} (leader, right after applying up to ${node.applied})`)
        this.crash(node)
        return
      }
    }
  }

  private persist (node: SimNode, rd: Ready): void {
    if (rd.hardState !== undefined) node.hard = { ...rd.hardState }
    let from = node.log.length
    const first = rd.entries[0]
    if (first !== undefined) {
      if (first.index < 1 || first.index > node.log.length + 1) {
        throw new InvariantViolation('Driver Contract', `${node.id} asked to persist index ${first.index} after durable index ${node.log.length}`)
      }
      node.log.length = first.index - 1
      from = node.log.length
      for (const e of rd.entries) node.log.push(e)
    }
    if (rd.hardState !== undefined || first !== undefined) {
      this.mix(5, node.hard.term * 65536 + node.hard.commit)
      this.mix(6, node.log.length)
      this.checker.onPersist(node.id, rd.hardState, node.log, from)
    }
  }

  private send (m: Message): void {
    this.counts.sent++
    const times = this.net.transmit(m.from, m.to, this.now)
    if (times.length === 0) this.counts.lost++
    if (times.length > 1) this.counts.duplicated++
    for (const t of times) {
      this.mix(7, t)
      this.queue.push(t, { kind: 'deliver', msg: m })
    }
  }

  private clientBurst (): void {
    const up = this.nodes.filter(n => n.raft !== null)
    if (up.length === 0) return
    const node = this.rng.pick(up)
    const k = this.rng.chance(0.2) ? this.rng.between(2, 6) : 1
    for (let i = 0; i < k; i++) this.propose(node)
    this.drive(node)
  }

  private propose (node: SimNode): number {
    const v = this.nextValue++
    const data = new Uint8Array([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255, this.rng.int(256)])
    this.counts.proposals++
    const res = node.raft?.propose(data)
    this.mix(8, res?.status === 'accepted' ? res.index : -1)
    this.trace(() => `propose v${v} at ${node.id}: ${res?.status ?? 'down'}`)
    if (res?.status === 'accepted') {
      this.counts.accepted++
      return res.index
    }
    if (res?.status === 'forwarded') this.counts.forwarded++
    else this.counts.dropped++
    return 0
  }

  /** One random fault. Many target the leader: that is where elections and lost tails come from. */
  private fault (): void {
    const up = this.nodes.filter(n => n.raft !== null)
    const down = this.nodes.filter(n => n.raft === null)
    const ids = this.nodes.map(n => n.id)
    const leader = this.currentLeader()
    const r = this.rng.float()
    if (down.length > 0 && (r < 0.25 || down.length > this.sc.voters / 2)) {
      this.restart(this.rng.pick(down))
    } else if (r < 0.5 && up.length > 0) {
      const node = leader !== undefined && this.rng.chance(0.7) ? leader : this.rng.pick(up)
      this.trace(() => `crash ${node.id}`)
      this.crash(node)
    } else if (r < 0.68) {
      // A new partition replaces the old one; often the leader ends up alone or in a minority.
      this.net.heal()
      const first = leader !== undefined && this.rng.chance(0.5) ? leader.id : this.rng.pick(ids)
      const rest = shuffle(ids.filter(id => id !== first), this.rng)
      const side = [first, ...rest.slice(0, this.rng.int(Math.ceil(ids.length / 2)))]
      const other = ids.filter(id => !side.includes(id))
      this.net.partition(side, other)
      this.counts.partitions++
      this.trace(() => `partition ${side.join(',')} | ${other.join(',')}`)
    } else if (r < 0.76) {
      const links = this.rng.between(1, 3)
      for (let i = 0; i < links; i++) {
        const a = this.rng.pick(ids)
        const b = this.rng.pick(ids.filter(id => id !== a))
        this.net.blockOneWay(a, b)
        this.trace(() => `block ${a} -> ${b}`)
      }
      this.counts.partitions++
    } else if (r < 0.9) {
      this.net.heal()
      this.trace(() => 'heal partitions')
    } else {
      this.net.weather = drawWeather(this.rng)
      this.trace(() => `weather ${JSON.stringify(this.net.weather)}`)
    }
    this.mix(9, Math.floor(r * 1000))
  }

  private currentLeader (): SimNode | undefined {
    let best: SimNode | undefined
    let term = -1
    for (const n of this.nodes) {
      const s = n.raft?.status()
      if (s?.role === 'leader' && s.term > term) {
        best = n
        term = s.term
      }
    }
    return best
  }

  /** Everything not durable is lost: the core, in-flight work, the state machine. */
  private crash (node: SimNode): void {
    node.raft = null
    node.applied = 0
    this.counts.crashes++
    this.mix(10, node.idx)
  }

  private restart (node: SimNode): void {
    node.raft = new RaftNode(this.config(node), { hardState: { ...node.hard }, entries: node.log.slice() })
    this.counts.restarts++
    this.mix(11, node.idx)
    this.trace(() => `restart ${node.id} term ${node.hard.term} vote ${node.hard.vote || '-'} commit ${node.hard.commit} last ${node.log.length}`)
    this.drive(node)
  }

  private heal (): void {
    this.healed = true
    this.net.heal()
    this.net.weather = CALM
    this.trace(() => 'heal everything; quiet from now on')
    for (const node of this.nodes) if (node.raft === null) this.restart(node)
    const longest = Math.max(...this.nodes.map(n => n.raft?.status().lastIndex ?? 0))
    this.deadline = this.now + (LIVENESS_TICKS + 2 * longest) * TICK
    this.queue.push(this.now + TICK, { kind: 'check' })
  }

  /** One leader everybody follows, a fresh proposal through it applied everywhere, nothing missing. */
  private converged (): boolean {
    const st = this.nodes.map(n => n.raft?.status())
    let leader: ReturnType<RaftNode['status']> | undefined
    for (const s of st) if (s?.role === 'leader' && (leader === undefined || s.term > leader.term)) leader = s
    if (leader === undefined) return false
    for (const s of st) if (s === undefined || s.term !== leader.term || s.leader !== leader.id) return false
    const ln = this.byId.get(leader.id)
    if (ln === undefined) return false
    // A proposal can be lost when leadership changes before it commits: clients retry.
    const applied = this.marker === null ? undefined : this.checker.entryAt(this.marker.index)
    if (this.marker === null || (applied === undefined ? this.marker.term !== leader.term : applied.term !== this.marker.term)) {
      const index = this.propose(ln)
      this.marker = index === 0 ? null : { index, term: leader.term }
      this.drive(ln)
      return false
    }
    const want = Math.max(this.marker.index, this.checker.maxCommitted)
    return this.nodes.every(n => n.applied >= want)
  }

  private describe (): string {
    return this.nodes.map(n => {
      const s = n.raft?.status()
      return s === undefined ? `${n.id}:down` : `${n.id}:${s.role}@${s.term}(lead ${s.leader || '-'}, last ${s.lastIndex}, commit ${s.commit}, applied ${n.applied})`
    }).join(' ') + ` marker ${this.marker?.index ?? '-'} committed ${this.checker.maxCommitted}`
  }

  private result (): SimResult {
    let maxTerm = 0
    let leader = ''
    for (const n of this.nodes) {
      const s = n.raft?.status()
      if (s !== undefined && s.term > maxTerm) maxTerm = s.term
      if (s?.role === 'leader') leader = s.id
    }
    return {
      seed: this.opts.seed,
      traceHash: (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0'),
      steps: this.step,
      time: this.now,
      scenario: this.sc,
      counts: this.counts,
      leaders: this.checker.leaders,
      maxTerm,
      committed: this.checker.maxCommitted,
      leader
    }
  }

  // Two independent 32-bit lanes over (event kind, value): the trace's fingerprint.
  private mix (kind: number, v: number): void {
    const x = (kind * 0x9e3779b1 + v + this.now * 31) | 0
    this.h1 = Math.imul(this.h1 ^ x, 0x01000193)
    this.h1 ^= this.h1 >>> 15
    this.h2 = Math.imul(this.h2 ^ x, 0x5bd1e995) + 0x6b43a9b5 | 0
    this.h2 ^= this.h2 >>> 13
  }

  private mixMsg (kind: number, m: Message): void {
    this.mix(kind, MSG_CODES[m.type])
    this.mix(kind, (this.byId.get(m.from)?.idx ?? 99) * 16 + (this.byId.get(m.to)?.idx ?? 99))
    this.mix(kind, m.term)
    this.mix(kind, m.index ?? 0)
    this.mix(kind, m.logTerm ?? 0)
    this.mix(kind, m.commit ?? 0)
    this.mix(kind, (m.entries?.length ?? 0) * 2 + (m.reject === true ? 1 : 0))
  }

  private trace (line: () => string): void {
    if (this.opts.log !== undefined) this.opts.log(`[${this.step}] t=${this.now} ${line()}`)
  }
}

function shuffle<T> (items: readonly T[], rng: Prng): T[] {
  const a = items.slice()
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const t = a[i]!
    a[i] = a[j]!
    a[j] = t
  }
  return a
}

export function fmtMsg (m: Message): string {
  let s = `${m.type} ${m.from}->${m.to} t${m.term}`
  if (m.type === 'MsgApp') s += ` prev ${m.index ?? 0}/${m.logTerm ?? 0} n=${m.entries?.length ?? 0} commit ${m.commit ?? 0}`
  else if (m.type === 'MsgAppResp') s += m.reject === true ? ` reject ${m.index ?? 0} hint ${m.rejectHint ?? 0}/${m.logTerm ?? 0}` : ` ack ${m.index ?? 0}`
  else if (m.type === 'MsgVote' || m.type === 'MsgPreVote') s += ` last ${m.index ?? 0}/${m.logTerm ?? 0}`
  else if (m.type === 'MsgVoteResp' || m.type === 'MsgPreVoteResp') s += m.reject === true ? ' reject' : ' grant'
  else if (m.type === 'MsgHeartbeat') s += ` commit ${m.commit ?? 0}`
  return s
}
