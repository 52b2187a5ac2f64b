/**
 * `swarmnet kv get|put|del`: a thin client of a running node's /v1/kv API. Prints the answer as
 * one JSON line; a missing key, a failed compare-and-set or no quorum exit 1 with one line.
 */
import { SwarmError } from '../errors.js'
import { parsePayload, type ClientOptions } from './client.js'

export interface KvClientOptions extends ClientOptions {
  timeout?: string
  prevVersion?: string
  stale?: boolean
}

function base (opts: ClientOptions): { url: string, headers: Record<string, string> } {
  const url = (opts.api ?? process.env.SWARMNET_API_URL ?? 'http://127.0.0.1:7400').replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]+$/.test(url)) throw new SwarmError(`--api must be a URL like http://127.0.0.1:7400, got ${JSON.stringify(url)}`)
  const token = opts.apiToken ?? process.env.SWARMNET_API_TOKEN
  return { url, headers: token != null ? { authorization: `Bearer ${token}` } : {} }
}

function integer (name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined
  if (!/^\d{1,15}$/.test(v)) throw new SwarmError(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`)
  return v
}

async function call (opts: KvClientOptions, method: 'GET' | 'PUT' | 'DELETE', key: string, query: Record<string, string | undefined>, body?: unknown): Promise<void> {
  const { url, headers } = base(opts)
  if (key === '') throw new SwarmError('the key must not be empty')
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, v)
  const path = `/v1/kv/${key.split('/').map(encodeURIComponent).join('/')}${q.size > 0 ? `?${q.toString()}` : ''}`
  let res: Response
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
  } catch (err) {
    throw new SwarmError(`cannot reach the swarmnet API at ${url} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is 'swarmnet start' running?`, 1)
  }
  const json = await res.json().catch(() => ({})) as Record<string, unknown>
  if (!res.ok) {
    throw new SwarmError(`${res.status} ${String(json.error ?? 'error')}: ${String(json.message ?? res.statusText)}`, res.status === 400 || res.status === 401 ? 2 : 1)
  }
  process.stdout.write(JSON.stringify(json) + '\n')
}

export async function runKvGet (key: string, opts: KvClientOptions): Promise<void> {
  await call(opts, 'GET', key, { consistency: opts.stale === true ? 'stale' : undefined, timeoutMs: integer('--timeout', opts.timeout) })
}

export async function runKvPut (key: string, value: string, opts: KvClientOptions): Promise<void> {
  const prev = integer('--prev-version', opts.prevVersion)
  const body: Record<string, unknown> = { value: parsePayload(value) }
  if (prev !== undefined) body.prevVersion = Number(prev)
  await call(opts, 'PUT', key, { timeoutMs: integer('--timeout', opts.timeout) }, body)
}

export async function runKvDel (key: string, opts: KvClientOptions): Promise<void> {
  await call(opts, 'DELETE', key, { prevVersion: integer('--prev-version', opts.prevVersion), timeoutMs: integer('--timeout', opts.timeout) })
}
