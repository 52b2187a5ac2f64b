/**
 * Deterministic Raft simulator. One seed fixes everything: the scenario (cluster size, learner,
 * spares, flow-control knobs), every network delay, loss, duplicate and partition, every crash,
 * every client write and read, every operator action (leadership transfer, membership change),
 * every compaction, and each node's election-timeout draws. The simulator plays the driver for
 * each RaftNode (tick, step, ready → install snapshot → persist → send → apply → serve reads →
 * advance) on a virtual clock, checks the safety invariants after every step (and that each read
 * is linearizable), then heals everything and checks liveness: one leader its members follow, a
 * write applied by all of them, a read served.
 */
import { RaftNode } from '../../protocols/raft/core/index.js'
import type { AnyMessage, ConfChange, ConfState, Entry, HardState, RaftConfig, Ready, SnapshotMeta, UnsafeFlags } from '../../protocols/raft/core/index.js'
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
  reads: number
  readsServed: number
  transfers: number
  confChanges: number
  confRefused: number
  compactions: number
  snapshotsSent: number
  snapshotsInstalled: number
  /** Pre-candidates that stood down for a better rival (RaftStats.preVoteYields). */
  preVoteYields: number
  /** Followers told their leader's connection closed (RaftStats.leaderLost), after a crash or as a false alarm. */
  leaderLost: number
  /** Proposals a transfer's target held while it campaigned (RaftStats.proposalsQueued). */
  proposalsQueued: number
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

/** Chance that a delivered message waits for the node's next Ready instead of getting its own. */
const BATCH_CHANCE = 0.25

type SimEvent =
  | { kind: 'tick', node: SimNode }
  | { kind: 'deliver', msg: AnyMessage, snap?: Snapshot }
  | { kind: 'snapStatus', from: string, to: string }
  | { kind: 'drive', node: SimNode }
  | { kind: 'client' }
  | { kind: 'fault' }
  | { kind: 'admin' }
  | { kind: 'heal' }
  | { kind: 'check' }

const MSG_CODES: Record<AnyMessage['type'], number> = {
  MsgProp: 1, MsgApp: 2, MsgAppResp: 3, MsgVote: 4, MsgVoteResp: 5, MsgPreVote: 6, MsgPreVoteResp: 7, MsgHeartbeat: 8, MsgHeartbeatResp: 9,
  MsgReadIndex: 10, MsgReadIndexResp: 11, MsgTimeoutNow: 12, MsgSnap: 13
}

/** A read in flight: the highest commit index any node knew when it was asked. */
interface PendingRead { node: string, floor: number }

/** The state machine is the sequence of applied entries; a snapshot is a prefix of it. */
interface Snapshot { meta: SnapshotMeta, data: Entry[] }

/** A node as the driver sees it: the core (null while crashed) and what it made durable. */
class SimNode {
  raft: RaftNode | null = null
  /** A spare runs only once an operator admitted it. */
  started = false
  hard: HardState = { term: 0, vote: '', commit: 0 }
  /** The durable snapshot the log starts after. */
  snap: Snapshot | null = null
  /** Durable entries after the snapshot: log[i] has index base + i + 1. */
  log: Entry[] = []
  /** The state machine (volatile): sm[i] is the entry applied at index i + 1. */
  sm: Entry[] = []
  applied = 0
  /** Snapshot data received with a MsgSnap, by index, until the core says to install it. */
  readonly inbox = new Map<number, Entry[]>()
  /** The configuration it started from (RaftConfig.voters/learners) at every restart. */
  initial: ConfState = { voters: [], learners: [] }
  /** The last Ready.config it persisted, or `initial`. */
  conf: ConfState = { voters: [], learners: [] }
  /** A 'drive' event is queued: messages stepped meanwhile share its Ready. */
  drivePending = false
  constructor (readonly id: string, readonly idx: number, readonly rng: Prng, readonly tickEvery: number) {}

  get base (): number { return this.snap?.meta.index ?? 0 }
  get baseTerm (): number { return this.snap?.meta.term ?? 0 }
  /** Every entry it holds, the snapshot's included. */
  fullLog (): Entry[] { return [...(this.snap?.data ?? []), ...this.log] }
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
    sent: 0, delivered: 0, lost: 0, duplicated: 0, proposals: 0, accepted: 0, forwarded: 0, dropped: 0, crashes: 0, restarts: 0, partitions: 0,
    reads: 0, readsServed: 0, transfers: 0, confChanges: 0, confRefused: 0, compactions: 0, snapshotsSent: 0, snapshotsInstalled: 0, preVoteYields: 0, leaderLost: 0, proposalsQueued: 0
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
  /** The read the liveness check pushes through once the marker is applied everywhere. */
  private readMarker: { ctx: string, at: number, served: boolean } | null = null
  private nextValue = 1
  private nextRead = 1
  private maxReadIndex = 0
  private readonly reads = new Map<string, PendingRead>()

  constructor (private readonly opts: SimOptions) {
    this.rng = new Prng(opts.seed)
    this.sc = drawScenario(this.rng, opts.profile)
    this.net = new Network(this.rng.fork())
    this.net.weather = drawWeather(this.rng)
    for (let i = 1; i <= this.sc.voters; i++) this.voterIds.push('n' + i)
    for (let i = 1; i <= this.sc.learners; i++) this.learnerIds.push('l' + i)
    const spares: string[] = []
    for (let i = 1; i <= this.sc.spares; i++) spares.push('s' + i)
    for (const id of [...this.voterIds, ...this.learnerIds, ...spares]) {
      const node = new SimNode(id, this.nodes.length, this.rng.fork(), TICK + this.rng.between(-1, 1))
      this.nodes.push(node)
      this.byId.set(id, node)
    }
  }

  run (): SimResult {
    const founding: ConfState = { voters: this.voterIds, learners: this.learnerIds }
    for (const node of this.nodes) {
      if (!spare(node)) this.start(node, founding)
      this.queue.push(this.rng.between(1, TICK), { kind: 'tick', node })
    }
    this.queue.push(this.rng.between(1, this.sc.clientGap), { kind: 'client' })
    this.queue.push(this.rng.between(1, this.sc.faultGap), { kind: 'fault' })
    if (this.sc.adminGap > 0) this.queue.push(this.rng.between(1, this.sc.adminGap), { kind: 'admin' })
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

  /** First start of a founding node, or of a spare an operator just added with `conf`. */
  private start (node: SimNode, conf: ConfState): void {
    node.started = true
    node.initial = conf
    node.conf = conf
    node.raft = new RaftNode(this.config(node))
  }

  private config (node: SimNode): RaftConfig {
    return {
      id: node.id,
      voters: node.initial.voters,
      learners: node.initial.learners,
      electionTicks: this.sc.electionTicks,
      heartbeatTicks: this.sc.heartbeatTicks,
      rand: () => node.rng.float(),
      maxInflightAppends: this.sc.maxInflightAppends,
      maxEntriesPerAppend: this.sc.maxEntriesPerAppend,
      checkQuorum: true,
      checkQuorumTicks: this.sc.checkQuorumTicks,
      preVote: true,
      leaseRead: this.sc.leaseRead,
      // Ticks run 9 to 11 time units apart: rates within 11/9 of each other.
      maxClockDrift: 1.25,
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
          // A driver may send a leader's heartbeats before its next Ready (while it persists).
          if (this.rng.chance(0.3)) for (const m of node.raft.takeMessages()) this.send(m)
          // A connection that closes while its peer lives on (a redial, a flaky link).
          if (this.rng.chance(0.002)) node.raft.leaderUnreachable(this.rng.pick(this.nodes).id)
          this.drive(node)
        }
        this.queue.push(this.now + node.tickEvery, ev)
        return
      }
      case 'deliver': return this.deliver(ev.msg, ev.snap)
      case 'drive':
        ev.node.drivePending = false
        return this.drive(ev.node)
      case 'snapStatus': return this.snapshotFailed(ev.from, ev.to)
      case 'client':
        if (this.healed) return
        this.clientBurst()
        this.queue.push(this.now + this.rng.between(1, 2 * this.sc.clientGap), ev)
        return
      case 'fault':
        if (this.healed) return
        this.queue.push(this.now + (this.fault() ?? this.rng.between(1, 2 * this.sc.faultGap)), ev)
        return
      case 'admin':
        if (this.healed) return
        this.admin()
        this.queue.push(this.now + this.rng.between(1, 2 * this.sc.adminGap), ev)
        return
      case 'heal': return this.heal()
      case 'check':
        if (this.converged()) this.done = true
        else this.queue.push(this.now + TICK, ev)
    }
  }

  private deliver (m: AnyMessage, snap?: Snapshot): void {
    const node = this.byId.get(m.to)
    if (node?.raft == null || !this.net.linkUp(m.from, m.to)) {
      this.counts.lost++
      this.mix(2, -1)
      if (snap !== undefined) this.snapshotFailed(m.from, m.to)
      return
    }
    this.counts.delivered++
    this.mixMsg(3, m)
    this.trace(() => `deliver ${fmtMsg(m)}`)
    // The data arrived whole: the core may now learn of it.
    if (snap !== undefined) node.inbox.set(snap.meta.index, snap.data)
    node.raft.step(m)
    // A busy driver steps every message of a network read before its next Ready: what they
    // cause shares one Ready (entries and a campaign order, say), as it does in the service.
    if (snap === undefined && this.rng.chance(BATCH_CHANCE)) {
      if (!node.drivePending) {
        node.drivePending = true
        this.queue.push(this.now + this.rng.between(1, 3), { kind: 'drive', node })
      }
    } else this.drive(node)
    if (snap !== undefined) {
      // The sender's stream completes.
      const from = this.byId.get(m.from)
      if (from?.raft != null) {
        from.raft.reportSnapshot(m.to, 'finished')
        this.drive(from)
      }
    }
  }

  /** The sender learns its snapshot stream broke. */
  private snapshotFailed (from: string, to: string): void {
    const node = this.byId.get(from)
    if (node?.raft == null) return
    this.trace(() => `snapshot ${from} -> ${to} failed`)
    node.raft.reportSnapshot(to, 'failed')
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
      // A leader that commits and then dies (drawn now): what this Ready sends to a peer may still
      // sit in that connection's buffer, lost with the process. Figure 8 of the Raft paper needs
      // exactly that: the entry of the leader's own term never reaches the follower it just
      // counted for an older entry.
      const dies = !this.healed && rd.committedEntries.length > 0 && raft.status().role === 'leader' && this.rng.chance(this.sc.crashAfterCommit)
      const lostTo = new Set<string>()
      if (dies) for (const n of this.nodes) if (n !== node && this.rng.chance(this.sc.lostInCrash)) lostTo.add(n.id)
      const sendAll = (): void => {
        for (const m of [...rd.messages, ...rd.extMessages]) {
          if (!lostTo.has(m.to)) this.send(m)
          else {
            this.counts.lost++
            this.trace(() => `lost in ${node.id}'s crash: ${fmtMsg(m)}`)
          }
        }
      }
      // A candidate's vote requests that may go before the rest of its Ready: they do, and it
      // may crash before its term, vote and entries are durable.
      if (rd.firstMessages !== undefined) {
        for (const m of rd.firstMessages) this.send(m)
        if (!this.healed && this.rng.chance(risk)) {
          this.trace(() => `crash ${node.id} (candidate, after sending its vote requests, before persisting)`)
          this.crash(node)
          return
        }
      }
      // A leader may send before persisting; its disk may still win the race.
      if (rd.sendFirst === true && !this.rng.chance(this.sc.persistFirst)) {
        // A leader's appends travel while it persists: it may crash with them sent, not durable.
        sendAll()
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
        sendAll()
      }
      if (rd.softState !== undefined) {
        this.mix(4, node.idx)
        this.trace(() => `${node.id} is ${rd.softState?.role} (leader ${rd.softState?.leader || '-'}) term ${node.hard.term}`)
        if (rd.softState.role === 'leader') this.checker.onLeader(node.id, node.hard.term, node.fullLog())
      }
      for (const e of rd.committedEntries) {
        if (e.index !== node.applied + 1) throw new InvariantViolation('Apply Order', `${node.id} applied index ${e.index} after ${node.applied}`)
        this.checker.onApply(node.id, node.hard.term, e)
        node.sm.push(e)
        node.applied = e.index
      }
      for (const rs of rd.readStates ?? []) this.served(node, rs.ctx, rs.index)
      raft.advance(rd)
      if (rd.committedEntries.length > 0 && this.rng.chance(this.sc.compactRate)) this.compact(node)
      if (dies) {
        this.trace(() => `crash ${node.id} (leader, right after applying up to ${node.applied}${lostTo.size > 0 ? `, sends to ${[...lostTo].join(',')} lost` : ''})`)
        this.crash(node)
        return
      }
    }
  }

  private persist (node: SimNode, rd: Ready): void {
    if (rd.snapshot !== undefined) this.install(node, rd.snapshot, rd.hardState?.term ?? node.hard.term)
    if (rd.config !== undefined) {
      node.conf = rd.config
      this.trace(() => `${node.id} config voters ${rd.config?.voters.join(',')} learners ${rd.config?.learners.join(',') || '-'}`)
    }
    if (rd.hardState !== undefined) node.hard = { ...rd.hardState }
    let from = node.log.length
    const first = rd.entries[0]
    const base = node.base
    if (first !== undefined) {
      if (first.index <= base || first.index > base + node.log.length + 1) {
        throw new InvariantViolation('Driver Contract', `${node.id} asked to persist index ${first.index} after durable index ${base + node.log.length} (snapshot ${base})`)
      }
      node.log.length = first.index - base - 1
      from = node.log.length
      for (const e of rd.entries) node.log.push(e)
    }
    if (rd.hardState !== undefined || first !== undefined) {
      this.mix(5, node.hard.term * 65536 + node.hard.commit)
      this.mix(6, base + node.log.length)
      this.checker.onPersist(node.id, rd.hardState, node.log, from, base, node.baseTerm)
    }
  }

  /**
   * Ready.snapshot: the data came with the MsgSnap that named it. It replaces the state machine
   * and the whole log; every entry in it must be the one everybody else applied there.
   */
  private install (node: SimNode, meta: SnapshotMeta, term: number): void {
    const data = node.inbox.get(meta.index)
    if (data === undefined) throw new InvariantViolation('Driver Contract', `${node.id} told to install snapshot ${meta.index} it never received`)
    node.inbox.clear()
    const last = data[data.length - 1]
    if (data.length !== meta.index || (last?.term ?? 0) !== meta.term) throw new InvariantViolation('Snapshot', `${node.id} got snapshot ${meta.index}/${meta.term} whose data ends at ${last?.index ?? 0}/${last?.term ?? 0}`)
    for (const e of data.slice(node.applied)) this.checker.onApply(node.id, term, e)
    node.snap = { meta, data }
    node.log = []
    node.sm = data.slice()
    node.applied = meta.index
    this.counts.snapshotsInstalled++
    this.mix(16, meta.index)
    this.trace(() => `${node.id} installs snapshot ${meta.index}/${meta.term}`)
  }

  /** The driver snapshots its state machine up to some applied index and compacts. */
  private compact (node: SimNode): void {
    const raft = node.raft
    const base = node.base
    const index = node.applied - this.rng.int(this.sc.compactKeep + 1)
    if (raft === null || index <= base) return
    const meta = raft.compact(index)
    if (meta.index !== index || meta.term !== node.sm[index - 1]?.term) throw new InvariantViolation('Driver Contract', `${node.id} compacted to ${index} but got meta ${meta.index}/${meta.term}`)
    node.snap = { meta, data: node.sm.slice(0, index) }
    node.log = node.log.slice(index - base)
    if (node.log[0] !== undefined && node.log[0].index !== index + 1) throw new InvariantViolation('Driver Contract', `${node.id} log after compaction starts at ${node.log[0].index}`)
    this.counts.compactions++
    this.mix(17, index)
    this.trace(() => `${node.id} compacts to ${index}`)
  }

  /**
   * A read confirmed at `index`: linearizable only if no write committed before it was asked
   * is missing, i.e. index >= every commit index known anywhere at that moment.
   */
  private served (node: SimNode, ctx: string, index: number): void {
    this.mix(12, index)
    const r = this.reads.get(ctx)
    // Unknown: a duplicate answer, or one for a node's earlier life.
    if (r === undefined) return
    this.reads.delete(ctx)
    if (r.node !== node.id) throw new InvariantViolation('Driver Contract', `read ${ctx} of ${r.node} answered at ${node.id}`)
    if (index < r.floor) throw new InvariantViolation('Linearizable Read', `read ${ctx} at ${node.id} served at index ${index}, but index ${r.floor} was committed before it was asked`)
    this.counts.readsServed++
    this.maxReadIndex = Math.max(this.maxReadIndex, index)
    if (this.readMarker?.ctx === ctx) {
      // Asked once the marker was applied everywhere: it must cover it.
      if (index < (this.marker?.index ?? 0)) throw new InvariantViolation('Linearizable Read', `read ${ctx} after the marker served at ${index}`)
      this.readMarker.served = true
    }
    this.trace(() => `read ${ctx} at ${node.id} served at index ${index} (floor ${r.floor})`)
  }

  /** The highest commit index any node knows (live or durable), or any node applied. */
  private knownCommit (): number {
    let c = this.checker.maxCommitted
    for (const n of this.nodes) c = Math.max(c, n.hard.commit, n.raft?.hardState().commit ?? 0)
    return c
  }

  private read (node: SimNode): string | null {
    const ctx = `r${this.nextRead++}`
    const floor = this.knownCommit()
    this.counts.reads++
    const res = node.raft?.readIndex(ctx)
    this.mix(13, res?.status === 'dropped' ? 0 : 1)
    this.trace(() => `read ${ctx} at ${node.id} (floor ${floor}): ${res?.status ?? 'down'}`)
    if (res === undefined || res.status === 'dropped') return null
    this.reads.set(ctx, { node: node.id, floor })
    return ctx
  }

  private send (m: AnyMessage): void {
    this.counts.sent++
    let snap: Snapshot | undefined
    if (m.type === 'MsgSnap') {
      // The driver streams its own latest snapshot, which must cover what the core named.
      const own = this.byId.get(m.from)?.snap
      if (own == null || own.meta.index < (m.snapshot?.index ?? 0)) throw new InvariantViolation('Driver Contract', `${m.from} has no snapshot ${m.snapshot?.index ?? 0} to send`)
      snap = own
      if (own.meta.index > (m.snapshot?.index ?? 0)) m = { ...m, snapshot: own.meta }
      this.counts.snapshotsSent++
    }
    const times = this.net.transmit(m.from, m.to, this.now)
    if (times.length === 0) this.counts.lost++
    if (times.length > 1) this.counts.duplicated++
    // A stream that never gets through fails at about the time it would have arrived.
    if (times.length === 0 && snap !== undefined) this.queue.push(this.now + this.rng.between(1, 20), { kind: 'snapStatus', from: m.from, to: m.to })
    for (const t of times) {
      this.mix(7, t)
      this.queue.push(t, { kind: 'deliver', msg: m, snap })
    }
  }

  private clientBurst (): void {
    const up = this.nodes.filter(n => n.raft !== null)
    if (up.length === 0) return
    // Stale leaders are where reads go wrong: they get a fair share, the most when a newer leader exists.
    const leaders = up.filter(n => n.raft?.status().role === 'leader')
    let node = leaders.length > 0 && this.rng.chance(0.4) ? this.rng.pick(leaders) : this.rng.pick(up)
    if (leaders.length > 1 && this.rng.chance(0.6)) {
      for (const n of leaders) if ((n.raft?.status().term ?? 0) < (node.raft?.status().term ?? Infinity)) node = n
    }
    const k = this.rng.chance(0.2) ? this.rng.between(2, 6) : 1
    for (let i = 0; i < k; i++) {
      if (this.rng.chance(this.sc.readRate)) this.read(node)
      else this.propose(node)
    }
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

  /**
   * One random fault. Many target the leader: that is where elections and lost tails come from.
   * Returns how long to hold it when that is not the usual fault gap.
   */
  private fault (): number | undefined {
    const up = this.nodes.filter(n => n.raft !== null)
    const down = this.nodes.filter(n => n.raft === null && n.started)
    const ids = this.nodes.map(n => n.id)
    const leader = this.currentLeader()
    const r = this.rng.float()
    if (down.length > 0 && (r < this.sc.restartShare || down.length > up.length)) {
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
      // Held past an election timeout, a deposed leader and its successor overlap: stale reads
      // and stale leases show there.
      if (first === leader?.id && side.length <= other.length && this.rng.chance(0.4)) return this.rng.between(12, 30) * TICK
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
    return undefined
  }

  /** What an operator does: hand leadership over, or change the membership by one node. */
  private admin (): void {
    const leader = this.currentLeader()
    const raft = leader?.raft
    if (leader === undefined || raft == null) return
    if (this.rng.chance(0.6)) this.changeMembers(leader)
    else this.transfer(leader)
    this.drive(leader)
  }

  /**
   * Add a node that is not a member as a learner, promote a learner, or remove a member (the
   * leader itself now and then). Refusals (one change at a time, not caught up...) are normal.
   */
  private changeMembers (leader: SimNode): void {
    const raft = leader.raft
    if (raft === null) return
    const st = raft.status()
    const outsiders = this.nodes.filter(n => !st.voters.includes(n.id) && !st.learners.includes(n.id))
    const r = this.rng.float()
    let cc: ConfChange
    if (r < 0.3 && outsiders.length > 0) cc = { op: 'add-learner', id: this.rng.pick(outsiders).id }
    else if (r < 0.75 && st.learners.length > 0) cc = { op: this.rng.chance(0.5) ? 'promote' : 'add-voter', id: this.rng.pick(st.learners) }
    else if (st.voters.length + st.learners.length > 1) {
      // Keep enough voters that a crash or two leaves a quorum now and then.
      const pool = st.voters.length > 2 ? [...st.voters, ...st.learners] : st.learners
      if (pool.length === 0) return
      cc = { op: 'remove', id: this.rng.pick(pool) }
    } else return
    const res = raft.proposeConfChange(cc)
    this.mix(15, res.status === 'accepted' ? res.index : 0)
    this.trace(() => `${cc.op} ${cc.id} at ${leader.id}: ${res.status === 'accepted' ? `accepted at ${res.index}` : res.reason}`)
    if (res.status !== 'accepted') {
      this.counts.confRefused++
      return
    }
    this.counts.confChanges++
    const node = this.byId.get(cc.id)
    // A spare starts with the configuration that admits it, learned from the leader.
    if (cc.op === 'add-learner' && node !== undefined && !node.started) this.start(node, { voters: raft.status().voters, learners: raft.status().learners })
  }

  /** Hand leadership over, to a named voter or the best one. */
  private transfer (leader: SimNode): void {
    const raft = leader.raft
    if (raft === null) return
    const voters = raft.status().voters.filter(id => id !== leader.id)
    // Sometimes a voter that is down or cut off: the transfer must give up and leadership stay.
    const to = voters.length > 0 && this.rng.chance(0.6) ? this.rng.pick(voters) : undefined
    const res = raft.transferLeadership(to)
    this.mix(14, res.status === 'started' ? 1 : 0)
    this.trace(() => `transfer leadership from ${leader.id} to ${to ?? 'the best voter'}: ${res.status === 'started' ? `started to ${res.to}` : res.reason}`)
    if (res.status === 'started') this.counts.transfers++
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

  /** Counts a core keeps in its stats, taken before the core goes (crash) or at the end. */
  private tally (raft: RaftNode | null): void {
    this.counts.preVoteYields += raft?.stats.preVoteYields ?? 0
    this.counts.leaderLost += raft?.stats.leaderLost ?? 0
    this.counts.proposalsQueued += raft?.stats.proposalsQueued ?? 0
  }

  /** Everything not durable is lost: the core, in-flight work, the state machine. */
  private crash (node: SimNode): void {
    this.tally(node.raft)
    node.raft = null
    node.applied = 0
    node.sm = []
    node.inbox.clear()
    this.counts.crashes++
    this.mix(10, node.idx)
    // Its connections close: most peers hear of it at once (drivers call leaderUnreachable).
    for (const other of this.nodes) if (other !== node && this.rng.chance(0.7)) other.raft?.leaderUnreachable(node.id)
  }

  private restart (node: SimNode): void {
    const snapshot = node.snap?.meta
    node.raft = new RaftNode(this.config(node), snapshot === undefined
      ? { hardState: { ...node.hard }, entries: node.log.slice() }
      : { hardState: { ...node.hard }, entries: node.log.slice(), snapshot })
    // The state machine comes back from the snapshot; the core re-applies what follows.
    node.sm = node.snap?.data.slice() ?? []
    node.applied = node.base
    // What the driver persisted from Ready.config is what the core derives from the durable log.
    const st = node.raft.status()
    if (!sameMembers(st, node.conf)) {
      throw new InvariantViolation('Config Durability', `${node.id} restarted with ${fmtConf(st)}, persisted ${fmtConf(node.conf)}`)
    }
    this.counts.restarts++
    this.mix(11, node.idx)
    this.trace(() => `restart ${node.id} term ${node.hard.term} vote ${node.hard.vote || '-'} commit ${node.hard.commit} snapshot ${node.base} last ${node.base + node.log.length}`)
    this.drive(node)
  }

  private heal (): void {
    this.healed = true
    this.net.heal()
    this.net.weather = CALM
    this.trace(() => 'heal everything; quiet from now on')
    for (const node of this.nodes) if (node.raft === null && node.started) this.restart(node)
    const longest = Math.max(...this.nodes.map(n => n.raft?.status().lastIndex ?? 0))
    this.deadline = this.now + (LIVENESS_TICKS + 2 * longest) * TICK
    this.queue.push(this.now + TICK, { kind: 'check' })
  }

  /**
   * One leader every member of its configuration follows, a fresh proposal through it applied by
   * all of them, nothing missing, and a read served. Nodes removed along the way do not count.
   */
  private converged (): boolean {
    let leader: ReturnType<RaftNode['status']> | undefined
    for (const n of this.nodes) {
      const s = n.raft?.status()
      if (s?.role === 'leader' && (leader === undefined || s.term > leader.term)) leader = s
    }
    if (leader === undefined) return false
    const members = this.nodes.filter(n => leader.voters.includes(n.id) || leader.learners.includes(n.id))
    for (const n of members) {
      const s = n.raft?.status()
      if (s === undefined || s.term !== leader.term || s.leader !== leader.id) return false
    }
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
    if (!members.every(n => n.applied >= want)) return false
    // Then a read through a random member (a follower forwards it) must be served, covering the marker.
    if (this.readMarker === null || (!this.readMarker.served && this.now - this.readMarker.at > 30 * TICK)) {
      const node = this.rng.pick(members)
      const ctx = this.read(node)
      this.readMarker = ctx === null ? null : { ctx, at: this.now, served: false }
      this.drive(node)
      return false
    }
    if (this.maxReadIndex > this.checker.maxCommitted) throw new InvariantViolation('Linearizable Read', `a read was served at ${this.maxReadIndex}, never committed`)
    return this.readMarker.served
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
      this.tally(n.raft)
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

  private mixMsg (kind: number, m: AnyMessage): void {
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

function spare (node: SimNode): boolean {
  return node.id.startsWith('s')
}

function sameMembers (a: ConfState, b: ConfState): boolean {
  return a.voters.join() === b.voters.join() && a.learners.join() === b.learners.join()
}

function fmtConf (c: ConfState): string {
  return `voters ${c.voters.join(',')} learners ${c.learners.join(',') || '-'}`
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

export function fmtMsg (m: AnyMessage): string {
  let s = `${m.type} ${m.from}->${m.to} t${m.term}`
  if (m.type === 'MsgApp') s += ` prev ${m.index ?? 0}/${m.logTerm ?? 0} n=${m.entries?.length ?? 0} commit ${m.commit ?? 0}`
  else if (m.type === 'MsgAppResp') s += m.reject === true ? ` reject ${m.index ?? 0} hint ${m.rejectHint ?? 0}/${m.logTerm ?? 0}` : ` ack ${m.index ?? 0}`
  else if (m.type === 'MsgVote' || m.type === 'MsgPreVote') s += ` last ${m.index ?? 0}/${m.logTerm ?? 0}`
  else if (m.type === 'MsgVoteResp' || m.type === 'MsgPreVoteResp') s += m.reject === true ? ' reject' : ' grant'
  else if (m.type === 'MsgHeartbeat') s += ` commit ${m.commit ?? 0} round ${m.index ?? 0}`
  else if (m.type === 'MsgHeartbeatResp') s += ` round ${m.index ?? 0}`
  else if (m.type === 'MsgReadIndex') s += ` ${m.context ?? ''}`
  else if (m.type === 'MsgReadIndexResp') s += ` ${m.context ?? ''} at ${m.index ?? 0}`
  else if (m.type === 'MsgSnap') s += ` snapshot ${m.snapshot?.index ?? 0}/${m.snapshot?.term ?? 0}`
  return s
}
