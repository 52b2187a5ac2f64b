/**
 * The benchmarks' child processes: the real CLI spawned with a clean environment, its ready line
 * awaited with a deadline, and everything started stopped (and every temp dir removed) on the
 * way out, Ctrl-C included.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'

export const CLI = fileURLToPath(new URL('../node/main.js', import.meta.url))

export interface Stats { n: number, median: number, min: number, max: number }

const READY_DEADLINE_MS = 60_000
const STOP_DEADLINE_MS = 6_000

export interface ReadyLine { event: 'ready', peerId: string, name: string, addrs: string[], api: string | null }

export interface Proc {
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

export function cleanEnv (): NodeJS.ProcessEnv {
  // SWARMNET_* settings in the caller's environment would change what is measured.
  const env = { ...process.env }
  for (const key of Object.keys(env)) if (key.startsWith('SWARMNET_')) delete env[key]
  return env
}

export function launch (name: string, args: string[]): Proc {
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

/** The 127.0.0.1 address other nodes dial `p` (a bootstrap peer) at, once it is ready. */
export async function readyAddress (p: Proc): Promise<string> {
  const { line } = await p.ready
  const addr = line.addrs.find(a => a.includes('/ip4/127.0.0.1/')) ?? line.addrs[0]
  if (addr == null) throw new Error(`${p.name} reported no address`)
  return addr
}

export function running (p: Proc): boolean {
  return p.proc.exitCode == null && p.proc.signalCode == null
}

/** SIGTERM, then SIGKILL whatever has not exited by the deadline. */
export async function stopAll (procs: Proc[]): Promise<void> {
  for (const p of procs) if (running(p)) p.proc.kill('SIGTERM')
  const all = Promise.all(procs.map(async p => p.exited))
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([all, new Promise(resolve => { timer = setTimeout(resolve, STOP_DEADLINE_MS) })])
  clearTimeout(timer)
  for (const p of procs) if (running(p)) p.proc.kill('SIGKILL')
  await all
}

export function makeTempDir (prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.add(dir)
  return dir
}

export function removeTempDir (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  tempDirs.delete(dir)
}

/** Stops every child and removes every temp dir this module made. Safe to call twice. */
export async function cleanup (): Promise<void> {
  await stopAll([...live])
  for (const dir of [...tempDirs]) removeTempDir(dir)
}

export const nodeArgs = (dataDir: string): string[] => [
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

