/**
 * The Raft service (a libp2p service every member runs): forms or joins the cluster, drives the
 * pure core (protocols/raft/core) with a timer, durable storage and the raft transport, and applies
 * the committed log to the replicated key-value store.
 *
 * Driver loop, one Ready at a time: apply the committed entries (durable since earlier Readys) to
 * the state machines, which live in memory (snapshot files and the log make them durable);
 * persist hard state + entries in one fsync'd batch (everything proposed while the previous batch
 * was being written shares it: group commit); send the messages (a leader's appends go out before
 * its own write); advance.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { ComponentLogger, Logger as P2pLogger, PeerId, Startable } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import type { ClassicLevel } from 'classic-level'
import { Counter, Histogram, type Registry } from 'prom-client'
import type { Logger } from 'pino'
import { RaftNode, NONE, decodeConfEntry } from './core/index.js'
import type { Entry, Message, RaftConfig, Ready, SoftState } from './core/index.js'
import { fromPb, toPb } from './codec.js'
import { RaftTransport, type FrameFilter, type TransportComponents } from './transport.js'
import { Hello, type RaftMessage, type JoinResponse, type RaftFrame } from './raft.pb.js'
import { LevelRaftStorage, MemoryRaftStorage, mustSync, type ClusterConfig, type Recovered, type RaftStorage } from './storage.js'
import { Formation, type PeerHello, type HelloState } from './formation.js'
import { KvState, KvInputError, checkFence, checkKey, checkVersion, decodeCommand, encodeCommand, type Command, type Consistency, type Fence, type KvResult } from './kv.js'
import { KvConflictError, KvFencedError, RaftUnavailableError } from './errors.js'
import { CoordinationState, type CoordCommand, type CoordEvent, type CoordResult } from '../coordination/core/index.js'
import { LeaseClock } from '../coordination/lease-clock.js'
import { ReadWaits } from './reads.js'
import { Snapshotter } from './snapshotter.js'
import { compactionPoint } from './compaction.js'
import { listSnapshots, readSnapshotRecords, snapshotPath, SnapshotCorruptError } from './snapshot.js'
import { decodeSnapshot, encodeSnapshot } from '../coordination/core/index.js'
import { mkdirSync } from 'node:fs'

/** A coordination command as a caller gives it: the service picks the rid. */
export type CoordRequest = CoordCommand extends infer C ? C extends CoordCommand ? Omit<C, 'rid'> : never : never
export type CoordListener = (events: CoordEvent[], index: number) => void

export interface RaftInit {
  /** Voters the cluster is formed with (--voters). */
  voters?: number
  /** The node's LevelDB; without it (in-memory nodes) state lives in memory. */
  store?: ClassicLevel<string, Uint8Array>
  /** Overrides the storage (tests). */
  storage?: RaftStorage
  registry?: Registry
  /** Operator log (formation progress, leader changes). */
  log?: Logger
  tickMs?: number
  electionTicks?: number
  heartbeatTicks?: number
  /**
   * Check-quorum window in ticks (default 3 * electionTicks): a leader keeps office through a
   * follower's stall shorter than this (GC, a slow fsync, a starved process on a busy host).
   */
  checkQuorumTicks?: number
  /** How long the candidate set must stay the same before a proposal (default 1000 ms). */
  settleMs?: number
  helloMs?: number
  maxInflightAppends?: number
  maxEntriesPerAppend?: number
  maxFrameBytes?: number
  /** Deadline of a key-value call unless it gives one (default 5000 ms). */
  timeoutMs?: number
  /**
   * The leader replaces a voter it has not heard from for this long by a caught-up learner, if
   * one is healthy (default 30,000 ms; 0 turns it off).
   */
  replaceDeadVoterMs?: number
  /** On a graceful stop, a leader hands over first, waiting at most this long (default 1000 ms). */
  handOverMs?: number
  /** Where snapshot files go; without it (in-memory nodes) the log is never compacted. */
  snapshotDir?: string
  /** Take a snapshot and compact the log every this many applied entries (default 10,000). */
  snapshotEntries?: number
}

export type MemberRole = 'voter' | 'learner'

export interface MemberInfo {
  peerId: string
  role: MemberRole
  self: boolean
  leader: boolean
  /** Leader only: the last index known to be on that member. */
  match?: number
  /** ms since this node last heard Raft traffic from it (null: never, or itself). */
  lastHeardMs: number | null
}

/** A membership or transfer request that cannot be done (HTTP 409), e.g. no such member. */
export class RaftMembershipError extends Error {
  constructor (message: string) { super(message); this.name = 'RaftMembershipError' }
}

export interface RaftComponents {
  peerId: PeerId
  registrar: Registrar
  connectionManager: ConnectionManager
  events: TransportComponents['events']
  peerStore?: TransportComponents['peerStore']
  logger: ComponentLogger
}

export type RaftRole = 'leader' | 'follower' | 'candidate' | 'learner'
export type FormationState = 'forming' | 'locked' | 'joining' | 'member'

export interface RaftStatusJson {
  role: RaftRole
  term: number
  leader: string | null
  commitIndex: number
  appliedIndex: number
  /** Index of the newest snapshot this node took or installed (0: none). */
  snapshotIndex: number
  /** The log holds the entries after this index; a follower further behind needs a snapshot. */
  compactedIndex: number
  voters: string[]
  learners: string[]
  cluster: string | null
  formation: { state: FormationState, expect: number, candidates: string[], waiting: string | null }
}

export interface PutResult { key: string, version: number, index: number }
export interface GetResult { key: string, value: unknown, version: number }
export interface DeleteResult { key: string, deleted: boolean, index: number }

export interface KvApi {
  /** `fence`: apply only while that lock token is held (KvFencedError otherwise). */
  put: (key: string, value: unknown, opts?: { prevVersion?: number, timeoutMs?: number, fence?: Fence }) => Promise<PutResult>
  /** null when the key does not exist. */
  get: (key: string, opts?: { consistency?: Consistency, timeoutMs?: number }) => Promise<GetResult | null>
  delete: (key: string, opts?: { prevVersion?: number, timeoutMs?: number, fence?: Fence }) => Promise<DeleteResult>
}

export type RejectReason = 'malformed' | 'too_large' | 'non_member' | 'no_cluster' | 'dropped_unreachable' | 'dropped_backpressure' | 'filtered'

interface Pending {
  rid: string
  data: Uint8Array
  proposed: boolean
  /** The leader it went to (this node when it led): if another takes over first, it may be lost. */
  via: string
  /** Where this node appended it while leading: its fate is known once that index is applied. */
  index?: number
  timer: ReturnType<typeof setTimeout>
  resolve: (r: { result: KvResult | CoordResult, index: number }) => void
  reject: (e: Error) => void
}

const PB_TO_STATE = new Map<string, HelloState>([[Hello.State.FORMING, 'forming'], [Hello.State.LOCKED, 'locked'], [Hello.State.MEMBER, 'member']])

/** A durable log write slower than this is logged: it holds up everything the node sends. */
const SLOW_WRITE_MS = 100

/** Entries kept in the log behind the latest snapshot. */
const COMPACTION_TAIL = 5000
/** A leader keeps up to this many snapshot intervals of log for a live follower still behind (compaction.ts). */
const FOLLOWER_HOLD_SNAPSHOTS = 4
/** A follower heard from within this long counts as live for compaction. */
const FOLLOWER_ACTIVE_MS = 2000

/** Both state machines as a snapshot file holds them; throws SnapshotCorruptError before changing anything. */
async function readStateMachines (path: string): Promise<{ kv: Array<[string, Uint8Array]>, coord: CoordinationState }> {
  const kv: Array<[string, Uint8Array]> = []
  let coord = new CoordinationState()
  for await (const r of readSnapshotRecords(path)) {
    if (r.kind === 'kv') kv.push([r.key, r.record])
    else coord = CoordinationState.restore(decodeSnapshot(r.data))
  }
  return { kv, coord }
}

export function clusterId (voters: string[]): string {
  return createHash('sha256').update([...voters].sort().join(',')).digest('hex').slice(0, 16)
}

export class RaftService implements Startable {
  readonly transport: RaftTransport
  readonly kv: KvApi
  private readonly self: string
  private readonly p2pLog: P2pLogger
  private readonly log?: Logger
  private readonly expect: number
  private readonly storage: RaftStorage
  private readonly tickMs: number
  private readonly electionTicks: number
  private readonly heartbeatTicks: number
  private readonly checkQuorumTicks: number
  private readonly helloMs: number
  private readonly settleMs: number
  private readonly timeoutMs: number
  private readonly maxInflightAppends: number
  private readonly maxEntriesPerAppend: number
  private readonly rejectedCounter: Counter<'reason'>
  private readonly readyCounter: Counter
  private readonly appendedCounter: Counter
  private readonly sentCounter: Counter
  private readonly reproposedCounter: Counter
  private reproposedCount = 0
  private readonly fsyncHistogram: Histogram
  private readonly counts = new Map<string, number>()

  private raft: RaftNode | null = null
  private config: ClusterConfig | null = null
  private known = new Set<string>()
  private formation: Formation | null = null
  private formationState: FormationState = 'forming'
  private waiting: string | null = null
  private soft: SoftState = { role: 'follower', leader: NONE }
  private readonly sm = new KvState()
  /** Leases, locks, barriers and elections (protocols/coordination), applied from the same log. */
  private coordState = new CoordinationState()
  private readonly coordListeners = new Set<CoordListener>()
  private readonly leaseClock = new LeaseClock()
  private applied = 0

  private running = false
  private failed: Error | null = null
  private tickTimer?: ReturnType<typeof setInterval>
  private helloTimer?: ReturnType<typeof setInterval>
  private loopScheduled = false
  /** Set by anything that may have given the core work; the loop clears it before each look. */
  private wake = false
  private looping: Promise<void> | null = null
  private formationBusy = false
  private startedAt = 0
  private lastWaitWarn = 0
  private lastJoinAt = 0
  private joinTarget: string | null = null
  private readonly lastHelloTo = new Map<string, number>()

  private readonly pending = new Map<string, Pending>()
  private readonly waitingForLeader = new Set<string>()
  private readonly retryNextTick = new Set<string>()
  /** Log index -> rid of the pending proposals this node appended as leader. */
  private readonly appendedAt = new Map<number, string>()
  private ridCounter = 0
  private readonly ridPrefix = randomBytes(6).toString('hex')
  /** Learners asked to join through this node (leader): answered once their entry applies. */
  private readonly joinRequests = new Set<string>()
  private readonly joinQueue = new Set<string>()
  /** Removed from the cluster by a committed change. */
  private removed = false
  private readonly reads = new ReadWaits()
  private readonly replaceDeadVoterMs: number
  private readonly handOverMs: number
  /** What the leader is asked to make of each member (reconciled one change at a time). */
  private readonly desired = new Map<string, MemberRole | 'removed'>()
  private readonly lastHeard = new Map<string, number>()
  private leaderSince = 0
  private readonly leaderWaits = new Set<() => void>()
  private handedOver = false
  private readonly snapshotter: Snapshotter | null
  private readonly snapshotDir?: string
  private readonly snapshotEntries: number
  private snapshotBusy = false
  private snapshotIndex = 0
  /** Called after each committed membership change (callers re-check what they wait for). */
  private readonly memberWaits = new Set<() => void>()
  private readonly drainWaits = new Set<() => void>()

  constructor (components: RaftComponents, init: RaftInit = {}) {
    this.self = components.peerId.toString()
    this.p2pLog = components.logger.forComponent('swarmnet:raft')
    this.log = init.log
    this.expect = init.voters ?? 3
    this.storage = init.storage ?? (init.store != null ? new LevelRaftStorage(init.store) : new MemoryRaftStorage())
    this.tickMs = init.tickMs ?? 15
    this.electionTicks = init.electionTicks ?? 10
    this.heartbeatTicks = init.heartbeatTicks ?? 3
    this.checkQuorumTicks = init.checkQuorumTicks ?? 3 * this.electionTicks
    this.helloMs = init.helloMs ?? 200
    this.settleMs = init.settleMs ?? 1000
    this.timeoutMs = init.timeoutMs ?? 5000
    this.replaceDeadVoterMs = init.replaceDeadVoterMs ?? 30_000
    this.handOverMs = init.handOverMs ?? 1000
    this.snapshotEntries = Math.max(1, init.snapshotEntries ?? 10_000)
    const dir = this.snapshotDir = init.snapshotDir
    this.snapshotter = dir === undefined
      ? null
      : new Snapshotter({
        dir,
        cluster: () => this.config?.cluster ?? '',
        send: (to, frame) => this.transport.send(to, frame),
        writable: async (to) => { await this.transport.writable(to) },
        reportSnapshot: (to, status) => { this.raft?.reportSnapshot(to, status); this.scheduleLoop() },
        received: (from, term, meta) => {
          this.raft?.step({ type: 'MsgSnap', from, to: this.self, term, snapshot: meta })
          this.scheduleLoop()
        },
        log: this.log
      })
    this.maxInflightAppends = init.maxInflightAppends ?? 64
    this.maxEntriesPerAppend = init.maxEntriesPerAppend ?? 64
    this.rejectedCounter = new Counter({
      name: 'swarmnet_raft_rejected_total',
      help: 'Raft frames refused or dropped, by reason',
      labelNames: ['reason'],
      registers: init.registry != null ? [init.registry] : []
    })
    const registers = init.registry != null ? [init.registry] : []
    this.readyCounter = new Counter({ name: 'swarmnet_raft_ready_total', help: 'Batches of Raft work handled (each: at most one durable write, then sends and applies)', registers })
    this.appendedCounter = new Counter({ name: 'swarmnet_raft_entries_persisted_total', help: 'Log entries written to durable storage', registers })
    this.sentCounter = new Counter({ name: 'swarmnet_raft_messages_sent_total', help: 'Raft messages handed to the transport', registers })
    this.reproposedCounter = new Counter({ name: 'swarmnet_raft_proposals_reproposed_total', help: 'Proposals this node appended as leader that a later leader replaced before they committed, proposed again', registers })
    this.fsyncHistogram = new Histogram({ name: 'swarmnet_raft_fsync_seconds', help: 'Duration of fsync\'d Raft log writes', buckets: [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.5], registers })
    this.transport = new RaftTransport(components, {
      maxFrameBytes: init.maxFrameBytes ?? 32 * 1024 * 1024,
      maxEntries: this.maxEntriesPerAppend,
      onFrame: (from, frame) => { this.onFrame(from, frame) },
      onPeer: (peer, up) => { this.onPeer(peer, up) },
      count: (event) => { this.count(event) },
      log: this.p2pLog
    })
    this.kv = {
      put: async (key, value, opts = {}) => this.put(key, value, opts),
      get: async (key, opts = {}) => this.get(key, opts),
      delete: async (key, opts = {}) => this.delete(key, opts)
    }
  }

  readonly [Symbol.toStringTag] = 'swarmnet/raft'

  async start (): Promise<void> {
    if (this.running) return
    this.running = true
    this.startedAt = Date.now()
    const rec = await this.storage.load()
    if (rec.truncated > 0) {
      this.log?.error({ truncated: rec.truncated, reason: rec.truncatedReason }, 'raft log: dropped a corrupt or torn tail')
    }
    if (this.snapshotter !== null) {
      mkdirSync(this.snapshotDirOf(), { recursive: true })
      this.snapshotter.start()
    }
    await this.restoreStateMachines(rec)
    await this.transport.start()
    if (rec.config !== null) {
      this.startRaft(rec.config)
    } else {
      this.formation = new Formation({ self: this.self, expect: this.expect, settleMs: this.settleMs, staleMs: Math.max(2000, this.helloMs * 5), lock: rec.lock })
      this.formationState = rec.lock !== null ? 'locked' : 'forming'
    }
  }

  /**
   * Formation begins one hello interval after start: libp2p starts listening alongside this
   * call, and a node that fails to listen is stopped before it would say anything.
   */
  afterStart (): void {
    if (!this.running) return
    this.helloTimer = setInterval(() => { void this.formationStep() }, this.helloMs)
    this.helloTimer.unref()
  }

  /**
   * A leader hands leadership over, so the cluster does not wait out an election timeout. Call
   * it before anything else stops (the node does, before closing its API; libp2p's beforeStop
   * too): once connections close, the handover cannot finish.
   */
  async handOver (): Promise<void> {
    if (this.handedOver || !this.running || this.soft.role !== 'leader' || (this.raft?.status().voters.length ?? 0) < 2 || this.handOverMs <= 0) return
    this.handedOver = true
    await this.transferLeadership(this.handOverTarget(), this.handOverMs).then(
      r => this.log?.info({ to: r.leader }, 'raft: handed leadership over before stopping'),
      (err: Error) => this.log?.warn({ err: err.message }, 'raft: could not hand leadership over before stopping'))
  }

  /**
   * Whom a stopping leader hands over to: of the voters keeping up (replicating, within two
   * appends of the log's end), the one connected longest, as etcd does. A member started moments
   * ago is still warming up (lazy compilation, cold caches), and its first second as leader
   * showed in rolling restarts as 100-200 ms write gaps. Undefined: the core picks the most up to date.
   */
  private handOverTarget (): string | undefined {
    const st = this.raft?.status()
    if (st?.progress === undefined) return undefined
    let best: string | undefined
    let bestMs = -1
    for (const id of st.voters) {
      const pr = st.progress[id]
      const ms = this.transport.connectedMs(id)
      if (id === this.self || pr === undefined || ms === undefined || pr.state !== 'replicate' || pr.match + 2 * this.maxEntriesPerAppend < st.lastIndex) continue
      if (ms > bestMs) {
        best = id
        bestMs = ms
      }
    }
    return best
  }

  async beforeStop (): Promise<void> {
    await this.handOver()
  }

  /**
   * Resolves once the writes of this node's callers that are waiting on the cluster now are
   * answered, or after `maxMs`. A node that just handed leadership over calls it before closing
   * its API: what it forwarded to the new leader still gets answered.
   */
  async drain (maxMs: number): Promise<void> {
    const waiting = new Set(this.pending.keys())
    if (waiting.size === 0) return
    await new Promise<void>(resolve => {
      const check = (): void => {
        for (const rid of waiting) if (!this.pending.has(rid)) waiting.delete(rid)
        if (waiting.size === 0) done()
      }
      const timer = setTimeout(() => { done() }, maxMs)
      const done = (): void => { clearTimeout(timer); this.drainWaits.delete(check); resolve() }
      this.drainWaits.add(check)
    })
  }

  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    clearInterval(this.tickTimer)
    clearInterval(this.helloTimer)
    await this.looping?.catch(() => {})
    await this.snapshotter?.stop()
    await this.transport.stop()
    for (const p of this.pending.values()) this.settle(p, new RaftUnavailableError('the node is stopping', p.proposed))
    this.reads.failAll(new RaftUnavailableError('the node is stopping'))
    this.raft = null
  }

  // ---- status ---------------------------------------------------------------------------

  status (): RaftStatusJson {
    const st = this.raft?.status()
    const learner = st?.learners.includes(this.self) === true
    const role: RaftRole = learner ? 'learner' : st?.role === 'leader' ? 'leader' : st?.role === 'candidate' || st?.role === 'pre-candidate' ? 'candidate' : 'follower'
    const now = Date.now()
    return {
      role,
      term: st?.term ?? 0,
      leader: st !== undefined && st.leader !== NONE ? st.leader : null,
      commitIndex: st?.commit ?? 0,
      appliedIndex: this.applied,
      snapshotIndex: this.snapshotIndex,
      compactedIndex: this.storage.snapshotMeta()?.index ?? 0,
      voters: st?.voters ?? [],
      learners: st?.learners ?? [],
      cluster: this.config?.cluster ?? null,
      formation: {
        state: this.formationState,
        expect: this.expect,
        candidates: this.formation?.candidates(now) ?? [],
        waiting: this.failed !== null ? `raft stopped: ${this.failed.message}` : this.waiting
      }
    }
  }

  /** The leader's peer id as this node knows it, or null; cheap enough for every answer. */
  leaderId (): string | null {
    return this.raft !== null && this.soft.leader !== NONE ? this.soft.leader : null
  }

  /** The leader this node knows of (null: none), its term, and whether that is this node. */
  leader (): { leader: string | null, term: number, self: boolean } {
    const st = this.raft?.status()
    const leader = st !== undefined && st.leader !== NONE ? st.leader : null
    return { leader, term: st?.term ?? 0, self: leader === this.self }
  }

  /** Frames refused or dropped for `reason` (see RejectReason), or all of them. */
  rejected (reason?: RejectReason): number {
    if (reason !== undefined) return this.counts.get(reason) ?? 0
    let n = 0
    for (const v of this.counts.values()) n += v
    return n
  }

  /** Proposals appended here as leader, replaced by a later leader, and proposed again. */
  reproposed (): number {
    return this.reproposedCount
  }

  /** The core's counters of odd messages it ignored. */
  coreStats (): Record<string, number> | null {
    return this.raft === null ? null : { ...this.raft.stats }
  }

  /** Test hook: drop raft frames to or from some peers (null heals). */
  setFilter (filter: FrameFilter | null): void { this.transport.filter = filter }

  private count (reason: RejectReason): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1)
    this.rejectedCounter.inc({ reason })
  }

  // ---- formation --------------------------------------------------------------------------

  private helloOf (): Hello {
    if (this.config !== null) {
      return {
        state: Hello.State.MEMBER,
        expect: this.expect,
        proposal: [],
        voters: this.config.voters,
        learners: this.config.learners,
        cluster: this.config.cluster,
        leader: this.leader().leader ?? ''
      }
    }
    const f = this.formation
    const locked = f?.locked ?? null
    return {
      state: locked !== null ? Hello.State.LOCKED : Hello.State.FORMING,
      expect: this.expect,
      proposal: locked ?? f?.proposal ?? [],
      voters: locked ?? [],
      learners: [],
      cluster: '',
      leader: ''
    }
  }

  private sayHello (to: string): void {
    this.lastHelloTo.set(to, Date.now())
    this.transport.send(to, { hello: this.helloOf() })
  }

  private onPeer (peer: string, up: boolean): void {
    if (!up) {
      this.formation?.forget(peer)
      this.lastHelloTo.delete(peer)
      // A leader whose connection closed (its process died) is not waited out for a whole election timeout.
      if (this.raft?.leaderUnreachable(peer) === true) this.log?.info({ leader: peer }, 'raft: the connection to the leader closed; campaigning without waiting out the election timeout')
      return
    }
    if (this.config === null) this.sayHello(peer)
    else if (this.known.has(peer)) this.transport.warm(peer)
  }

  private onHello (from: string, pb: Hello): void {
    const state = PB_TO_STATE.get(pb.state)
    if (state === undefined) { this.count('malformed'); return }
    if (this.config !== null) {
      // Members answer those still looking, so they find the cluster (at most every 100 ms each).
      if (state !== 'member' && Date.now() - (this.lastHelloTo.get(from) ?? 0) > 100) this.sayHello(from)
      return
    }
    const hello: PeerHello = { state, expect: pb.expect, proposal: pb.proposal, voters: pb.voters, learners: pb.learners, cluster: pb.cluster, leader: pb.leader }
    this.formation?.onHello(from, hello, Date.now())
  }

  private async formationStep (): Promise<void> {
    if (!this.running || this.formationBusy) return
    if (this.config !== null) {
      this.maybeProposeJoins()
      return
    }
    const f = this.formation
    if (f === null) return
    this.formationBusy = true
    try {
      const now = Date.now()
      const d = f.decide(now)
      switch (d.kind) {
        case 'wait':
          this.setWaiting(d.reason)
          break
        case 'lock':
          await this.storage.saveLock(d.voters)
          f.locked = d.voters
          this.formationState = 'locked'
          this.log?.info({ voters: d.voters }, 'raft: locked the voter set; waiting for every voter to lock it too')
          break
        case 'start': {
          const config: ClusterConfig = { cluster: clusterId(d.voters), voters: d.voters, learners: [] }
          await this.storage.saveConfig(config)
          if (!this.running) return
          this.log?.info({ cluster: config.cluster, voters: config.voters }, 'raft: cluster formed')
          this.startRaft(config)
          break
        }
        case 'join':
          this.formationState = 'joining'
          this.setWaiting(`joining cluster ${d.cluster} as a learner through ${d.via}`)
          if (now - this.lastJoinAt >= 500) {
            this.lastJoinAt = now
            this.transport.send(this.joinTarget ?? d.via, { join: { expect: this.expect } })
            this.joinTarget = null
          }
          break
      }
      if (this.config === null) {
        for (const peer of this.transport.peers()) this.sayHello(peer)
      }
    } catch (err) {
      this.log?.error({ err }, 'raft: formation step failed')
    } finally {
      this.formationBusy = false
    }
  }

  private setWaiting (reason: string): void {
    const now = Date.now()
    if (this.waiting === null) this.log?.info({ voters: this.expect }, `raft: no cluster yet; looking for ${this.expect} voters`)
    if (reason !== this.waiting) {
      this.waiting = reason
      this.log?.info(`raft: ${reason}`)
    } else if (now - this.startedAt > 10_000 && now - this.lastWaitWarn > 30_000) {
      this.lastWaitWarn = now
      this.log?.warn(`raft: still no cluster after ${Math.round((now - this.startedAt) / 1000)} s: ${reason}`)
    }
  }

  private onJoin (from: string): void {
    const reply = (r: Partial<JoinResponse>): void => {
      this.transport.send(from, { joined: { ok: false, reason: '', cluster: '', voters: [], learners: [], leader: '', ...r } })
    }
    const c = this.config
    if (c === null || this.raft === null) { reply({ reason: 'no cluster here yet' }); return }
    const st = this.raft.status()
    if (st.voters.includes(from) || st.learners.includes(from)) {
      this.answerJoin(from)
      return
    }
    const { leader, self } = this.leader()
    if (!self) { reply({ reason: 'not the leader', leader: leader ?? '' }); return }
    this.joinRequests.add(from)
    this.joinQueue.add(from)
    this.maybeProposeJoins()
  }

  /**
   * A member's answer to a joiner: the cluster's *initial* configuration, from which the joiner's
   * core derives the current one as the log (or a snapshot) reaches it.
   */
  private answerJoin (to: string): void {
    const c = this.config
    if (c === null) return
    this.transport.send(to, { joined: { ok: true, reason: '', cluster: c.cluster, voters: c.voters, learners: c.learners, leader: '' } })
  }

  /** The leader adds joiners as learners, one membership change at a time (retried each hello). */
  private maybeProposeJoins (): void {
    if (this.raft === null || this.joinQueue.size === 0) return
    if (!this.leader().self) { this.joinQueue.clear(); return }
    const st = this.raft.status()
    for (const id of [...this.joinQueue]) {
      if (st.voters.includes(id) || st.learners.includes(id)) { this.joinQueue.delete(id); continue }
      const r = this.raft.proposeConfChange({ op: 'add-learner', id })
      if (r.status === 'accepted') this.joinQueue.delete(id)
      break // one change in flight at a time; the next goes once it commits
    }
    this.scheduleLoop()
  }

  private onJoined (from: string, r: JoinResponse): void {
    // Busy: the joiner asks again in 500 ms anyway.
    if (this.config !== null || this.formation === null || this.formation.locked !== null || this.formationBusy) return
    if (!r.ok) {
      if (r.leader !== '' && r.leader !== this.self) this.joinTarget = r.leader
      return
    }
    if (r.voters.length === 0) { this.count('malformed'); return }
    const config: ClusterConfig = { cluster: r.cluster, voters: r.voters, learners: r.learners }
    this.formationBusy = true
    this.storage.saveConfig(config).then(() => {
      if (!this.running || this.config !== null) return
      this.log?.info({ cluster: config.cluster, via: from }, 'raft: joined the cluster; catching up as a learner')
      this.startRaft(config)
    }, (err: Error) => {
      this.log?.error({ err }, 'raft: cannot persist the cluster configuration')
    }).finally(() => { this.formationBusy = false })
  }

  // ---- the core ---------------------------------------------------------------------------

  private coreConfig (c: ClusterConfig): RaftConfig {
    return {
      id: this.self,
      voters: c.voters,
      learners: c.learners,
      electionTicks: this.electionTicks,
      heartbeatTicks: this.heartbeatTicks,
      rand: Math.random,
      maxInflightAppends: this.maxInflightAppends,
      maxEntriesPerAppend: this.maxEntriesPerAppend,
      checkQuorum: true,
      checkQuorumTicks: this.checkQuorumTicks,
      preVote: true
    }
  }

  /** A core restored from what is durable (on start, and after a membership change). */
  private buildCore (c: ClusterConfig): RaftNode {
    const entries = this.storage.entries()
    const hs = this.storage.hardState()
    const last = entries[entries.length - 1]?.index ?? this.storage.snapshotMeta()?.index ?? 0
    if (hs.commit > last) {
      // Only after a corrupt tail was cut: the leader sends the lost entries again.
      this.log?.error({ commit: hs.commit, last }, 'raft: commit index beyond the recovered log; lowering it')
      hs.commit = last
    }
    const snapshot = this.storage.snapshotMeta() ?? undefined
    // The state machines start from a snapshot of committed state: at least that much is committed.
    hs.commit = Math.max(hs.commit, snapshot?.index ?? 0, this.applied)
    return new RaftNode(this.coreConfig(c), { hardState: hs, entries, applied: this.applied, ...(snapshot !== undefined ? { snapshot } : {}) })
  }

  private startRaft (c: ClusterConfig): void {
    this.config = c
    this.known = new Set([...c.voters, ...c.learners])
    this.formation = null
    this.formationState = 'member'
    this.waiting = null
    this.raft = this.buildCore(c)
    this.noteConfig(this.raft.status())
    // Dial the other members now rather than wait to be found: after a restart, the leader's
    // redials back off to 1 s, and every ms of that is more log to catch up on.
    for (const id of this.known) if (id !== this.self) this.transport.warm(id)
    this.soft = { role: 'follower', leader: NONE }
    this.tickTimer = setInterval(() => {
      if (this.raft === null) return
      this.raft.tick()
      // Heartbeats go out even while a slow disk holds up the Ready loop.
      if (this.looping !== null && this.soft.role === 'leader') this.sentCounter.inc(this.sendMessages(this.raft.takeMessages()))
      if (this.soft.role === 'leader') {
        this.expireLeases()
        this.reconcileMembers()
      }
      if (this.retryNextTick.size > 0) {
        const rids = [...this.retryNextTick]
        this.retryNextTick.clear()
        for (const rid of rids) {
          const p = this.pending.get(rid)
          if (p !== undefined) this.propose(p)
        }
      }
      this.scheduleLoop()
    }, this.tickMs)
    this.tickTimer.unref()
    this.scheduleLoop()
  }

  /**
   * Peers in any configuration this node has seen may talk Raft to it: a node behind must hear
   * from a leader it does not know of yet (core contract). Strangers stay out.
   */
  private noteConfig (c: { voters: string[], learners: string[] }): void {
    for (const id of [...c.voters, ...c.learners]) this.known.add(id)
    for (const id of this.transport.peers()) if (this.known.has(id)) this.transport.warm(id)
  }

  private onFrame (from: string, frame: RaftFrame): void {
    if (!this.running) return
    if (frame.msg != null) this.onMessage(from, frame.msg)
    if (frame.hello != null) this.onHello(from, frame.hello)
    if (frame.join != null) this.onJoin(from)
    if (frame.joined != null) this.onJoined(from, frame.joined)
    if (frame.keepalive != null) this.onKeepAlive(from, frame.keepalive.leases)
    if (frame.transfer != null && this.known.has(from) && this.soft.role === 'leader') {
      this.raft?.transferLeadership(frame.transfer.to === '' ? undefined : frame.transfer.to)
      this.scheduleLoop()
    }
    if (frame.member != null && this.known.has(from)) this.want(frame.member.id, frame.member.op)
    if (frame.snapChunk != null && this.known.has(from)) this.snapshotter?.onChunk(from, frame.snapChunk)
    if (frame.snapAck != null && this.known.has(from)) this.snapshotter?.onAck(from, frame.snapAck)
  }

  private onMessage (from: string, pb: RaftMessage): void {
    if (this.raft === null) { this.count('no_cluster'); return }
    // The core ignores non-members too; refusing here keeps their terms away from it entirely.
    if (!this.known.has(from)) { this.count('non_member'); return }
    this.lastHeard.set(from, performance.now())
    const m = fromPb(pb, from, this.self)
    if (m === undefined) { this.count('malformed'); return }
    const before = this.raft.stats.ignoredMalformed
    this.raft.step(m)
    if (this.raft.stats.ignoredMalformed > before) this.count('malformed')
    this.scheduleLoop()
  }

  private scheduleLoop (): void {
    this.wake = true
    if (this.loopScheduled || this.looping !== null || this.raft === null || this.failed !== null) return
    this.loopScheduled = true
    // After the current I/O callbacks: every message of one read chunk shares the next Ready.
    setImmediate(() => {
      this.loopScheduled = false
      if (this.looping !== null) return
      this.looping = this.loop().finally(() => {
        this.looping = null
        // Work that arrived after the loop's last look.
        if (this.wake && this.running) this.scheduleLoop()
      })
    })
  }

  private async loop (): Promise<void> {
    try {
      for (;;) {
        this.wake = false
        const raft = this.raft
        if (raft === null || !this.running) return
        const rd = raft.ready()
        if (rd === null) return
        await this.handleReady(raft, rd)
      }
    } catch (err) {
      this.fail(err as Error)
    }
  }

  private async handleReady (raft: RaftNode, rd: Ready): Promise<void> {
    this.readyCounter.inc()
    if (rd.snapshot !== undefined) await this.installSnapshot(rd.snapshot)
    // A leader's appends go out while it fsyncs (the core counts its copy only after advance),
    // and a candidate's vote requests.
    if (rd.sendFirst === true) this.sendAll(rd)
    if (rd.firstMessages !== undefined) this.sentCounter.inc(this.sendMessages(rd.firstMessages))
    if (rd.config !== undefined) {
      this.noteConfig(rd.config)
      for (const w of [...this.memberWaits]) w()
    }
    if (rd.softState !== undefined) this.onSoftState(rd.softState)
    // Committed entries are durable from earlier Readys: apply (and answer) them before this
    // Ready's write.
    this.apply(rd.committedEntries)
    if (rd.readStates !== undefined) for (const r of rd.readStates) this.reads.confirm(r.ctx, r.index, this.applied)
    if (rd.refusedProposals !== undefined) this.retryRefused(rd.refusedProposals)
    if (this.reads.size > 0 && rd.committedEntries.length > 0) this.reads.applied(this.applied)
    if (rd.hardState !== undefined || rd.entries.length > 0) {
      const sync = mustSync(rd.hardState, this.storage.hardState(), rd.entries.length)
      const t0 = sync ? performance.now() : 0
      await this.storage.append(rd.hardState, rd.entries, sync)
      if (sync) {
        const ms = performance.now() - t0
        this.fsyncHistogram.observe(ms / 1000)
        // A leader sends nothing else meanwhile: followers campaign after 150-300 ms.
        if (ms > SLOW_WRITE_MS) this.log?.warn({ ms: Math.round(ms), entries: rd.entries.length, snapshotting: this.snapshotBusy }, 'raft: a log write took long (slow or busy disk)')
      }
      this.appendedCounter.inc(rd.entries.length)
    }
    if (rd.sendFirst !== true) this.sendAll(rd)
    raft.advance(rd)
    this.maybeSnapshot()
  }

  private snapshotDirOf (): string { return this.snapshotDir ?? '' }

  /**
   * Every snapshotEntries applied entries: a point-in-time copy of both state machines goes to a
   * file (in the background), then the core and the storage drop the log up to it.
   */
  private maybeSnapshot (): void {
    const raft = this.raft
    if (this.snapshotter === null || raft === null || this.snapshotBusy || this.applied - this.snapshotIndex < this.snapshotEntries) return
    this.snapshotBusy = true
    const index = this.applied
    const kv = this.sm.encodedCopy()
    const coord = encodeSnapshot(this.coordState.snapshot())
    const st = raft.status()
    // The stored log is contiguous: the entry at `index` by offset, not by a scan.
    const log = this.storage.entries()
    const term = log[index - (log[0]?.index ?? 0)]?.term ?? st.term
    const meta = { index, term, voters: st.voters, learners: st.learners }
    const t0 = performance.now()
    this.snapshotter.take(meta, kv, coord).then(async bytes => {
      if (this.raft !== raft) return
      const now = performance.now()
      const prs = raft.status().progress ?? {}
      const upTo = compactionPoint({
        index,
        snapshotEntries: this.snapshotEntries,
        tail: COMPACTION_TAIL,
        holdSnapshots: FOLLOWER_HOLD_SNAPSHOTS,
        activeMs: FOLLOWER_ACTIVE_MS,
        followers: Object.entries(prs).filter(([id]) => id !== this.self).map(([id, pr]) => ({ match: pr.match, silentMs: now - (this.lastHeard.get(id) ?? -Infinity) }))
      })
      if (upTo > (this.storage.snapshotMeta()?.index ?? 0)) {
        const m = raft.compact(upTo)
        await this.storage.compact(m)
      }
      this.snapshotIndex = index
      this.log?.info({ index, bytes, ms: Math.round(performance.now() - t0) }, 'raft: snapshot taken; log compacted')
    }).catch((err: Error) => {
      this.log?.warn({ err: err.message }, 'raft: taking a snapshot failed; the log stays as it is')
    }).finally(() => { this.snapshotBusy = false })
  }

  /** A snapshot the leader sent replaces both state machines and the log (Ready.snapshot). */
  private async installSnapshot (meta: { index: number, term: number, voters: string[], learners: string[] }): Promise<void> {
    // The file is complete and verified (the snapshotter checked it before stepping the MsgSnap).
    const machines = await readStateMachines(snapshotPath(this.snapshotDirOf(), meta.index))
    await this.storage.installSnapshot(meta)
    this.adoptSnapshot(meta.index, machines)
    this.reads.applied(this.applied)
    this.log?.info({ index: meta.index, keys: this.sm.size }, 'raft: installed a snapshot from the leader')
  }

  /**
   * On start: both state machines from the newest snapshot file the log continues (taken at or
   * after the log's base, at or before its last entry), or empty. The committed entries after it
   * are applied again as the core hands them out.
   */
  private async restoreStateMachines (rec: Recovered): Promise<void> {
    const base = rec.snapshot?.index ?? 0
    const last = rec.entries.at(-1)?.index ?? base
    for (const f of await listSnapshots(this.snapshotDirOf())) {
      if (f.index < base || f.index > last) continue
      try {
        this.adoptSnapshot(f.index, await readStateMachines(f.path))
        return
      } catch (err) {
        if (!(err instanceof SnapshotCorruptError)) throw err
        this.log?.error({ file: f.path, err: err.message }, 'raft: skipping a corrupt snapshot file')
      }
    }
    if (base > 0) throw new Error(`no snapshot file covers the compacted log (its entries start after ${base})`)
  }

  /** Both state machines become a snapshot's, taken at `index`. */
  private adoptSnapshot (index: number, machines: { kv: Array<[string, Uint8Array]>, coord: CoordinationState }): void {
    this.sm.load(machines.kv)
    this.coordState = machines.coord
    this.applied = index
    this.snapshotIndex = index
    // Whether what this node appended up to there was applied is in the snapshot, not knowable here.
    for (const [i, rid] of [...this.appendedAt]) {
      const p = i <= index ? this.pending.get(rid) : undefined
      if (p !== undefined) this.settle(p, new RaftUnavailableError('a snapshot from the leader replaced this node\'s log before the write was seen to commit; it may have been applied', true))
    }
  }

  private sendMessages (messages: Message[]): number {
    let sent = 0
    for (const m of messages) {
      if (m.to === this.self) continue
      this.transport.send(m.to, { msg: toPb(m) })
      sent++
    }
    return sent
  }

  private sendAll (rd: Ready): void {
    let sent = this.sendMessages(rd.messages)
    for (const m of rd.extMessages) {
      if (m.to === this.self) continue
      // A snapshot goes as a stream of chunks; the follower steps the MsgSnap they carry.
      if (m.type === 'MsgSnap') {
        if (this.snapshotter === null) this.raft?.reportSnapshot(m.to, 'failed')
        else void this.snapshotter.send(m.to, m.term, m.snapshot?.index ?? 0).catch((err: Error) => { this.log?.warn({ err: err.message }, 'raft: cannot send a snapshot'); this.raft?.reportSnapshot(m.to, 'failed') })
        continue
      }
      this.transport.send(m.to, { msg: toPb(m) })
      sent++
    }
    this.sentCounter.inc(sent)
  }

  private fail (err: Error): void {
    this.failed = err
    this.log?.error({ err }, 'raft: storage failed; this node stops taking part in the cluster')
    clearInterval(this.tickTimer)
    this.raft = null
    for (const p of this.pending.values()) this.settle(p, new RaftUnavailableError(`raft stopped on this node: ${err.message}`, p.proposed))
  }

  private onSoftState (ss: SoftState): void {
    const prev = this.soft
    this.soft = ss
    // Only the leader times leases; a new one gives each a full TTL from now.
    if (ss.role === 'leader' && prev.role !== 'leader') this.leaseClock.reset(performance.now(), this.coordState.leases())
    else if (ss.role !== 'leader' && prev.role === 'leader') this.leaseClock.clear()
    if (ss.leader !== prev.leader) {
      if (ss.leader !== NONE) this.log?.info({ leader: ss.leader, term: this.raft?.status().term }, 'raft: leader')
      else this.log?.debug('raft: no leader')
    }
    if (ss.role !== prev.role && (ss.role === 'pre-candidate' || ss.role === 'candidate' || prev.role === 'leader')) {
      // Elections and step-downs are rare in a healthy cluster: say why one happened.
      const heard = prev.leader !== NONE && prev.leader !== this.self ? this.lastHeard.get(prev.leader) : undefined
      this.log?.info({ from: prev.role, to: ss.role, term: this.raft?.status().term, leaderSilentMs: heard === undefined ? null : Math.round(performance.now() - heard) }, 'raft: role changed')
    }
    // A new leader that is not the one a proposal went to: a forwarded one may have been lost
    // with the old leader (a forwarded proposal is not acknowledged), so answer now rather than
    // at the deadline; the caller learns it may still be applied and can retry at once. What this
    // node appended itself waits: applying its index tells whether it survived (a handover keeps
    // every entry), see settleAppended().
    if (ss.leader !== NONE && ss.leader !== prev.leader) {
      for (const p of [...this.pending.values()]) {
        if (p.proposed && p.via !== ss.leader && p.index === undefined) this.settle(p, new RaftUnavailableError(`the leader changed before this write committed; it may still be applied`, true))
      }
    }
    if (ss.role === 'leader' && prev.role !== 'leader') {
      this.leaderSince = performance.now()
      this.lastHeard.clear()
    }
    if (ss.role !== 'leader') this.desired.clear()
    // Reads the old leader may have lost are asked again.
    if (ss.leader !== NONE && ss.leader !== prev.leader) for (const ctx of this.reads.unconfirmed()) this.askRead(ctx)
    if (ss.leader !== prev.leader) for (const w of [...this.leaderWaits]) w()
    // Proposals that found no leader, or met a handover, go now.
    if (ss.leader !== NONE && (this.waitingForLeader.size > 0 || this.retryNextTick.size > 0)) {
      const rids = [...this.waitingForLeader, ...this.retryNextTick]
      this.waitingForLeader.clear()
      this.retryNextTick.clear()
      for (const rid of rids) {
        const p = this.pending.get(rid)
        if (p !== undefined) this.propose(p)
      }
    }
  }

  /** Applies committed entries to the state machines. */
  private apply (entries: Entry[]): void {
    for (const e of entries) {
      // Already in the snapshot the state machines were restored from.
      if (e.index <= this.applied) continue
      this.applied = e.index
      const cmd = e.type === undefined || e.type === 'normal' ? decodeCommand(e.data) : undefined
      if (this.appendedAt.size > 0) this.settleAppended(e.index, cmd?.rid)
      if (e.type === 'config') { this.appliedConfig(e); continue }
      // 'learners' entries are from before membership changes went through the core: no-ops.
      if (cmd === undefined || cmd.op === 'learners') continue
      if (cmd.op === 'coord') {
        this.applyCoord(e.index, cmd.cmd)
        continue
      }
      const result = this.sm.apply(e.index, cmd, this.fenceHolds)
      const p = this.pending.get(cmd.rid)
      if (p !== undefined) this.settle(p, { result, index: e.index })
    }
  }

  /**
   * A proposal this node appended while it led, at `index`, where an entry with command id
   * `committedRid` (none: a no-op or config entry) committed: if that is another entry, a later
   * leader replaced it and it was never applied, anywhere. It goes again (a new index, the same
   * rid): nothing acknowledged is lost, nothing is applied twice.
   */
  private settleAppended (index: number, committedRid: string | undefined): void {
    const rid = this.appendedAt.get(index)
    if (rid === undefined) return
    this.appendedAt.delete(index)
    const p = this.pending.get(rid)
    if (p === undefined || committedRid === rid) return
    this.withdraw(p)
    this.reproposedCounter.inc()
    this.reproposedCount++
    this.propose(p)
  }

  /** A committed membership change: answer a joiner it added, note our own removal. */
  private appliedConfig (e: Entry): void {
    const cc = decodeConfEntry(e.data)
    if (cc === undefined) return
    this.log?.info({ op: cc.op, id: cc.id, voters: cc.voters, learners: cc.learners }, 'raft: membership change committed')
    if (cc.op !== 'remove' && this.joinRequests.delete(cc.id)) this.answerJoin(cc.id)
    if (cc.op === 'remove' && cc.id === this.self) {
      this.removed = true
      this.log?.warn('raft: this node was removed from the cluster; it no longer takes part (restart it with a fresh data dir to join again)')
      // It hears of no later leader or commit: what it proposed would wait out its deadline.
      for (const p of [...this.pending.values()]) {
        this.settle(p, new RaftUnavailableError('this node was removed from the cluster before the write committed; it may still be applied', p.proposed))
      }
    }
    for (const w of [...this.memberWaits]) w()
  }

  // ---- coordination -----------------------------------------------------------------------

  /** The coordination state as applied here (read it for stale views; write through coordinate()). */
  get coordination (): CoordinationState { return this.coordState }

  /** Called with the events of each applied coordination entry, on every node, in log order. */
  onCoordEvents (listener: CoordListener): () => void {
    this.coordListeners.add(listener)
    return () => { this.coordListeners.delete(listener) }
  }

  /** Proposes a coordination command and resolves with its result once applied here. */
  async coordinate (req: CoordRequest, timeoutMs?: number): Promise<{ result: CoordResult, index: number }> {
    const out = await this.submit(rid => ({ rid, op: 'coord', cmd: { ...req, rid } as CoordCommand }), timeoutMs)
    return out as { result: CoordResult, index: number }
  }

  /** These leases (owned by this node) are still wanted: tells the leader, which alone times them. */
  keepAlive (leaseIds: string[]): void {
    if (leaseIds.length === 0 || this.raft === null) return
    if (this.soft.role === 'leader') {
      this.onKeepAlive(this.self, leaseIds)
      return
    }
    if (this.soft.leader !== NONE) this.transport.send(this.soft.leader, { keepalive: { leases: leaseIds } })
  }

  private onKeepAlive (from: string, leases: string[]): void {
    if (this.soft.role !== 'leader') return
    const now = performance.now()
    for (const id of leases) {
      if (this.coordState.lease(id)?.owner === from) this.leaseClock.keepAlive(id, now)
    }
  }

  /** The leader proposes the expiry of leases past their deadline (never a local decision elsewhere). */
  private expireLeases (): void {
    const raft = this.raft
    if (raft === null || this.leaseClock.size === 0) return
    for (const leaseId of this.leaseClock.due(performance.now())) {
      const cmd: CoordCommand = { rid: this.rid(), op: 'lease_revoke', leaseId, reason: 'expired' }
      raft.propose(encodeCommand({ rid: cmd.rid, op: 'coord', cmd }))
      this.log?.info({ leaseId, owner: this.coordState.lease(leaseId)?.owner }, 'raft: lease expired; proposing its revocation')
    }
  }

  private applyCoord (index: number, cmd: CoordCommand): void {
    const { result, events } = this.coordState.apply(index, cmd)
    if (this.soft.role === 'leader' && result.ok) {
      if (result.op === 'lease_grant') this.leaseClock.granted(result.leaseId, result.ttlMs, performance.now())
      else if ((cmd.op === 'lock_acquire' || cmd.op === 'campaign') && cmd.newLease !== undefined && 'leaseId' in result && result.leaseId !== undefined) this.leaseClock.granted(result.leaseId, cmd.newLease.ttlMs, performance.now())
    }
    for (const ev of events) if (ev.type === 'lease_revoked') this.leaseClock.revoked(ev.leaseId)
    if (events.length > 0) {
      for (const l of this.coordListeners) {
        try {
          l(events, index)
        } catch (err) {
          this.log?.warn({ err }, 'raft: a coordination listener failed')
        }
      }
    }
    const p = this.pending.get(cmd.rid)
    if (p !== undefined) this.settle(p, { result, index })
  }

  private readonly fenceHolds = (f: Fence): boolean => this.coordState.checkFence(f.resource, f.token)

  // ---- reads, transfers, membership -------------------------------------------------------

  /** Resolves once this node's state machine reflects every write committed before the call. */
  async readBarrier (timeoutMs = this.timeoutMs): Promise<void> {
    if (this.raft === null || !this.running) throw new RaftUnavailableError(this.unavailableReason())
    const ctx = this.rid()
    const done = this.reads.add(ctx, timeoutMs, () => new RaftUnavailableError(`no leader confirmed a linearizable read within ${timeoutMs} ms (no quorum reachable?)`))
    this.askRead(ctx)
    await done
  }

  private askRead (ctx: string): void {
    const raft = this.raft
    if (raft === null) return
    const r = raft.readIndex(ctx)
    if (r.status === 'dropped' && r.reason === 'not-a-member') this.reads.fail(ctx, new RaftUnavailableError('this node is not a member of the cluster'))
    // 'no-leader': asked again when one appears.
    this.scheduleLoop()
  }

  /**
   * Hands leadership to `to` (or the most up-to-date voter) and resolves with the new leader.
   * Works from any member: a follower asks the leader.
   */
  async transferLeadership (to?: string, timeoutMs = this.timeoutMs): Promise<{ leader: string, term: number }> {
    const raft = this.raft
    if (raft === null || !this.running) throw new RaftUnavailableError(this.unavailableReason())
    const before = this.soft.leader
    if (before === NONE) throw new RaftUnavailableError('no leader to transfer from')
    if (to !== undefined && !raft.status().voters.includes(to)) throw new RaftMembershipError(`${to} is not a voter`)
    if (to === before) return { leader: before, term: raft.status().term }
    const done = new Promise<{ leader: string, term: number }>((resolve, reject) => {
      const check = (): void => {
        const lead = this.soft.leader
        if (lead !== NONE && lead !== before && (to === undefined || lead === to)) finish(() => { resolve({ leader: lead, term: this.raft?.status().term ?? 0 }) })
      }
      const timer = setTimeout(() => { finish(() => { reject(new RaftUnavailableError(`leadership did not move within ${timeoutMs} ms`)) }) }, timeoutMs)
      const finish = (f: () => void): void => { clearTimeout(timer); this.leaderWaits.delete(check); f() }
      this.leaderWaits.add(check)
    })
    if (this.soft.role === 'leader') {
      const r = raft.transferLeadership(to)
      if (r.status === 'refused') {
        for (const w of [...this.leaderWaits]) w()
        throw new RaftMembershipError(`cannot transfer leadership: ${r.reason}`)
      }
      this.scheduleLoop()
    } else {
      this.transport.send(before, { transfer: { to: to ?? '' } })
    }
    return await done
  }

  /** The current voters and learners, with what this node knows of each. */
  members (): MemberInfo[] {
    const st = this.raft?.status()
    if (st === undefined) return []
    const now = performance.now()
    const info = (peerId: string, role: MemberRole): MemberInfo => {
      const heard = this.lastHeard.get(peerId)
      const m: MemberInfo = { peerId, role, self: peerId === this.self, leader: peerId === st.leader, lastHeardMs: peerId === this.self || heard === undefined ? null : Math.round(now - heard) }
      const match = st.progress?.[peerId]?.match
      if (match !== undefined) m.match = match
      return m
    }
    return [...st.voters.map(id => info(id, 'voter')), ...st.learners.map(id => info(id, 'learner'))]
  }

  /**
   * Makes `peerId` a voter or learner, or removes it, and resolves once this node has applied the
   * change. A new voter joins as a learner first and is promoted once caught up. The leader does
   * the work; any member may ask.
   */
  async setMember (peerId: string, role: MemberRole | 'removed', timeoutMs = 30_000): Promise<MemberInfo[]> {
    const raft = this.raft
    if (raft === null || !this.running) throw new RaftUnavailableError(this.unavailableReason())
    if (typeof peerId !== 'string' || peerId.length === 0 || peerId.length > 128) throw new RaftMembershipError('peerId must be a peer id string')
    const roleOf = (): MemberRole | 'removed' => {
      const st = this.raft?.status()
      return st?.voters.includes(peerId) === true ? 'voter' : st?.learners.includes(peerId) === true ? 'learner' : 'removed'
    }
    if (role === 'removed' && roleOf() === 'removed') throw new RaftMembershipError(`${peerId} is not a member`)
    if (role === 'removed' && raft.status().voters.length === 1 && roleOf() === 'voter') throw new RaftMembershipError('cannot remove the last voter')
    if (role === 'learner' && roleOf() === 'voter') throw new RaftMembershipError(`${peerId} is a voter; demoting voters is not supported (remove it, then add it as a learner)`)
    // A node removing itself may never hear that the change committed (it gets no more log):
    // for it, the change being in its log is the answer.
    const committed = (): boolean => roleOf() === role && (peerId === this.self && role === 'removed' ? true : this.applied >= (this.raft?.status().configIndex ?? 0))
    if (committed()) return this.members()
    const done = new Promise<void>((resolve, reject) => {
      const check = (): void => { if (committed()) finish(resolve) }
      const timer = setTimeout(() => { finish(() => { reject(new RaftUnavailableError(`the membership change did not commit within ${timeoutMs} ms`, true)) }) }, timeoutMs)
      const finish = (f: () => void): void => { clearTimeout(timer); this.memberWaits.delete(check); f() }
      this.memberWaits.add(check)
    })
    this.ask(peerId, role)
    await done
    return this.members()
  }

  private ask (peerId: string, role: MemberRole | 'removed'): void {
    if (this.soft.role === 'leader') this.want(peerId, role)
    else if (this.soft.leader !== NONE) this.transport.send(this.soft.leader, { member: { op: role, id: peerId } })
  }

  private want (id: string, op: string): void {
    if (this.soft.role !== 'leader' || (op !== 'voter' && op !== 'learner' && op !== 'removed')) return
    if (id.length === 0 || id.length > 128) return
    this.desired.set(id, op)
    this.reconcileMembers()
  }

  /**
   * Leader, every tick: one membership change toward what was asked (promotions before removals,
   * so a replaced voter's seat is filled first), and the replacement of dead voters.
   */
  private reconcileMembers (): void {
    const raft = this.raft
    if (raft === null || this.soft.role !== 'leader' || this.removed) return
    const st = raft.status()
    this.healDeadVoters(st)
    if (this.desired.size === 0 || st.configIndex > st.commit) return
    const roleOf = (id: string): MemberRole | 'removed' => st.voters.includes(id) ? 'voter' : st.learners.includes(id) ? 'learner' : 'removed'
    const order = [...this.desired].sort((a, b) => Number(a[1] === 'removed') - Number(b[1] === 'removed'))
    for (const [id, want] of order) {
      const now = roleOf(id)
      if (now === want) { this.desired.delete(id); continue }
      const op = want === 'removed' ? 'remove' : now === 'removed' ? 'add-learner' : 'promote'
      const r = raft.proposeConfChange({ op, id })
      if (r.status === 'accepted') this.log?.info({ op, id }, 'raft: proposing a membership change')
      else if (r.reason === 'invalid' || r.reason === 'last-voter') this.desired.delete(id)
      // not-caught-up / not-ready / pending-config: next tick.
      break
    }
    this.scheduleLoop()
  }

  /** A voter silent for replaceDeadVoterMs is replaced by a healthy, caught-up learner. */
  private healDeadVoters (st: ReturnType<RaftNode['status']>): void {
    if (this.replaceDeadVoterMs <= 0 || this.desired.size > 0 || st.learners.length === 0) return
    const now = performance.now()
    if (now - this.leaderSince < this.replaceDeadVoterMs) return
    const silent = (id: string): number => now - (this.lastHeard.get(id) ?? this.leaderSince)
    const dead = st.voters.find(id => id !== this.self && silent(id) >= this.replaceDeadVoterMs)
    if (dead === undefined) return
    const healthy = st.learners.find(id => silent(id) < 2000 && (st.progress?.[id]?.match ?? 0) >= st.commit)
    if (healthy === undefined) return
    // The live voters after both steps still form a quorum of the new set: the dead one never counted.
    this.log?.warn({ dead, replacement: healthy, silentMs: Math.round(silent(dead)) }, 'raft: replacing a voter that has been unreachable')
    this.desired.set(healthy, 'voter')
    this.desired.set(dead, 'removed')
  }

  // ---- key-value API ----------------------------------------------------------------------

  private rid (): string {
    return `${this.ridPrefix}${(this.ridCounter++).toString(36)}`
  }

  private unavailableReason (): string {
    if (this.failed !== null) return `raft stopped on this node: ${this.failed.message}`
    return `no cluster yet (${this.formationState}): ${this.waiting ?? 'starting'}`
  }

  private async submit (make: (rid: string) => Command, timeoutMs: number | undefined): Promise<{ result: KvResult | CoordResult, index: number }> {
    if (this.raft === null || !this.running) throw new RaftUnavailableError(this.unavailableReason())
    const rid = this.rid()
    const data = encodeCommand(make(rid))
    const wait = timeoutMs ?? this.timeoutMs
    return await new Promise((resolve, reject) => {
      const p: Pending = {
        rid,
        data,
        proposed: false,
        via: NONE,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.settle(p, p.proposed
            ? new RaftUnavailableError(`not committed within ${wait} ms (no quorum reachable?); the write may still be applied later`, true)
            : new RaftUnavailableError(`no leader within ${wait} ms`))
        }, wait)
      }
      this.pending.set(rid, p)
      this.propose(p)
    })
  }

  private propose (p: Pending): void {
    const raft = this.raft
    if (raft === null) { this.waitingForLeader.add(p.rid); return }
    const r = raft.propose(p.data)
    if (r.status === 'dropped') {
      if (r.reason === 'not-a-member') this.settle(p, new RaftUnavailableError('this node is not a member of the cluster'))
      else if (r.reason === 'transferring') this.retryNextTick.add(p.rid) // the handover may fail and this leader stay
      else this.waitingForLeader.add(p.rid)
      return
    }
    p.proposed = true
    if (r.status === 'accepted') {
      p.via = this.self
      p.index = r.index
      this.appendedAt.set(r.index, p.rid)
    } else {
      p.via = r.to
    }
    this.scheduleLoop()
  }

  /**
   * Forwarded proposals the leader refused (it was handing over, or no longer led): never
   * appended, so they go again on the next tick, through whoever leads then, instead of waiting
   * out their deadline.
   */
  private retryRefused (datas: Uint8Array[]): void {
    for (const data of datas) {
      const rid = decodeCommand(data)?.rid
      const p = rid === undefined ? undefined : this.pending.get(rid)
      if (p === undefined || !p.proposed || p.via === this.self) continue
      this.withdraw(p)
      this.retryNextTick.add(p.rid)
    }
  }

  /** `p` is known to be in no log: it is to be proposed again. */
  private withdraw (p: Pending): void {
    p.proposed = false
    p.via = NONE
    p.index = undefined
  }

  private settle (p: Pending, outcome: { result: KvResult | CoordResult, index: number } | Error): void {
    if (!this.pending.delete(p.rid)) return
    clearTimeout(p.timer)
    if (p.index !== undefined) this.appendedAt.delete(p.index)
    this.waitingForLeader.delete(p.rid)
    this.retryNextTick.delete(p.rid)
    if (outcome instanceof Error) p.reject(outcome)
    else p.resolve(outcome)
    if (this.drainWaits.size > 0) for (const w of [...this.drainWaits]) w()
  }

  private async put (key: string, value: unknown, opts: { prevVersion?: number, timeoutMs?: number, fence?: Fence }): Promise<PutResult> {
    checkKey(key)
    const prevVersion = checkVersion(opts.prevVersion)
    const fence = checkFence(opts.fence)
    if (value === undefined) throw new KvInputError('value is required')
    const { result, index } = await this.submit(rid => conditions({ rid, op: 'put', key, value }, prevVersion, fence), opts.timeoutMs)
    if (result.ok && result.op === 'put') return { key, version: result.version, index }
    throw resultError(result, key, prevVersion)
  }

  private async get (key: string, opts: { consistency?: Consistency, timeoutMs?: number }): Promise<GetResult | null> {
    checkKey(key)
    if (opts.consistency === 'stale') {
      if (this.config === null) throw new RaftUnavailableError(this.unavailableReason())
    } else {
      // ReadIndex: the leader confirms it still leads and names the index to wait for; nothing
      // is written to the log.
      await this.readBarrier(opts.timeoutMs ?? this.timeoutMs)
    }
    const rec = this.sm.get(key)
    return rec === undefined ? null : { key, value: rec.value, version: rec.version }
  }

  private async delete (key: string, opts: { prevVersion?: number, timeoutMs?: number, fence?: Fence }): Promise<DeleteResult> {
    checkKey(key)
    const prevVersion = checkVersion(opts.prevVersion)
    const fence = checkFence(opts.fence)
    const { result, index } = await this.submit(rid => conditions({ rid, op: 'del', key }, prevVersion, fence), opts.timeoutMs)
    if (result.ok && result.op === 'del') return { key, deleted: result.deleted, index }
    throw resultError(result, key, prevVersion)
  }
}

/** A put or delete with its optional compare-and-set version and fence. */
function conditions<C extends Extract<Command, { op: 'put' | 'del' }>> (c: C, prevVersion: number | undefined, fence: Fence | undefined): C {
  if (prevVersion !== undefined) c.prevVersion = prevVersion
  if (fence !== undefined) c.fence = fence
  return c
}

function resultError (r: KvResult | CoordResult, key: string, expected: number | undefined): Error {
  if (!r.ok && r.error === 'conflict') return new KvConflictError(key, r.version, expected ?? 0)
  if (!r.ok && r.error === 'fenced') return new KvFencedError(key, r.resource, r.token)
  if (!r.ok && r.error === 'invalid') return new KvInputError(r.message)
  return new Error(`unexpected result ${JSON.stringify(r)}`)
}

export function raftService (init: RaftInit = {}): (components: RaftComponents) => RaftService {
  return (components) => new RaftService(components, init)
}
