/**
 * Runs the real `swarmnet` CLI in child processes: the same binary a user runs, on this
 * process's Node. Every helper takes a deadline; `stopAll` leaves no process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { withDeadline } from './wait.js'

export const CLI = fileURLToPath(new URL('../../node/main.js', import.meta.url))

export interface ReadyLine { event: 'ready', peerId: string, name: string, addrs: string[], api: string | null }

export interface CliProcess {
  proc: ChildProcess
  stdoutLines: string[]
  stderr: () => string
  /** Resolves with the ready line; rejects if the process exits first. */
  ready: Promise<ReadyLine>
  exit: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Resolves when a stdout line matches. */
  line: (pattern: RegExp, timeoutMs?: number) => Promise<string>
}

const live = new Set<ChildProcess>()

export function spawnCli (args: string[], opts: { env?: Record<string, string | undefined> } = {}): CliProcess {
  const env = { ...process.env, ...opts.env }
  for (const key of Object.keys(env)) if (key.startsWith('SWARMNET_') && !(key in (opts.env ?? {}))) delete env[key]
  const proc = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(proc)
  const stdoutLines: string[] = []
  let stderr = ''
  proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  const waiters: Array<{ pattern: RegExp, resolve: (l: string) => void }> = []
  createInterface({ input: proc.stdout! }).on('line', line => {
    stdoutLines.push(line)
    for (const w of [...waiters]) {
      if (w.pattern.test(line)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(line)
      }
    }
  })
  const exit = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    proc.once('close', (code, signal) => { live.delete(proc); resolve({ code, signal }) })
  })
  const line = async (pattern: RegExp, timeoutMs = 30_000): Promise<string> => {
    const found = stdoutLines.find(l => pattern.test(l))
    if (found != null) return found
    const p = new Promise<string>((resolve, reject) => {
      waiters.push({ pattern, resolve })
      void exit.then(({ code }) => { reject(new Error(`process exited (${code}) before printing ${pattern}; stderr: ${stderr.slice(-2000)}`)) })
    })
    return withDeadline(p, timeoutMs, `a line matching ${pattern}`)
  }
  const ready = line(/"event":"ready"/).then(l => JSON.parse(l) as ReadyLine)
  ready.catch(() => {})
  return { proc, stdoutLines, stderr: () => stderr, ready, exit, line }
}

/** Runs a short CLI command to completion. */
export async function runCli (args: string[], opts: { env?: Record<string, string | undefined>, timeoutMs?: number } = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const p = spawnCli(args, opts)
  const { code } = await withDeadline(p.exit, opts.timeoutMs ?? 30_000, `swarmnet ${args.join(' ')} to exit`)
  return { code, stdout: p.stdoutLines.join('\n'), stderr: p.stderr() }
}

/** SIGKILLs every CLI process a test left running. */
export async function killAll (): Promise<void> {
  const procs = [...live]
  await Promise.all(procs.map(async p => {
    const gone = new Promise(resolve => p.once('exit', resolve))
    p.kill('SIGKILL')
    await gone
  }))
}

export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export async function status (api: string, token?: string): Promise<{ peerId: string, name: string, capabilities: string[], peers: Array<{ peerId: string }> }> {
  const res = await fetch(`${api}/v1/status`, { headers: token != null ? { authorization: `Bearer ${token}` } : {} })
  if (res.status !== 200) throw new Error(`status ${res.status}`)
  return await res.json() as never
}
