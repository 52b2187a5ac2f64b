/**
 * One node of the chaos run, in a process of its own so the nemesis can SIGKILL it. It builds a
 * SwarmNode with the library (TCP on 127.0.0.1, identity and raft log in its data dir, so a
 * restart is the same member), prints a ready line, then serves the JSON-lines RPC of
 * protocol.ts on stdin/stdout. It exits as soon as stdin closes: a dead parent leaves no node
 * behind.
 *
 * Partitions: `block` refuses connections to and from the listed peers in the connection gater,
 * hangs up the open ones, and drops raft frames to and from them (the gater alone would let
 * frames already queued on a stream through).
 *
 *   node dist/test/chaos/worker.js '<WorkerConfig as JSON>'
 */
import { createInterface } from 'node:readline'
import { peerIdFromString } from '@libp2p/peer-id'
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import { createSwarmNode, type ServiceFactory, type SwarmNode, type SwarmNodeOptions } from '../../node/swarm-node.js'
import { ListenError } from '../../node/errors.js'
import { createLogger, silentLogger } from '../../node/logger.js'
import type { LogLevel } from '../../node/config.js'
import { KvConflictError, KvFencedError, RaftUnavailableError } from '../../protocols/raft/errors.js'
import { CoordinationError } from '../../protocols/coordination/errors.js'
import type { LockHandle } from '../../protocols/coordination/coordinator.js'
import type { OkFields, ReadyLine, Reply, Request, WorkerConfig } from './protocol.js'

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig
const blocked = new Set<string>()
/** Locks this process holds, by resource and token; lost with the process, as a crash would. */
const handles = new Map<string, LockHandle>()

// A parent that dies (or is done) closes our stdin: go at once, like a crash.
process.stdin.on('end', () => { process.exit(0) })
process.stdin.on('error', () => { process.exit(0) })

/** Puts the connection gater behind `blocked`, in both directions. */
const partitionHook: ServiceFactory = (components: { connectionGater: ConnectionGater }) => {
  const g = components.connectionGater
  for (const name of ['denyDialPeer', 'denyInboundEncryptedConnection', 'denyOutboundEncryptedConnection'] as const) {
    const prev = g[name]?.bind(g) as ((peer: PeerId, ...rest: unknown[]) => boolean | Promise<boolean>) | undefined
    g[name] = (async (peer: PeerId, ...rest: unknown[]) => {
      if (blocked.has(peer.toString())) return true
      return prev !== undefined ? await prev(peer, ...rest) : false
    }) as never
  }
  return { [Symbol.toStringTag]: 'chaos/partition' }
}

function options (port: number): SwarmNodeOptions {
  const level = process.env.CHAOS_LOG_LEVEL as LogLevel | undefined
  return {
    role: config.role,
    dataDir: config.dir,
    listen: [`/ip4/127.0.0.1/tcp/${port}`],
    bootstrap: config.bootstrap,
    voters: config.voters,
    api: null,
    // The bootstrap peer never restarts and keeps nothing worth a disk.
    inMemory: config.role === 'bootstrap',
    pingIntervalMs: 0,
    without: ['crdt'],
    logger: level !== undefined ? createLogger(level, { role: config.role }) : silentLogger(),
    raft: { settleMs: 300, timeoutMs: config.opTimeoutMs },
    coordination: { timeoutMs: config.opTimeoutMs },
    services: { chaosPartition: partitionHook }
  }
}

async function start (): Promise<SwarmNode> {
  const node = await createSwarmNode(options(config.port))
  try {
    await node.start()
    return node
  } catch (err) {
    // The old port can be taken by now; peers find the new one through the bootstrap peer.
    if (!(err instanceof ListenError) || config.port === 0) throw err
    const again = await createSwarmNode(options(0))
    await again.start()
    return again
  }
}

function reply (r: Reply): void {
  process.stdout.write(JSON.stringify(r) + '\n')
}

/** An error as an outcome: definite only when the write cannot have been applied. */
function outcome (id: number, err: unknown): Reply {
  const message = err instanceof Error ? err.message : String(err)
  if (err instanceof KvConflictError) return { id, type: 'fail', error: 'conflict', message }
  if (err instanceof KvFencedError) return { id, type: 'fail', error: 'fenced', message }
  if (err instanceof RaftUnavailableError) return { id, type: err.maybeApplied ? 'info' : 'fail', error: 'unavailable', message }
  // A lock wait that timed out withdraws itself, but the withdrawal can fail too.
  if (err instanceof CoordinationError) return { id, type: err.code === 'timeout' ? 'info' : 'fail', error: err.code, message }
  if (err instanceof Error && err.name === 'KvInputError') return { id, type: 'fail', error: 'invalid', message }
  return { id, type: 'info', error: 'error', message }
}

/** Revokes a released lock's lease, retrying: while it lives, its keep-alives go on. */
function dropLease (h: LockHandle): void {
  let tries = 0
  const attempt = (): void => {
    h.release().catch(() => {
      if (++tries < 20) setTimeout(attempt, 500).unref()
    })
  }
  attempt()
}

function block (node: SwarmNode, peers: string[]): void {
  blocked.clear()
  for (const p of peers) blocked.add(p)
  node.raft.setFilter(blocked.size === 0 ? null : (_direction, peer) => !blocked.has(peer))
  // Cut, not closed: a partition does not say goodbye.
  for (const c of node.libp2p.getConnections()) {
    if (blocked.has(c.remotePeer.toString())) c.abort(new Error('partitioned'))
  }
}

async function heal (node: SwarmNode): Promise<void> {
  const was = [...blocked]
  blocked.clear()
  node.raft.setFilter(null)
  // Raft redials on its next frame anyway; dialing now saves its back-off.
  await Promise.all(was.map(async p => node.libp2p.dial(peerIdFromString(p), { signal: AbortSignal.timeout(2000) }).catch(() => {})))
}

async function serve (node: SwarmNode, id: number, req: Request): Promise<Reply> {
  const timeoutMs = config.opTimeoutMs
  const ok = (fields: OkFields = {}): Reply => ({ id, type: 'ok', ...fields })
  switch (req.op) {
    case 'status':
      return ok({ raft: node.raft.status() })
    case 'put': {
      const r = await node.kv.put(req.key, req.value, req.prevVersion === undefined ? { timeoutMs } : { prevVersion: req.prevVersion, timeoutMs })
      return ok({ version: r.version })
    }
    case 'get': {
      const r = await node.kv.get(req.key, { timeoutMs, consistency: config.staleReads === true ? 'stale' : 'linearizable' })
      return r === null ? ok({ found: false }) : ok({ found: true, value: r.value, version: r.version })
    }
    case 'lock': {
      const h = await node.coordination.acquire(req.resource, { ttlMs: req.ttlMs, timeoutMs: req.timeoutMs })
      handles.set(`${req.resource}#${h.fencingToken}`, h)
      // Everything up to the grant is applied here by now: a grant already undone is a handle
      // to a lock nobody holds (with the lease gone it expired; with it alive, something else
      // released it).
      const held = node.coordination.checkFence(req.resource, h.fencingToken)
      return ok({ token: h.fencingToken, held, leaseAlive: node.raft.coordination.lease(h.leaseId) !== undefined })
    }
    case 'fencedPut': {
      const r = await node.kv.put(req.key, req.value, { fence: { resource: req.resource, token: req.token }, timeoutMs })
      return ok({ version: r.version })
    }
    case 'unlock': {
      const h = handles.get(`${req.resource}#${req.token}`)
      if (h === undefined) return { id, type: 'fail', error: 'no_handle', message: `no lock ${req.resource}#${req.token} in this process` }
      handles.delete(`${req.resource}#${req.token}`)
      try {
        // Released by hand, not through the handle: the handle's release revokes the lease and
        // reports success even when the lease had already expired and someone else holds the lock.
        const { result } = await node.raft.coordinate({ op: 'lock_release', resource: req.resource, lease: h.leaseId, fencingToken: req.token }, timeoutMs)
        if (result.ok) return ok()
        const error = result.error === 'not_holder' || result.error === 'lease_not_found' ? 'not_holder' : result.error
        return { id, type: 'fail', error, message: result.message }
      } finally {
        dropLease(h)
      }
    }
    case 'block':
      block(node, req.peers)
      return ok()
    case 'heal':
      await heal(node)
      return ok()
  }
}

async function main (): Promise<void> {
  const node = await start()
  const ready: ReadyLine = { event: 'ready', peerId: node.peerId.toString(), addrs: node.addrs() }
  process.stdout.write(JSON.stringify(ready) + '\n')
  createInterface({ input: process.stdin }).on('line', line => {
    let msg: Request & { id: number }
    try {
      msg = JSON.parse(line) as Request & { id: number }
    } catch {
      return
    }
    serve(node, msg.id, msg).then(reply, err => { reply(outcome(msg.id, err)) })
  })
}

main().catch(err => {
  process.stderr.write(`chaos worker failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
