/**
 * V8 settings for a long-running swarmnet process. They only take effect at startup, so a daemon
 * replaces its process by itself with them (same pid, stdio and environment; ~40 ms) before
 * anything else runs.
 *
 * Worker pool: Node gives every process 4 background threads (garbage collection, optimizing
 * compilation) whatever the host. Several members on a small host oversubscribe its cores: a
 * member that is starting compiles its whole program on those threads, and the members serving
 * writes wait for CPU. On 2 cores, rolling restarts had a write gap over 2 heartbeats in 9 of 48
 * with Node's default, 1 of 40 (by 1 ms) with one thread per process (docs/benchmarks.md). So a
 * daemon sizes the pool to the host, as Go sizes GOMAXPROCS: one fewer than the cores, Node's 4
 * from 5 cores up.
 *
 * Young generation: V8 sizes it from the host's memory (semi-spaces of 64 MiB on a 24 GiB host).
 * A scavenge then comes rarely but copies everything allocated since the last one that still
 * lives, the Raft log's new entries among it, and stops the member meanwhile: 7-12 ms typically,
 * up to 55 ms on a busy host. Semi-spaces of SEMI_SPACE_MB make scavenges frequent and short,
 * for about the same total time (docs/benchmarks.md, notes of 2026-12-04).
 */
import os from 'node:os'

/** Commands that run a node for long; the others are short-lived clients. */
const DAEMONS = new Set(['start', 'bootstrap', 'local'])
/** Node's own default. */
const NODE_DEFAULT_POOL = 4
const MAX_POOL = 64
const SEMI_SPACE_MB = 2
const MAX_SEMI_SPACE_MB = 256

/** Whether `swarmnet <args>` runs a node (the command comes first: there are no global options but --help and --version). */
export function isDaemon (args: string[]): boolean {
  return args[0] !== undefined && DAEMONS.has(args[0])
}

/** A SWARMNET_V8_* variable with a value outside its range. */
export class V8SettingError extends Error {
  constructor (variable: string, range: string, value: string) {
    super(`${variable} must be ${range}, got ${JSON.stringify(value)}`)
    this.name = 'V8SettingError'
  }
}

interface Host { cores: number, env: Record<string, string | undefined>, execArgv: string[] }

/** Whether the process already runs with `flag`, in its own flags or in NODE_OPTIONS. */
function chosen (flag: string, p: Host): boolean {
  const re = new RegExp(`(^|\\s)${flag}(=|\\s|$)`)
  return p.execArgv.some(a => re.test(a)) || re.test(p.env.NODE_OPTIONS ?? '')
}

/** An integer from 0 to `max` in `variable`, or undefined when it is unset or empty. */
function asked (p: Host, variable: string, max: number, zero: string): number | undefined {
  const value = p.env[variable]
  if (value === undefined || value === '') return undefined
  const n = /^\d{1,3}$/.test(value.trim()) ? Number(value.trim()) : NaN
  if (!(n >= 0 && n <= max)) throw new V8SettingError(variable, `an integer from 0 (${zero}) to ${max}`, value)
  return n
}

/**
 * The pool size to run with, or undefined to keep what the process has: a size already chosen
 * (--v8-pool-size in its flags or NODE_OPTIONS), a big enough host, or SWARMNET_V8_POOL_SIZE=0.
 * SWARMNET_V8_POOL_SIZE=N (1-64) picks the size; another value throws V8SettingError.
 */
export function v8PoolSize (p: Host): number | undefined {
  if (chosen('--v8-pool-size', p)) return undefined
  const n = asked(p, 'SWARMNET_V8_POOL_SIZE', MAX_POOL, "Node's default")
  if (n !== undefined) return n === 0 ? undefined : n
  const size = Math.max(1, Math.floor(p.cores) - 1)
  return size < NODE_DEFAULT_POOL ? size : undefined
}

/**
 * The semi-space size (MiB) to run with, or undefined to keep what the process has: a size
 * already chosen (--max-semi-space-size) or SWARMNET_V8_SEMI_SPACE_MB=0. SWARMNET_V8_SEMI_SPACE_MB=N
 * (1-256) picks the size; another value throws V8SettingError.
 */
export function semiSpaceMb (p: Host): number | undefined {
  if (chosen('--max-semi-space-size', p)) return undefined
  const n = asked(p, 'SWARMNET_V8_SEMI_SPACE_MB', MAX_SEMI_SPACE_MB, "V8's default")
  if (n !== undefined) return n === 0 ? undefined : n
  return SEMI_SPACE_MB
}

/** The flags a daemon restarts itself with; none: it goes on as it is. */
export function v8Flags (p: Host, youngGeneration = true): string[] {
  const pool = v8PoolSize(p)
  const semi = youngGeneration ? semiSpaceMb(p) : undefined
  return [...(pool !== undefined ? [`--v8-pool-size=${pool}`] : []), ...(semi !== undefined ? [`--max-semi-space-size=${semi}`] : [])]
}

/**
 * Replaces this process by itself with the V8 settings above, when it lacks them. Returns where
 * it cannot (no process.execve before Node 22.15; refused on Windows), and the process goes on
 * with Node's defaults. `youngGeneration: false` sets the worker pool only.
 */
export function applyV8Settings (opts: { youngGeneration?: boolean } = {}): void {
  const flags = v8Flags({ cores: os.availableParallelism(), env: process.env, execArgv: process.execArgv }, opts.youngGeneration ?? true)
  if (flags.length === 0 || typeof process.execve !== 'function') return
  try {
    process.execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], process.env)
  } catch {
    // Not replaced: go on as this process.
  }
}
