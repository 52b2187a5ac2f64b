/**
 * `swarmnet lock`, `barrier` and `elect`: thin clients of a running node's coordination API
 * (docs/coordination.md). A lock or an office is held with `?hold=connection`, so it is released
 * when this process ends, however it ends; a clean exit releases it with a DELETE first. Each
 * prints its answer as one JSON line; a failure (timeout, deadlock, lost lease, ...) exits 1 with
 * one line on stderr, bad usage 2.
 */
import { spawn } from 'node:child_process'
import http from 'node:http'
import https from 'node:https'
import { constants } from 'node:os'
import { SwarmError } from '../errors.js'
import type { ClientOptions } from './client.js'

export interface LockOptions extends ClientOptions { shared?: boolean, ttl?: string, timeout?: string }
export interface BarrierOptions extends ClientOptions { parties: string, timeout?: string }
export interface ElectOptions extends ClientOptions { ttl?: string, timeout?: string, observe?: boolean }

interface Api { url: URL, headers: Record<string, string> }

function base (opts: ClientOptions): Api {
  const url = (opts.api ?? process.env.SWARMNET_API_URL ?? 'http://127.0.0.1:7400').replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]+$/.test(url)) throw new SwarmError(`--api must be a URL like http://127.0.0.1:7400, got ${JSON.stringify(url)}`)
  const token = opts.apiToken ?? process.env.SWARMNET_API_TOKEN
  return { url: new URL(url), headers: token != null ? { authorization: `Bearer ${token}` } : {} }
}

function integer (name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  if (!/^\d{1,15}$/.test(v)) throw new SwarmError(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`)
  return Number(v)
}

function segment (what: string, name: string): string {
  if (name === '') throw new SwarmError(`the ${what} must not be empty`)
  return encodeURIComponent(name)
}

/** SIGINT/SIGTERM: aborts `signal` and resolves `stopped` with the signal's name. */
function signals (): { signal: AbortSignal, stopped: Promise<NodeJS.Signals>, dispose: () => void } {
  const controller = new AbortController()
  let resolve!: (s: NodeJS.Signals) => void
  const stopped = new Promise<NodeJS.Signals>(r => { resolve = r })
  const on = (s: NodeJS.Signals): void => { controller.abort(); resolve(s) }
  process.on('SIGINT', on)
  process.on('SIGTERM', on)
  return {
    signal: controller.signal,
    stopped,
    dispose: () => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
    }
  }
}

/**
 * Sends one request and resolves with the response, whatever its status. Plain node:http, not
 * fetch: a lock may be granted long after fetch's five-minute wait for response headers.
 */
async function send (api: Api, method: string, path: string, body: unknown, signal?: AbortSignal, accept = 'application/json'): Promise<http.IncomingMessage> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  const headers: Record<string, string | number> = { ...api.headers, accept }
  if (payload !== undefined) {
    headers['content-type'] = 'application/json'
    headers['content-length'] = Buffer.byteLength(payload)
  }
  const request = api.url.protocol === 'https:' ? https.request : http.request
  return await new Promise((resolve, reject) => {
    const req = request(new URL(path, api.url), { method, headers, signal, agent: false }, resolve)
    req.on('error', err => {
      if (signal?.aborted === true) reject(new SwarmError('interrupted', 1))
      else reject(new SwarmError(`cannot reach the swarmnet API at ${api.url.origin} (${err.message}); is 'swarmnet start' running?`, 1))
    })
    req.end(payload)
  })
}

async function readJson (res: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  for await (const c of res) chunks.push(c as Buffer)
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
  } catch {
    return {}
  }
}

/** The error an answer other than 200 becomes: our mistake (400, 401) is a usage error. */
async function failure (res: http.IncomingMessage): Promise<SwarmError> {
  const json = await readJson(res)
  const status = res.statusCode ?? 0
  return new SwarmError(`${status} ${String(json.error ?? 'error')}: ${String(json.message ?? res.statusMessage ?? '')}`, status === 400 || status === 401 ? 2 : 1)
}

async function call (api: Api, method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const res = await send(api, method, path, body, signal)
  if (res.statusCode !== 200) throw await failure(res)
  return await readJson(res)
}

/** Calls `onLine` with each non-empty line of `res`; resolves when it ends. */
async function eachLine (res: http.IncomingMessage, onLine: (line: string) => void): Promise<void> {
  res.setEncoding('utf8')
  let buf = ''
  for await (const chunk of res) {
    buf += chunk as string
    let i: number
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim()
      buf = buf.slice(i + 1)
      if (line !== '') onLine(line)
    }
  }
}

/**
 * A `?hold=connection` answer: its first line is what was granted; `end` resolves with the last
 * event line (`{event: 'lost'|'released'|'resigned', ...}`), or null when the stream just ends.
 */
async function held (res: http.IncomingMessage): Promise<{ first: Record<string, unknown>, end: Promise<Record<string, unknown> | null> }> {
  return await new Promise((resolve, reject) => {
    let first = true
    let last: Record<string, unknown> | null = null
    const done = eachLine(res, line => {
      const v = JSON.parse(line) as Record<string, unknown>
      if (first) {
        first = false
        resolve({ first: v, end: done.then(() => last) })
      } else {
        last = v
      }
    })
    done.then(() => { if (first) reject(new SwarmError('the node closed the connection without an answer', 1)) }, err => {
      if (first) reject(new SwarmError(`reading the answer: ${(err as Error).message}`, 1))
    })
  })
}

/**
 * Resolves when a held lock or office ends: with null when we released it (`ours()`), else with
 * why, as a line for stderr.
 */
async function lossOf (end: Promise<Record<string, unknown> | null>, what: string, ours: () => boolean): Promise<string | null> {
  let why: string
  try {
    const e = await end
    if (ours()) return null
    why = e?.event === 'lost'
      ? `its lease ${e.reason === 'expired' ? 'expired' : 'was revoked'}`
      : e !== null ? 'another client released it through the API' : 'the node closed the connection'
  } catch (err) {
    if (ours()) return null
    why = `the connection to the node broke (${(err as Error).message})`
  }
  return `${what} lost: ${why}`
}

/** Aborts the returned signal on SIGINT/SIGTERM only until `settled()` is called. */
function whileWaiting (stopped: Promise<NodeJS.Signals>): { signal: AbortSignal, settled: () => void } {
  const controller = new AbortController()
  let waiting = true
  void stopped.then(() => { if (waiting) controller.abort() })
  return { signal: controller.signal, settled: () => { waiting = false } }
}

const exitCodeOf = (code: number | null, signal: NodeJS.Signals | null): number =>
  code ?? 128 + (signal !== null ? constants.signals[signal] ?? 0 : 0)

/** Runs the command with the lock's token in its environment; resolves with its exit code. */
async function runHolding (command: string[], env: Record<string, string>, forward: Promise<NodeJS.Signals>): Promise<number> {
  const [file, ...args] = command as [string, ...string[]]
  const child = spawn(file, args, { stdio: 'inherit', env: { ...process.env, ...env } })
  void forward.then(s => { child.kill(s) })
  return await new Promise(resolve => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      process.stderr.write(`swarmnet: cannot run ${JSON.stringify(file)}: ${err.message}\n`)
      resolve(err.code === 'ENOENT' ? 127 : 126)
    })
    child.once('exit', (code, signal) => { resolve(exitCodeOf(code, signal)) })
  })
}

/**
 * `swarmnet lock <resource> [-- command...]`: acquires, prints {resource, fencingToken, leaseId,
 * mode}; runs the command and releases after it (exit code: the command's), or holds until
 * SIGINT/SIGTERM and releases (exit 0).
 */
export async function runLock (resource: string, command: string[], opts: LockOptions): Promise<void> {
  const api = base(opts)
  const path = `/v1/locks/${segment('resource', resource)}`
  const body: Record<string, unknown> = {}
  if (opts.shared === true) body.mode = 'shared'
  const ttl = integer('--ttl', opts.ttl)
  const timeout = integer('--timeout', opts.timeout)
  if (ttl !== undefined) body.ttlMs = ttl
  if (timeout !== undefined) body.timeoutMs = timeout
  const stop = signals()
  try {
    // A signal aborts the wait; once granted, it releases the lock instead.
    const wait = whileWaiting(stop.stopped)
    const res = await send(api, 'POST', `${path}?hold=connection`, body, wait.signal)
    if (res.statusCode !== 200) throw await failure(res)
    const { first: grant, end } = await held(res)
    wait.settled()
    process.stdout.write(JSON.stringify(grant) + '\n')
    const token = Number(grant.fencingToken)
    let releasing = false
    const lost = lossOf(end, `lock ${JSON.stringify(resource)}`, () => releasing)
    const releaseLock = async (): Promise<void> => {
      releasing = true
      try {
        await call(api, 'DELETE', path, { fencingToken: token, leaseId: grant.leaseId })
      } catch (err) {
        process.stderr.write(`swarmnet: releasing the lock: ${(err as Error).message}\n`)
      } finally {
        res.destroy()
      }
    }

    if (command.length > 0) {
      void lost.then(why => { if (why !== null) process.stderr.write(`swarmnet: ${why} while the command ran\n`) })
      const code = await runHolding(command, { SWARMNET_FENCING_TOKEN: String(token), SWARMNET_LOCK_RESOURCE: resource }, stop.stopped)
      await releaseLock()
      process.exitCode = code
      return
    }
    const why = await Promise.race([stop.stopped.then(() => null), lost])
    if (why !== null) {
      res.destroy()
      throw new SwarmError(why, 1)
    }
    await releaseLock()
  } finally {
    stop.dispose()
  }
}

/** `swarmnet barrier <name> --parties N`: waits for the others; prints {name, generation, parties}. */
export async function runBarrier (name: string, opts: BarrierOptions): Promise<void> {
  const api = base(opts)
  const parties = integer('--parties', opts.parties)
  const timeout = integer('--timeout', opts.timeout)
  const body: Record<string, unknown> = { parties }
  if (timeout !== undefined) body.timeoutMs = timeout
  const stop = signals()
  try {
    const r = await call(api, 'POST', `/v1/barriers/${segment('barrier name', name)}/wait`, body, stop.signal)
    process.stdout.write(JSON.stringify(r) + '\n')
  } finally {
    stop.dispose()
  }
}

/**
 * `swarmnet elect <role> [value]`: campaigns, prints {role, value, leaseId, revision} once
 * elected, leads until SIGINT/SIGTERM, then resigns. With --observe: one JSON line per leader
 * change ({role, leader}) until SIGINT/SIGTERM.
 */
export async function runElect (role: string, value: string | undefined, opts: ElectOptions): Promise<void> {
  const api = base(opts)
  const path = `/v1/elections/${segment('role', role)}`
  if (opts.observe === true) {
    if (value !== undefined || opts.ttl !== undefined || opts.timeout !== undefined) throw new SwarmError('--observe takes no value, --ttl or --timeout')
    await observe(api, path)
    return
  }
  const body: Record<string, unknown> = {}
  if (value !== undefined) body.value = value
  const ttl = integer('--ttl', opts.ttl)
  const timeout = integer('--timeout', opts.timeout)
  if (ttl !== undefined) body.ttlMs = ttl
  if (timeout !== undefined) body.timeoutMs = timeout
  const stop = signals()
  try {
    const wait = whileWaiting(stop.stopped)
    const res = await send(api, 'POST', `${path}/campaign?hold=connection`, body, wait.signal)
    if (res.statusCode !== 200) throw await failure(res)
    const { first: elected, end } = await held(res)
    wait.settled()
    process.stdout.write(JSON.stringify(elected) + '\n')
    let resigning = false
    const why = await Promise.race([stop.stopped.then(() => null), lossOf(end, `leadership of ${JSON.stringify(role)}`, () => resigning)])
    if (why !== null) {
      res.destroy()
      throw new SwarmError(why, 1)
    }
    resigning = true
    try {
      await call(api, 'DELETE', path, undefined)
    } catch (err) {
      process.stderr.write(`swarmnet: resigning: ${(err as Error).message}\n`)
    } finally {
      res.destroy()
    }
  } finally {
    stop.dispose()
  }
}

async function observe (api: Api, path: string): Promise<void> {
  const stop = signals()
  try {
    const res = await send(api, 'GET', `${path}?observe=true`, undefined, stop.signal, 'text/event-stream')
    if (res.statusCode !== 200) throw await failure(res)
    try {
      await eachLine(res, line => {
        if (line.startsWith('data: ')) process.stdout.write(line.slice(6) + '\n')
      })
    } catch (err) {
      if (!stop.signal.aborted) throw new SwarmError(`event stream broke: ${(err as Error).message}`, 1)
      return
    }
    if (!stop.signal.aborted) throw new SwarmError('the node closed the event stream', 1)
  } finally {
    stop.dispose()
  }
}
