/**
 * SwarmNode: one agent's libp2p node plus its HTTP API. Transports, encryption, discovery and
 * the private-swarm rules are fixed here; protocol services (messaging, raft, crdt, ...) plug in
 * through `services`, the libp2p v3 way, so later protocols only add an entry.
 */
import { join } from 'node:path'
import { mkdirSync } from 'node:fs'
import { createLibp2p, type Libp2p, type Libp2pOptions } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { memory } from '@libp2p/memory'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, identifyPush, type Identify } from '@libp2p/identify'
import { ping, type Ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { bootstrap } from '@libp2p/bootstrap'
import { mdns } from '@libp2p/mdns'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { LevelDatastore } from 'datastore-level'
import { CachedDatastore } from './cached-datastore.js'
import type { Datastore } from 'interface-datastore'
import { ClassicLevel } from 'classic-level'
import { MemoryDatastore } from 'datastore-core'
import type { PrivateKey, PeerId, PeerDiscovery } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { NodeConfig } from './config.js'
import { SwarmError, ConfigError, ListenError, describeSystemError } from './errors.js'
import { isLoopback, parseMultiaddr } from './config.js'
import { loadOrCreateIdentity } from './identity.js'
import { readSwarmKeyFile, parseSwarmKey, swarmKeyProtector } from './swarm-key.js'
import { lazyYamuxWindowUpdates } from './yamux-window.js'
import { sodiumNoiseCrypto } from './noise-crypto.js'
import { allowlistGater } from './gater.js'
import { peerDialer, type PeerDialer } from './peer-dialer.js'
import { SwarmMetrics } from './metrics.js'
import { silentLogger, type Logger } from './logger.js'
import { startApi, type ApiServer, type RouteRegistrar } from './api/server.js'
import { VERSION } from './version.js'
import { envelope, type EnvelopeService } from '../protocols/envelope/service.js'
import { eventBus, type EventBus, type BusHandler } from '../protocols/events/bus.js'
import { directMessaging, type DirectMessaging, type DirectInit, type SendOptions, type SendResult, type RequestHandler, type LinkStatus } from '../protocols/direct/service.js'
import { broadcast, type Broadcast, type BroadcastResult, type MulticastResult } from '../protocols/broadcast/service.js'
import type { MessageInit } from '../protocols/envelope/envelope.js'
import { raftService, type RaftService, type RaftInit, type KvApi, type RaftStatusJson } from '../protocols/raft/service.js'
import { crdt, type CrdtService, type CrdtInit, type AgentInit, type AgentEntry } from '../protocols/crdt/service.js'
import { crdtStore } from '../protocols/crdt/store.js'
import { Coordinator, type CoordinatorOptions } from '../protocols/coordination/coordinator.js'

/** Longest a stopping node waits for writes it forwarded to be answered before closing its API. */
const DRAIN_MS = 1000

export const DHT_PROTOCOL = '/swarmnet/kad/1.0.0'

export interface BaseServices {
  identify: Identify
  ping: Ping
  dht: KadDHT
  pubsub: GossipSub
  dialer: PeerDialer
}

/** Services every member runs (the bootstrap peer does not). */
export interface MemberServices extends BaseServices {
  envelope: EnvelopeService
  bus: EventBus
  direct: DirectMessaging
  broadcast: Broadcast
  /** Absent when the node was created `without: ['raft']`. */
  raft?: RaftService
  /** Shared state: CRDT documents, the agent table (`node.state`); absent `without: ['crdt']`. */
  crdt?: CrdtService
}

export interface MessagingOptions {
  /** Largest message sent or accepted, in bytes (default 1 MiB). */
  maxMessageBytes?: number
  /** Accepted clock difference for message timestamps, and the replay window (default 5 min). */
  replayWindowMs?: number
  direct?: Omit<DirectInit, 'registry'>
  /**
   * Gossipsub's own signature on each broadcast (default StrictSign). Every broadcast already
   * carries the envelope's Ed25519 signature, so StrictNoSign loses no authenticity and saves
   * gossipsub's verification, measured at a third of the CPU of a 10-receiver fan-out.
   */
  gossipSignaturePolicy?: 'StrictSign' | 'StrictNoSign'
}

/** A libp2p v3 service factory: receives the node's components, returns the service. */
export type ServiceFactory = (components: any) => unknown // eslint-disable-line @typescript-eslint/no-explicit-any

export interface SwarmNodeOptions extends Partial<NodeConfig> {
  /** 'bootstrap' runs the lean entry node: no application protocols. */
  role?: 'member' | 'bootstrap'
  /** Use this key instead of the key file (tests, embedding programs). */
  privateKey?: PrivateKey
  /** Swarm key bytes instead of `swarmKeyFile`. */
  swarmKey?: Uint8Array
  /** Keep libp2p state in memory instead of LevelDB under the data dir. */
  inMemory?: boolean
  /** Collect libp2p and process metrics into this node's registry (one such node per process). */
  processMetrics?: boolean
  logger?: Logger
  /** Extra protocol services, added beside the base ones. */
  services?: Record<string, ServiceFactory>
  /** Largest number of peers the dialer connects to on its own. */
  maxPeers?: number
  /** How often peers are pinged for latency; 0 turns the connection monitor off. */
  pingIntervalMs?: number
  /** Swarm name: scopes broadcast topics (`/swarmnet/<swarm>/<topic>`). */
  swarm?: string
  /** Member protocols to leave out (e.g. a messaging-only node); the rest still run. */
  without?: Array<'raft' | 'crdt'>
  /** Extra HTTP routes for the node's API (an embedding program's own endpoints). */
  routes?: RouteRegistrar[]
  messaging?: MessagingOptions
  /** Raft tuning and test hooks; the voter count is `voters`. */
  raft?: Omit<RaftInit, 'voters' | 'store' | 'registry' | 'log'>
  /** Default lease TTL and wait for node.coordination. */
  coordination?: Omit<CoordinatorOptions, 'owner'>
  /** Shared-state tuning (batching, anti-entropy, compaction, heartbeat). */
  crdt?: Omit<CrdtInit, 'registry' | 'store' | 'agent'> & { agent?: Pick<AgentInit, 'heartbeatMs' | 'staleAfterMs'> }
}

export interface PeerStatus { peerId: string, addrs: string[], latencyMs: number | null }

export interface NodeStatus {
  peerId: string
  name: string
  role: 'member' | 'bootstrap'
  capabilities: string[]
  addrs: string[]
  peers: PeerStatus[]
  /** Direct links: circuit breaker state, in-flight and queued sends per peer. */
  direct?: LinkStatus[]
  /** The replicated log: role, term, leader, indexes, membership, cluster formation. */
  raft?: RaftStatusJson
  /** The agent table as this node sees it. */
  agents?: AgentEntry[]
  uptimeMs: number
  version: string
}

export class SwarmNode {
  readonly libp2p: Libp2p<BaseServices & Record<string, unknown>>
  readonly peerId: PeerId
  readonly name: string
  readonly role: 'member' | 'bootstrap'
  readonly capabilities: string[]
  readonly metrics: SwarmMetrics
  readonly log: Logger
  /** The node's LevelDB (undefined for in-memory nodes); protocols take a sublevel of it. */
  readonly store?: ClassicLevel<string, Uint8Array>
  private readonly options: SwarmNodeOptions
  private readonly closeDatastore: () => Promise<void>
  private api?: ApiServer
  private coordinator?: Coordinator
  private startedAt = 0
  // Not `state`: that name is the shared-state getter.
  private phase: 'stopped' | 'starting' | 'started' | 'stopping' = 'stopped'
  private transition: Promise<void> = Promise.resolve()

  /** @internal use createSwarmNode */
  constructor (init: {
    libp2p: Libp2p<BaseServices & Record<string, unknown>>
    options: SwarmNodeOptions
    metrics: SwarmMetrics
    log: Logger
    store?: ClassicLevel<string, Uint8Array>
    closeDatastore: () => Promise<void>
  }) {
    this.store = init.store
    this.libp2p = init.libp2p
    this.peerId = init.libp2p.peerId
    this.options = init.options
    this.metrics = init.metrics
    this.log = init.log
    this.closeDatastore = init.closeDatastore
    this.role = init.options.role ?? 'member'
    this.capabilities = init.options.capabilities ?? []
    this.name = init.options.name ?? `${this.role === 'bootstrap' ? 'bootstrap' : 'agent'}-${this.peerId.toString().slice(-6)}`
  }

  get isStarted (): boolean { return this.phase === 'started' }

  /** Starts libp2p and the API. Calling it again while started does nothing. */
  async start (): Promise<void> {
    this.transition = this.transition.then(async () => this.doStart())
    return this.transition
  }

  /** Stops everything and releases every socket, timer and file handle. Idempotent. */
  async stop (): Promise<void> {
    this.transition = this.transition.catch(() => {}).then(async () => this.doStop())
    return this.transition
  }

  private async doStart (): Promise<void> {
    if (this.phase === 'started') return
    this.phase = 'starting'
    try {
      await this.libp2p.start()
    } catch (err) {
      await this.releaseAll()
      this.phase = 'stopped'
      throw listenFailure('libp2p', this.options.listen ?? [], err)
    }
    if (this.options.api != null) {
      try {
        this.api = await startApi(this, this.options.api, this.options.apiToken, this.options.routes)
      } catch (err) {
        await this.releaseAll()
        this.phase = 'stopped'
        throw err
      }
    }
    this.startedAt = Date.now()
    this.phase = 'started'
    this.log.info({ peerId: this.peerId.toString(), addrs: this.addrs() }, 'node started')
  }

  private async doStop (): Promise<void> {
    if (this.phase === 'stopped') return
    this.phase = 'stopping'
    await this.releaseAll()
    this.phase = 'stopped'
    this.log.info('node stopped')
  }

  private async releaseAll (): Promise<void> {
    // A Raft leader hands over while its connections and API still work, then lets what it
    // forwarded to the new leader finish before the API closes.
    const raft = this.messaging?.raft
    this.api?.stopping()
    if (raft != null) {
      await raft.handOver().catch(() => {})
      await raft.drain(DRAIN_MS)
    }
    this.coordinator?.close()
    this.coordinator = undefined
    const api = this.api
    this.api = undefined
    await api?.close().catch(err => this.log.warn({ err }, 'api close failed'))
    try {
      await this.libp2p.stop()
    } catch (err) {
      this.log.warn({ err }, 'libp2p stop failed')
    }
    await this.closeDatastore().catch(err => this.log.warn({ err }, 'datastore close failed'))
  }

  /** The HTTP API's base URL, when it runs. */
  get apiUrl (): string | undefined { return this.api?.url }

  /** Dialable addresses, each ending with /p2p/<peer id>. */
  addrs (): string[] {
    return this.libp2p.getMultiaddrs().map(ma => ma.toString())
  }

  peers (): PeerStatus[] {
    const byPeer = new Map<string, PeerStatus>()
    for (const conn of this.libp2p.getConnections()) {
      if (conn.status !== 'open') continue
      const id = conn.remotePeer.toString()
      const entry = byPeer.get(id) ?? { peerId: id, addrs: [], latencyMs: null }
      entry.addrs.push(conn.remoteAddr.toString())
      if (conn.rtt != null) entry.latencyMs = entry.latencyMs == null ? conn.rtt : Math.min(entry.latencyMs, conn.rtt)
      byPeer.set(id, entry)
    }
    return [...byPeer.values()].sort((a, b) => a.peerId.localeCompare(b.peerId))
  }

  /** The messaging services; undefined on a bootstrap peer. */
  get messaging (): MemberServices | undefined {
    const s = this.libp2p.services as Partial<MemberServices>
    return s.direct != null ? s as MemberServices : undefined
  }

  private member (): MemberServices {
    const m = this.messaging
    if (m == null) throw new SwarmError('a bootstrap peer does not run messaging', 1)
    return m
  }

  /** The event bus: local events and messages from the network. */
  get events (): EventBus { return this.member().bus }

  /** Sends an acknowledged direct message; see DirectMessaging.send for the errors. */
  async send (to: string | PeerId, message: SendOptions): Promise<SendResult> {
    return this.member().direct.send(to, message)
  }

  /** Serves direct messages of one type; the return value answers requiresResponse messages. */
  handle (type: string, handler: RequestHandler): () => void {
    return this.member().direct.handle(type, handler)
  }

  async broadcast (topic: string, message: Omit<MessageInit, 'routing' | 'topic' | 'targetAgents'>): Promise<BroadcastResult> {
    return this.member().broadcast.broadcast(topic, message)
  }

  subscribe (topic: string, handler?: BusHandler): () => void {
    return this.member().broadcast.subscribe(topic, handler)
  }

  async multicast (targets: string[], message: Omit<MessageInit, 'routing' | 'targetAgents'>): Promise<MulticastResult> {
    return this.member().broadcast.multicast(targets, message)
  }

  /** The Raft service (cluster, transport, counters). */
  get raft (): RaftService { return this.member().raft ?? notRunning('raft') }

  /** The replicated key-value store: writes go through the Raft leader. */
  get kv (): KvApi { return this.raft.kv }

  /**
   * Leases, fenced locks, barriers and role elections on the Raft log (docs/coordination.md).
   * After close() (its leases left to expire) the next access starts a fresh coordinator.
   */
  get coordination (): Coordinator {
    const raft = this.raft
    if (this.coordinator === undefined || this.coordinator.isClosed) this.coordinator = new Coordinator(raft, { owner: this.peerId.toString(), ...this.options.coordination })
    return this.coordinator
  }

  /** Shared state: named Yjs documents replicated by gossip and state-vector sync. */
  get state (): CrdtService { return this.member().crdt ?? notRunning('crdt') }

  status (): NodeStatus {
    const peers = this.peers()
    this.metrics.peers.set(peers.length)
    return {
      peerId: this.peerId.toString(),
      name: this.name,
      role: this.role,
      capabilities: this.capabilities,
      addrs: this.addrs(),
      peers,
      direct: this.messaging?.direct.status(),
      raft: this.messaging?.raft?.status(),
      agents: this.messaging?.crdt?.agents(),
      uptimeMs: this.phase === 'started' ? Date.now() - this.startedAt : 0,
      version: VERSION
    }
  }
}

function notRunning (service: string): never {
  throw new SwarmError(`this node runs without ${service}`, 1)
}

function listenFailure (what: string, listen: string[], err: unknown): Error {
  const e = err as NodeJS.ErrnoException
  // libp2p folds the per-address socket errors into one multi-line message.
  const text = `${e?.code ?? ''} ${e?.message ?? ''}`
  const known: Array<[RegExp, string]> = [
    [/EADDRINUSE/, 'address already in use'],
    [/EADDRNOTAVAIL/, 'address not available on this machine'],
    [/EACCES/, 'permission denied']
  ]
  for (const [pattern, problem] of known) {
    if (pattern.test(text)) return new ListenError(what, listen.join(', '), problem)
  }
  if (e?.name === 'UnsupportedListenAddressesError' || e?.name === 'NoValidAddressesError' || /failed to be listened on/.test(e?.message ?? '')) {
    return new ListenError(what, listen.join(', '), (e.message ?? '').split('\n')[0] ?? 'failed')
  }
  return err as Error
}

/**
 * A node that restarts with peers in its peer store dials them directly (raft its members, the
 * dialer every peer it knows) and holds its DHT lookups (its own walks and the DHT's first
 * self-query, both looking up its own id) this long, so they stay out of the second or two in
 * which it catches up on the log. Startup bench, rejoin rows (2 cores): the restarted node's CPU
 * from spawn to 4 s after ready 1,140 -> 1,035 ms, the bootstrap peer's in those 4 s 115 -> 80 ms.
 */
const REJOIN_QUIET_MS = 5000

/** Whether the datastore holds peer records beyond one (ours, which libp2p may store too). */
export async function knowsPeers (ds: Pick<Datastore, 'queryKeys'>): Promise<boolean> {
  let n = 0
  for await (const _ of ds.queryKeys({ prefix: '/peers/', limit: 2 })) n++
  return n >= 2
}

/** Builds a node from its configuration; call `start()` to bring it up. */
export async function createSwarmNode (options: SwarmNodeOptions = {}): Promise<SwarmNode> {
  lazyYamuxWindowUpdates()
  const role = options.role ?? 'member'
  const log = options.logger ?? silentLogger()
  const dataDir = options.dataDir ?? './.swarmnet'
  const inMemory = options.inMemory === true
  const listen = options.listen ?? ['/ip4/0.0.0.0/tcp/4001']
  const bootstrapList = options.bootstrap ?? []

  // The checks the CLI's config applies, for programs that call us directly.
  if (options.api != null && !isLoopback(options.api.host) && options.apiToken == null) {
    throw new ConfigError('api', `${options.api.host} is not a loopback address: set apiToken to expose the API`)
  }
  bootstrapList.forEach((a, i) => {
    if (parseMultiaddr(`bootstrap[${i}]`, a).getComponents().find(c => c.name === 'p2p') == null) {
      throw new ConfigError(`bootstrap[${i}]`, `${JSON.stringify(a)} must end with /p2p/<peer id>`)
    }
  })

  // Read the swarm key before anything is written, so a bad key leaves no files behind.
  let psk: Uint8Array | undefined
  if (options.swarmKey != null) psk = parseSwarmKey(options.swarmKey, '(given bytes)')
  else if (options.swarmKeyFile != null) psk = readSwarmKeyFile(options.swarmKeyFile)

  const privateKey = options.privateKey ??
    await loadOrCreateIdentity(options.keyFile ?? join(dataDir, 'identity.key'))
  const peerId = peerIdFromPrivateKey(privateKey)

  const metrics = new SwarmMetrics({ processMetrics: false })
  const refusalLog = new RateLimitedLog(log, 60_000)

  let datastore: CachedDatastore | MemoryDatastore
  let store: ClassicLevel<string, Uint8Array> | undefined
  let closeDatastore = async (): Promise<void> => {}
  let rejoining = false
  if (inMemory) {
    datastore = new MemoryDatastore()
  } else {
    store = await openStore(dataDir)
    const db = store
    // One LevelDB per node; each user (libp2p's peer store now, protocols later) gets a sublevel.
    const sub = db.sublevel<string, Uint8Array>('libp2p', { keyEncoding: 'utf8', valueEncoding: 'view' })
    const level = new LevelDatastore(sub as unknown as ConstructorParameters<typeof LevelDatastore>[0])
    await level.open()
    datastore = new CachedDatastore(level)
    rejoining = await knowsPeers(level)
    closeDatastore = async () => { await db.close() }
  }

  const usesMemory = listen.some(a => a.startsWith('/memory'))
  const services: Record<string, ServiceFactory> = {
    identify: identify(),
    // Peers connected before a protocol was registered (the DHT's, on a slow start) learn of it.
    identifyPush: identifyPush(),
    ping: ping(),
    dht: kadDHT({
      protocol: DHT_PROTOCOL,
      clientMode: false,
      // Keep private and loopback addresses: swarms often live on one LAN or one host.
      peerInfoMapper: passthroughMapper,
      ...(rejoining ? { initialQuerySelfInterval: REJOIN_QUIET_MS } : {})
    }),
    pubsub: gossipsub({
      // Members are trusted and often share a host: no IP-colocation penalty.
      scoreParams: { IPColocationFactorWeight: 0 },
      emitSelf: false,
      // A broadcast nobody hears yet reports 0 recipients instead of throwing.
      allowPublishToZeroTopicPeers: true,
      globalSignaturePolicy: options.messaging?.gossipSignaturePolicy ?? 'StrictSign'
    }),
    dialer: peerDialer({
      maxPeers: options.maxPeers ?? 64,
      bootstrap: bootstrapList.map(a => multiaddr(a)),
      firstLookupAfterMs: rejoining ? REJOIN_QUIET_MS : 0,
      onBootstrapFailure: (addr, reason) => {
        refusalLog.warn(`bootstrap:${addr}`, { bootstrap: addr, reason }, 'cannot reach a bootstrap peer; retrying')
      }
    }),
    ...(role === 'member' ? memberServices(options, metrics, log, store) : {}),
    ...(role === 'member' ? options.services ?? {} : {})
  }

  const peerDiscovery: Array<(components: any) => PeerDiscovery> = [] // eslint-disable-line @typescript-eslint/no-explicit-any
  if (bootstrapList.length > 0) peerDiscovery.push(bootstrap({ list: bootstrapList, timeout: 0 }))
  if (options.mdns === true) peerDiscovery.push(mdns())

  const libp2pOptions: Libp2pOptions<BaseServices & Record<string, unknown>> = {
    privateKey,
    datastore,
    nodeInfo: { name: 'swarmnet', version: VERSION, userAgent: `swarmnet/${VERSION}` },
    addresses: { listen, announce: options.announce ?? [] },
    transports: usesMemory ? [memory(), tcp()] : [tcp()],
    connectionEncrypters: [noise({ crypto: sodiumNoiseCrypto })],
    streamMuxers: [yamux()],
    connectionProtector: psk == null
      ? undefined
      : swarmKeyProtector({
        psk,
        onMismatch: (remote) => {
          metrics.connectionsRefused.inc({ reason: 'swarm_key', direction: 'any' })
          refusalLog.warn(`swarm-key:${remote}`, { remote }, 'connection refused: the remote peer uses a different swarm key')
        }
      }),
    connectionGater: allowlistGater({
      allow: options.allowPeers,
      onDeny: (peer, direction) => {
        metrics.connectionsRefused.inc({ reason: 'allowlist', direction })
        refusalLog.warn(`allowlist:${peer}`, { peer, direction }, 'connection refused: peer is not on the allowlist')
      }
    }),
    connectionManager: {
      maxConnections: role === 'bootstrap' ? 1000 : 300,
      // A local swarm dials from one host; the default 5/s per host would throttle it.
      inboundConnectionThreshold: 100,
      maxIncomingPendingConnections: 64
    },
    connectionMonitor: options.pingIntervalMs === 0
      ? { enabled: false }
      // Pings only measure latency here: under load they time out in bulk, and dropping
      // connections for that made a 20-node local swarm churn forever (bench/startup).
      : { enabled: true, pingInterval: options.pingIntervalMs ?? 5000, abortConnectionOnPingFailure: false },
    peerDiscovery,
    services: services as Libp2pOptions<BaseServices & Record<string, unknown>>['services'],
    start: false
  }
  if (options.processMetrics === true) {
    libp2pOptions.metrics = prometheusMetrics({ registry: metrics.registry, collectDefaultMetrics: true })
  }

  let libp2p: Libp2p<BaseServices & Record<string, unknown>>
  try {
    libp2p = await createLibp2p(libp2pOptions)
  } catch (err) {
    await closeDatastore()
    throw err
  }
  if (!libp2p.peerId.equals(peerId)) throw new Error('libp2p chose another peer id')
  return new SwarmNode({ libp2p, options: { ...options, role }, metrics, log, store, closeDatastore })
}

function memberServices (options: SwarmNodeOptions, metrics: SwarmMetrics, log: Logger, store?: ClassicLevel<string, Uint8Array>): Record<string, ServiceFactory> {
  const m = options.messaging ?? {}
  return {
    envelope: envelope({
      registry: metrics.registry,
      maxMessageBytes: m.maxMessageBytes ?? options.maxMessageBytes,
      replayWindowMs: m.replayWindowMs ?? options.replayWindowMs,
      allowPeers: options.allowPeers
    }),
    // Not 'events': libp2p's own event target already has that component name.
    bus: eventBus({ registry: metrics.registry, onError: (err, type) => { log.warn({ err, type }, 'event handler failed') } }),
    direct: directMessaging({ registry: metrics.registry, ...m.direct }),
    broadcast: broadcast({ swarm: options.swarm }),
    ...(options.without?.includes('raft') === true ? {} : { raft: raftService({ snapshotEntries: options.snapshotEntries, replaceDeadVoterMs: options.replaceDeadVoterMs, ...options.raft, voters: options.voters, store, registry: metrics.registry, log, ...(store !== undefined ? { snapshotDir: join(options.dataDir ?? './.swarmnet', 'snapshots') } : {}) }) }),
    ...(options.without?.includes('crdt') === true ? {} : { crdt: crdt({
      ...options.crdt,
      registry: metrics.registry,
      store: store != null ? crdtStore(store) : undefined,
      agent: { name: options.name, capabilities: options.capabilities, version: VERSION, ...options.crdt?.agent }
    }) })
  }
}

/** Opens the node's LevelDB, telling a data dir held by another process from other failures. */
async function openStore (dataDir: string): Promise<ClassicLevel<string, Uint8Array>> {
  const dir = join(dataDir, 'store')
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw new SwarmError(`cannot create the data dir ${dataDir}: ${describeSystemError(err)}`)
  }
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') throw new SwarmError(`data dir ${dataDir} is in use by another swarmnet process`)
    throw new SwarmError(`cannot open the store in ${dir}: ${(cause as Error | undefined)?.message ?? (err as Error).message}`)
  }
  return db
}

/** Logs a repeating condition once per key per interval, so a retry loop cannot flood the log. */
class RateLimitedLog {
  private readonly last = new Map<string, number>()
  constructor (private readonly log: Logger, private readonly intervalMs: number) {}
  warn (key: string, fields: Record<string, unknown>, msg: string): void {
    const now = Date.now()
    const prev = this.last.get(key)
    if (prev != null && now - prev < this.intervalMs) return
    if (this.last.size > 10_000) this.last.clear()
    this.last.set(key, now)
    this.log.warn(fields, msg)
  }
}
