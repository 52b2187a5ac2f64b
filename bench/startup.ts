/**
 * Startup benchmark: how long the real CLI takes from process spawn to its ready line, and how
 * long a local swarm (one bootstrap peer plus N members on 127.0.0.1) takes until every node's
 * /v1/status lists every other node. Also a single `start` with a fresh vs an existing data dir,
 * and two baselines (bare Node, CLI imports only) that show what the node itself adds.
 *
 * It spawns the processes itself instead of running `swarmnet local`, so each process gets its
 * own spawn timestamp and the launcher's own startup is not in the figures.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'

export const CLI = fileURLToPath(new URL('../node/main.js', import.meta.url))

export interface StartupOptions {
  /** Member counts; each swarm also has one bootstrap peer. */
  sizes: number[]
  runs: number
  /** Print progress to stderr. */
  verbose?: boolean
}

export interface Stats { n: number, median: number, min: number, max: number }

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
  markdown: string
}

const READY_DEADLINE_MS = 60_000
const CONNECT_DEADLINE_MS = 60_000
const POLL_INTERVAL_MS = 100
const STOP_DEADLINE_MS = 6_000

interface ReadyLine { event: 'ready', peerId: string, name: string, addrs: string[], api: string | null }

interface Proc {
  name: string
  proc: ChildProcess
  spawnedAt: number
  /** Resolves with the ready line and the ms since spawn at which it arrived. */
  ready: Promise<{ line: ReadyLine, ms: number }>
  exited: Promise<number | null>
  stderr: () => string
}

// Everything we started, so an error or Ctrl-C anywhere still stops it all.
const live = new Set<Proc>()
const tempDirs = new Set<string>()

function cleanEnv (): NodeJS.ProcessEnv {
  // SWARMNET_* settings in the caller's environment would change what is measured.
  const env = { ...process.env }
  for (const key of Object.keys(env)) if (key.startsWith('SWARMNET_')) delete env[key]
  return env
}

function launch (name: string, args: string[]): Proc {
  const spawnedAt = performance.now()
  // stdin stays a pipe to us: with --stop-on-stdin-close the node stops even if we are SIGKILLed.
  const proc = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  proc.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  const exited = new Promise<number | null>(resolve => {
    proc.once('exit', code => { resolve(code) })
    // A failed spawn emits 'error' and never 'exit'; stopAll must not wait for it forever.
    proc.once('error', () => { resolve(null) })
  })
  const ready = new Promise<{ line: ReadyLine, ms: number }>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${name} was not ready within ${READY_DEADLINE_MS} ms; stderr: ${stderr}`)) }, READY_DEADLINE_MS)
    createInterface({ input: proc.stdout! }).on('line', text => {
      const ms = performance.now() - spawnedAt
      if (!text.includes('"event":"ready"')) return
      clearTimeout(timer)
      try {
        resolve({ line: JSON.parse(text) as ReadyLine, ms })
      } catch (err) {
        reject(new Error(`${name} printed a ready line that is not JSON: ${text} (${(err as Error).message})`))
      }
    })
    void exited.then(code => { clearTimeout(timer); reject(new Error(`${name} exited with code ${code} before its ready line; stderr: ${stderr}`)) })
  })
  ready.catch(() => {})
  const p: Proc = { name, proc, spawnedAt, ready, exited, stderr: () => stderr }
  live.add(p)
  void exited.then(() => { live.delete(p) })
  return p
}

function running (p: Proc): boolean {
  return p.proc.exitCode == null && p.proc.signalCode == null
}

/** SIGTERM, then SIGKILL whatever has not exited by the deadline. */
async function stopAll (procs: Proc[]): Promise<void> {
  for (const p of procs) if (running(p)) p.proc.kill('SIGTERM')
  const all = Promise.all(procs.map(async p => p.exited))
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([all, new Promise(resolve => { timer = setTimeout(resolve, STOP_DEADLINE_MS) })])
  clearTimeout(timer)
  for (const p of procs) if (running(p)) p.proc.kill('SIGKILL')
  await all
}

function makeTempDir (prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.add(dir)
  return dir
}

function removeTempDir (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  tempDirs.delete(dir)
}

/** Stops every child and removes every temp dir this module made. Safe to call twice. */
export async function cleanup (): Promise<void> {
  await stopAll([...live])
  for (const dir of [...tempDirs]) removeTempDir(dir)
}

const nodeArgs = (dataDir: string): string[] => [
  '--listen', '/ip4/127.0.0.1/tcp/0',
  '--api', '127.0.0.1:0',
  '--log-level', 'warn',
  '--data-dir', dataDir,
  '--stop-on-stdin-close'
]

export function stats (values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b)
  if (s.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN }
  const mid = Math.floor(s.length / 2)
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  return { n: s.length, median, min: s[0]!, max: s[s.length - 1]! }
}

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
    const bootReady = await boot.ready
    const bootAddr = bootReady.line.addrs.find(a => a.includes('/ip4/127.0.0.1/')) ?? bootReady.line.addrs[0]
    if (bootAddr == null) throw new Error('the bootstrap peer reported no address')
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
  return lines.join('\n')
}

export async function runStartup (options: StartupOptions): Promise<StartupResult> {
  const log = (msg: string): void => { if (options.verbose !== false) process.stderr.write(`[startup] ${msg}\n`) }
  try {
    const single = await measureSingle(options.runs, log)
    const swarms: SwarmResult[] = []
    for (const members of options.sizes) swarms.push(await measureSwarm(members, options.runs, log))
    const partial = { options, single, swarms }
    const markdown = toMarkdown(partial)
    process.stdout.write(markdown + '\n')
    return { ...partial, markdown }
  } finally {
    await cleanup()
  }
}

/** Parses `--sizes 5,20` and `--runs 3`. */
export function parseStartupOptions (opts: { sizes?: string, runs?: string }): StartupOptions {
  const sizes = (opts.sizes ?? '5,20').split(',').map(s => Number(s.trim()))
  if (sizes.length === 0 || sizes.some(n => !Number.isInteger(n) || n < 1 || n > 200)) {
    throw new Error(`--sizes must be comma-separated member counts from 1 to 200, got ${JSON.stringify(opts.sizes)}`)
  }
  const runs = Number(opts.runs ?? '3')
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new Error(`--runs must be an integer from 1 to 100, got ${JSON.stringify(opts.runs)}`)
  return { sizes, runs }
}
