/**
 * What every side-by-side benchmark needs: a closed loop of calls at a fixed number in flight
 * with latency quantiles, a free port for a reference server, and the reference systems'
 * binaries from Debian's packages (installed when missing, or a reason to skip), and the record of
 * the processes and temp dirs a bench started, so nothing outlives it.
 */
import { spawnSync, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Stats { perSecond: number, p50: number, p99: number, count: number, errors: number }

export function quantile (sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

export function latencyStats (latencies: number[], elapsedMs: number, errors = 0): Stats {
  const sorted = [...latencies].sort((a, b) => a - b)
  return { perSecond: latencies.length / elapsedMs * 1000, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), count: latencies.length, errors }
}

/** Runs `total` calls keeping `inFlight` outstanding; a call resolving to `false` counts as an error. */
export async function closedLoop (total: number, inFlight: number, call: (i: number) => Promise<unknown>): Promise<Stats> {
  const latencies: number[] = []
  let started = 0
  let errors = 0
  const t0 = performance.now()
  const worker = async (): Promise<void> => {
    while (started < total) {
      const i = started++
      const t = performance.now()
      if (await call(i) === false) errors++
      else latencies.push(performance.now() - t)
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  return latencyStats(latencies, performance.now() - t0, errors)
}

export async function freePort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as { port: number }).port
  await new Promise(resolve => srv.close(resolve))
  return port
}

export function debianBinary (command: string, pkg: string): { bin?: string, why?: string } {
  const which = (): string | undefined => spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim() || undefined
  let bin = which()
  if (bin != null) return { bin }
  process.stderr.write(`bench: ${command} is missing; installing Debian's ${pkg}\n`)
  const install = (): void => { execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'ignore' }) }
  try {
    install()
  } catch {
    try {
      // A fresh machine may not have the package lists yet.
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' })
      install()
    } catch (err) {
      return { why: `${command} is not installed and apt-get could not install ${pkg} (${(err as Error).message.split('\n')[0]})` }
    }
  }
  bin = which()
  return bin != null ? { bin } : { why: `${pkg} could not be installed` }
}

/** The child processes and temp dirs a benchmark owns: cleanup() kills and removes them all. */
export class Owned {
  private readonly children = new Set<ChildProcess>()
  private readonly dirs = new Set<string>()

  track (proc: ChildProcess): ChildProcess {
    this.children.add(proc)
    proc.once('exit', () => this.children.delete(proc))
    return proc
  }

  tmp (prefix: string): string {
    const d = mkdtempSync(join(tmpdir(), prefix))
    this.dirs.add(d)
    return d
  }

  /** Signals `c` and resolves once it has exited. */
  async kill (c: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (c.exitCode !== null || c.signalCode !== null) { this.children.delete(c); return }
    const gone = new Promise(resolve => c.once('exit', resolve))
    c.kill(signal)
    await gone
    this.children.delete(c)
  }

  async cleanup (): Promise<void> {
    await Promise.all([...this.children].map(async c => this.kill(c)))
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true })
    this.dirs.clear()
  }
}
