/**
 * Raft side by side with etcd 3.4 (Debian's etcd-server), in one run, both durable (fsync before
 * acknowledging; ours: one `sync: true` LevelDB batch per Ready, etcd: its WAL):
 * - writes/s and p50/p99 at 1, 32 and 256 in flight, 256-byte values, every put sent to the
 *   leader by this process: ours through the node's HTTP API (PUT /v1/kv/:key), etcd through the
 *   `etcd3` gRPC client when it is installed, else its HTTP/JSON gateway (POST /v3/kv/put);
 * - linearizable reads at 32 in flight of keys written before, through the leader and through a
 *   follower: ours `kv.get` through `SwarmnetClient` (ReadIndex, no log write), etcd's `get`
 *   through the `etcd3` client (linearizable unless `.serializable(true)` is asked for);
 * - rolling restart under load: the same 1,500 writes/s offered to both (at most 32 in flight;
 *   `--rolling-rate 0`: a closed loop) through a client that follows the leader,
 *   each voter in turn stopped with SIGTERM (the current leader first while one is left, both
 *   systems hand leadership over on a graceful stop), restarted from its data dir and caught up;
 *   the longest interval between two consecutive acknowledged writes (the gap), and for every
 *   gap over the target what the host was stalled on during it (Linux PSI, bench/pressure.ts);
 * - snapshot install (ours): a follower stopped while the leader compacts its log past it, then
 *   restarted; from its start to applied >= the leader's commit, and the snapshot's size;
 * - failover: SIGKILL the leader, then put to the survivors (300 ms per-request timeout, round
 *   robin) until one succeeds; the time from the kill to that first committed write, 10 times,
 *   the killed member restarted from its data dir and caught up between rounds.
 * Each cluster is 3 processes on 127.0.0.1 (ours: `swarmnet start --voters 3` joined through one
 * `swarmnet bootstrap`; etcd: default settings, as in /work/shared/notes/anchors.md).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { Owned, closedLoop, debianBinary, freePort, type Stats } from './common.js'
import { readdir, stat } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { waitFor } from '../test/harness/wait.js'
import http from 'node:http'
import { SwarmnetClient } from '../node/http-client.js'
import { CPU_SATURATED, DISK_STALL, HostPressure, describePressure, formatPressure, stallOf, type Pressure } from './pressure.js'

const CLI = fileURLToPath(new URL('../node/main.js', import.meta.url))
const LEVELS = [1, 32, 256]

export interface RaftBenchOptions {
  /** Writes per in-flight level (1 in flight does a quarter of it). */
  writes: number
  failovers: number
  /** Minutes of steady writes at 32 in flight, counting leader elections (0: skip). */
  soakMinutes: number
  /** Rolling restarts of all voters, one after the other; the table shows the first. */
  rollingRounds: number
  /**
   * Writes per second offered during the rolling restarts, the same to both systems, at most
   * ROLL_IN_FLIGHT at a time (0: a closed loop, each system as fast as it answers).
   */
  rollingRate: number
}

interface Failover { median: number, max: number, runs: number[] }
interface Soak { minutes: number, writes: number, failed: number, elections: number }
/** Linearizable reads at 32 in flight, asking the leader and asking a follower. */
interface Reads { leader: Stats, follower: Stats }
interface RestartStep {
  role: string
  /** Longest interval without an acknowledged write ending between this SIGTERM and the next. */
  gapMs: number
  /** SIGTERM to exit. */
  stopMs: number
  /** Spawn to caught-up follower (or to giving up, when keptUp is false). */
  catchUpMs: number
  /** false: it did not keep up within CATCH_UP_LIMIT_MS and the next restart went ahead anyway. */
  keptUp: boolean
}
interface Rolling {
  steps: RestartStep[]
  /** Longest interval over the whole rolling restart. */
  gapMs: number
  /** The same over a steady second before it. */
  steadyGapMs: number
  acked: number
  failed: number
  /** The longest gap of each rolling restart of the run, this one first. */
  rounds?: number[]
  /** Every gap over the target in the run's rolling restarts, with what the host was stalled on. */
  over: OverTarget[]
  /** Linux PSI over all the run's rolling restarts: the background each gap is read against. */
  host?: Pressure
}
interface OverTarget {
  /** Rolling restart (1-based) and restart within it. */
  round: number
  restart: number
  role: string
  /** Where the gap ended, ms after that restart's SIGTERM. */
  atMs: number
  ms: number
  /** Linux PSI over the gap; undefined where the kernel has none. */
  pressure?: Pressure
}

/**
 * The first of `n` rolling restarts in full, with every round's longest gap and every gap over
 * the target, each with the host's stall information over it.
 */
async function rollingRounds (n: number, once: (pressure: HostPressure | undefined) => Promise<Rolling>, system: string): Promise<Rolling> {
  const pressure = HostPressure.start()
  const t0 = performance.now()
  try {
    const first = await once(pressure)
    const rounds = [first.gapMs]
    const over = [...first.over]
    for (let r = 1; r < n; r++) {
      const next = await once(pressure)
      rounds.push(next.gapMs)
      over.push(...next.over.map(g => ({ ...g, round: r + 1 })))
      process.stderr.write(`bench: ${system} rolling restart ${r + 1}: longest gap ${rounds[r]!.toFixed(0)} ms\n`)
    }
    const t1 = performance.now()
    pressure?.sample()
    return { ...first, rounds, over, host: pressure?.over(t0, t1) }
  } finally {
    pressure?.stop()
  }
}
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

const owned = new Owned()
const kill = async (c: ChildProcess, signal?: NodeJS.Signals): Promise<void> => { await owned.kill(c, signal) }
const tmp = (prefix: string): string => owned.tmp(prefix)

export async function cleanup (): Promise<void> {
  agent.destroy()
  await owned.cleanup()
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

/** Reads before each measured row of reads (the first row follows 17,000 writes: 500 left it 30% below the next, in a 0.2 s window). */
const READ_WARMUP = 2000
const ROLL_IN_FLIGHT = 32
/**
 * Offered writes per second: the same steady load for both systems, well within what each
 * sustains while a member restarts. A closed loop would instead push each as fast as it answers
 * (swarmnet 2.5-4x etcd's rate), and on a host of 2 shared cores that measures saturation.
 */
const ROLL_RATE = 1500
/** Per-request timeout of the rolling-restart client. */
const ROLL_TIMEOUT_MS = 300
/** swarmnet's heartbeat interval (3 ticks of 15 ms): the unit of the gap target. */
const HEARTBEAT_MS = 45
const GAP_TARGET_HEARTBEATS = 2
/** How long a restarted member gets to keep up with the leader under the load before the next restart goes ahead. */
const CATCH_UP_LIMIT_MS = 45_000

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
 * live members who leads and goes there. One question at a time, shared by every loop. When the
 * system names the leader in its answers (`hint`: swarmnet's `x-swarmnet-leader` header), the
 * loops follow that at once.
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
  private readonly hint?: (target: string) => string | undefined
  private loops: Array<Promise<void>> = []
  private interval = 0
  private nextSlot = 0

  constructor (put: (target: string, key: string) => Promise<boolean>, whoLeads: () => Promise<string | undefined>, hint?: (target: string) => string | undefined) {
    this.put = put
    this.whoLeads = whoLeads
    this.hint = hint
  }

  /** `rate` writes per second at most (0: none held back), never more than `inFlight` at a time. */
  start (inFlight: number, rate: number): void {
    this.interval = rate > 0 ? 1000 / rate : 0
    this.loops = Array.from({ length: inFlight }, async () => this.loop())
  }

  async stop (): Promise<void> {
    this.running = false
    await Promise.all(this.loops)
  }

  /** The longest interval between consecutive acknowledgements that ends in (from, to]. */
  maxGap (from: number, to = Infinity): number {
    let gap = 0
    for (let i = 1; i < this.acks.length; i++) {
      const b = this.acks[i]!
      if (b <= from) continue
      if (b > to) break
      gap = Math.max(gap, b - this.acks[i - 1]!)
    }
    return gap
  }

  /** Gaps longer than `ms` that end in (from, to]: where each ended (ms after `from`, and on this clock), and how long it was. */
  gapsOver (ms: number, from: number, to = Infinity): Array<{ at: number, end: number, ms: number }> {
    const out: Array<{ at: number, end: number, ms: number }> = []
    for (let i = 1; i < this.acks.length; i++) {
      const b = this.acks[i]!
      if (b <= from) continue
      if (b > to) break
      if (b - this.acks[i - 1]! > ms) out.push({ at: Math.round(b - from), end: b, ms: Math.round(b - this.acks[i - 1]!) })
    }
    return out
  }

  /**
   * Waits for the next slot of the offered rate. Slots missed while the system was slow are not
   * made up in a burst: the loops then run closed until they are back on schedule.
   */
  private async pace (): Promise<void> {
    if (this.interval === 0) return
    const now = performance.now()
    const slot = Math.max(now, this.nextSlot)
    this.nextSlot = slot + this.interval
    if (slot > now) await sleep(slot - now)
  }

  private async loop (): Promise<void> {
    while (this.running) {
      await this.pace()
      const target = this.target
      if (target === undefined) { await this.relocate(undefined); continue }
      const ok = await this.put(target, `roll/${this.n++ % 1000}`)
      const named = this.hint?.(target)
      if (named !== undefined && named !== target && this.target === target) this.target = named
      if (ok) {
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

interface SwarmnetMember { dir: string, proc: ChildProcess, peerId: string, api: string, /** Its libp2p listen address. */ addr: string, /** The end of its stderr. */ stderr: () => string }

async function spawnCli (args: string[]): Promise<{ proc: ChildProcess, ready: { peerId: string, addrs: string[], api: string }, stderr: () => string }> {
  const env = { ...process.env }
  for (const k of Object.keys(env)) if (k.startsWith('SWARMNET_')) delete env[k]
  const proc = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  owned.track(proc)
  let stderr = ''
  proc.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve)
    proc.once('exit', code => { reject(new Error(`swarmnet exited with ${code}: ${stderr}`)) })
  })
  return { proc, ready: JSON.parse(line) as { peerId: string, addrs: string[], api: string }, stderr: () => stderr }
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

interface RaftStatus { role: string, leader: string | null, term: number, appliedIndex: number, commitIndex: number, snapshotIndex?: number, compactedIndex?: number }

async function raftStatus (m: SwarmnetMember, timeoutMs = 1000): Promise<RaftStatus | undefined> {
  return (await json(`${m.api}/v1/status`, {}, timeoutMs))?.raft as RaftStatus | undefined
}

/**
 * Until `m` follows a leader and keeps up with it under load: it has applied what the leader had
 * committed one poll (20 ms) earlier. (Reaching only the commit of when it came back is not
 * enough: a follower still far behind leaves the next restart without a working quorum.)
 */
async function swarmnetCaughtUp (m: SwarmnetMember, members: SwarmnetMember[], timeoutMs = 60_000): Promise<void> {
  let previous: number | undefined
  await waitFor(async () => {
    const s = await raftStatus(m)
    const l = members.find(x => x.peerId === s?.leader)
    const ls = s?.role === 'follower' && l !== undefined ? await raftStatus(l) : undefined
    const kept = ls?.role === 'leader' && previous !== undefined && s!.appliedIndex >= previous
    previous = ls?.role === 'leader' ? ls.commitIndex : undefined
    return kept
  }, { timeoutMs, intervalMs: 20, message: `swarmnet member ${m.peerId} to catch up as a follower` })
}

/** `total` linearizable reads at 32 in flight of keys bench/0..keys-1, asking the leader, then a follower. */
async function swarmnetReads (members: SwarmnetMember[], leader: SwarmnetMember, total: number, keys: number): Promise<Reads> {
  const run = async (m: SwarmnetMember): Promise<Stats> => {
    const client = new SwarmnetClient({ url: m.api, maxRequests: 2 })
    // A missing key (null) would be a wrong answer: counted as a failure.
    const get = async (i: number): Promise<boolean> => { try { return await client.kv.get(`bench/${i % keys}`) !== null } catch { return false } }
    try {
      await closedLoop(READ_WARMUP, 32, get)
      return await closedLoop(total, 32, get)
    } finally {
      client.close()
    }
  }
  const leaderReads = await run(leader)
  process.stderr.write(`bench: swarmnet reads via the leader: ${Math.round(leaderReads.perSecond)} reads/s\n`)
  const followerReads = await run(members.find(m => m !== leader)!)
  process.stderr.write(`bench: swarmnet reads via a follower: ${Math.round(followerReads.perSecond)} reads/s\n`)
  return { leader: leaderReads, follower: followerReads }
}

/** Index of the member to restart next: the leader while it has not been restarted, else the first one not restarted. */
function nextToRestart (roles: Array<string | undefined>, restarted: boolean[]): number {
  const leader = roles.findIndex((r, i) => r === 'leader' && !restarted[i])
  return leader >= 0 ? leader : restarted.indexOf(false)
}

async function swarmnetRolling (members: SwarmnetMember[], restart: (m: SwarmnetMember) => Promise<SwarmnetMember>, rate: number, pressure: HostPressure | undefined): Promise<Rolling> {
  await swarmnetLeader(members)
  const clients = new Map<string, SwarmnetClient>()
  const clientFor = (api: string): SwarmnetClient => {
    let c = clients.get(api)
    if (c === undefined) clients.set(api, c = new SwarmnetClient({ url: api, maxRequests: 2, timeoutMs: ROLL_TIMEOUT_MS }))
    return c
  }
  const put = async (peerId: string, key: string): Promise<boolean> => {
    const m = members.find(x => x.peerId === peerId)
    if (m === undefined) return false
    return await within(clientFor(m.api).kv.put(key, VALUE, { timeoutMs: ROLL_TIMEOUT_MS }).then(() => true, () => false), ROLL_TIMEOUT_MS, false)
  }
  // Whom the live members name as leader, the one of the highest term.
  const whoLeads = async (): Promise<string | undefined> => {
    const answers = await Promise.all(members.map(async m => await json(`${m.api}/v1/leader`, {}, 200) as { leader?: string | null, term?: number } | undefined))
    let best: { leader: string, term: number } | undefined
    for (const a of answers) {
      if (typeof a?.leader === 'string' && (best === undefined || (a.term ?? 0) > best.term)) best = { leader: a.leader, term: a.term ?? 0 }
    }
    return best?.leader
  }
  // The leader the target's answers name, if it is a member still running.
  const hint = (peerId: string): string | undefined => {
    const m = members.find(x => x.peerId === peerId)
    const named = m === undefined ? null : clients.get(m.api)?.leaderHint ?? null
    return named !== null && members.some(x => x.peerId === named && x.proc.exitCode === null && x.proc.signalCode === null) ? named : undefined
  }
  const writer = new LeaderFollowingWriter(put, whoLeads, hint)
  writer.start(ROLL_IN_FLIGHT, rate)
  const windows: Array<{ role: string, from: number, to: number, stopMs: number, catchUpMs: number, keptUp: boolean }> = []
  const steady = { from: 0, to: 0 }
  try {
    await sleep(500)
    steady.from = performance.now()
    await sleep(1000)
    steady.to = performance.now()
    const restarted = members.map(() => false)
    for (let r = 0; r < members.length; r++) {
      const roles = await Promise.all(members.map(async m => (await raftStatus(m))?.role))
      const i = nextToRestart(roles, restarted)
      restarted[i] = true
      const victim = members[i]!
      const from = performance.now()
      await kill(victim.proc, 'SIGTERM')
      const stopMs = performance.now() - from
      const t = performance.now()
      members[i] = await restart(victim)
      let keptUp = true
      try {
        await swarmnetCaughtUp(members[i]!, members, CATCH_UP_LIMIT_MS)
      } catch {
        keptUp = false
        const seen = await Promise.all(members.map(async m => `${m.peerId}: ${JSON.stringify(await raftStatus(m))}`))
        process.stderr.write(`bench: swarmnet restart ${r + 1}: ${members[i]!.peerId} did not keep up; members:\n${seen.join('\n')}\n`)
      }
      const catchUpMs = performance.now() - t
      await sleep(500)
      const warnings = victim.stderr().trim()
      // A leader says so (at warn level) when its hand-over before stopping failed.
      const handOver = /"err":"([^"]*)","msg":"raft: could not hand leadership over/.exec(warnings)?.[1]
      windows.push({ role: `${roles[i] ?? 'unknown'}${handOver !== undefined ? ` (hand-over failed: ${handOver})` : ''}`, from, to: performance.now(), stopMs, catchUpMs, keptUp })
      process.stderr.write(`bench: swarmnet restart ${r + 1} (${roles[i] ?? 'unknown'}): SIGTERM to exit ${stopMs.toFixed(0)} ms, start to caught up ${keptUp ? `${catchUpMs.toFixed(0)} ms` : `(did not keep up within ${CATCH_UP_LIMIT_MS / 1000} s)`}${warnings !== '' ? `; its warnings:\n${warnings.slice(-1500)}` : ''}\n`)
    }
  } finally {
    await writer.stop()
    for (const c of clients.values()) c.close()
  }
  return rollingResult(writer, windows, steady, 'swarmnet', pressure)
}

/**
 * A gap belongs to the restart in whose window it ends: from that SIGTERM to the next one (the
 * last: to the end of the writes, so a gap still open when the last restart settled counts).
 */
function rollingResult (writer: LeaderFollowingWriter, windows: Array<{ role: string, from: number, to: number, stopMs: number, catchUpMs: number, keptUp: boolean }>, steady: { from: number, to: number }, system: string, pressure: HostPressure | undefined): Rolling {
  // A sample after the last ack, so the samples cover every gap.
  pressure?.sample()
  const over: OverTarget[] = []
  windows.forEach((w, i) => {
    const mine: OverTarget[] = writer.gapsOver(GAP_TARGET_HEARTBEATS * HEARTBEAT_MS, w.from, windows[i + 1]?.from)
      .map(g => ({ round: 1, restart: i + 1, role: w.role, atMs: g.at, ms: g.ms, pressure: pressure?.over(g.end - g.ms, g.end) }))
    if (mine.length > 0) process.stderr.write(`bench: ${system} restart ${i + 1}: gaps over the target (ms after SIGTERM: length, host) ${mine.map(g => `${g.atMs}: ${g.ms}, ${describePressure(g.pressure)}`).join('; ')}\n`)
    over.push(...mine)
  })
  const from = windows[0]?.from ?? 0
  const to = windows[windows.length - 1]?.to ?? 0
  return {
    steps: windows.map((w, i) => ({ role: w.role, gapMs: writer.maxGap(w.from, windows[i + 1]?.from), stopMs: w.stopMs, catchUpMs: w.catchUpMs, keptUp: w.keptUp })),
    gapMs: writer.maxGap(from),
    steadyGapMs: writer.maxGap(steady.from, steady.to),
    acked: writer.acks.filter(t => t >= from && t <= to).length,
    failed: writer.failed,
    over
  }
}

/** 4 KiB values on 8,192 keys: a 32 MiB state for the snapshot to carry. */
const SNAP_KEYS = 8192
const SNAP_VALUE = 'x'.repeat(4096)
/** Longest the leader gets to compact past the stopped follower. */
const SNAP_WRITE_LIMIT_MS = 90_000

/**
 * Fill the state, stop a follower (SIGTERM), write until the leader has a snapshot past what the
 * follower applied (its log is compacted up to it), stop writing, restart the follower and time
 * it from its start to applied >= the leader's commit.
 */
async function swarmnetSnapshotInstall (members: SwarmnetMember[], restart: (m: SwarmnetMember) => Promise<SwarmnetMember>): Promise<SnapshotInstall> {
  const leader = await swarmnetLeader(members)
  const i = members.findIndex(m => m !== leader)
  const follower = members[i]!
  const client = new SwarmnetClient({ url: leader.api, maxRequests: 2 })
  const put = async (key: string): Promise<boolean> => { try { await client.kv.put(key, SNAP_VALUE); return true } catch { return false } }
  // How far the leader compacted its log: a follower behind that needs a snapshot (the leader
  // keeps a tail of entries behind each snapshot, so a snapshot alone is not enough).
  const leaderCompacted = async (): Promise<number> => (await raftStatus(leader))?.compactedIndex ?? 0
  let stopped = false
  try {
    await closedLoop(SNAP_KEYS, 32, async j => put(`snap/${j}`))
    await swarmnetCaughtUp(follower, members)
    const before = (await raftStatus(follower))?.appliedIndex ?? 0
    await kill(follower.proc, 'SIGTERM')
    stopped = true
    let writes = 0
    const t0 = performance.now()
    while (await leaderCompacted() <= before) {
      if (performance.now() - t0 > SNAP_WRITE_LIMIT_MS) {
        return { skipped: `the leader did not compact its log past the stopped follower's index ${before} in ${SNAP_WRITE_LIMIT_MS / 1000} s of writes (${k(writes)} writes; compaction every --snapshot-entries applied entries)` }
      }
      writes += (await closedLoop(256, 32, async j => put(`snap/${(writes + j) % SNAP_KEYS}`))).count
    }
    process.stderr.write(`bench: swarmnet leader compacted past the stopped follower after ${writes} writes\n`)
    const target = (await raftStatus(leader))?.commitIndex ?? NaN
    const t = performance.now()
    const m = members[i] = await restart(follower)
    stopped = false
    const readyMs = performance.now() - t
    try {
      await waitFor(async () => ((await raftStatus(m, 500))?.appliedIndex ?? 0) >= target, { timeoutMs: 120_000, intervalMs: 10, message: 'the restarted follower to apply the leader\'s commit' })
    } catch (err) {
      return { skipped: `${(err as Error).message}; its log: ${m.stderr().trim().slice(-500)}` }
    }
    const startMs = performance.now() - t
    const received = (await snapshotFiles(follower.dir)).filter(f => f.index > before).at(-1)
    const file = received ?? (await snapshotFiles(leader.dir)).at(-1)
    if (file === undefined) return { skipped: 'no snapshot file found in the data dirs' }
    return { bytes: file.bytes, index: file.index, keys: SNAP_KEYS, valueBytes: SNAP_VALUE.length, writes, tail: target - file.index, startMs, readyMs, fromSnapshot: received !== undefined }
  } finally {
    client.close()
    if (stopped) members[i] = await restart(follower)
  }
}

async function runSwarmnet (opts: RaftBenchOptions): Promise<Side> {
  const common = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--log-level', 'warn']
  const boot = await spawnCli(['bootstrap', ...common, '--data-dir', tmp('swarmnet-bench-boot-')])
  const bootAddr = boot.ready.addrs[0]!
  const start = async (dir: string, listen = '/ip4/127.0.0.1/tcp/0', api = '127.0.0.1:0'): Promise<SwarmnetMember> => {
    const flags = ['--listen', listen, '--api', api, '--log-level', 'warn', '--data-dir', dir, '--voters', '3', '--bootstrap', bootAddr]
    const { proc, ready, stderr } = await spawnCli(['start', ...flags])
    return { dir, proc, peerId: ready.peerId, api: ready.api, addr: (ready.addrs[0] ?? '').replace(/\/p2p\/.*$/, ''), stderr }
  }
  /**
   * A restart as a service manager does it: same data dir, same addresses (fresh ports only if
   * the old ones are taken). Members restarted on fresh ports may never reconnect to each other
   * (they keep each other's old address), which leaves survivors of a later leader death
   * without a quorum.
   */
  const restart = async (m: SwarmnetMember): Promise<SwarmnetMember> => {
    try {
      return await start(m.dir, m.addr, new URL(m.api).host)
    } catch {
      return await start(m.dir)
    }
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
    const reads = await swarmnetReads(members, leader, opts.writes, Math.min(1000, opts.writes))
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
    client.close()
    const rolling = await rollingRounds(opts.rollingRounds, async p => await swarmnetRolling(members, restart, opts.rollingRate, p), 'swarmnet')
    process.stderr.write(`bench: swarmnet rolling restart: longest gap ${rolling.gapMs.toFixed(0)} ms (steady ${rolling.steadyGapMs.toFixed(0)} ms)\n`)
    // Without the load, a member still behind catches up (its last snapshot transfer included).
    await swarmnetLeader(members, 60_000)
    const runs: number[] = []
    for (let r = 0; r < opts.failovers; r++) {
      leader = await swarmnetLeader(members)
      const victim = leader
      const survivors = members.filter(m => m !== victim)
      let k = 0
      runs.push(await measureFailover(async () => { await kill(victim.proc) }, survivors.map(m => async () => swarmnetPut(m.api, `failover/${r}/${k++}`, 300))))
      process.stderr.write(`bench: swarmnet failover ${r + 1}: ${runs[r]!.toFixed(0)} ms\n`)
      members[members.indexOf(victim)] = await restart(victim)
    }
    // Last: a follower that cannot catch up must not hold the other measurements up.
    const snapshot = await swarmnetSnapshotInstall(members, restart)
    process.stderr.write(`bench: swarmnet snapshot install: ${'skipped' in snapshot ? `skipped: ${snapshot.skipped}` : `${(snapshot.bytes / 2 ** 20).toFixed(1)} MiB in ${snapshot.startMs.toFixed(0)} ms`}\n`)
    return { writes, failover: summary(runs), client: 'its HTTP API through `SwarmnetClient` (node/http-client.ts: keep-alive, concurrent calls share `POST /v1/kv` requests, each call its own log entry and result)', elections, soak, perRequest, reads, rolling, snapshot }
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
  owned.track(proc)
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

/** Linearizable (etcd's default for a range) read through the gateway; a missing key is a failure. */
async function etcdGatewayGet (client: string, key: string, timeoutMs: number): Promise<boolean> {
  const r = await json(`${client}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: b64(key) }) }, timeoutMs) as { kvs?: unknown[] } | undefined
  return (r?.kvs?.length ?? 0) > 0
}

/** Status of one member: its id, the leader's id, its raft index and term, and its applied index. */
async function etcdStatus (client: string, timeoutMs = 1000): Promise<{ id: string, leader: string, raftIndex: number, term: number, applied: number } | undefined> {
  const s = await json(`${client}/v3/maintenance/status`, { method: 'POST', body: '{}' }, timeoutMs) as { header?: { member_id?: string }, leader?: string, raftIndex?: string, raftTerm?: string, raftAppliedIndex?: string } | undefined
  if (s?.header?.member_id === undefined || s.leader === undefined || s.leader === '0') return undefined
  const raftIndex = Number(s.raftIndex ?? 0)
  return { id: s.header.member_id, leader: s.leader, raftIndex, term: Number(s.raftTerm ?? 0), applied: Number(s.raftAppliedIndex ?? raftIndex) }
}

/** As swarmnetCaughtUp: `m` follows and has applied what the leader had one poll earlier. */
async function etcdCaughtUp (m: EtcdMember, members: EtcdMember[], timeoutMs = 60_000): Promise<void> {
  let previous: number | undefined
  await waitFor(async () => {
    const s = await etcdStatus(m.client)
    const l = s !== undefined && s.leader !== s.id ? members.find(x => x.id === s.leader) : undefined
    const ls = l !== undefined ? await etcdStatus(l.client) : undefined
    const leads = ls !== undefined && ls.leader === ls.id
    const kept = leads && previous !== undefined && s!.applied >= previous
    previous = leads ? ls.raftIndex : undefined
    return kept
  }, { timeoutMs, intervalMs: 20, message: `etcd member ${m.name} to catch up as a follower` })
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

type Etcd3Client = {
  put: (key: string) => { value: (v: string) => Promise<unknown> }
  /** A range of one key; linearizable unless `.serializable(true)` is called on the builder. */
  get: (key: string) => { string: () => Promise<string | null> }
  close: () => void
}
type Etcd3Constructor = new (o: Record<string, unknown>) => Etcd3Client

async function etcd3Constructor (): Promise<Etcd3Constructor | undefined> {
  try {
    // Optional: the gRPC client the anchors were measured with; the gateway otherwise.
    return (await import('etcd3' as string) as { Etcd3: Etcd3Constructor }).Etcd3
  } catch {
    return undefined
  }
}

async function etcd3Client (hosts: string): Promise<Etcd3Client | undefined> {
  const Etcd3 = await etcd3Constructor()
  return Etcd3 !== undefined ? new Etcd3({ hosts }) : undefined
}

const etcdHost = (m: EtcdMember): string => m.client.replace('http://', '')

/** `total` linearizable reads at 32 in flight of keys bench/0..keys-1, asking the leader, then a follower. */
async function etcdReads (members: EtcdMember[], leader: EtcdMember, total: number, keys: number): Promise<Reads> {
  const Etcd3 = await etcd3Constructor()
  const run = async (m: EtcdMember): Promise<Stats> => {
    const c = Etcd3 !== undefined ? new Etcd3({ hosts: etcdHost(m) }) : undefined
    const get = c !== undefined
      ? async (i: number): Promise<boolean> => { try { return await c.get(`bench/${i % keys}`).string() !== null } catch { return false } }
      : async (i: number): Promise<boolean> => etcdGatewayGet(m.client, `bench/${i % keys}`, 5000)
    try {
      await closedLoop(READ_WARMUP, 32, get)
      return await closedLoop(total, 32, get)
    } finally {
      c?.close()
    }
  }
  const leaderReads = await run(leader)
  process.stderr.write(`bench: etcd reads via the leader: ${Math.round(leaderReads.perSecond)} reads/s\n`)
  const followerReads = await run(members.find(m => m !== leader)!)
  process.stderr.write(`bench: etcd reads via a follower: ${Math.round(followerReads.perSecond)} reads/s\n`)
  return { leader: leaderReads, follower: followerReads }
}

/** A cockatiel policy that runs the call once: the rolling-restart client does its own retries. */
const ONCE = { execute: async (fn: (context: { signal: AbortSignal, attempt: number }) => unknown) => await fn({ signal: new AbortController().signal, attempt: 0 }) }

async function etcdRolling (bin: string, members: EtcdMember[], cluster: string, rate: number, pressure: HostPressure | undefined): Promise<Rolling> {
  await etcdLeader(members)
  const Etcd3 = await etcd3Constructor()
  // One gRPC client per member process (a restarted member gets a fresh channel, no reconnect backoff).
  const clients = new Map<ChildProcess, Etcd3Client>()
  const clientFor = (m: EtcdMember): Etcd3Client => {
    let c = clients.get(m.proc!)
    if (c === undefined) {
      c = new Etcd3!({
        hosts: etcdHost(m),
        defaultCallOptions: () => ({ deadline: Date.now() + ROLL_TIMEOUT_MS }),
        faultHandling: { host: () => ONCE, global: ONCE },
        grpcOptions: { 'grpc.use_local_subchannel_pool': 1 }
      })
      clients.set(m.proc!, c)
    }
    return c
  }
  const put = async (id: string, key: string): Promise<boolean> => {
    const m = members.find(x => x.id === id)
    if (m === undefined) return false
    if (Etcd3 === undefined) return await etcdGatewayPut(m.client, key, ROLL_TIMEOUT_MS)
    return await within(clientFor(m).put(key).value(VALUE).then(() => true, () => false), ROLL_TIMEOUT_MS, false)
  }
  const whoLeads = async (): Promise<string | undefined> => {
    const answers = await Promise.all(members.map(async m => etcdStatus(m.client, 200)))
    let best: { leader: string, term: number } | undefined
    for (const a of answers) {
      if (a !== undefined && (best === undefined || a.term > best.term)) best = { leader: a.leader, term: a.term }
    }
    return best?.leader
  }
  const writer = new LeaderFollowingWriter(put, whoLeads)
  writer.start(ROLL_IN_FLIGHT, rate)
  const windows: Array<{ role: string, from: number, to: number, stopMs: number, catchUpMs: number, keptUp: boolean }> = []
  const steady = { from: 0, to: 0 }
  try {
    await sleep(500)
    steady.from = performance.now()
    await sleep(1000)
    steady.to = performance.now()
    const restarted = members.map(() => false)
    for (let r = 0; r < members.length; r++) {
      const roles = await Promise.all(members.map(async m => {
        const s = await etcdStatus(m.client)
        return s === undefined ? undefined : s.leader === s.id ? 'leader' : 'follower'
      }))
      const i = nextToRestart(roles, restarted)
      restarted[i] = true
      const victim = members[i]!
      const from = performance.now()
      await kill(victim.proc!, 'SIGTERM')
      const stopMs = performance.now() - from
      const t = performance.now()
      startEtcdMember(bin, victim, cluster)
      let keptUp = true
      try {
        await etcdCaughtUp(victim, members, CATCH_UP_LIMIT_MS)
      } catch {
        keptUp = false
      }
      const catchUpMs = performance.now() - t
      await sleep(500)
      windows.push({ role: roles[i] ?? 'unknown', from, to: performance.now(), stopMs, catchUpMs, keptUp })
      process.stderr.write(`bench: etcd restart ${r + 1} (${roles[i] ?? 'unknown'}): SIGTERM to exit ${stopMs.toFixed(0)} ms, start to caught up ${keptUp ? `${catchUpMs.toFixed(0)} ms` : `(did not keep up within ${CATCH_UP_LIMIT_MS / 1000} s)`}\n`)
    }
  } finally {
    await writer.stop()
    for (const c of clients.values()) c.close()
  }
  return rollingResult(writer, windows, steady, 'etcd', pressure)
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
    const reads = await etcdReads(members, leader, opts.writes, Math.min(1000, opts.writes))
    const rolling = await rollingRounds(opts.rollingRounds, async p => await etcdRolling(bin, members, cluster, opts.rollingRate, p), 'etcd')
    process.stderr.write(`bench: etcd rolling restart: longest gap ${rolling.gapMs.toFixed(0)} ms (steady ${rolling.steadyGapMs.toFixed(0)} ms)\n`)
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
    return { writes, failover: summary(runs), client, elections, reads, rolling }
  } finally {
    grpc?.close()
    await Promise.all(members.map(async m => m.proc != null ? kill(m.proc, 'SIGTERM') : undefined))
  }
}

// ---- report ---------------------------------------------------------------------------------

const ms = (n: number): string => Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(2) : n.toFixed(1)
const k = (n: number): string => Math.round(n).toLocaleString('en-US')

const hb = (n: number): string => (n / HEARTBEAT_MS).toFixed(1)

function readsSection (ours: Side, theirs: Side | undefined, total: number, etcdClient: string): string[] {
  if (ours.reads == null) return []
  const row = (label: string, o: Stats, t: Stats | undefined): string => {
    const err = (s: Stats): string => s.errors > 0 ? ` (${s.errors} failed)` : ''
    return `| ${label} | ${k(o.perSecond)}${err(o)} | ${ms(o.p50)} / ${ms(o.p99)} | ${t != null ? k(t.perSecond) + err(t) : '-'} | ${t != null ? `${ms(t.p50)} / ${ms(t.p99)}` : '-'} | ${t != null ? `${(o.perSecond / t.perSecond).toFixed(2)}x` : '-'} |`
  }
  return [
    '',
    `Linearizable reads at 32 in flight of the keys written above, ${k(total)} per row after ${k(READ_WARMUP)} warm-up reads; swarmnet \`kv.get\` through \`SwarmnetClient\` (default consistency: ReadIndex, the leader confirms it still leads with a heartbeat round and the asked node answers once it has applied that far; no log write), etcd's \`get\` through ${etcdClient} (linearizable: etcd's default, the client asks for a serializable read only when told to). A follower asks the leader for the read index in both:`,
    '',
    '| asked | swarmnet reads/s | swarmnet p50 / p99 ms | etcd reads/s | etcd p50 / p99 ms | throughput ratio (us/etcd) |',
    '|---|---:|---:|---:|---:|---:|',
    row('the leader', ours.reads.leader, theirs?.reads?.leader),
    row('a follower', ours.reads.follower, theirs?.reads?.follower)
  ]
}

function rollingSection (ours: Side, theirs: Side | undefined, rate: number): string[] {
  if (ours.rolling == null) return []
  const target = GAP_TARGET_HEARTBEATS * HEARTBEAT_MS
  const rows = (name: string, r: Rolling | undefined): string[] => r == null
    ? [`| ${name} | - | - | - | - | - | - |`]
    : [
        ...r.steps.map((s, i) => `| ${name} | ${i + 1}: ${s.role} | ${ms(s.gapMs)} | ${hb(s.gapMs)} | ${s.stopMs.toFixed(0)} | ${s.keptUp ? k(s.catchUpMs) : `did not keep up within ${CATCH_UP_LIMIT_MS / 1000} s; next restart went ahead`} |`),
        `| ${name} | whole rolling restart | **${ms(r.gapMs)}** | **${hb(r.gapMs)}** | - | - |`,
        `| ${name} | steady, 1 s before | ${ms(r.steadyGapMs)} | ${hb(r.steadyGapMs)} | - | - |`
      ]
  const gaps = (r: Rolling): number[] => r.rounds ?? [r.gapMs]
  const worst = (r: Rolling): number => Math.max(...gaps(r))
  const over = (r: Rolling): number => gaps(r).filter(g => g > target).length
  const verdict = (r: Rolling): string => over(r) === 0 ? 'within the target in every rolling restart' : `over the target of ${GAP_TARGET_HEARTBEATS} heartbeats (${target} ms) in ${over(r)} of ${gaps(r).length} rolling restarts`
  const roundsOf = (r: Rolling | undefined): string => r == null ? '-' : `${gaps(r).map(g => ms(g)).join(', ')} ms (median ${ms(summary(gaps(r)).median)}, max ${ms(worst(r))})`
  const hostOf = (r: Rolling | undefined): string => r?.host == null ? '-' : formatPressure(r.host)
  const overOf = (r: Rolling | undefined): string => {
    if (r == null) return '-'
    if (r.over.length === 0) return 'none'
    const n = (kind: 'disk' | 'cpu' | 'none' | undefined): number => r.over.filter(g => (g.pressure === undefined ? undefined : stallOf(g.pressure)) === kind).length
    const unknown = n(undefined)
    const counts = `${r.over.length}: ${n('disk')} with the disk stalled, ${n('cpu')} with the CPUs saturated, ${n('none')} with neither${unknown > 0 ? `, ${unknown} not sampled` : ''}`
    return `${counts} (${r.over.map(g => `round ${g.round} restart ${g.restart} (${g.role}), ${ms(g.ms)} ms ending ${g.atMs} ms after its SIGTERM: ${describePressure(g.pressure)}`).join('; ')})`
  }
  return [
    '',
    `Rolling restart under load: ${rate > 0 ? `${k(rate)} writes per second offered, the same to both systems, at most ${ROLL_IN_FLIGHT} in flight` : `${ROLL_IN_FLIGHT} writes in flight in a closed loop`} through a client that follows the leader (per-request timeout ${ROLL_TIMEOUT_MS} ms; after a failure it asks the live members who leads, swarmnet's \`GET /v1/leader\`, etcd's maintenance status, and retries there; swarmnet through \`SwarmnetClient\`, etcd through ${theirs?.client.startsWith('the `etcd3`') === true ? 'the `etcd3` gRPC client without its own retries' : 'its gateway'}). Each voter in turn, the current leader first while one is left, gets SIGTERM (in both systems a leader stopping gracefully first hands leadership over), is started again from its data dir on the same addresses and catches up (a follower that has applied what the leader had committed one 20 ms poll earlier); the next restart follows 0.5 s later. The gap is the longest interval between two consecutive acknowledged writes; a restart's gap is the longest one ending between its SIGTERM and the next restart's. Heartbeats of ${HEARTBEAT_MS} ms (swarmnet's; etcd's own is 100 ms); target: no gap over ${GAP_TARGET_HEARTBEATS} heartbeats (${target} ms):`,
    '',
    '| system | restart: role when stopped | gap ms | gap in heartbeats | SIGTERM to exit ms | start to caught-up follower ms |',
    '|---|---|---:|---:|---:|---:|',
    ...rows('swarmnet', ours.rolling),
    ...rows('etcd 3.4', theirs?.rolling),
    '',
    `Writes acknowledged during the first rolling restart (failed attempts, retried): swarmnet ${k(ours.rolling.acked)} (${k(ours.rolling.failed)}), etcd ${theirs?.rolling != null ? `${k(theirs.rolling.acked)} (${k(theirs.rolling.failed)})` : '-'}.`,
    '',
    `Longest gap of each rolling restart in this run (the table above is the first; each rolling restart restarts all 3 voters): swarmnet ${roundsOf(ours.rolling)}; etcd ${roundsOf(theirs?.rolling)}. swarmnet's longest gap is ${verdict(ours.rolling)}.`,
    '',
    `Every gap over the target in these rolling restarts, with what the host was stalled on during it: Linux pressure stall information (/proc/pressure), which the benchmark samples every 10 ms. "io full" is the share of the gap in which every running task waited for the disk; "cpu some" the share in which some task waited for a CPU. A gap counts as a disk stall at io full >= ${DISK_STALL * 100}%, else as saturated CPUs at cpu some >= ${CPU_SATURATED * 100}%. Over all the rolling restarts, the background each gap is read against: swarmnet's ${hostOf(ours.rolling)}; etcd's ${hostOf(theirs?.rolling)}. Gaps over the target: swarmnet ${overOf(ours.rolling)}; etcd ${overOf(theirs?.rolling)}.`
  ]
}

function snapshotSection (ours: Side): string[] {
  const s = ours.snapshot
  if (s == null) return []
  if ('skipped' in s) return ['', `Snapshot install (swarmnet): skipped: ${s.skipped}.`]
  const mib = s.bytes / 2 ** 20
  return [
    '',
    `Snapshot install (swarmnet; default \`--snapshot-entries\`): ${k(s.keys)} keys of ${k(s.valueBytes)}-byte values written, a follower stopped with SIGTERM, then ${k(s.writes)} more writes until the leader had compacted its log past that follower (a snapshot at index ${k(s.index)}), writes stopped, the follower started again from its data dir on the same addresses. ` +
      (s.fromSnapshot
        ? `It received and installed a ${mib.toFixed(1)} MiB snapshot and then ${k(Math.max(0, s.tail))} entries from the log: from its start to applied >= the leader's commit ${k(s.startMs)} ms (its ready line after ${k(s.readyMs)} ms), **${(mib / (s.startMs / 1000)).toFixed(1)} MiB/s** (${(mib / ((s.startMs - s.readyMs) / 1000)).toFixed(1)} MiB/s counted from the ready line).`
        : `It caught up without receiving a snapshot (no newer snap file in its data dir; the leader's newest is ${mib.toFixed(1)} MiB): ${k(s.startMs)} ms from its start to applied >= the leader's commit; no install throughput to report.`)
  ]
}

export function parseRaftOptions (v: { writes?: string, failovers?: string, 'soak-minutes'?: string, 'rolling-rounds'?: string, 'rolling-rate'?: string }): RaftBenchOptions {
  const rollingRate = Number(v['rolling-rate'] ?? ROLL_RATE)
  if (!Number.isFinite(rollingRate) || rollingRate < 0) throw new Error(`--rolling-rate: writes per second, a number >= 0 (got ${v['rolling-rate'] ?? ''})`)
  return { writes: Number(v.writes ?? 4000), failovers: Number(v.failovers ?? 10), soakMinutes: Number(v['soak-minutes'] ?? 0), rollingRounds: Math.max(1, Number(v['rolling-rounds'] ?? 5)), rollingRate }
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
      ...readsSection(ours, theirs, opts.writes, theirs == null ? '(skipped)' : theirs.client.startsWith('the `etcd3`') ? 'the `etcd3` gRPC client' : 'its HTTP/JSON gateway (`POST /v3/kv/range`)'),
      ...rollingSection(ours, theirs, opts.rollingRate),
      '',
      `Failover: SIGKILL of the leader until the first write committed through a survivor (clients with a 300 ms per-request timeout, round robin), ${opts.failovers} times; swarmnet ticks every 15 ms, heartbeat 3 ticks, election timeout 10-20 ticks; etcd defaults (heartbeat 100 ms, election 1000 ms):`,
      '',
      '| system | median ms | max ms | runs (ms) |',
      '|---|---:|---:|---|',
      `| swarmnet | ${fo(ours)} |`,
      `| etcd 3.4 | ${fo(theirs)} |`,
      ...snapshotSection(ours),
      ...(etcd.bin == null ? ['', `etcd was skipped: ${etcd.why ?? ''}`] : []),
      ''
    ].join('\n')
    process.stdout.write(markdown + '\n')
    return { markdown, data: { ours, theirs } }
  } finally {
    await cleanup()
  }
}
