/**
 * A client of a node's HTTP API for programs that drive a sidecar (`swarmnet start`) rather than
 * embed a node. Key-value calls made while others are in flight share requests: they queue, and
 * each free request slot takes everything queued as one `POST /v1/kv` (independent operations,
 * each its own log entry and result). With one call at a time that is one request per call, as
 * plain HTTP; with many in flight it saves an HTTP exchange per call (measured in
 * docs/benchmarks.md), the way a gRPC client multiplexes calls over one connection.
 */
import http from 'node:http'
import { KvConflictError, KvFencedError, KvInputError, RaftUnavailableError } from '../protocols/raft/errors.js'
import type { Fence } from '../protocols/raft/kv.js'
import type { DeleteResult, GetResult, PutResult } from '../protocols/raft/service.js'

export interface SwarmnetClientOptions {
  /** The node's API, e.g. http://127.0.0.1:7400. */
  url: string
  /** Bearer token, when the node requires one. */
  token?: string
  /** Default per-call deadline, ms (the node is told it too). Default 5000. */
  timeoutMs?: number
  /** Concurrent HTTP requests to the node. Default 4. */
  maxRequests?: number
  /** Most operations in one request (the node takes up to 1000). Default 256. */
  maxBatch?: number
}

/** The node could not be reached or answered outside the API (status 0: no answer). */
export class SwarmnetClientError extends Error {
  constructor (message: string, readonly status = 0) {
    super(message)
    this.name = 'SwarmnetClientError'
  }
}

interface Op { op: 'put' | 'get' | 'del', key: string, value?: unknown, prevVersion?: number, consistency?: 'linearizable' | 'stale', fence?: Fence }
interface Queued { body: Op, timeoutMs: number, resolve: (r: Record<string, unknown>) => void, reject: (e: Error) => void }

export class SwarmnetClient {
  readonly kv: {
    /** `fence`: applies only while that lock token is held (KvFencedError otherwise). */
    put: (key: string, value: unknown, opts?: { prevVersion?: number, timeoutMs?: number, fence?: Fence }) => Promise<PutResult>
    get: (key: string, opts?: { consistency?: 'linearizable' | 'stale', timeoutMs?: number }) => Promise<GetResult | null>
    delete: (key: string, opts?: { prevVersion?: number, timeoutMs?: number, fence?: Fence }) => Promise<DeleteResult>
  }

  private readonly base: URL
  private readonly headers: Record<string, string>
  private readonly agent: http.Agent
  private readonly timeoutMs: number
  private readonly maxRequests: number
  private readonly maxBatch: number
  private queue: Queued[] = []
  private active = 0
  private hint: string | null = null
  private flushScheduled = false

  constructor (opts: SwarmnetClientOptions) {
    this.base = new URL(opts.url)
    if (this.base.protocol !== 'http:') throw new SwarmnetClientError(`only http:// node URLs are supported, got ${opts.url}`)
    this.headers = { 'content-type': 'application/json', ...(opts.token != null ? { authorization: `Bearer ${opts.token}` } : {}) }
    this.timeoutMs = opts.timeoutMs ?? 5000
    this.maxRequests = Math.max(1, opts.maxRequests ?? 4)
    this.maxBatch = Math.min(1000, Math.max(1, opts.maxBatch ?? 256))
    this.agent = new http.Agent({ keepAlive: true, maxSockets: this.maxRequests + 4 })
    this.kv = {
      put: async (key, value, o = {}) => {
        const r = await this.enqueue({ op: 'put', key, value, prevVersion: o.prevVersion, fence: o.fence }, o.timeoutMs)
        return { key: r.key as string, version: r.version as number, index: r.index as number }
      },
      get: async (key, o = {}) => {
        const r = await this.enqueue({ op: 'get', key, consistency: o.consistency }, o.timeoutMs)
        return r.status === 404 ? null : { key: r.key as string, value: r.value, version: r.version as number }
      },
      delete: async (key, o = {}) => {
        const r = await this.enqueue({ op: 'del', key, prevVersion: o.prevVersion, fence: o.fence }, o.timeoutMs)
        return { key, deleted: r.status === 200, index: r.index as number }
      }
    }
  }

  /** GET /v1/status. */
  async status (): Promise<Record<string, unknown>> {
    return await this.request('GET', '/v1/status', undefined, this.timeoutMs) as Record<string, unknown>
  }

  /** GET /v1/leader. */
  async leader (): Promise<{ leader: string | null, term: number, self: string, role: string }> {
    return await this.request('GET', '/v1/leader', undefined, this.timeoutMs) as { leader: string | null, term: number, self: string, role: string }
  }

  /**
   * The leader's peer id as the node last named it (the `x-swarmnet-leader` header of its
   * answers), null before any answer or while it knows none. A client that follows the leader
   * switches nodes when this stops naming the one it talks to.
   */
  get leaderHint (): string | null { return this.hint }

  /** Closes idle keep-alive connections; calls still queued are failed. */
  close (): void {
    for (const q of this.queue.splice(0)) q.reject(new SwarmnetClientError('client closed'))
    this.agent.destroy()
  }

  private async enqueue (body: Op, timeoutMs = this.timeoutMs): Promise<Record<string, unknown>> {
    const r = await new Promise<Record<string, unknown>>((resolve, reject) => {
      this.queue.push({ body, timeoutMs, resolve, reject })
      this.schedule()
    })
    const status = r.status as number
    if (status === 200 || (status === 404 && body.op !== 'put')) return r
    const message = typeof r.message === 'string' ? r.message : `status ${status}`
    if (status === 409 && r.error === 'fenced') throw new KvFencedError(body.key, r.resource as string, r.token as number)
    if (status === 409) throw new KvConflictError(body.key, r.version as number, body.prevVersion ?? 0)
    if (status === 400) throw new KvInputError(message)
    if (status === 503) throw new RaftUnavailableError(message, r.maybeApplied === true)
    throw new SwarmnetClientError(message, status)
  }

  private schedule (): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    // After the current microtasks: calls made by every continuation of one answer go together.
    queueMicrotask(() => {
      this.flushScheduled = false
      this.flush()
    })
  }

  private flush (): void {
    while (this.queue.length > 0 && this.active < this.maxRequests) {
      const batch = this.queue.splice(0, this.maxBatch)
      this.active++
      void this.send(batch).finally(() => {
        this.active--
        if (this.queue.length > 0) this.schedule()
      })
    }
  }

  private async send (batch: Queued[]): Promise<void> {
    const timeoutMs = Math.max(...batch.map(q => q.timeoutMs))
    try {
      const res = await this.request('POST', `/v1/kv?timeoutMs=${timeoutMs}`, { ops: batch.map(q => q.body) }, timeoutMs + 1000) as { results?: Array<Record<string, unknown>> }
      const results = res.results
      if (!Array.isArray(results) || results.length !== batch.length) throw new SwarmnetClientError('the node answered a batch with the wrong number of results')
      batch.forEach((q, i) => { q.resolve(results[i]!) })
    } catch (err) {
      for (const q of batch) q.reject(err as Error)
    }
  }

  private async request (method: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    return await new Promise((resolve, reject) => {
      const req = http.request({
        host: this.base.hostname,
        port: this.base.port,
        path,
        method,
        agent: this.agent,
        timeout: timeoutMs,
        headers: payload === undefined ? this.headers : { ...this.headers, 'content-length': Buffer.byteLength(payload) }
      }, res => {
        const leader = res.headers['x-swarmnet-leader']
        if (typeof leader === 'string') this.hint = leader === '' ? null : leader
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', (err) => { reject(new SwarmnetClientError(`reading the answer: ${err.message}`)) })
        res.on('end', () => {
          let parsed: unknown
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
          } catch {
            reject(new SwarmnetClientError(`the node answered ${res.statusCode ?? 0} with a body that is not JSON`, res.statusCode ?? 0))
            return
          }
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) { resolve(parsed); return }
          const m = (parsed as { message?: unknown }).message
          reject(new SwarmnetClientError(typeof m === 'string' ? m : `status ${status}`, status))
        })
      })
      req.on('timeout', () => { req.destroy(new SwarmnetClientError(`no answer within ${timeoutMs} ms`)) })
      req.on('error', (err) => { reject(err instanceof SwarmnetClientError ? err : new SwarmnetClientError(`cannot reach ${this.base.origin}: ${err.message}`)) })
      req.end(payload)
    })
  }
}
