/**
 * Fenced locks side by side with etcd 3.4 (Debian's etcd-server), in one run: acquire+release
 * pairs per second and the p50/p99 of one pair, each client a closed loop for a fixed time.
 * - uncontended: N clients (1 and 16), each locking a resource of its own;
 * - contended: 10 clients taking turns on one resource (acquire, release, count, again).
 * Each cluster is 3 processes on 127.0.0.1, as in bench/raft.ts (ours: `swarmnet start
 * --voters 3` joined through one `swarmnet bootstrap`; etcd: default settings), every client
 * in this process talking to the leader. swarmnet is driven through its HTTP API
 * (`POST /v1/locks/:resource`, `DELETE /v1/locks/:resource`; the node gives each lock a lease
 * of its own and revokes it on release), etcd through the `etcd3` gRPC client:
 * - `client.lock(name).ttl(s).acquire()` / `.release()`: a lease, a put-if-absent of the name
 *   attached to it, and the revocation. It is a try-lock: when the name is held it revokes its
 *   lease and throws, it never waits. Used uncontended, and contended with immediate retries;
 * - the waiting lock of etcd's concurrency package (Go's `concurrency.Mutex` with a session per
 *   lock, written out below on the same client): a lease, a key `<prefix>/<lease id>` put in a
 *   transaction that also reads the oldest key under the prefix, a watch for the deletion of the
 *   key created just before ours, then delete and revoke. Used contended, and uncontended.
 * For where the time goes: the Raft log entries each pair costs (the leader's commit index, ours
 * from /v1/status, etcd's from its maintenance status, before and after each run, over the
 * pairs), the acquire and release halves timed apart, one durable write at 1 client (a single
 * entry), and the uncontended runs again under a lease each client keeps (ours: POST /v1/leases,
 * then `leaseId` in each lock; etcd: a concurrency session per client) rather than one per lock.
 * Both clusters stay up for the whole run and each scenario runs on one right after the other.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import http from 'node:http'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Etcd3 } from 'etcd3'
import { Owned, debianBinary, freePort, latencyStats, quantile, type Stats } from './common.js'
import { waitFor } from '../test/harness/wait.js'

const CLI = fileURLToPath(new URL('../node/main.js', import.meta.url))

export interface CoordinationBenchOptions {
  /** Seconds each measured run lasts. */
  seconds: number
  /** Client counts of the uncontended runs. */
  clients: number[]
  /** Clients contending for one resource. */
  contenders: number
  /** Lease TTL of every lock, ms (etcd takes whole seconds). */
  ttlMs: number
}

export interface LockRun extends Stats {
  /** Raft log entries committed during the run, per completed pair. */
  entriesPerPair: number
  /** p50 of the acquire half (until granted, waiting included) and of the release half, ms. */
  acquireP50: number
  releaseP50: number
  /** Completed pairs of the least and the most served client. */
  perClient: { min: number, max: number }
  /** Try-lock attempts that found the lock held (etcd's lock() retried). */
  failedTries?: number
}

interface Side {
  client: string
  write: LockRun
  uncontended: Record<string, LockRun>
  /** Uncontended, under one lease per client instead of one per lock. */
  leasePerClient: Record<string, LockRun>
  contended: LockRun
  elections: number
}
interface EtcdSide extends Side { recipeUncontended: Record<string, LockRun>, tryLockContended: LockRun }

/** A started cluster and its client, as the runs use it. */
interface Cluster {
  client: string
  /** The leader's commit index and term. */
  raft: () => Promise<{ commitIndex: number, term: number }>
  /** One durable put of a small value: a single log entry. */
  write: (key: string) => Promise<void>
  close: () => Promise<void>
}
/** An acquire+release pair on `resource`; resolves with the ms until the lock was granted. */
type Pair = (resource: string) => Promise<number>
/** Locks under one lease a client keeps across pairs, rather than a lease per lock. */
interface Session { pair: Pair, close: () => Promise<void> }
interface Swarmnet extends Cluster { pair: Pair, session: () => Promise<Session> }
interface Etcd extends Cluster {
  session: () => Promise<Session>
  /** etcd3's lock(): with `onHeld`, retried at once (calling it) while the name is held, else it throws. */
  tryLockPair: (name: string, onHeld?: () => void) => Promise<number>
  recipePair: Pair
}

const owned = new Owned()
const stop = async (c: ChildProcess, signal?: NodeJS.Signals): Promise<void> => { await owned.kill(c, signal) }
const tempDir = (prefix: string): string => owned.tmp(prefix)

export async function cleanup (): Promise<void> {
  await owned.cleanup()
}

const sleep = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/**
 * `clients` closed loops of `pair(client)` until `seconds` have passed (the pair under way then
 * completes); `pair` resolves with the ms its first half took. A thrown pair counts as an error;
 * the run fails early if nothing ever succeeds.
 */
async function timedLoops (clients: number, seconds: number, pair: (client: number) => Promise<number>): Promise<{ stats: Stats, firstHalf: number[], secondHalf: number[], perClient: number[] }> {
  const latencies: number[] = []
  const firstHalf: number[] = []
  const secondHalf: number[] = []
  const perClient = new Array<number>(clients).fill(0)
  let errors = 0
  let firstError: unknown
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    while (performance.now() < end) {
      const t = performance.now()
      try {
        const first = await pair(c)
        const total = performance.now() - t
        latencies.push(total)
        firstHalf.push(first)
        secondHalf.push(total - first)
        perClient[c]!++
      } catch (err) {
        errors++
        firstError ??= err
        if (latencies.length === 0 && errors >= 20) throw new Error(`every lock pair failed; the last: ${(err as Error).message}`, { cause: err })
        await sleep(20)
      }
    }
  }))
  if (errors > 0) process.stderr.write(`bench: ${errors} failed pairs; the first: ${(firstError as Error).message}\n`)
  return { stats: latencyStats(latencies, performance.now() - t0, errors), firstHalf, secondHalf, perClient }
}

/** One measured run: its loops framed by two reads of the leader's commit index. */
async function measure (label: string, cluster: Cluster, clients: number, seconds: number, pair: (client: number) => Promise<number>): Promise<LockRun> {
  const before = (await cluster.raft()).commitIndex
  const { stats, firstHalf, secondHalf, perClient } = await timedLoops(clients, seconds, pair)
  const entries = (await cluster.raft()).commitIndex - before
  const p50 = (xs: number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5)
  const run: LockRun = {
    ...stats,
    entriesPerPair: entries / Math.max(1, stats.count),
    acquireP50: p50(firstHalf),
    releaseP50: p50(secondHalf),
    perClient: { min: Math.min(...perClient), max: Math.max(...perClient) }
  }
  process.stderr.write(`bench: ${label}: ${Math.round(run.perSecond)}/s, p50 ${run.p50.toFixed(2)} ms (${run.acquireP50.toFixed(2)} + ${run.releaseP50.toFixed(2)}), p99 ${run.p99.toFixed(2)} ms, ${run.entriesPerPair.toFixed(2)} log entries each\n`)
  return run
}

// ---- swarmnet -------------------------------------------------------------------------------

interface Ready { peerId: string, addrs: string[], api: string }
interface Member { proc: ChildProcess, peerId: string, api: string }
interface RaftStatus { role: string, leader: string | null, term: number, commitIndex: number, appliedIndex: number }

async function startCli (args: string[]): Promise<{ proc: ChildProcess, ready: Ready }> {
  const env = { ...process.env }
  for (const name of Object.keys(env)) if (name.startsWith('SWARMNET_')) delete env[name]
  const proc = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  owned.track(proc)
  let stderr = ''
  proc.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  // The node prints one JSON line once it is ready.
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve)
    proc.once('exit', code => { reject(new Error(`swarmnet exited with ${code}: ${stderr}`)) })
  })
  return { proc, ready: JSON.parse(line) as Ready }
}

/** A small client of the lock routes: node:http with a keep-alive Agent, so each client keeps its connection. */
class LockApi {
  private readonly agent = new http.Agent({ keepAlive: true })
  private readonly base: URL

  constructor (url: string) {
    this.base = new URL(url)
  }

  async request (method: string, path: string, body?: unknown, timeoutMs = 35_000): Promise<{ status: number, body: Record<string, unknown> }> {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    return await new Promise((resolve, reject) => {
      const req = http.request({
        host: this.base.hostname,
        port: this.base.port,
        path,
        method,
        agent: this.agent,
        timeout: timeoutMs,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
      }, res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: Record<string, unknown>
          try {
            parsed = text === '' ? {} : JSON.parse(text) as Record<string, unknown>
          } catch {
            parsed = { message: text.slice(0, 200) }
          }
          resolve({ status: res.statusCode ?? 0, body: parsed })
        })
      })
      req.on('timeout', () => { req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)) })
      req.on('error', reject)
      req.end(payload)
    })
  }

  /** POST /v1/locks/:resource: waits for the lock (under a lease of its own, or `leaseId`); its fencing token. */
  async acquire (resource: string, lease: { ttlMs: number } | { leaseId: string }, timeoutMs: number): Promise<number> {
    const path = `/v1/locks/${encodeURIComponent(resource)}`
    const res = await this.request('POST', path, { ...lease, timeoutMs }, timeoutMs + 5000)
    const token = res.body.fencingToken
    if (res.status < 200 || res.status >= 300 || typeof token !== 'number') throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`)
    return token
  }

  /** DELETE /v1/locks/:resource with the fencing token of the grant (and the lease, when the client gave one). */
  async release (resource: string, body: { fencingToken: number, leaseId?: string }): Promise<void> {
    const path = `/v1/locks/${encodeURIComponent(resource)}`
    const res = await this.request('DELETE', path, body)
    if (res.status < 200 || res.status >= 300 || res.body.released !== true) throw new Error(`DELETE ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`)
  }

  async raft (): Promise<RaftStatus | undefined> {
    try {
      const res = await this.request('GET', '/v1/status', undefined, 2000)
      return res.status === 200 ? res.body.raft as RaftStatus | undefined : undefined
    } catch {
      return undefined
    }
  }

  close (): void { this.agent.destroy() }
}

async function startSwarmnet (opts: CoordinationBenchOptions): Promise<Swarmnet> {
  const common = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--log-level', 'warn']
  const boot = await startCli(['bootstrap', ...common, '--data-dir', tempDir('swarmnet-lockbench-boot-')])
  const members: Member[] = await Promise.all([0, 1, 2].map(async () => {
    const { proc, ready } = await startCli(['start', ...common, '--data-dir', tempDir('swarmnet-lockbench-'), '--voters', '3', '--bootstrap', boot.ready.addrs[0]!])
    return { proc, peerId: ready.peerId, api: ready.api }
  }))
  const apis = members.map(m => new LockApi(m.api))
  const close = async (): Promise<void> => {
    for (const a of apis) a.close()
    await Promise.all([...members.map(m => m.proc), boot.proc].map(async p => stop(p, 'SIGTERM')))
  }
  // The leader, once every member follows it and has applied what it had committed.
  let leader = -1
  try {
    await waitFor(async () => {
      const sts = await Promise.all(apis.map(async a => a.raft()))
      leader = sts.findIndex(s => s?.role === 'leader')
      if (leader < 0 || sts.filter(s => s?.role === 'leader').length !== 1) return false
      const { commitIndex } = sts[leader]!
      return sts.every(s => s?.leader === members[leader]!.peerId && s.appliedIndex >= commitIndex - 1)
    }, { timeoutMs: 30_000, intervalMs: 25, message: 'a swarmnet leader followed by every member' })
  } catch (err) {
    await close()
    throw err
  }
  process.stderr.write('bench: swarmnet cluster formed\n')
  const api = apis[leader]!
  return {
    client: 'its HTTP API (`POST` / `DELETE /v1/locks/:resource`, node:http with a keep-alive Agent, a connection per client)',
    raft: async () => {
      const s = await api.raft()
      if (s === undefined) throw new Error('the swarmnet leader did not answer /v1/status')
      return { commitIndex: s.commitIndex, term: s.term }
    },
    write: async key => {
      const res = await api.request('PUT', `/v1/kv/${encodeURIComponent(key)}`, { value: 'v'.repeat(16) }, 10_000)
      if (res.status !== 200) throw new Error(`PUT /v1/kv/${key}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`)
    },
    pair: async resource => {
      const t = performance.now()
      const token = await api.acquire(resource, { ttlMs: opts.ttlMs }, 30_000)
      const acquired = performance.now() - t
      await api.release(resource, { fencingToken: token })
      return acquired
    },
    session: async () => {
      const res = await api.request('POST', '/v1/leases', { ttlMs: opts.ttlMs }, 10_000)
      const leaseId = res.body.leaseId
      if (res.status !== 200 || typeof leaseId !== 'string') throw new Error(`POST /v1/leases: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`)
      return {
        pair: async resource => {
          const t = performance.now()
          const token = await api.acquire(resource, { leaseId }, 30_000)
          const acquired = performance.now() - t
          await api.release(resource, { fencingToken: token, leaseId })
          return acquired
        },
        close: async () => { await api.request('DELETE', `/v1/leases/${encodeURIComponent(leaseId)}`, undefined, 10_000) }
      }
    },
    close
  }
}

// ---- etcd -----------------------------------------------------------------------------------

interface EtcdMember { name: string, dir: string, client: string, peer: string, proc?: ChildProcess }

function startEtcdMember (bin: string, m: EtcdMember, cluster: string): void {
  const proc = spawn(bin, [
    '--name', m.name, '--data-dir', m.dir,
    '--listen-client-urls', m.client, '--advertise-client-urls', m.client,
    '--listen-peer-urls', m.peer, '--initial-advertise-peer-urls', m.peer,
    '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--log-level', 'error'
  ], { stdio: ['ignore', 'ignore', 'ignore'] })
  owned.track(proc)
  m.proc = proc
}

interface EtcdStatus { member: string, leader: string, raftIndex: number, raftTerm: number }

async function etcdStatus (client: Etcd3): Promise<EtcdStatus | undefined> {
  try {
    const s = await client.maintenance.status({ deadline: Date.now() + 1000 })
    const header = s.header as unknown as Record<string, string | undefined>
    const member = header.member_id ?? header.memberId ?? ''
    if (s.leader === undefined || s.leader === '0' || member === '') return undefined
    return { member, leader: s.leader, raftIndex: Number(s.raftIndex), raftTerm: Number(s.raftTerm) }
  } catch {
    return undefined
  }
}

/**
 * Lock of Go's concurrency.Mutex in the session of lease `id`; resolves, once held, with the
 * unlock (the delete of our key).
 */
async function mutexLock (client: Etcd3, name: string, id: string): Promise<() => Promise<void>> {
  const prefix = `${name}/`
  const key = prefix + BigInt(id).toString(16)
  const oldest = (): ReturnType<Etcd3['getAll']> => client.getAll().prefix(prefix).sort('Create', 'Ascend').limit(1)
  // Put our key unless it exists; either way read the oldest key under the prefix in the same revision.
  const txn = await client.if(key, 'Create', '==', 0)
    .then(client.put(key).value('').lease(id), oldest())
    .else(client.get(key), oldest())
    .commit()
  const mine = txn.succeeded ? String(txn.header.revision) : String(txn.responses[0]!.response_range.kvs[0]!.create_revision)
  const owner = txn.responses[1]!.response_range.kvs[0]
  if (owner === undefined || String(owner.create_revision) !== mine) {
    // Wait, in revision order, for every key created before ours to go.
    for (;;) {
      const last = await client.getAll().prefix(prefix).maxCreateRevision(String(BigInt(mine) - 1n)).sort('Create', 'Descend').limit(1).exec()
      const kv = last.kvs[0]
      if (kv === undefined) break
      const watcher = client.watch().key(kv.key).startRevision(String(BigInt(last.header.revision) + 1n)).watcher()
      await new Promise<void>((resolve, reject) => {
        watcher.on('delete', () => { resolve() })
        watcher.on('error', reject)
      })
      void watcher.cancel().catch(() => {})
    }
  }
  return async () => { await client.delete().key(key) }
}

async function startEtcd (bin: string, opts: CoordinationBenchOptions): Promise<Etcd> {
  const { Etcd3: Client, EtcdLockFailedError } = await import('etcd3')
  const members: EtcdMember[] = []
  for (let i = 1; i <= 3; i++) {
    members.push({ name: `e${i}`, dir: tempDir('etcd-lockbench-'), client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}` })
  }
  const cluster = members.map(m => `${m.name}=${m.peer}`).join(',')
  for (const m of members) startEtcdMember(bin, m, cluster)
  const probes = members.map(m => new Client({ hosts: m.client.replace('http://', '') }))
  let client: Etcd3 | undefined
  const close = async (): Promise<void> => {
    client?.close()
    for (const p of probes) p.close()
    await Promise.all(members.map(async m => m.proc != null ? stop(m.proc, 'SIGTERM') : undefined))
  }
  let leader = -1
  try {
    await waitFor(async () => {
      const sts = await Promise.all(probes.map(async p => etcdStatus(p)))
      if (sts.some(s => s === undefined)) return false
      const leaders = new Set(sts.map(s => s!.leader))
      leader = sts.findIndex(s => s!.member === s!.leader)
      if (leaders.size !== 1 || leader < 0) return false
      const top = Math.max(...sts.map(s => s!.raftIndex))
      return sts.every(s => s!.raftIndex >= top - 1)
    }, { timeoutMs: 30_000, intervalMs: 25, message: 'an etcd leader followed by every member' })
  } catch (err) {
    await close()
    throw err
  }
  process.stderr.write('bench: etcd cluster formed\n')
  const c = client = new Client({ hosts: members[leader]!.client.replace('http://', '') })
  const ttl = Math.max(1, Math.round(opts.ttlMs / 1000))
  return {
    client: 'the `etcd3` gRPC client',
    raft: async () => {
      const s = await etcdStatus(probes[leader]!)
      if (s === undefined) throw new Error('the etcd leader did not answer its status')
      return { commitIndex: s.raftIndex, term: s.raftTerm }
    },
    write: async key => { await c.put(key).value('v'.repeat(16)) },
    tryLockPair: async (name, onHeld) => {
      const t = performance.now()
      for (;;) {
        const lock = c.lock(name).ttl(ttl)
        try {
          await lock.acquire()
        } catch (err) {
          // Held: lock() has revoked its lease already; retry at once when asked to.
          if (onHeld === undefined || !(err instanceof EtcdLockFailedError)) throw err
          onHeld()
          continue
        }
        const acquired = performance.now() - t
        await lock.release()
        return acquired
      }
    },
    recipePair: async name => {
      // A session of its own: grant, lock, unlock, and the revoke that closes the session.
      const t = performance.now()
      const lease = c.lease(ttl)
      const unlock = await mutexLock(c, name, await lease.grant())
      const acquired = performance.now() - t
      await unlock()
      await lease.revoke()
      return acquired
    },
    session: async () => {
      const lease = c.lease(ttl)
      const id = await lease.grant()
      return {
        pair: async name => {
          const t = performance.now()
          const unlock = await mutexLock(c, name, id)
          const acquired = performance.now() - t
          await unlock()
          return acquired
        },
        close: async () => { await lease.revoke() }
      }
    },
    close
  }
}

// ---- report ---------------------------------------------------------------------------------

const ms = (n: number): string => Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(2) : n.toFixed(1)
const k = (n: number): string => Math.round(n).toLocaleString('en-US')
const per = (n: number): string => Number.isFinite(n) ? n.toFixed(2) : '-'
const failed = (r: LockRun): string => r.errors > 0 ? ` (${r.errors} failed)` : ''
const spread = (r: LockRun): string => `${k(r.perClient.min)}–${k(r.perClient.max)}`

export function parseCoordinationOptions (v: { 'lock-seconds'?: string, 'lock-clients'?: string, contenders?: string }): CoordinationBenchOptions {
  const clients = (v['lock-clients'] ?? '1,16').split(',').map(Number)
  const seconds = Number(v['lock-seconds'] ?? 6)
  const contenders = Number(v.contenders ?? 10)
  if (clients.some(n => !Number.isInteger(n) || n < 1) || !(seconds > 0) || !Number.isInteger(contenders) || contenders < 2) {
    throw new Error('--lock-clients takes counts like 1,16; --lock-seconds a positive number; --contenders a count of at least 2')
  }
  return { seconds, clients, contenders, ttlMs: 10_000 }
}

const plural = (n: number): string => `${n} client${n === 1 ? '' : 's'}`

function report (opts: CoordinationBenchOptions, ours: Side, theirs: EtcdSide | undefined, skipped: string | undefined): string {
  const scenarios: Array<[string, LockRun, LockRun | undefined]> = [
    ...opts.clients.map((n): [string, LockRun, LockRun | undefined] => [`uncontended, ${plural(n)}`, ours.uncontended[n]!, theirs?.uncontended[n]]),
    [`contended, ${opts.contenders} clients, one resource`, ours.contended, theirs?.contended]
  ]
  const row = (name: string, o: LockRun, t: LockRun | undefined): string =>
    `| ${name} | ${k(o.perSecond)}${failed(o)} | ${ms(o.p50)} / ${ms(o.p99)} | ${t != null ? k(t.perSecond) + failed(t) : '-'} | ${t != null ? `${ms(t.p50)} / ${ms(t.p99)}` : '-'} | ${t != null ? `${(o.perSecond / t.perSecond).toFixed(2)}x` : '-'} | ${per(o.entriesPerPair)} / ${t != null ? per(t.entriesPerPair) : '-'} |`
  const main = scenarios.map(([name, o, t]) => row(name, o, t))
  const halves = scenarios.map(([name, o, t]) =>
    `| ${name} | ${ms(o.acquireP50)} | ${ms(o.releaseP50)} | ${t != null ? ms(t.acquireP50) : '-'} | ${t != null ? ms(t.releaseP50) : '-'} |`)
  const write = (r: LockRun): string => `${k(r.perSecond)}/s, p50 ${ms(r.p50)} ms, ${per(r.entriesPerPair)} log entries each`
  const lines = [
    `Lock acquire+release pairs against the leader of a 3-member cluster, lease TTL ${opts.ttlMs / 1000} s, every client a closed loop for ${opts.seconds} s per run after a warm-up; ` +
    'both clusters stay up and each scenario runs on one right after the other. ' +
    `swarmnet is driven through ${ours.client}: the node grants each lock a lease of its own and revokes it on release. ` +
    `etcd is driven through ${theirs?.client ?? '(skipped)'}: uncontended with its \`lock(name).ttl(s).acquire()\` / \`.release()\`, ` +
    'contended with the waiting lock of etcd\'s concurrency package (`concurrency.Mutex`, a session per lock, written out on the same client), ' +
    'because `lock()` is a try-lock that throws when the name is held. A pair\'s latency includes the wait for the lock. ' +
    'Log entries per pair: the Raft entries the leader committed during the run over the pairs completed.',
    '',
    '| scenario | swarmnet pairs/s | swarmnet p50 / p99 ms | etcd pairs/s | etcd p50 / p99 ms | throughput ratio (us/etcd) | log entries per pair (us / etcd) |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...main,
    '',
    `Where a pair's time goes, p50 of each half in ms (acquire: until granted, waiting included). One durable write of 16 bytes at 1 client, same run, for the cost of a single log entry: ` +
    `swarmnet ${write(ours.write)}${theirs != null ? `; etcd ${write(theirs.write)}` : ''}.`,
    '',
    '| scenario | swarmnet acquire | swarmnet release | etcd acquire | etcd release |',
    '|---|---:|---:|---:|---:|',
    ...halves,
    '',
    'With a lease the client keeps instead of one per lock (swarmnet: `POST /v1/leases` once per client, then `leaseId` in each lock and its release; ' +
    'etcd: one `concurrency.Session` per client, its Mutex locked and unlocked), uncontended:',
    '',
    '| scenario | swarmnet pairs/s | swarmnet p50 / p99 ms | etcd pairs/s | etcd p50 / p99 ms | throughput ratio (us/etcd) | log entries per pair (us / etcd) |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...opts.clients.map(n => row(`uncontended, ${plural(n)}`, ours.leasePerClient[n]!, theirs?.leasePerClient[n])),
    '',
    `Pairs completed per client when contended (least–most served): swarmnet ${spread(ours.contended)}${theirs != null ? `, etcd ${spread(theirs.contended)}` : ''}. ` +
    `Leader elections during the runs (spurious, from a term change): swarmnet ${ours.elections}, etcd ${theirs?.elections ?? '-'}.`
  ]
  if (theirs == null) {
    lines.push('', `etcd was skipped: ${skipped ?? ''}`)
  } else {
    const t = theirs.tryLockContended
    const tries = t.failedTries ?? 0
    lines.push(
      '',
      'The other etcd lock in each scenario, same run:',
      '',
      '| etcd lock | scenario | pairs/s | p50 / p99 ms | acquire / release p50 ms | log entries per pair | note |',
      '|---|---|---:|---:|---:|---:|---|',
      ...opts.clients.map(n => {
        const r = theirs.recipeUncontended[n]!
        return `| \`concurrency.Mutex\` | uncontended, ${plural(n)} | ${k(r.perSecond)}${failed(r)} | ${ms(r.p50)} / ${ms(r.p99)} | ${ms(r.acquireP50)} / ${ms(r.releaseP50)} | ${per(r.entriesPerPair)} | lease grant, txn put, delete, revoke |`
      }),
      `| \`lock()\`, retried at once | contended, ${opts.contenders} clients, one resource | ${k(t.perSecond)}${failed(t)} | ${ms(t.p50)} / ${ms(t.p99)} | ${ms(t.acquireP50)} / ${ms(t.releaseP50)} | ${per(t.entriesPerPair)} | ` +
        `${k(tries)} failed tries (${per(tries / Math.max(1, t.count))} per pair), each a lease grant, a failed txn and a revoke; per client ${spread(t)} pairs |`
    )
  }
  lines.push('')
  return lines.join('\n')
}

/** Runs `fn` with `n` sessions open, and closes them after. */
async function withSessions<T> (cluster: { session: () => Promise<Session> }, n: number, fn: (sessions: Session[]) => Promise<T>): Promise<T> {
  const sessions = await Promise.all(Array.from({ length: n }, async () => cluster.session()))
  try {
    return await fn(sessions)
  } finally {
    await Promise.all(sessions.map(async s => s.close().catch(() => {})))
  }
}

export async function runCoordination (opts: CoordinationBenchOptions): Promise<{ markdown: string, data: unknown }> {
  const etcdBin = debianBinary('etcd', 'etcd-server')
  let ours: Swarmnet | undefined
  let etcd: Etcd | undefined
  try {
    // Both clusters stay up and each scenario runs on one right after the other, so that a
    // change of load on this shared machine shows in both rather than in their ratio.
    ours = await startSwarmnet(opts)
    if (etcdBin.bin != null) etcd = await startEtcd(etcdBin.bin, opts)
    else process.stderr.write(`bench: skipping etcd: ${etcdBin.why ?? 'unknown'}\n`)
    const o = ours
    const e = etcd
    const termBefore = { ours: (await o.raft()).term, etcd: e != null ? (await e.raft()).term : NaN }
    const oneWrite = (cluster: Cluster) => async (c: number): Promise<number> => {
      await cluster.write(`bench-write-${c}`)
      return 0
    }

    await timedLoops(16, 2, async c => o.pair(`warm-${c}`))
    if (e != null) {
      await timedLoops(16, 1, async c => e.tryLockPair(`warm-${c}`))
      await timedLoops(16, 1, async c => e.recipePair(`warm-recipe-${c}`))
    }

    const write = { ours: await measure('swarmnet single write, 1 client', o, 1, opts.seconds / 2, oneWrite(o)), etcd: e != null ? await measure('etcd single write, 1 client', e, 1, opts.seconds / 2, oneWrite(e)) : undefined }
    const uncontended: { ours: Record<string, LockRun>, etcd: Record<string, LockRun>, recipe: Record<string, LockRun> } = { ours: {}, etcd: {}, recipe: {} }
    for (const n of opts.clients) {
      uncontended.ours[n] = await measure(`swarmnet uncontended, ${n} clients`, o, n, opts.seconds, async c => o.pair(`own-${n}-${c}`))
      if (e == null) continue
      uncontended.etcd[n] = await measure(`etcd lock() uncontended, ${n} clients`, e, n, opts.seconds, async c => e.tryLockPair(`own-${n}-${c}`))
      uncontended.recipe[n] = await measure(`etcd recipe uncontended, ${n} clients`, e, n, opts.seconds, async c => e.recipePair(`own-recipe-${n}-${c}`))
    }
    const perClient: { ours: Record<string, LockRun>, etcd: Record<string, LockRun> } = { ours: {}, etcd: {} }
    for (const n of opts.clients) {
      perClient.ours[n] = await withSessions(o, n, async ss => measure(`swarmnet lease per client, ${n} clients`, o, n, opts.seconds, async c => ss[c]!.pair(`session-${n}-${c}`)))
      if (e == null) continue
      perClient.etcd[n] = await withSessions(e, n, async ss => measure(`etcd session per client, ${n} clients`, e, n, opts.seconds, async c => ss[c]!.pair(`session-${n}-${c}`)))
    }
    const contended = await measure(`swarmnet contended, ${opts.contenders} clients`, o, opts.contenders, opts.seconds, async () => o.pair('shared'))
    let theirs: EtcdSide | undefined
    if (e != null) {
      const recipeContended = await measure(`etcd recipe contended, ${opts.contenders} clients`, e, opts.contenders, opts.seconds, async () => e.recipePair('shared-recipe'))
      let failedTries = 0
      const tryLockContended = await measure(`etcd lock() retried, contended, ${opts.contenders} clients`, e, opts.contenders, opts.seconds, async () => e.tryLockPair('shared-trylock', () => { failedTries++ }))
      tryLockContended.failedTries = failedTries
      theirs = { client: e.client, write: write.etcd!, uncontended: uncontended.etcd, leasePerClient: perClient.etcd, recipeUncontended: uncontended.recipe, contended: recipeContended, tryLockContended, elections: (await e.raft()).term - termBefore.etcd }
    }
    const mine: Side = { client: o.client, write: write.ours, uncontended: uncontended.ours, leasePerClient: perClient.ours, contended, elections: (await o.raft()).term - termBefore.ours }
    const markdown = report(opts, mine, theirs, etcdBin.why)
    process.stdout.write(markdown + '\n')
    return { markdown, data: { options: opts, ours: mine, theirs } }
  } finally {
    await ours?.close()
    await etcd?.close()
    await cleanup()
  }
}
