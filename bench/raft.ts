/**
 * Raft side by side with etcd 3.4 (Debian's etcd-server), in one run, both durable (fsync before
 * acknowledging; ours: one `sync: true` LevelDB batch per Ready, etcd: its WAL):
 * - writes/s and p50/p99 at 1, 32 and 256 in flight, 256-byte values, every put sent to the
 *   leader by this process: ours through the node's HTTP API (PUT /v1/kv/:key), etcd through the
 *   `etcd3` gRPC client when it is installed, else its HTTP/JSON gateway (POST /v3/kv/put);
 * - linearizable reads at 32 in flight of keys written before, through the leader and through a
 *   follower: ours `kv.get` through `SwarmnetClient` (ReadIndex, no log write), etcd's `get`
 *   through the `etcd3` client (linearizable unless `.serializable(true)` is asked for);
 * - rolling restart under load: 32 writes in flight through a client that follows the leader,
 *   each voter in turn stopped with SIGTERM (the current leader first while one is left, both
 *   systems hand leadership over on a graceful stop), restarted from its data dir and caught up;
 *   the longest interval between two consecutive acknowledged writes (the gap);
 * - snapshot install (ours): a follower stopped while the leader compacts its log past it, then
 *   restarted; from its start to applied >= the leader's commit, and the snapshot's size;
 * - failover: SIGKILL the leader, then put to the survivors (300 ms per-request timeout, round
 *   robin) until one succeeds; the time from the kill to that first committed write, 10 times,
 *   the killed member restarted from its data dir and caught up between rounds.
 * Each cluster is 3 processes on 127.0.0.1 (ours: `swarmnet start --voters 3` joined through one
 * `swarmnet bootstrap`; etcd: default settings, as in /work/shared/notes/anchors.md).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closedLoop, debianBinary, freePort, type Stats } from './common.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { waitFor } from '../test/harness/wait.js'
import http from 'node:http'
import { SwarmnetClient } from '../node/http-client.js'

const CLI = fileURLToPath(new URL('../node/cli.js', import.meta.url))
const LEVELS = [1, 32, 256]

export interface RaftBenchOptions {
  /** Writes per in-flight level (1 in flight does a quarter of it). */
  writes: number
  failovers: number
  /** Minutes of steady writes at 32 in flight, counting leader elections (0: skip). */
  soakMinutes: number
}

interface Failover { median: number, max: number, runs: number[] }
interface Soak { minutes: number, writes: number, failed: number, elections: number }
/** Linearizable reads at 32 in flight, asking the leader and asking a follower. */
interface Reads { leader: Stats, follower: Stats }
interface RestartStep { role: string, /** Longest interval without an acknowledged write while this member was down or catching up. */ gapMs: number, /** SIGTERM to exit. */ stopMs: number, /** Spawn to caught-up follower. */ catchUpMs: number }
interface Rolling { steps: RestartStep[], /** Longest interval over the whole rolling restart. */ gapMs: number, /** The same over a steady second before it. */ steadyGapMs: number, acked: number, failed: number }
type SnapshotInstall =
  | { skipped: string }
  | { bytes: number, index: number, keys: number, valueBytes: number, writes: number, /** Entries after the snapshot the follower got from the log. */ tail: number, startMs: number, readyMs: number, fromSnapshot: boolean }
interface Side {
  writes: Record<string, Stats>
  failover: Failover
  client: string
  /** Leader elections during the write runs (spurious ones). */
  elections: number
  soak?: Soak
  /** swarmnet: one HTTP request per write, 32 in flight. */
  perRequest?: Stats
  reads?: Reads
  rolling?: Rolling
  snapshot?: SnapshotInstall
}

const children = new Set<ChildProcess>()
const dirs = new Set<string>()

export async function cleanup (): Promise<void> {
  agent.destroy()
  await Promise.all([...children].map(async c => kill(c)))
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs.clear()
}

async function kill (c: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) { children.delete(c); return }
  const gone = new Promise(resolve => c.once('exit', resolve))
  c.kill(signal)
  await gone
  children.delete(c)
}

function tmp (prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  dirs.add(d)
  return d
}

function summary (runs: number[]): Failover {
  const s = [...runs].sort((a, b) => a - b)
  return { median: s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2, max: s[s.length - 1] ?? NaN, runs }
}

const VALUE = 'v'.repeat(256)

/** Kill the leader, put round robin to the others until one commits; ms from kill to that ack. */
async function measureFailover (kill: () => Promise<void>, survivors: Array<() => Promise<boolean>>): Promise<number> {
  const t0 = performance.now()
  await kill()
  for (let i = 0; ; i++) {
    if (await survivors[i % survivors.length]!()) return performance.now() - t0
    if (performance.now() - t0 > 30_000) throw new Error('no write committed within 30 s of killing the leader')
  }
}

/** Reads per row (after warm-up), one per key written by the runs above, round robin. */
const READ_WARMUP = 500
const ROLL_IN_FLIGHT = 32
/** Per-request timeout of the rolling-restart client. */
const ROLL_TIMEOUT_MS = 300
/** swarmnet's heartbeat interval (3 ticks of 15 ms): the unit of the gap target. */
const HEARTBEAT_MS = 45
const GAP_TARGET_HEARTBEATS = 2

/** `p`, or `fallback` once `ms` have passed. */
async function within<T> (p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<T>(resolve => { timer = setTimeout(() => { resolve(fallback) }, ms) })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * A closed loop of writes through whichever member leads: each loop writes through the member
 * it believes leads; after a failure (or no answer within the per-request timeout) it asks the
 * live members who leads and goes there. One question at a time, shared by every loop.
 */
class LeaderFollowingWriter {
  /** performance.now() of every acknowledged write, in order. */
  readonly acks: number[] = []
  failed = 0
  private target: string | undefined
  private locating: Promise<void> | undefined
  private running = true
  private n = 0
  private readonly put: (target: string, key: string) => Promise<boolean>
  private readonly whoLeads: () => Promise<string | undefined>
  private loops: Array<Promise<void>> = []

  constructor (put: (target: string, key: string) => Promise<boolean>, whoLeads: () => Promise<string | undefined>) {
    this.put = put
    this.whoLeads = whoLeads
  }

  start (inFlight: number): void {
    this.loops = Array.from({ length: inFlight }, async () => this.loop())
  }

  async stop (): Promise<void> {
    this.running = false
    await Promise.all(this.loops)
  }

  /** The longest interval between consecutive acknowledgements that overlaps [from, to]. */
  maxGap (from: number, to: number): number {
    let gap = 0
    for (let i = 1; i < this.acks.length; i++) {
      const a = this.acks[i - 1]!
      const b = this.acks[i]!
      if (b < from) continue
      if (a > to) break
      gap = Math.max(gap, b - a)
    }
    return gap
  }

  private async loop (): Promise<void> {
    while (this.running) {
      const target = this.target
      if (target === undefined) { await this.relocate(undefined); continue }
      if (await this.put(target, `roll/${this.n++ % 1000}`)) {
        this.acks.push(performance.now())
      } else {
        this.failed++
        await this.relocate(target)
      }
    }
  }

  private async relocate (failed: string | undefined): Promise<void> {
    if (this.target !== failed) return // another loop found the leader meanwhile
    this.locating ??= (async () => {
      const leader = await this.whoLeads()
      // Still named (a leader on its way out whose followers have not heard otherwise): not a busy loop.
      if (leader === undefined || leader === failed) await sleep(5)
      this.target = leader
    })().finally(() => { this.locating = undefined })
    await this.locating
  }
}

/** Snapshot files (`snap-<index>.snap`) anywhere up to three levels under a data dir. */
async function snapshotFiles (dir: string, depth = 3): Promise<Array<{ path: string, index: number, bytes: number }>> {
  const found: Array<{ path: string, index: number, bytes: number }> = []
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return found
  }
  for (const e of entries) {
    const path = join(dir, e.name)
    const m = /^snap-(\d+)\.snap$/.exec(e.name)
    if (e.isFile() && m !== null) {
      const bytes = await stat(path).then(st => st.size, () => NaN)
      if (!Number.isNaN(bytes)) found.push({ path, index: Number(m[1]), bytes })
    } else if (e.isDirectory() && depth > 1) {
      found.push(...await snapshotFiles(path, depth - 1))
    }
  }
  return found.sort((a, b) => a.index - b.index)
}

// ---- swarmnet -------------------------------------------------------------------------------

interface SwarmnetMember { dir: string, proc: ChildProcess, peerId: string, api: string }

async function spawnCli (args: string[]): Promise<{ proc: ChildProcess, ready: { peerId: string, addrs: string[], api: string } }> {
  const env = { ...process.env }
  for (const k of Object.keys(env)) if (k.startsWith('SWARMNET_')) delete env[k]
  const proc = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(proc)
  proc.once('exit', () => children.delete(proc))
  let stderr = ''
  proc.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve)
    proc.once('exit', code => { reject(new Error(`swarmnet exited with ${code}: ${stderr}`)) })
  })
  return { proc, ready: JSON.parse(line) as { peerId: string, addrs: string[], api: string } }
}

async function json (url: string, init: RequestInit = {}, timeoutMs = 2000): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
    if (!res.ok) { await res.body?.cancel(); return undefined }
    return await res.json() as Record<string, unknown>
  } catch {
    return undefined
  }
}

async function swarmnetPut (api: string, key: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(`${api}/v1/kv/${key}?timeoutMs=${timeoutMs}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: VALUE }),
      signal: AbortSignal.timeout(timeoutMs + 300)
    })
    await res.body?.cancel()
    return res.status === 200
  } catch {
    return false
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 })
const BODY = JSON.stringify({ value: VALUE })

/** One PUT per write over a keep-alive node:http agent (fetch costs about 3x the client CPU). */
async function plainPut (api: string, key: string): Promise<boolean> {
  const u = new URL(api)
  return await new Promise(resolve => {
    const req = http.request({ host: u.hostname, port: u.port, path: `/v1/kv/${key}?timeoutMs=5000`, method: 'PUT', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) } }, res => {
      res.resume()
      res.on('end', () => { resolve(res.statusCode === 200) })
    })
    req.on('error', () => { resolve(false) })
    req.end(BODY)
  })
}

async function swarmnetLeader (members: SwarmnetMember[], timeoutMs = 30_000): Promise<SwarmnetMember> {
  let leader: SwarmnetMember | undefined
  await waitFor(async () => {
    const sts = await Promise.all(members.map(async m => (await json(`${m.api}/v1/status`))?.raft as { role: string, leader: string | null, appliedIndex: number, commitIndex: number } | undefined))
    const ls = members.filter((_, i) => sts[i]?.role === 'leader')
    if (ls.length !== 1) return false
    leader = ls[0]!
    const commit = sts[members.indexOf(leader)]!.commitIndex
    // Everyone follows it and has applied what it had committed.
    return sts.every(s => s?.leader === leader!.peerId && s.appliedIndex >= commit - 1)
  }, { timeoutMs, intervalMs: 25, message: 'a swarmnet leader followed by every member' })
  return leader!
}

async function runSwarmnet (opts: RaftBenchOptions): Promise<Side> {
  const common = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--log-level', 'warn']
  const boot = await spawnCli(['bootstrap', ...common, '--data-dir', tmp('swarmnet-bench-boot-')])
  const bootAddr = boot.ready.addrs[0]!
  const start = async (dir: string): Promise<SwarmnetMember> => {
    const { proc, ready } = await spawnCli(['start', ...common, '--data-dir', dir, '--voters', '3', '--bootstrap', bootAddr])
    return { dir, proc, peerId: ready.peerId, api: ready.api }
  }
  const members = await Promise.all([0, 1, 2].map(async () => start(tmp('swarmnet-bench-'))))
  try {
    let leader = await swarmnetLeader(members)
    process.stderr.write('bench: swarmnet cluster formed\n')
    const term = async (): Promise<number> => Number(((await json(`${leader.api}/v1/status`))?.raft as { term?: number } | undefined)?.term ?? NaN)
    const termBefore = await term()
    const client = new SwarmnetClient({ url: leader.api, maxRequests: 2 })
    const put = async (key: string): Promise<boolean> => { try { await client.kv.put(key, VALUE); return true } catch { return false } }
    await closedLoop(1000, 32, async i => put(`warm/${i}`))
    const writes: Record<string, Stats> = {}
    for (const n of LEVELS) {
      const total = n === 1 ? Math.max(200, Math.floor(opts.writes / 4)) : opts.writes
      writes[n] = await closedLoop(total, n, async i => put(`bench/${i % 1000}`))
      process.stderr.write(`bench: swarmnet ${n} in flight: ${Math.round(writes[n].perSecond)} writes/s\n`)
    }
    const perRequest = await closedLoop(opts.writes, 32, async i => plainPut(leader.api, `plain/${i % 1000}`))
    process.stderr.write(`bench: swarmnet 32 in flight, one request per write: ${Math.round(perRequest.perSecond)} writes/s\n`)
    const elections = (await term()) - termBefore
    let soak: Soak | undefined
    if (opts.soakMinutes > 0) {
      // A long loaded run: any term change in it is a spurious election.
      const before = await term()
      const end = Date.now() + opts.soakMinutes * 60_000
      let written = 0
      let failed = 0
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (Date.now() < end) {
          if (await put(`soak/${(written + failed) % 1000}`)) written++
          else failed++
        }
      }))
      soak = { minutes: opts.soakMinutes, writes: written, failed, elections: (await term()) - before }
      process.stderr.write(`bench: swarmnet soak: ${written} writes, ${soak.elections} elections\n`)
    }
    const runs: number[] = []
    for (let r = 0; r < opts.failovers; r++) {
      leader = await swarmnetLeader(members)
      const victim = leader
      const survivors = members.filter(m => m !== victim)
      let k = 0
      runs.push(await measureFailover(async () => { await kill(victim.proc) }, survivors.map(m => async () => swarmnetPut(m.api, `failover/${r}/${k++}`, 300))))
      process.stderr.write(`bench: swarmnet failover ${r + 1}: ${runs[r]!.toFixed(0)} ms\n`)
      members[members.indexOf(victim)] = await start(victim.dir)
    }
    client.close()
    return { writes, failover: summary(runs), client: 'its HTTP API through `SwarmnetClient` (node/http-client.ts: keep-alive, concurrent calls share `POST /v1/kv` requests, each call its own log entry and result)', elections, soak, perRequest }
  } finally {
    await Promise.all([...members.map(m => m.proc), boot.proc].map(async p => kill(p, 'SIGTERM')))
  }
}

// ---- etcd -----------------------------------------------------------------------------------

function etcdBinary (): { bin?: string, why?: string } {
  return debianBinary('etcd', 'etcd-server')
}

interface EtcdMember { name: string, dir: string, client: string, peer: string, proc?: ChildProcess, id?: string }

function startEtcdMember (bin: string, m: EtcdMember, cluster: string): void {
  const proc = spawn(bin, [
    '--name', m.name, '--data-dir', m.dir,
    '--listen-client-urls', m.client, '--advertise-client-urls', m.client,
    '--listen-peer-urls', m.peer, '--initial-advertise-peer-urls', m.peer,
    '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--log-level', 'error'
  ], { stdio: ['ignore', 'ignore', 'ignore'] })
  children.add(proc)
  proc.once('exit', () => children.delete(proc))
  m.proc = proc
}

const b64 = (s: string): string => Buffer.from(s).toString('base64')

async function etcdGatewayPut (client: string, key: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(`${client}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64(key), value: b64(VALUE) }), signal: AbortSignal.timeout(timeoutMs) })
    await res.body?.cancel()
    return res.status === 200
  } catch {
    return false
  }
}

/** Status of one member: its id, the leader's id and its raft index. */
async function etcdStatus (client: string): Promise<{ id: string, leader: string, raftIndex: number } | undefined> {
  const s = await json(`${client}/v3/maintenance/status`, { method: 'POST', body: '{}' }, 1000) as { header?: { member_id?: string }, leader?: string, raftIndex?: string } | undefined
  if (s?.header?.member_id === undefined || s.leader === undefined || s.leader === '0') return undefined
  return { id: s.header.member_id, leader: s.leader, raftIndex: Number(s.raftIndex ?? 0) }
}

async function etcdLeader (members: EtcdMember[], timeoutMs = 30_000): Promise<EtcdMember> {
  let leader: EtcdMember | undefined
  await waitFor(async () => {
    const sts = await Promise.all(members.map(async m => etcdStatus(m.client)))
    if (sts.some(s => s === undefined)) return false
    members.forEach((m, i) => { m.id = sts[i]!.id })
    const ids = new Set(sts.map(s => s!.leader))
    if (ids.size !== 1) return false
    leader = members.find(m => m.id === sts[0]!.leader)
    if (leader === undefined) return false
    const top = Math.max(...sts.map(s => s!.raftIndex))
    return sts.every(s => s!.raftIndex >= top - 1)
  }, { timeoutMs, intervalMs: 25, message: 'an etcd leader followed by every member' })
  return leader!
}

type Etcd3Client = { put: (key: string) => { value: (v: string) => Promise<unknown> }, close: () => void }

async function etcd3Client (hosts: string): Promise<Etcd3Client | undefined> {
  try {
    // Optional: the gRPC client the anchors were measured with; the gateway otherwise.
    const mod = await import('etcd3' as string) as { Etcd3: new (o: { hosts: string }) => Etcd3Client }
    return new mod.Etcd3({ hosts })
  } catch {
    return undefined
  }
}

async function runEtcd (bin: string, opts: RaftBenchOptions): Promise<Side> {
  const members: EtcdMember[] = []
  for (let i = 1; i <= 3; i++) {
    members.push({ name: `e${i}`, dir: tmp('etcd-bench-'), client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}` })
  }
  const cluster = members.map(m => `${m.name}=${m.peer}`).join(',')
  for (const m of members) startEtcdMember(bin, m, cluster)
  let grpc: Etcd3Client | undefined
  try {
    let leader = await etcdLeader(members)
    process.stderr.write('bench: etcd cluster formed\n')
    const term = async (): Promise<number> => Number(((await json(`${leader.client}/v3/maintenance/status`, { method: 'POST', body: '{}' }))?.raftTerm as string | undefined) ?? NaN)
    const termBefore = await term()
    grpc = await etcd3Client(leader.client.replace('http://', ''))
    const client = grpc !== undefined ? 'the `etcd3` gRPC client' : 'its HTTP/JSON gateway (`POST /v3/kv/put`, fetch, keep-alive; the `etcd3` npm client is not installed)'
    const put = grpc !== undefined
      ? async (key: string): Promise<boolean> => { try { await grpc!.put(key).value(VALUE); return true } catch { return false } }
      : async (key: string): Promise<boolean> => etcdGatewayPut(leader.client, key, 5000)
    await closedLoop(1000, 32, async i => put(`warm/${i}`))
    const writes: Record<string, Stats> = {}
    for (const n of LEVELS) {
      const total = n === 1 ? Math.max(200, Math.floor(opts.writes / 4)) : opts.writes
      writes[n] = await closedLoop(total, n, async i => put(`bench/${i % 1000}`))
      process.stderr.write(`bench: etcd ${n} in flight: ${Math.round(writes[n].perSecond)} writes/s\n`)
    }
    const elections = (await term()) - termBefore
    grpc?.close()
    grpc = undefined
    const runs: number[] = []
    for (let r = 0; r < opts.failovers; r++) {
      leader = await etcdLeader(members)
      const victim = leader
      const survivors = members.filter(m => m !== victim)
      let k = 0
      runs.push(await measureFailover(async () => { await kill(victim.proc!) }, survivors.map(m => async () => etcdGatewayPut(m.client, `failover/${r}/${k++}`, 300))))
      process.stderr.write(`bench: etcd failover ${r + 1}: ${runs[r]!.toFixed(0)} ms\n`)
      startEtcdMember(bin, victim, cluster)
    }
    return { writes, failover: summary(runs), client, elections }
  } finally {
    grpc?.close()
    await Promise.all(members.map(async m => m.proc != null ? kill(m.proc, 'SIGTERM') : undefined))
  }
}

// ---- report ---------------------------------------------------------------------------------

const ms = (n: number): string => Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(2) : n.toFixed(1)
const k = (n: number): string => Math.round(n).toLocaleString('en-US')

export function parseRaftOptions (v: { writes?: string, failovers?: string, 'soak-minutes'?: string }): RaftBenchOptions {
  return { writes: Number(v.writes ?? 4000), failovers: Number(v.failovers ?? 10), soakMinutes: Number(v['soak-minutes'] ?? 0) }
}

export async function runRaft (opts: RaftBenchOptions): Promise<{ markdown: string, data: unknown }> {
  const etcd = etcdBinary()
  try {
    const ours = await runSwarmnet(opts)
    let theirs: Side | undefined
    if (etcd.bin != null) theirs = await runEtcd(etcd.bin, opts)
    else process.stderr.write(`bench: skipping etcd: ${etcd.why ?? 'unknown'}\n`)
    const rows = LEVELS.map(n => {
      const o = ours.writes[n]!
      const t = theirs?.writes[n]
      const err = (s: Stats): string => s.errors > 0 ? ` (${s.errors} failed)` : ''
      return `| ${n} | ${k(o.perSecond)}${err(o)} | ${ms(o.p50)} / ${ms(o.p99)} | ${t != null ? k(t.perSecond) + err(t) : '-'} | ${t != null ? `${ms(t.p50)} / ${ms(t.p99)}` : '-'} | ${t != null ? `${(o.perSecond / t.perSecond).toFixed(2)}x` : '-'} |`
    })
    const fo = (s: Side | undefined): string => s == null ? '- | - | -' : `${s.failover.median.toFixed(0)} | ${s.failover.max.toFixed(0)} | ${s.failover.runs.map(r => r.toFixed(0)).join(', ')}`
    const markdown = [
      `Puts of 256-byte values to the leader of a 3-member cluster, both durable (${k(opts.writes)} writes per level, a quarter of that at 1 in flight, after 1,000 warm-up writes). swarmnet is driven through ${ours.client}, etcd through ${theirs == null ? '(skipped)' : theirs.client}:`,
      '',
      '| in flight | swarmnet writes/s | swarmnet p50 / p99 ms | etcd writes/s | etcd p50 / p99 ms | throughput ratio (us/etcd) |',
      '|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      ...(ours.perRequest != null ? ['', `The same at 32 in flight with one HTTP request per write (\`PUT /v1/kv/:key\`, node:http keep-alive, no sharing): ${k(ours.perRequest.perSecond)} writes/s, p50 / p99 ${ms(ours.perRequest.p50)} / ${ms(ours.perRequest.p99)} ms${theirs != null ? ` (${(ours.perRequest.perSecond / theirs.writes[32]!.perSecond).toFixed(2)}x etcd)` : ''}.`, ''] : []),
      `Leader elections during the write runs (spurious, from a term change): swarmnet ${ours.elections}, etcd ${theirs?.elections ?? '-'}.`,
      ...(ours.soak != null ? ['', `Loaded run: ${ours.soak.minutes} minutes of writes at 32 in flight on swarmnet, ${k(ours.soak.writes)} acknowledged (${ours.soak.failed} failed); leader elections in it: ${ours.soak.elections}.`] : []),
      '',
      `Failover: SIGKILL of the leader until the first write committed through a survivor (clients with a 300 ms per-request timeout, round robin), ${opts.failovers} times; swarmnet ticks every 15 ms, heartbeat 3 ticks, election timeout 10-20 ticks; etcd defaults (heartbeat 100 ms, election 1000 ms):`,
      '',
      '| system | median ms | max ms | runs (ms) |',
      '|---|---:|---:|---|',
      `| swarmnet | ${fo(ours)} |`,
      `| etcd 3.4 | ${fo(theirs)} |`,
      ...(etcd.bin == null ? ['', `etcd was skipped: ${etcd.why ?? ''}`] : []),
      ''
    ].join('\n')
    process.stdout.write(markdown + '\n')
    return { markdown, data: { ours, theirs } }
  } finally {
    await cleanup()
  }
}
