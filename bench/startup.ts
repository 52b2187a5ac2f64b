/**
 * Startup benchmark: how long the real CLI takes from process spawn to its ready line, and how
 * long a local swarm (one bootstrap peer plus N members on 127.0.0.1) takes until every node's
 * /v1/status lists every other node. Also a single `start` with a fresh vs an existing data dir,
 * and two baselines (bare Node, CLI imports only) that show what the node itself adds.
 *
 * It spawns the processes itself instead of running `swarmnet local`, so each process gets its
 * own spawn timestamp and the launcher's own startup is not in the figures. Last, what one member's
 * restart costs the others (rejoin.ts).
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { CLI, cleanEnv, cleanup, launch, makeTempDir, nodeArgs, readyAddress, removeTempDir, stats, stopAll, type Proc, type Stats } from './procs.js'
import { measureRejoin, type RejoinResult } from './rejoin.js'

export { CLI, cleanup, stats, type Stats }

export interface StartupOptions {
  /** Member counts; each swarm also has one bootstrap peer. */
  sizes: number[]
  runs: number
  /** Member restarts in the rejoin measurement (0: skip it). */
  rejoinRestarts: number
  /** Print progress to stderr. */
  verbose?: boolean
}

export interface SwarmRun {
  /** Spawn to ready line, per process, bootstrap first. */
  readyMs: number[]
  /** First spawn (the bootstrap's) until the last ready line. */
  allReadyMs: number
  /** First spawn until every node lists all others; null when the deadline passed first. */
  connectedMs: number | null
  /** Other nodes each node listed at the last poll (n means complete; -1: the poll failed). */
  peersSeen: number[]
}

export interface SwarmResult {
  members: number
  nodes: number
  runs: SwarmRun[]
  ready: Stats
  allReady: Stats
  /** Over all runs, a run that missed the deadline counting as Infinity (null in JSON). */
  connected: Stats
  timedOut: number
}

export interface SingleResult { label: string, what: string, ms: number[], stats: Stats }

export interface StartupResult {
  options: StartupOptions
  single: SingleResult[]
  swarms: SwarmResult[]
  rejoin?: RejoinResult
  markdown: string
}

const CONNECT_DEADLINE_MS = 60_000
const POLL_INTERVAL_MS = 100

/** Time until a short-lived process exits (the baselines). */
async function timeToExit (args: string[]): Promise<number> {
  const started = performance.now()
  const proc = spawn(process.execPath, args, { env: cleanEnv(), stdio: 'ignore' })
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject)
    proc.once('exit', resolve)
  })
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with code ${code}`)
  return performance.now() - started
}

/** One `start` process to its ready line, then a clean stop. */
async function timeStart (dataDir: string): Promise<number> {
  const p = launch('start', ['start', ...nodeArgs(dataDir)])
  try {
    return (await p.ready).ms
  } finally {
    await stopAll([p])
  }
}

async function measureSingle (runs: number, log: (msg: string) => void): Promise<SingleResult[]> {
  const root = makeTempDir('swarmnet-bench-single-')
  try {
    // One untimed round warms the OS file cache, so the first timed run is not the odd one out.
    await timeToExit(['-e', '0'])
    await timeToExit([CLI, '--version'])
    const warm = join(root, 'warm')
    await timeStart(warm)

    const bare: number[] = []
    const imports: number[] = []
    const fresh: number[] = []
    const existing: number[] = []
    for (let r = 0; r < runs; r++) {
      log(`single process, run ${r + 1}/${runs}`)
      bare.push(await timeToExit(['-e', '0']))
      imports.push(await timeToExit([CLI, '--version']))
      const dir = join(root, `run-${r}`)
      fresh.push(await timeStart(dir))
      // Same dir again: the identity key and the store now exist.
      existing.push(await timeStart(dir))
    }
    const row = (label: string, what: string, ms: number[]): SingleResult => ({ label, what, ms, stats: stats(ms) })
    return [
      row('bare `node -e 0`', 'exit', bare),
      row('`swarmnet --version` (loads the CLI and libp2p)', 'exit', imports),
      row('`swarmnet start`, fresh data dir (new key)', 'ready line', fresh),
      row('`swarmnet start`, existing data dir (key on disk)', 'ready line', existing)
    ]
  } finally {
    removeTempDir(root)
  }
}

async function peersOf (api: string): Promise<Set<string>> {
  const res = await fetch(`${api}/v1/status`, { signal: AbortSignal.timeout(2000) })
  if (res.status !== 200) throw new Error(`status ${res.status}`)
  const body = await res.json() as { peers: Array<{ peerId: string }> }
  return new Set(body.peers.map(p => p.peerId))
}

async function swarmRun (members: number): Promise<SwarmRun> {
  const root = makeTempDir(`swarmnet-bench-swarm${members}-`)
  const procs: Proc[] = []
  try {
    const boot = launch('bootstrap', ['bootstrap', '--name', 'bootstrap', ...nodeArgs(join(root, 'bootstrap'))])
    procs.push(boot)
    const t0 = boot.spawnedAt
    const bootAddr = await readyAddress(boot)
    for (let i = 1; i <= members; i++) {
      const name = `node-${i}`
      procs.push(launch(name, ['start', '--name', name, ...nodeArgs(join(root, name)), '--bootstrap', bootAddr]))
    }
    const ready = await Promise.all(procs.map(async p => p.ready))
    const allReadyMs = Math.max(...ready.map((r, i) => procs[i]!.spawnedAt + r.ms)) - t0

    // Every node must list every other node's peer id, bootstrap included.
    const ids = ready.map(r => r.line.peerId)
    const apis = ready.map(r => {
      if (r.line.api == null) throw new Error(`${r.line.name} has no API`)
      return r.line.api
    })
    const deadline = t0 + CONNECT_DEADLINE_MS
    let peersSeen: number[] = []
    let connectedMs: number | null = null
    // At least one poll, so a late swarm still reports what each node saw.
    for (;;) {
      // A failed poll (a starved node can miss the 2 s timeout) is not the same as no peers.
      const views = await Promise.all(apis.map(async api => peersOf(api).catch(() => null)))
      // The end of the poll is when we know: a conservative figure, at most one poll late.
      const now = performance.now()
      peersSeen = views.map((seen, i) => seen == null ? -1 : ids.filter((id, j) => j !== i && seen.has(id)).length)
      if (peersSeen.every(n => n === members)) {
        connectedMs = now - t0
        break
      }
      if (now >= deadline) break
      await new Promise(resolve => setTimeout(resolve, POLL_INTERVAL_MS))
    }
    return { readyMs: ready.map(r => r.ms), allReadyMs, connectedMs, peersSeen }
  } finally {
    await stopAll(procs)
    removeTempDir(root)
  }
}

async function measureSwarm (members: number, runs: number, log: (msg: string) => void): Promise<SwarmResult> {
  const results: SwarmRun[] = []
  for (let r = 0; r < runs; r++) {
    log(`swarm of ${members} members + bootstrap, run ${r + 1}/${runs}`)
    const run = await swarmRun(members)
    log(run.connectedMs == null
      ? `  not fully connected after ${CONNECT_DEADLINE_MS} ms; other nodes seen per node: ${seenList(run.peersSeen)}`
      : `  all ready ${fmt(run.allReadyMs)}, connected ${fmt(run.connectedMs)}`)
    results.push(run)
  }
  // A run that never connected is slower than any that did: it still counts towards the median.
  const connected = results.map(r => r.connectedMs ?? Infinity)
  return {
    members,
    nodes: members + 1,
    runs: results,
    ready: stats(results.flatMap(r => r.readyMs)),
    allReady: stats(results.map(r => r.allReadyMs)),
    connected: stats(connected),
    timedOut: results.filter(r => r.connectedMs == null).length
  }
}

function fmt (ms: number): string {
  if (Number.isNaN(ms)) return '-'
  if (ms === Infinity) return `> ${CONNECT_DEADLINE_MS / 1000} s`
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

const range = (s: Stats): string => s.n < 2 ? '-' : s.min === s.max ? fmt(s.min) : `${fmt(s.min)} – ${fmt(s.max)}`
const seenList = (seen: number[]): string => seen.map(n => n < 0 ? '?' : String(n)).join(' ')

export function toMarkdown (result: Omit<StartupResult, 'markdown'>): string {
  const { runs } = result.options
  const lines: string[] = []
  lines.push(`Single process, ${plural(runs, 'run')} each (median, min – max):`, '')
  lines.push('| Process | Until | Median | Range |', '| --- | --- | ---: | --- |')
  for (const s of result.single) lines.push(`| ${s.label} | ${s.what} | ${fmt(s.stats.median)} | ${range(s.stats)} |`)
  lines.push('', `Local swarms: one bootstrap peer, then all members spawned at once; ${plural(runs, 'run')} per size.`, '')
  lines.push(
    `| Members | Processes | Ready line, median | Ready line, max | All ready after first spawn, median | All see all after first spawn, median | Range | Runs not connected within ${CONNECT_DEADLINE_MS / 1000} s |`,
    '| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |'
  )
  for (const s of result.swarms) {
    lines.push(`| ${s.members} | ${s.nodes} | ${fmt(s.ready.median)} | ${fmt(s.ready.max)} | ${fmt(s.allReady.median)} | ${fmt(s.connected.median)} | ${range(s.connected)} | ${s.timedOut} of ${s.runs.length} |`)
  }
  const incomplete = result.swarms.flatMap(s => s.runs.filter(r => r.connectedMs == null).map(r => `${s.members} members: ${seenList(r.peersSeen)}`))
  if (incomplete.length > 0) {
    lines.push('', 'Runs that missed the deadline, other nodes each node saw at the last poll (bootstrap first; ? = the poll failed):', '')
    for (const l of incomplete) lines.push(`- ${l}`)
  }
  lines.push(
    '',
    '"Ready line" is spawn to the `{"event":"ready"}` line per process, pooled over all processes of all runs. ' +
    '"All see all" is the first spawn (the bootstrap\'s) until every node\'s `/v1/status` lists every other node, ' +
    `polled every ${POLL_INTERVAL_MS} ms after all nodes are ready; the figure is taken at the end of the poll that saw it, so it can be up to one poll late. ` +
    `A run that missed the ${CONNECT_DEADLINE_MS / 1000} s deadline counts as "> ${CONNECT_DEADLINE_MS / 1000} s" in the median and range.`
  )
  if (result.rejoin != null) {
    const j = result.rejoin
    const cpu = (x: Stats): string => `${Math.round(x.median)} ms (${Math.round(x.min)} – ${Math.round(x.max)})`
    lines.push(
      '',
      `Rejoin: what restarting one member costs an idle swarm (one bootstrap peer, 3 members forming a raft cluster, ${j.settleMs / 1000} s to settle; ` +
      `each member restarted in turn, ${plural(j.restarts, 'restart')}: SIGTERM, then \`start\` on the same data dir). CPU time (user + system, from /proc) ` +
      `in the ${j.windowMs / 1000} s after the restarted member's ready line, median (min – max):`,
      '',
      '| Process | Quiet 4 s | 4 s after a restart |', '| --- | ---: | ---: |',
      `| each running member | ${cpu(j.idleMember)} | ${cpu(j.member)} |`,
      `| bootstrap peer | ${cpu(j.idleBootstrap)} | ${cpu(j.bootstrap)} |`,
      `| the restarted member, spawn to 4 s after its ready line | - | ${cpu(j.restarted)} |`
    )
  }
  return lines.join('\n')
}

export async function runStartup (options: StartupOptions): Promise<StartupResult> {
  const log = (msg: string): void => { if (options.verbose !== false) process.stderr.write(`[startup] ${msg}\n`) }
  try {
    const single = await measureSingle(options.runs, log)
    const swarms: SwarmResult[] = []
    for (const members of options.sizes) swarms.push(await measureSwarm(members, options.runs, log))
    const rejoin = options.rejoinRestarts > 0 ? await measureRejoin(options.rejoinRestarts, log) : undefined
    const partial = { options, single, swarms, rejoin }
    const markdown = toMarkdown(partial)
    process.stdout.write(markdown + '\n')
    return { ...partial, markdown }
  } finally {
    await cleanup()
  }
}

/** Parses `--sizes 5,20` and `--runs 3`. */
export function parseStartupOptions (opts: { sizes?: string, runs?: string, 'rejoin-restarts'?: string }): StartupOptions {
  const sizes = (opts.sizes ?? '5,20').split(',').map(s => Number(s.trim()))
  if (sizes.length === 0 || sizes.some(n => !Number.isInteger(n) || n < 1 || n > 200)) {
    throw new Error(`--sizes must be comma-separated member counts from 1 to 200, got ${JSON.stringify(opts.sizes)}`)
  }
  const runs = Number(opts.runs ?? '3')
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new Error(`--runs must be an integer from 1 to 100, got ${JSON.stringify(opts.runs)}`)
  const rejoinRestarts = Number(opts['rejoin-restarts'] ?? '6')
  if (!Number.isInteger(rejoinRestarts) || rejoinRestarts < 0 || rejoinRestarts > 100) throw new Error(`--rejoin-restarts must be an integer from 0 to 100, got ${JSON.stringify(opts['rejoin-restarts'])}`)
  return { sizes, runs, rejoinRestarts }
}
