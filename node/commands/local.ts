/**
 * `swarmnet local`: a whole swarm on this machine. One bootstrap peer and N member processes on
 * 127.0.0.1, each with its own data dir and API. Children hold a pipe to us on stdin and stop
 * when it closes, so none outlives this process even if it is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { SwarmError } from '../errors.js'

export interface LocalOptions {
  nodes: string
  basePort?: string
  dataDir?: string
  swarmKey?: string
  logLevel: string
}

interface Ready { peerId: string, name: string, addrs: string[], api: string | null }

interface Child {
  name: string
  role: 'bootstrap' | 'member'
  proc: ChildProcess
  ready: Promise<Ready>
  exited: Promise<number | null>
}

const READY_DEADLINE_MS = 30_000
// Larger swarms take longer to find each other on a shared machine.
const connectDeadlineMs = (nodes: number): number => 30_000 + 2_000 * nodes
const STOP_DEADLINE_MS = 6_000

function parseIntOption (name: string, value: string, min: number, max: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new SwarmError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  return n
}

/**
 * The members run the program this process runs (dist/node/main.js, or cli.js when started
 * directly): inside the bundle, paths relative to this module point nowhere.
 */
const cliPath = process.argv[1] !== undefined && process.argv[1] !== '' ? process.argv[1] : fileURLToPath(new URL('../main.js', import.meta.url))

function launch (role: 'bootstrap' | 'member', name: string, args: string[], logFile: string): Child {
  const proc = spawn(process.execPath, [cliPath, role === 'bootstrap' ? 'bootstrap' : 'start', '--name', name, '--stop-on-stdin-close', ...args], {
    stdio: ['pipe', 'pipe', 'pipe']
  })
  const log = createWriteStream(logFile, { flags: 'a' })
  proc.stderr?.pipe(log)
  const exited = new Promise<number | null>(resolve => { proc.once('exit', code => { resolve(code) }) })
  const ready = new Promise<Ready>((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! })
    const timer = setTimeout(() => { reject(new SwarmError(`${name} was not ready within ${READY_DEADLINE_MS} ms (log: ${logFile})`)) }, READY_DEADLINE_MS)
    lines.on('line', line => {
      try {
        const msg = JSON.parse(line) as Ready & { event?: string }
        if (msg.event === 'ready') { clearTimeout(timer); resolve(msg) }
      } catch { // not a JSON line: ignore
      }
    })
    void exited.then(code => { clearTimeout(timer); reject(new SwarmError(`${name} exited with code ${code} before it was ready (log: ${logFile})`)) })
  })
  ready.catch(() => {})
  return { name, role, proc, ready, exited }
}

async function stopAll (children: Child[]): Promise<void> {
  for (const c of children) {
    if (c.proc.exitCode == null && c.proc.signalCode == null) c.proc.kill('SIGTERM')
  }
  const all = Promise.all(children.map(async c => c.exited))
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<void>(resolve => { timer = setTimeout(resolve, STOP_DEADLINE_MS) })
  await Promise.race([all, late])
  clearTimeout(timer)
  for (const c of children) {
    if (c.proc.exitCode == null && c.proc.signalCode == null) c.proc.kill('SIGKILL')
  }
  await all
}

async function peersSeen (api: string): Promise<number> {
  const res = await fetch(`${api}/v1/status`, { signal: AbortSignal.timeout(2000) })
  const body = await res.json() as { peers: unknown[] }
  return body.peers.length
}

export async function runLocal (opts: LocalOptions): Promise<void> {
  const count = parseIntOption('nodes', opts.nodes, 1, 200)
  const basePort = opts.basePort != null ? parseIntOption('base-port', opts.basePort, 1, 65535 - 2 * (count + 1)) : undefined
  const root = resolve(opts.dataDir ?? './.swarmnet/local')
  mkdirSync(root, { recursive: true })
  const startedAt = Date.now()

  const port = (i: number): number => basePort == null ? 0 : basePort + i
  const apiPort = (i: number): number => basePort == null ? 0 : basePort + count + 1 + i
  const common = (i: number, name: string): string[] => [
    '--listen', `/ip4/127.0.0.1/tcp/${port(i)}`,
    '--api', `127.0.0.1:${apiPort(i)}`,
    '--data-dir', join(root, name),
    '--log-level', opts.logLevel,
    ...(opts.swarmKey != null ? ['--swarm-key', resolve(opts.swarmKey)] : [])
  ]

  const children: Child[] = []
  let stopping: Promise<void> | undefined
  const shutdown = (): void => {
    stopping ??= stopAll(children).then(() => {
      process.stdout.write('local swarm stopped\n')
      process.exit(0)
    })
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)

  try {
    const boot = launch('bootstrap', 'bootstrap', common(0, 'bootstrap'), join(root, 'bootstrap.log'))
    children.push(boot)
    const bootReady = await boot.ready
    const bootAddr = bootReady.addrs.find(a => a.includes('/ip4/127.0.0.1/')) ?? bootReady.addrs[0]
    if (bootAddr == null) throw new SwarmError('the bootstrap peer reported no address')

    for (let i = 1; i <= count; i++) {
      const name = `node-${i}`
      children.push(launch('member', name, [...common(i, name), '--bootstrap', bootAddr], join(root, `${name}.log`)))
    }
    const ready = await Promise.all(children.map(async c => c.ready))

    const header = ['NAME', 'ROLE', 'PID', 'PEER ID', 'API']
    const rows = ready.map((r, i) => [r.name, children[i]!.role, String(children[i]!.proc.pid), r.peerId, r.api ?? '-'])
    const widths = header.map((_, col) => Math.max(...[header, ...rows].map(r => r[col]!.length)))
    const fmt = (r: string[]): string => r.map((c, col) => c.padEnd(widths[col]!)).join('  ').trimEnd()
    process.stdout.write([fmt(header), ...rows.map(fmt)].join('\n') + '\n')
    process.stdout.write(`bootstrap address: ${bootAddr}\ndata and logs: ${root}\n`)

    // Report when the swarm is fully connected: every node lists every other one.
    const deadline = Date.now() + connectDeadlineMs(count)
    let seen: number[] = []
    while (Date.now() < deadline && stopping == null) {
      seen = await Promise.all(ready.map(async r => r.api == null ? count : peersSeen(r.api).catch(() => 0)))
      if (seen.every(s => s >= count)) break
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    if (stopping != null) return
    if (seen.every(s => s >= count)) {
      process.stdout.write(`swarm connected: all ${count + 1} nodes see each other (${Date.now() - startedAt} ms after launch). Ctrl-C stops it.\n`)
    } else {
      process.stdout.write(`warning: not every node sees all others yet (peers seen: ${seen.join(', ')}). Ctrl-C stops it.\n`)
    }
    for (const c of children) {
      void c.exited.then(code => {
        if (stopping == null) process.stderr.write(`swarmnet local: ${c.name} exited with code ${code}\n`)
      })
    }
  } catch (err) {
    await stopAll(children)
    throw err
  }
}
