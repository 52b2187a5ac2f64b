/**
 * The size of V8's worker pool for a long-running swarmnet process. Node gives every process 4
 * background threads (garbage collection, optimizing compilation) whatever the host. Several
 * members on a small host oversubscribe its cores: a member that is starting compiles its whole
 * program on those threads, and the members serving writes wait for CPU. On 2 cores, rolling
 * restarts had a write gap over 2 heartbeats in 9 of 48 with Node's default, 1 of 40 (by 1 ms)
 * with one thread per process (docs/benchmarks.md). So a daemon sizes the pool to the host, as
 * Go sizes GOMAXPROCS: one fewer than the cores, Node's 4 from 5 cores up.
 */
import os from 'node:os'

/** Commands that run a node for long; the others are short-lived clients. */
const DAEMONS = new Set(['start', 'bootstrap', 'local'])
/** Node's own default. */
const NODE_DEFAULT = 4
const MAX = 64

/** Whether `swarmnet <args>` runs a node (the command comes first: there are no global options but --help and --version). */
export function isDaemon (args: string[]): boolean {
  return args[0] !== undefined && DAEMONS.has(args[0])
}

/** SWARMNET_V8_POOL_SIZE is not an integer from 0 to 64. */
export class V8PoolSizeError extends Error {
  constructor (value: string) {
    super(`SWARMNET_V8_POOL_SIZE must be an integer from 0 (Node's default) to ${MAX}, got ${JSON.stringify(value)}`)
    this.name = 'V8PoolSizeError'
  }
}

/**
 * The pool size to restart this process with, or undefined to keep what it has: a size already
 * chosen (--v8-pool-size in its flags or NODE_OPTIONS), a big enough host, or
 * SWARMNET_V8_POOL_SIZE=0. SWARMNET_V8_POOL_SIZE=N (1-64) picks the size; another value throws
 * V8PoolSizeError.
 */
export function v8PoolSize (p: { cores: number, env: Record<string, string | undefined>, execArgv: string[] }): number | undefined {
  const chosen = (flags: string): boolean => /(^|\s)--v8-pool-size(=|\s|$)/.test(flags)
  if (p.execArgv.some(a => chosen(a)) || chosen(p.env.NODE_OPTIONS ?? '')) return undefined
  const asked = p.env.SWARMNET_V8_POOL_SIZE
  if (asked !== undefined && asked !== '') {
    const n = /^\d{1,2}$/.test(asked.trim()) ? Number(asked.trim()) : NaN
    if (!(n >= 0 && n <= MAX)) throw new V8PoolSizeError(asked)
    return n === 0 ? undefined : n
  }
  const size = Math.max(1, Math.floor(p.cores) - 1)
  return size < NODE_DEFAULT ? size : undefined
}

/**
 * Replaces this process (same pid, stdio and environment; ~40 ms) by itself with V8's pool
 * sized for this host, when that differs from what it has. Returns where it cannot (no
 * process.execve before Node 22.15; refused on Windows), and the process goes on with Node's
 * default.
 */
export function resizeV8Pool (): void {
  const size = v8PoolSize({ cores: os.availableParallelism(), env: process.env, execArgv: process.execArgv })
  if (size === undefined || typeof process.execve !== 'function') return
  try {
    process.execve(process.execPath, [process.execPath, `--v8-pool-size=${size}`, ...process.execArgv, ...process.argv.slice(1)], process.env)
  } catch {
    // Not replaced: go on as this process.
  }
}
