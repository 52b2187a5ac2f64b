/**
 * `swarmnet members`: the Raft membership of a running node's cluster, and changes to it
 * (`add`, `remove`, `transfer`). One JSON answer on stdout; exit 1 with one line on failure.
 */
import { SwarmError } from '../errors.js'
import type { ClientOptions } from './client.js'

async function call (opts: ClientOptions, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const url = (opts.api ?? process.env.SWARMNET_API_URL ?? 'http://127.0.0.1:7400').replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]+$/.test(url)) throw new SwarmError(`--api must be a URL like http://127.0.0.1:7400, got ${JSON.stringify(url)}`)
  const token = opts.apiToken ?? process.env.SWARMNET_API_TOKEN
  const headers: Record<string, string> = token != null ? { authorization: `Bearer ${token}` } : {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  } catch (err) {
    throw new SwarmError(`cannot reach the swarmnet API at ${url} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is 'swarmnet start' running?`, 1)
  }
  const json = await res.json().catch(() => ({})) as Record<string, unknown>
  if (!res.ok) throw new SwarmError(`${res.status} ${String(json.error ?? 'error')}: ${String(json.message ?? res.statusText)}`, res.status === 400 || res.status === 401 ? 2 : 1)
  return json
}

function timeout (v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  if (!/^\d{1,7}$/.test(v) || Number(v) < 1) throw new SwarmError(`--timeout must be a positive number of ms, got ${JSON.stringify(v)}`)
  return Number(v)
}

const print = (v: unknown): void => { process.stdout.write(JSON.stringify(v) + '\n') }

export async function runMembersList (opts: ClientOptions): Promise<void> {
  print(await call(opts, 'GET', '/v1/raft/members'))
}

export async function runMembersAdd (peerId: string, opts: ClientOptions & { learner?: boolean, timeout?: string }): Promise<void> {
  print(await call(opts, 'POST', '/v1/raft/members', { peerId, role: opts.learner === true ? 'learner' : 'voter', timeoutMs: timeout(opts.timeout) }))
}

export async function runMembersRemove (peerId: string, opts: ClientOptions & { timeout?: string }): Promise<void> {
  const t = timeout(opts.timeout)
  print(await call(opts, 'DELETE', `/v1/raft/members/${encodeURIComponent(peerId)}${t !== undefined ? `?timeoutMs=${t}` : ''}`))
}

export async function runTransfer (opts: ClientOptions & { to?: string, timeout?: string }): Promise<void> {
  const body: Record<string, unknown> = {}
  if (opts.to !== undefined) body.to = opts.to
  const t = timeout(opts.timeout)
  if (t !== undefined) body.timeoutMs = t
  print(await call(opts, 'POST', '/v1/raft/transfer', body))
}
