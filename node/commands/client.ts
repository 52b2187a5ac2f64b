/**
 * `swarmnet send`, `publish` and `listen`: thin clients of a running node's HTTP API, so
 * shell scripts and agents in any language use exactly what the API offers.
 */
import { SwarmError } from '../errors.js'

export interface ClientOptions { api?: string, apiToken?: string }

function base (opts: ClientOptions): { url: string, headers: Record<string, string> } {
  const url = (opts.api ?? process.env.SWARMNET_API_URL ?? 'http://127.0.0.1:7400').replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]+$/.test(url)) throw new SwarmError(`--api must be a URL like http://127.0.0.1:7400, got ${JSON.stringify(url)}`)
  const token = opts.apiToken ?? process.env.SWARMNET_API_TOKEN
  return { url, headers: token != null ? { authorization: `Bearer ${token}` } : {} }
}

/** A payload argument: JSON when it parses, otherwise the plain string. */
export function parsePayload (text?: string): unknown {
  if (text == null) return undefined
  try { return JSON.parse(text) } catch { return text }
}

async function call (opts: ClientOptions, path: string, body: unknown): Promise<unknown> {
  const { url, headers } = base(opts)
  let res: Response
  try {
    res = await fetch(`${url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  } catch (err) {
    throw new SwarmError(`cannot reach the swarmnet API at ${url} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is 'swarmnet start' running?`, 1)
  }
  const json = await res.json().catch(() => ({})) as Record<string, unknown>
  if (!res.ok) {
    // Our mistake (400) is a usage error; a delivery failure is an ordinary failure.
    throw new SwarmError(`${res.status} ${String(json.error ?? 'error')}: ${String(json.message ?? res.statusText)}`, res.status === 400 || res.status === 401 ? 2 : 1)
  }
  return json
}

export async function runSend (to: string, type: string, payload: string | undefined, opts: ClientOptions & { priority?: string, timeout?: string, retries?: string, response?: boolean }): Promise<void> {
  const body: Record<string, unknown> = { to, type, payload: parsePayload(payload) }
  if (opts.priority != null) body.priority = opts.priority
  if (opts.timeout != null) body.timeoutMs = Number(opts.timeout)
  if (opts.retries != null) body.maxRetries = Number(opts.retries)
  if (opts.response === true) body.requiresResponse = true
  process.stdout.write(JSON.stringify(await call(opts, '/v1/messages', body)) + '\n')
}

export async function runPublish (topic: string, type: string, payload: string | undefined, opts: ClientOptions & { priority?: string }): Promise<void> {
  const body: Record<string, unknown> = { topic, type, payload: parsePayload(payload) }
  if (opts.priority != null) body.priority = opts.priority
  process.stdout.write(JSON.stringify(await call(opts, '/v1/broadcast', body)) + '\n')
}

/** Prints one JSON line per received message until interrupted. */
export async function runListen (opts: ClientOptions & { types?: string, topics?: string }): Promise<void> {
  const { url, headers } = base(opts)
  const q = new URLSearchParams()
  if (opts.types != null) q.set('types', opts.types)
  if (opts.topics != null) q.set('topics', opts.topics)
  const controller = new AbortController()
  const stop = (): void => { controller.abort() }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  let res: Response
  try {
    res = await fetch(`${url}/v1/events?${q.toString()}`, { headers: { ...headers, accept: 'text/event-stream' }, signal: controller.signal })
  } catch (err) {
    throw new SwarmError(`cannot reach the swarmnet API at ${url} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is 'swarmnet start' running?`, 1)
  }
  if (!res.ok || res.body == null) {
    const json = await res.json().catch(() => ({})) as Record<string, unknown>
    throw new SwarmError(`${res.status} ${String(json.error ?? 'error')}: ${String(json.message ?? res.statusText)}`, res.status === 400 || res.status === 401 ? 2 : 1)
  }
  process.stderr.write(`listening on ${url}; Ctrl-C stops\n`)
  const decoder = new TextDecoder()
  let buf = ''
  try {
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true })
      let i: number
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, i)
        buf = buf.slice(i + 2)
        const data = event.split('\n').filter(l => l.startsWith('data: ')).map(l => l.slice(6)).join('\n')
        if (data !== '') process.stdout.write(data + '\n')
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) throw new SwarmError(`event stream broke: ${(err as Error).message}`, 1)
  }
}
