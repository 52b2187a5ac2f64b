/**
 * Shared swarm state, the libp2p adapter around the pure core (core/replica.ts):
 *
 * - local changes are batched for `batchMs`, persisted (sync writes), then gossiped as Yjs
 *   deltas on `/swarmnet/<swarm>/crdt:<doc>` through the broadcast service, so every delta is a
 *   signed envelope checked by the topic validator; an update over the gossip cap is announced
 *   by a hint instead and pulled over `/swarmnet/crdt-sync/1.0.0`;
 * - two peers reconcile over that protocol on connect (the lower peer id starts), whenever a
 *   delta shows a gap or a hint shows news, and every `antiEntropyMs` (jittered) with a random
 *   peer; a node that holds nothing gets full snapshots;
 * - documents live in the node's store and are restored before the node joins;
 * - every node keeps its own entry in the `agents` document fresh.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { peerIdFromString } from '@libp2p/peer-id'
import type { ComponentLogger, Logger, PeerId, Startable, Stream, Connection, Libp2pEvents, IdentifyResult } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import type { TypedEventTarget } from 'main-event'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { EnvelopeService } from '../envelope/service.js'
import type { Broadcast } from '../broadcast/service.js'
import type { BusEvent } from '../events/bus.js'
import { FrameDecoder, FrameError, encodeFrames } from '../direct/frames.js'
import { Replica, SyncSession, type Flush, type Channel } from './core/replica.js'
import { checkName, type ChangeEvent, type ChangeHandler, type SharedDoc, type JsonValue } from './core/doc.js'
import { CrdtError, type CrdtErrorCode } from './core/errors.js'
import { encodeHint, type CrdtLimits } from './core/codec.js'
import { DocStore, type KvStore } from './store.js'

export const CRDT_SYNC_PROTOCOL = '/swarmnet/crdt-sync/1.0.0'
export const AGENTS_DOC = 'agents'
export const AGENTS_MAP = 'agents'
/** Swarm-wide topic where a new document is announced, so peers subscribe to it. */
export const INDEX_TOPIC = 'crdt'
export const DELTA_TYPE = 'crdt_delta'

export interface AgentInit {
  /** Shown in the agent table (default `agent-<last 6 of peer id>`). */
  name?: string
  capabilities?: string[]
  version?: string
  /** How often this node refreshes its entry (default 5 s). */
  heartbeatMs?: number
  /** An entry not refreshed for this long is stale (default 3 heartbeats). */
  staleAfterMs?: number
}

export interface CrdtInit {
  registry?: Registry
  /** The node's store (a sublevel); without one nothing is persisted. */
  store?: KvStore
  /** Batching window for local updates (default 20 ms). */
  batchMs?: number
  /** Mean interval of anti-entropy syncs with a random peer, jittered by +-50 % (default 10 s). */
  antiEntropyMs?: number
  /** Deadline of one sync session (default 15 s). */
  syncTimeoutMs?: number
  /** Compact a document once this many updates are logged (default 1,000), and ... */
  compactEvery?: number
  /** ... every this often, any document with a log (default 60 s). */
  compactIntervalMs?: number
  limits?: Partial<CrdtLimits>
  agent?: AgentInit
  now?: () => number
  random?: () => number
}

export interface CrdtComponents {
  peerId: PeerId
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
  events: TypedEventTarget<Libp2pEvents>
  envelope: EnvelopeService
  broadcast: Broadcast
}

export interface AgentEntry {
  peerId: string
  name: string
  capabilities: string[]
  /** Event-loop utilisation over the last heartbeat interval, 0-1 (or what the agent reported). */
  load: number | null
  health: string
  /** The agent's clock when it last refreshed its entry. */
  lastHeartbeat: number
  version: string
  /** Time since the last heartbeat, by this node's clock. */
  ageMs: number
  stale: boolean
}

export interface CrdtStats {
  rejected: Record<string, number>
  applied: Record<Channel, number>
  gaps: number
  bytes: { gossipIn: number, gossipOut: number, syncIn: number, syncOut: number }
  syncs: { ok: number, failed: number }
  hints: number
}

/** Thrown when the state API is used before the node has started. */
export class StateNotReadyError extends Error {
  constructor () { super('shared state is not available until the node has started'); this.name = 'StateNotReadyError' }
}

function randomWriter (): string {
  return randomBytes(6).toString('hex')
}

export class CrdtService implements Startable {
  private readonly log: Logger
  private readonly me: string
  private replica?: Replica
  private docStore?: DocStore
  private readonly batchMs: number
  private readonly antiEntropyMs: number
  private readonly syncTimeoutMs: number
  private readonly compactEvery: number
  private readonly compactIntervalMs: number
  private readonly now: () => number
  private readonly random: () => number
  private readonly agent: Required<Omit<AgentInit, 'name'>> & { name: string }
  private readonly unsubscribe = new Map<string, () => void>()
  private readonly listeners = new Map<string, Set<ChangeHandler>>()
  private readonly syncing = new Map<string, { again: boolean }>()
  private readonly syncPeers = new Set<string>()
  private readonly created = new Set<string>()
  /** Appends to the store, in flush order. */
  private storeChain: Promise<void> = Promise.resolve()
  /** Publishes, in flush order, each flush after it is stored. */
  private publishChain: Promise<void> = Promise.resolve()
  private flushTimer?: ReturnType<typeof setTimeout>
  private antiEntropyTimer?: ReturnType<typeof setTimeout>
  private heartbeatTimer?: ReturnType<typeof setInterval>
  private compactTimer?: ReturnType<typeof setInterval>
  private running = false
  private reported: { load?: number, health?: string } = {}
  private elu = performance.eventLoopUtilization()
  private readonly statsData: CrdtStats = {
    rejected: {},
    applied: { gossip: 0, sync: 0, restore: 0 },
    gaps: 0,
    bytes: { gossipIn: 0, gossipOut: 0, syncIn: 0, syncOut: 0 },
    syncs: { ok: 0, failed: 0 },
    hints: 0
  }

  private readonly mRejected: Counter<'code' | 'channel'>
  private readonly mApplied: Counter<'channel'>
  private readonly mBytes: Counter<'channel' | 'direction'>
  private readonly mSyncs: Counter<'outcome'>
  private readonly mDocs: Gauge

  private firstSyncResolve!: () => void
  /** Resolves after this node's first completed sync with any peer. */
  readonly firstSync: Promise<void>

  constructor (private readonly components: CrdtComponents, private readonly init: CrdtInit = {}) {
    this.log = components.logger.forComponent('swarmnet:crdt')
    this.me = components.peerId.toString()
    this.batchMs = init.batchMs ?? 20
    this.antiEntropyMs = init.antiEntropyMs ?? 10_000
    this.syncTimeoutMs = init.syncTimeoutMs ?? 15_000
    this.compactEvery = init.compactEvery ?? 1000
    this.compactIntervalMs = init.compactIntervalMs ?? 60_000
    this.now = init.now ?? Date.now
    this.random = init.random ?? Math.random
    const heartbeatMs = init.agent?.heartbeatMs ?? 5000
    this.agent = {
      name: init.agent?.name ?? `agent-${this.me.slice(-6)}`,
      capabilities: init.agent?.capabilities ?? [],
      version: init.agent?.version ?? '0.0.0',
      heartbeatMs,
      staleAfterMs: init.agent?.staleAfterMs ?? 3 * heartbeatMs
    }
    if (init.store != null) this.docStore = new DocStore(init.store)
    const registers = init.registry != null ? [init.registry] : []
    this.mRejected = new Counter({ name: 'swarmnet_crdt_rejected_total', help: 'CRDT input refused, by reason and channel', labelNames: ['code', 'channel'], registers })
    this.mApplied = new Counter({ name: 'swarmnet_crdt_updates_applied_total', help: 'Remote CRDT updates applied, by channel', labelNames: ['channel'], registers })
    this.mBytes = new Counter({ name: 'swarmnet_crdt_bytes_total', help: 'CRDT bytes sent and received, by channel', labelNames: ['channel', 'direction'], registers })
    this.mSyncs = new Counter({ name: 'swarmnet_crdt_syncs_total', help: 'State-vector sync sessions, by outcome', labelNames: ['outcome'], registers })
    this.mDocs = new Gauge({ name: 'swarmnet_crdt_documents', help: 'Shared documents held', registers })
    this.firstSync = new Promise(resolve => { this.firstSyncResolve = resolve })
  }

  readonly [Symbol.toStringTag] = 'swarmnet/crdt'

  // ---- lifecycle ----

  /** Restores the documents before anything listens or dials: a restarted node rejoins with its state. */
  async beforeStart (): Promise<void> {
    const writer = this.docStore != null ? await this.docStore.incarnation(randomWriter) : randomWriter()
    const replica = new Replica({
      peerId: this.me,
      writer,
      now: this.now,
      random: this.random,
      limits: this.init.limits,
      persist: this.docStore != null,
      counters: {
        rejected: (code, channel) => { this.countRejected(code, channel) },
        applied: (channel) => { this.statsData.applied[channel]++; this.mApplied.inc({ channel }) },
        gap: () => { this.statsData.gaps++ },
        drift: (ms) => { this.log('a stamp is %d ms ahead of our clock', ms) }
      },
      onDocument: (name) => { this.onDocument(name) },
      onPending: () => { this.armFlush() },
      onChange: (e) => { this.dispatchChange(e) },
      watching: (doc) => (this.listeners.get(doc)?.size ?? 0) > 0 || (this.listeners.get('*')?.size ?? 0) > 0
    })
    this.replica = replica
    if (this.docStore != null) {
      const stored = await this.docStore.load()
      for (const { doc, records } of stored) {
        try {
          const bad = replica.restore(doc, records)
          if (bad > 0) this.log.error('%d stored records of %s were unusable', bad, doc)
        } catch (err) {
          this.log.error('cannot restore %s: %s', doc, (err as Error).message)
        }
      }
      this.log('restored %d documents', stored.length)
    }
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(CRDT_SYNC_PROTOCOL, (stream: Stream, connection: Connection) => {
      this.onInbound(stream, connection)
    }, { maxInboundStreams: 8, maxOutboundStreams: 8 })
  }

  /** Gossip needs pubsub started, which happens in libp2p's start phase. */
  afterStart (): void {
    this.running = true
    const replica = this.ready()
    // '#' is never part of a document name.
    this.unsubscribe.set('#index', this.components.broadcast.subscribe(INDEX_TOPIC, (e) => { this.onIndex(e) }))
    // A document announced before a peer's gossip subscription reached us never reached that
    // peer; the sync on identify may have run before the document existed. Sync again now.
    this.unsubscribe.set('#index-peers', this.components.broadcast.onPeerSubscribed(INDEX_TOPIC, (peer) => {
      if (this.syncPeers.has(peer) && this.me < peer) this.scheduleSync(peer)
    }))
    for (const name of replica.names()) this.subscribeDoc(name)
    replica.doc(AGENTS_DOC)
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.components.events.addEventListener('peer:disconnect', this.onDisconnect)
    this.heartbeat()
    this.heartbeatTimer = setInterval(() => { this.heartbeat() }, this.agent.heartbeatMs)
    this.heartbeatTimer.unref?.()
    if (this.docStore != null) {
      this.compactTimer = setInterval(() => { void this.compactDue(1) }, this.compactIntervalMs)
      this.compactTimer.unref?.()
    }
    this.armAntiEntropy()
    this.mDocs.set(replica.names().length)
  }

  /** Leaves the topics while pubsub still runs: in `stop` it may already have stopped and throw. */
  beforeStop (): void {
    this.running = false
    clearTimeout(this.flushTimer)
    clearTimeout(this.antiEntropyTimer)
    clearInterval(this.heartbeatTimer)
    clearInterval(this.compactTimer)
    this.flushTimer = this.antiEntropyTimer = this.heartbeatTimer = this.compactTimer = undefined
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
    for (const u of this.unsubscribe.values()) {
      try { u() } catch (err) { this.log('unsubscribe failed: %s', (err as Error).message) }
    }
    this.unsubscribe.clear()
  }

  async stop (): Promise<void> {
    this.beforeStop()
    await this.components.registrar.unhandle(CRDT_SYNC_PROTOCOL).catch(() => {})
    // What is not stored yet goes to the store, not to the network: the node is leaving.
    if (this.replica != null && this.docStore != null) {
      await this.commit(this.replica.flush()).stored
    }
    await this.storeChain
    await this.publishChain
  }

  // ---- documents ----

  private ready (): Replica {
    if (this.replica == null) throw new StateNotReadyError()
    return this.replica
  }

  /** The named document, created empty if this node does not hold it yet. */
  doc (name: string): SharedDoc {
    const r = this.ready()
    const held = r.get(name)
    if (held != null) return held
    const doc = r.doc(name)
    // Announced with the first flush, so peers subscribe and fetch it.
    this.created.add(name)
    return doc
  }

  /** The document if this node holds it. */
  get (name: string): SharedDoc | undefined { return this.ready().get(name) }

  names (): string[] { return this.ready().names() }

  /** Changes of one document, or of all with '*'. Returns the unsubscribe function. */
  onChange (doc: string, handler: ChangeHandler): () => void {
    if (doc !== '*') checkName('document name', doc)
    let set = this.listeners.get(doc)
    if (set == null) { set = new Set(); this.listeners.set(doc, set) }
    set.add(handler)
    return () => { set.delete(handler); if (set.size === 0) this.listeners.delete(doc) }
  }

  /** Persists and publishes everything changed so far; resolves when it is stored and sent. */
  async flush (): Promise<void> {
    clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    await this.commit(this.ready().flush()).sent
  }

  stats (): CrdtStats { return structuredClone(this.statsData) }

  private onDocument (name: string): void {
    if (this.running) this.subscribeDoc(name)
    this.mDocs.set(this.replica?.names().length ?? 0)
  }

  private dispatchChange (e: ChangeEvent): void {
    for (const key of [e.doc, '*']) {
      const set = this.listeners.get(key)
      if (set == null) continue
      for (const h of set) {
        try { h(e) } catch (err) { this.log.error('change handler failed: %s', (err as Error).message) }
      }
    }
  }

  // ---- gossip ----

  private topic (doc: string): string { return `crdt:${doc}` }

  private subscribeDoc (name: string): void {
    if (this.unsubscribe.has(name)) return
    this.unsubscribe.set(name, this.components.broadcast.subscribe(this.topic(name), (e) => { this.onDelta(e) }))
  }

  private onDelta (e: BusEvent): void {
    const from = e.message.sourceAgent
    if (from === this.me || this.replica == null) return
    if (e.message.type !== DELTA_TYPE) { this.countRejected('invalid', 'gossip'); return }
    this.count('gossipIn', e.message.payload.length)
    const r = this.replica.receiveDelta(e.message.payload)
    if (r.status === 'gap' || r.status === 'behind') this.scheduleSync(from)
    if (r.status === 'rejected') this.log('delta from %s refused: %s', from, r.message)
  }

  /** A document announced on the index topic: hold it too and fetch it from its author. */
  private onIndex (e: BusEvent): void {
    const from = e.message.sourceAgent
    if (from === this.me || this.replica == null) return
    if (e.message.type !== DELTA_TYPE) { this.countRejected('invalid', 'gossip'); return }
    const r = this.replica.receiveDelta(e.message.payload)
    if (r.status === 'rejected') return
    if (!this.replica.has(r.doc)) {
      try { this.replica.doc(r.doc) } catch (err) { this.countRejected((err as CrdtError).code ?? 'invalid', 'gossip'); return }
    }
    if (r.status !== 'current') this.scheduleSync(from)
  }

  private armFlush (): void {
    if (this.flushTimer != null || !this.running) return
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined
      if (this.replica?.pending === true) this.commit(this.replica.flush())
    }, this.batchMs)
  }

  /**
   * Stores a flush, then publishes it. `stored` resolves (true) once it is in the store, which
   * is all a sync session waits for; `sent` once it is also handed to gossip. Flushes are stored
   * and published in the order they were taken.
   */
  private commit (f: Flush): { stored: Promise<boolean>, sent: Promise<void> } {
    const announce = [...this.created]
    this.created.clear()
    const store = async (): Promise<boolean> => {
      if (f.persist.length === 0 || this.docStore == null) return true
      try {
        await this.docStore.append(f.persist)
      } catch (err) {
        // Publishing what is not stored could hand out writes a crash would lose.
        this.log.error('persisting %d updates failed, not publishing them: %s', f.persist.length, (err as Error).message)
        return false
      }
      const due = f.persist.filter(p => this.docStore!.loggedSince(p.doc) >= this.compactEvery).map(p => p.doc)
      if (due.length > 0) await this.compact(due)
      return true
    }
    const stored = this.storeChain.then(store)
    this.storeChain = stored.then(() => {}, () => {})
    const publish = async (ok: boolean): Promise<void> => {
      if (!ok || !this.running) return
      const sends: Array<Promise<unknown>> = []
      for (const out of f.publish) {
        if (out.kind === 'hint') this.statsData.hints++
        sends.push(this.publish(this.topic(out.doc), out.payload))
      }
      for (const doc of announce) {
        const d = this.replica?.get(doc)?.digest()
        if (d == null) continue
        sends.push(this.publish(INDEX_TOPIC, encodeHint(doc, d.stateVector, d.hash)))
      }
      await Promise.all(sends)
    }
    const sent = Promise.all([stored, this.publishChain])
      .then(async ([ok]) => { await publish(ok) })
      .catch((err) => { this.log.error('committing a flush failed: %s', (err as Error).message) })
    this.publishChain = sent
    return { stored: stored.catch(() => false), sent }
  }

  private async publish (topic: string, payload: Uint8Array): Promise<void> {
    try {
      await this.components.broadcast.broadcast(topic, { type: DELTA_TYPE, payload, contentType: 'application/octet-stream' })
      this.count('gossipOut', payload.length)
    } catch (err) {
      this.log('publish on %s failed: %s', topic, (err as Error).message)
    }
  }

  // ---- persistence ----

  private async compactDue (min: number): Promise<void> {
    if (this.docStore == null) return
    const due = this.docStore.due(min)
    if (due.length === 0) return
    const p = this.storeChain.then(async () => { await this.compact(due) })
    this.storeChain = p.catch(() => {})
    await p
  }

  /** Runs inside the store chain: no append is in flight. */
  private async compact (docs: string[]): Promise<void> {
    for (const doc of docs) {
      try {
        await this.docStore!.compact(doc, this.ready().snapshot(doc))
      } catch (err) {
        this.log.error('compacting %s failed: %s', doc, (err as Error).message)
      }
    }
  }

  // ---- sync ----

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols } = evt.detail
    if (!protocols.includes(CRDT_SYNC_PROTOCOL)) return
    const id = peerId.toString()
    this.syncPeers.add(id)
    // Both ends see the connection; one sync carries both directions, so only one starts it.
    if (this.me < id) this.scheduleSync(id)
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.syncPeers.delete(evt.detail.toString())
  }

  private armAntiEntropy (): void {
    if (!this.running) return
    const delay = this.antiEntropyMs * (0.5 + this.random())
    this.antiEntropyTimer = setTimeout(() => {
      const peers = [...this.syncPeers]
      if (peers.length > 0) this.scheduleSync(peers[Math.floor(this.random() * peers.length)]!)
      this.armAntiEntropy()
    }, delay)
    this.antiEntropyTimer.unref?.()
  }

  /** Syncs with a peer; a request while one runs makes it run once more afterwards. */
  scheduleSync (peer: string): void {
    if (!this.running || peer === this.me) return
    const running = this.syncing.get(peer)
    if (running != null) { running.again = true; return }
    const state = { again: false }
    this.syncing.set(peer, state)
    void (async () => {
      do {
        state.again = false
        await this.syncWith(peer).catch(() => {})
      } while (state.again && this.running)
      this.syncing.delete(peer)
    })()
  }

  /** One sync session with `peer`, as initiator. Resolves when it is over; rejects on failure. */
  async syncWith (peer: string): Promise<void> {
    const replica = this.ready()
    const signal = AbortSignal.timeout(this.syncTimeoutMs)
    let stream: Stream | undefined
    try {
      stream = await this.components.connectionManager.openStream(peerIdFromString(peer), CRDT_SYNC_PROTOCOL, { signal })
      await this.converse(stream, new SyncSession(replica, 'initiator', peer), signal)
    } catch (err) {
      this.statsData.syncs.failed++
      this.mSyncs.inc({ outcome: 'failed' })
      this.log('sync with %s failed: %s', peer, (err as Error).message)
      stream?.abort(err as Error)
      throw err
    }
  }

  private onInbound (stream: Stream, connection: Connection): void {
    const remote = connection.remotePeer.toString()
    const replica = this.replica
    if (replica == null || !this.running) { stream.abort(new StateNotReadyError()); return }
    if (!this.components.envelope.isMember(remote)) {
      replica.count('not_member', 'sync')
      stream.abort(new CrdtError('not_member', `${remote} is not a member of this swarm`))
      return
    }
    const signal = AbortSignal.timeout(this.syncTimeoutMs)
    this.converse(stream, new SyncSession(replica, 'responder', remote), signal).catch((err) => {
      this.statsData.syncs.failed++
      this.mSyncs.inc({ outcome: 'failed' })
      this.log('sync from %s failed: %s', remote, (err as Error).message)
      stream.abort(err as Error)
    })
  }

  /** Runs a session over a stream: length-prefixed frames both ways, then both ends close. */
  private async converse (stream: Stream, session: SyncSession, signal: AbortSignal): Promise<void> {
    const replica = this.ready()
    const onAbort = (): void => { stream.abort(new Error('sync timed out')) }
    signal.addEventListener('abort', onAbort, { once: true })
    const write = async (frames: Uint8Array[]): Promise<void> => {
      if (frames.length === 0) return
      const data = encodeFrames(frames)
      this.count('syncOut', data.length)
      if (!stream.send(data)) await stream.onDrain({ signal })
    }
    try {
      await write(session.open())
      const decoder = new FrameDecoder(replica.limits.maxUpdateBytes + 4096)
      try {
        for await (const chunk of stream) {
          this.count('syncIn', chunk.byteLength)
          for (const body of decoder.push(chunk)) {
            if (session.done) throw new CrdtError('invalid', 'frame after the end of the session')
            // Whatever this frame makes us send must be stored first (see SyncSession).
            const f = replica.flush()
            let frames: Uint8Array[]
            try {
              frames = session.receive(body)
            } finally {
              await this.commit(f).stored
            }
            await write(frames)
            if (session.done) await stream.close({ signal })
          }
        }
      } catch (err) {
        if (err instanceof FrameError) replica.count(err.code, 'sync')
        throw err
      }
      if (!session.done) throw new Error('the peer closed the stream before the end of the session')
      this.statsData.syncs.ok++
      this.mSyncs.inc({ outcome: 'ok' })
      this.firstSyncResolve()
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  // ---- agents ----

  /** Lets the agent report its own load (0-1) and health; refreshes its entry now. */
  reportAgent (report: { load?: number, health?: string }): void {
    if (report.load != null) this.reported.load = report.load
    if (report.health != null) this.reported.health = report.health
    this.heartbeat()
  }

  private heartbeat (): void {
    if (this.replica == null) return
    const elu = performance.eventLoopUtilization(this.elu)
    this.elu = performance.eventLoopUtilization()
    const entry = {
      name: this.agent.name,
      capabilities: this.agent.capabilities,
      load: this.reported.load ?? Math.round(elu.utilization * 1000) / 1000,
      health: this.reported.health ?? 'ok',
      lastHeartbeat: this.now(),
      version: this.agent.version
    }
    try {
      this.replica.doc(AGENTS_DOC).map(AGENTS_MAP).set(this.me, entry)
    } catch (err) {
      this.log.error('heartbeat failed: %s', (err as Error).message)
    }
  }

  get staleAfterMs (): number { return this.agent.staleAfterMs }

  /** The swarm's agents as this node sees them; entries not refreshed in time are stale. */
  agents (): AgentEntry[] {
    const map = this.replica?.get(AGENTS_DOC)?.map(AGENTS_MAP)
    if (map == null) return []
    const now = this.now()
    const out: AgentEntry[] = []
    for (const [peerId, v] of Object.entries(map.toJSON())) {
      const e = agentEntry(peerId, v, now, this.agent.staleAfterMs)
      if (e != null) out.push(e)
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.peerId.localeCompare(b.peerId))
  }

  // ---- counters ----

  private countRejected (code: CrdtErrorCode | string, channel: Channel): void {
    this.statsData.rejected[code] = (this.statsData.rejected[code] ?? 0) + 1
    this.mRejected.inc({ code, channel })
  }

  private count (what: keyof CrdtStats['bytes'], bytes: number): void {
    this.statsData.bytes[what] += bytes
    const [channel, direction] = what.startsWith('gossip') ? ['gossip', what.slice(6).toLowerCase()] : ['sync', what.slice(4).toLowerCase()]
    this.mBytes.inc({ channel, direction }, bytes)
  }
}

/** Reads one agent entry defensively: anything malformed is left out. */
function agentEntry (peerId: string, v: JsonValue, now: number, staleAfterMs: number): AgentEntry | undefined {
  if (v == null || typeof v !== 'object' || Array.isArray(v)) return undefined
  const o = v as Record<string, JsonValue>
  if (typeof o.lastHeartbeat !== 'number') return undefined
  const ageMs = Math.max(0, now - o.lastHeartbeat)
  return {
    peerId,
    name: typeof o.name === 'string' ? o.name : peerId,
    capabilities: Array.isArray(o.capabilities) ? o.capabilities.filter((c): c is string => typeof c === 'string') : [],
    load: typeof o.load === 'number' ? o.load : null,
    health: typeof o.health === 'string' ? o.health : 'unknown',
    lastHeartbeat: o.lastHeartbeat,
    version: typeof o.version === 'string' ? o.version : 'unknown',
    ageMs,
    stale: ageMs > staleAfterMs
  }
}

export function crdt (init: CrdtInit = {}): (components: CrdtComponents) => CrdtService {
  return (components) => new CrdtService(components, init)
}
