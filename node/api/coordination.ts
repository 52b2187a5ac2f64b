/**
 * Leases, fenced locks, barriers and role elections over HTTP (docs/coordination.md). A name is
 * one path segment: percent-encode it (a '/' in a name is %2F). A lock or an office won through
 * these routes is held by this node, whose leases keep it, until a DELETE releases it, until the
 * node dies and its leases expire, or, with `?hold=connection`, until the client's connection
 * closes. A client that goes away while it waits withdraws its request.
 *
 * Reads (lock info, the leader of a role, fence checks) answer from this node's applied state.
 */
import type { ServerResponse } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { SwarmNode } from '../swarm-node.js'
import type { Lease, Leadership, LockHandle } from '../../protocols/coordination/coordinator.js'
import { CoordinationError, DeadlockError, type CoordinationErrorCode } from '../../protocols/coordination/errors.js'
import {
  CoordInputError, MAX_NAME_BYTES, MAX_PARTIES, MAX_TTL_MS, MAX_VALUE_BYTES, MIN_TTL_MS, checkName,
  type LeaderInfo, type LockMode
} from '../../protocols/coordination/core/index.js'
import { RaftUnavailableError } from '../../protocols/raft/errors.js'

/** The longest wait a request may ask for (timeoutMs), ms. */
export const MAX_WAIT_MS = 3_600_000
/** Locks remembered as lost to lease expiry, so that their DELETE answers 410 rather than 404. */
const MAX_LOST = 1024
/** How long closing the API waits for the revocation of what it holds, ms. */
const CLOSE_REVOKE_MS = 1000

const TTL = { type: 'integer', minimum: MIN_TTL_MS, maximum: MAX_TTL_MS }
const WAIT = { type: 'integer', minimum: 1, maximum: MAX_WAIT_MS }
const TOKEN = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER }
const LEASE_ID = { type: 'string', minLength: 1, maxLength: MAX_NAME_BYTES }
const NO_QUERY = { type: 'object', additionalProperties: false, properties: {} }
const HOLD_QUERY = { type: 'object', additionalProperties: false, properties: { hold: { type: 'string', enum: ['node', 'connection'] } } }

const object = (properties: Record<string, unknown>, required: string[] = []): Record<string, unknown> =>
  ({ type: 'object', additionalProperties: false, required, properties })

// POST /v1/locks/:resource and /v1/locks/:resource/check share one route (and so one schema):
// the handler refuses the fields that do not belong to the one called.
const lockPostSchema = {
  body: object({ mode: { type: 'string', enum: ['exclusive', 'shared'] }, ttlMs: TTL, timeoutMs: WAIT, leaseId: LEASE_ID, fencingToken: TOKEN }),
  querystring: HOLD_QUERY
}
const lockGetSchema = { querystring: NO_QUERY }
const lockDeleteSchema = { body: object({ fencingToken: TOKEN, leaseId: LEASE_ID }, ['fencingToken']), querystring: NO_QUERY }
const leasePostSchema = { body: object({ ttlMs: TTL }), querystring: NO_QUERY }
const leaseDeleteSchema = { params: object({ leaseId: LEASE_ID }, ['leaseId']), querystring: NO_QUERY }
const barrierSchema = { body: object({ parties: { type: 'integer', minimum: 1, maximum: MAX_PARTIES }, timeoutMs: WAIT }, ['parties']), querystring: NO_QUERY }
// campaign and proclaim share one route, as the lock routes do.
const electionPostSchema = { body: object({ value: { type: 'string', maxLength: MAX_VALUE_BYTES }, ttlMs: TTL, timeoutMs: WAIT }), querystring: HOLD_QUERY }
const electionGetSchema = { querystring: object({ observe: { type: 'string', enum: ['true', 'false'] } }) }
const electionDeleteSchema = { querystring: NO_QUERY }

interface LockBody { mode?: LockMode, ttlMs?: number, timeoutMs?: number, leaseId?: string, fencingToken?: number }
interface ElectionBody { value?: string, ttlMs?: number, timeoutMs?: number }
type Hold = 'node' | 'connection'

const STATUS: Record<CoordinationErrorCode, number> = {
  timeout: 504,
  deadlock: 409,
  lease_expired: 410,
  already_held: 409,
  already_waiting: 409,
  parties_mismatch: 409,
  not_holder: 409,
  not_leader: 409,
  limit: 429,
  invalid: 400
}

/** The error body (and status) of a coordination failure; null for anything unexpected (500). */
export function coordinationErrorBody (err: unknown): ({ status: number, error: string, message: string } & Record<string, unknown>) | null {
  if (err instanceof DeadlockError) return { status: 409, error: 'deadlock', message: err.message, cycle: err.cycle }
  if (err instanceof CoordinationError) return { status: STATUS[err.code], error: err.code === 'invalid' ? 'bad_request' : err.code, message: err.message }
  if (err instanceof CoordInputError) return { status: 400, error: 'bad_request', message: err.message }
  if (err instanceof RaftUnavailableError) return { status: 503, error: 'unavailable', message: err.message, maybeApplied: err.maybeApplied }
  return null
}

async function coordError (reply: FastifyReply, err: unknown): Promise<void> {
  const e = coordinationErrorBody(err)
  if (e === null) throw err
  if (reply.raw.destroyed) return // the client went away: nobody to answer
  const { status, ...body } = e
  return await reply.code(status).send(body)
}

async function badRequest (reply: FastifyReply, message: string): Promise<void> {
  return await reply.code(400).send({ error: 'bad_request', message })
}

/** The path after `prefix`, split into percent-decoded segments ('a%2Fb/check' is ['a/b', 'check']). */
function segments (req: FastifyRequest, prefix: string): string[] | null {
  const path = (req.raw.url ?? req.url).split('?')[0] ?? ''
  if (!path.startsWith(prefix)) return null
  try {
    return path.slice(prefix.length).split('/').map(s => decodeURIComponent(s))
  } catch {
    throw new CoordInputError('the name is not valid percent-encoding')
  }
}

/** The name in a path `prefix<name>` or `prefix<name>/<action>`; null when the path is neither. */
function target (req: FastifyRequest, prefix: string, what: string, actions: string[]): { name: string, action: string | null } | null {
  const s = segments(req, prefix)
  if (s === null || s.length > 2) return null
  const action = s[1] ?? null
  if (action !== null && !actions.includes(action)) return null
  return { name: checkName(s[0], what), action }
}

async function noRoute (req: FastifyRequest, reply: FastifyReply): Promise<void> {
  return await reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${(req.raw.url ?? req.url).split('?')[0] ?? ''}` })
}

/** The wait left before `deadline` (undefined: the coordinator's default). */
function left (deadline: number | undefined): number | undefined {
  return deadline === undefined ? undefined : Math.max(1, deadline - performance.now())
}

/**
 * Calls `gone` if the client disconnects before the answer is sent (a response closes after
 * its answer too, which is not a disconnect).
 */
function onClientGone (reply: FastifyReply, gone: () => void): void {
  const res = reply.raw
  res.once('close', () => { if (!res.writableEnded) gone() })
}

/**
 * Answers 200 with `first` as the first line of a newline-delimited JSON stream that stays open
 * while the client holds what it got; `gone` runs when the client disconnects. endHold() closes it.
 */
function openHold (reply: FastifyReply, first: unknown, streams: Set<ServerResponse>, gone: () => void): ServerResponse {
  reply.hijack()
  const res = reply.raw
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
  res.write(JSON.stringify(first) + '\n')
  streams.add(res)
  // An empty line every 15 s keeps proxies from closing an idle stream.
  const keepAlive = setInterval(() => { res.write('\n') }, 15_000)
  keepAlive.unref()
  res.on('close', () => {
    clearInterval(keepAlive)
    streams.delete(res)
    if (!res.writableEnded) gone()
  })
  return res
}

function endHold (res: ServerResponse | null, last: Record<string, unknown>): void {
  if (res !== null && !res.writableEnded) res.end(JSON.stringify(last) + '\n')
}

/** A lock this node holds for an API client. `own`: the lease granted for it alone (else an API lease's). */
interface HeldLock { resource: string, handle: LockHandle, own: Lease | null, stream: ServerResponse | null }

/** A candidacy (leadership null) or leadership this node holds for an API client. */
interface Office { role: string, lease: Lease | null, leadership: Leadership | null, withdrawn: boolean, stream: ServerResponse | null }

const lockKey = (resource: string, token: number): string => `${token}\n${resource}`

export function coordinationRoutes (app: FastifyInstance, node: SwarmNode): void {
  // Several holders on this node may share a key: shared locks granted by one entry share a token.
  const held = new Map<string, HeldLock[]>()
  const lost = new Map<string, 'expired' | 'released'>()
  const leases = new Map<string, Lease>()
  const offices = new Map<string, Office>()
  const streams = new Set<ServerResponse>()
  const sse = new Set<ServerResponse>()

  const coord = (): SwarmNode['coordination'] => node.coordination
  const owner = (lease: string): string | null => node.raft.coordination.lease(lease)?.owner ?? null
  const leaderJson = (l: LeaderInfo | null): Record<string, unknown> | null =>
    l === null ? null : { value: l.value, revision: l.revision, lease: l.lease, owner: owner(l.lease) }

  const addHeld = (h: HeldLock): void => {
    const key = lockKey(h.resource, h.handle.fencingToken)
    held.set(key, [...(held.get(key) ?? []), h])
  }
  const removeHeld = (h: HeldLock): boolean => {
    const key = lockKey(h.resource, h.handle.fencingToken)
    const list = held.get(key) ?? []
    if (!list.includes(h)) return false
    const rest = list.filter(x => x !== h)
    if (rest.length === 0) held.delete(key)
    else held.set(key, rest)
    return true
  }
  /** The lease behind a held lock is gone without a DELETE: forget the lock, tell a holding client. */
  const lockLost = (h: HeldLock, reason: 'expired' | 'released'): void => {
    if (!removeHeld(h)) return
    const key = lockKey(h.resource, h.handle.fencingToken)
    lost.set(key, reason)
    if (lost.size > MAX_LOST) lost.delete(lost.keys().next().value as string)
    endHold(h.stream, { event: 'lost', reason })
  }
  const drop = async (h: HeldLock): Promise<void> => {
    if (h.own !== null) await h.own.revoke()
    else await h.handle.release()
  }
  /** Releases a held lock (DELETE, or its holding client went away); forgotten first, so its lease's end is not a loss. */
  const release = async (h: HeldLock): Promise<void> => {
    if (!removeHeld(h)) return
    try {
      await drop(h)
    } catch (err) {
      addHeld(h)
      throw err
    }
    endHold(h.stream, { event: 'released' })
  }
  /** Resigns (or withdraws the candidacy of) an office; forgotten first, as release() does. */
  const resign = async (o: Office): Promise<void> => {
    if (offices.get(o.role) !== o) return
    offices.delete(o.role)
    const was = o.withdrawn
    o.withdrawn = o.leadership === null
    try {
      await o.lease?.revoke()
    } catch (err) {
      o.withdrawn = was
      if (!offices.has(o.role)) offices.set(o.role, o)
      throw err
    }
    endHold(o.stream, { event: 'resigned' })
  }

  app.addHook('preClose', async () => {
    // Open streams would keep close() waiting forever.
    for (const res of [...streams, ...sse]) res.end()
    streams.clear()
    sse.clear()
  })
  app.addHook('onClose', async () => {
    // Release what API clients hold rather than leave it to expire, as far as the cluster answers quickly.
    const all = new Set<Lease>(leases.values())
    for (const list of held.values()) for (const h of list) if (h.own !== null) all.add(h.own)
    for (const o of offices.values()) if (o.lease !== null) all.add(o.lease)
    held.clear()
    offices.clear()
    leases.clear()
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      Promise.allSettled([...all].map(async l => l.revoke())),
      new Promise(resolve => { timer = setTimeout(resolve, CLOSE_REVOKE_MS) })
    ])
    clearTimeout(timer)
  })

  // ---- leases ----------------------------------------------------------------------------

  // A lease for several locks, so that the deadlock detector sees one client's locks together.
  app.post<{ Body: { ttlMs?: number } }>('/v1/leases', { schema: leasePostSchema, preValidation: emptyBody }, async (req, reply) => {
    try {
      const lease = await coord().grantLease(req.body.ttlMs)
      leases.set(lease.id, lease)
      void lease.gone.then(reason => {
        leases.delete(lease.id)
        for (const list of [...held.values()]) for (const h of list) if (h.own === null && h.handle.leaseId === lease.id) lockLost(h, reason)
      })
      return { leaseId: lease.id, ttlMs: lease.ttlMs }
    } catch (err) {
      await coordError(reply, err)
    }
  })

  app.delete<{ Params: { leaseId: string } }>('/v1/leases/:leaseId', { schema: leaseDeleteSchema }, async (req, reply) => {
    const lease = leases.get(req.params.leaseId)
    if (lease === undefined) return await reply.code(404).send({ error: 'not_found', message: `this node's API granted no lease ${JSON.stringify(req.params.leaseId.slice(0, 80))} (or it is gone)` })
    try {
      await lease.revoke()
      leases.delete(lease.id)
      return { revoked: true, leaseId: lease.id }
    } catch (err) {
      await coordError(reply, err)
    }
  })

  // ---- locks -----------------------------------------------------------------------------

  app.post<{ Body: LockBody, Querystring: { hold?: Hold } }>('/v1/locks/*', { schema: lockPostSchema, preValidation: emptyBody }, async (req, reply) => {
    let t: ReturnType<typeof target>
    try {
      t = target(req, '/v1/locks/', 'resource', ['check'])
    } catch (err) {
      return await coordError(reply, err)
    }
    if (t === null) return await noRoute(req, reply)
    const { name: resource } = t
    const body = req.body

    if (t.action === 'check') {
      const extra = Object.keys(body).filter(k => k !== 'fencingToken')
      if (body.fencingToken === undefined) return await badRequest(reply, 'body must have required property \'fencingToken\'')
      if (extra.length > 0 || req.query.hold !== undefined) return await badRequest(reply, `check takes only fencingToken, not ${[...extra, ...(req.query.hold !== undefined ? ['?hold'] : [])].join(', ')}`)
      return { resource, fencingToken: body.fencingToken, valid: coord().checkFence(resource, body.fencingToken) }
    }

    if (body.fencingToken !== undefined) return await badRequest(reply, 'fencingToken belongs to DELETE (release) and /check, not to acquire')
    if (body.leaseId !== undefined && body.ttlMs !== undefined) return await badRequest(reply, 'ttlMs is the lease\'s: give either leaseId or ttlMs')
    const mode = body.mode ?? 'exclusive'
    let shared: Lease | undefined
    if (body.leaseId !== undefined) {
      shared = leases.get(body.leaseId)
      if (shared === undefined) return await reply.code(404).send({ error: 'not_found', message: `this node's API granted no lease ${JSON.stringify(body.leaseId.slice(0, 80))} (or it is gone)` })
    }
    const deadline = body.timeoutMs === undefined ? undefined : performance.now() + body.timeoutMs
    let own: Lease | null = null
    let gone = false
    onClientGone(reply, () => {
      gone = true
      // Withdraws the wait (and releases a grant that raced the disconnect).
      void own?.revoke().catch(() => {})
    })
    let handle: LockHandle
    try {
      if (shared === undefined) {
        own = await coord().grantLease(body.ttlMs, left(deadline))
        if (gone) { void own.revoke().catch(() => {}); return }
      }
      handle = await coord().acquire(resource, { mode, lease: own ?? shared, timeoutMs: left(deadline) })
    } catch (err) {
      void own?.revoke().catch(() => {})
      return await coordError(reply, err)
    }
    const h: HeldLock = { resource, handle, own, stream: null }
    if (gone) {
      void drop(h).catch(() => {})
      return
    }
    addHeld(h)
    if (own !== null) void own.gone.then(reason => { lockLost(h, reason) })
    const grant = { resource, fencingToken: handle.fencingToken, leaseId: handle.leaseId, mode }
    if (req.query.hold !== 'connection') return grant
    h.stream = openHold(reply, grant, streams, () => { void release(h).catch(() => {}) })
  })

  app.get('/v1/locks/*', { schema: lockGetSchema }, async (req, reply) => {
    let t: ReturnType<typeof target>
    try {
      t = target(req, '/v1/locks/', 'resource', [])
    } catch (err) {
      return await coordError(reply, err)
    }
    if (t === null) return await noRoute(req, reply)
    const info = coord().lockInfo(t.name)
    return {
      resource: t.name,
      holders: info.holders.map(h => ({ lease: h.lease, owner: owner(h.lease), mode: h.mode, fencingToken: h.fencingToken })),
      queue: info.queue.map(w => ({ lease: w.lease, owner: owner(w.lease), mode: w.mode }))
    }
  })

  app.delete<{ Body: { fencingToken: number, leaseId?: string } }>('/v1/locks/*', { schema: lockDeleteSchema }, async (req, reply) => {
    let t: ReturnType<typeof target>
    try {
      t = target(req, '/v1/locks/', 'resource', [])
    } catch (err) {
      return await coordError(reply, err)
    }
    if (t === null) return await noRoute(req, reply)
    const { name: resource } = t
    const { fencingToken, leaseId } = req.body
    const key = lockKey(resource, fencingToken)
    const h = (held.get(key) ?? []).find(x => leaseId === undefined || x.handle.leaseId === leaseId)
    if (h === undefined) {
      if (lost.get(key) === 'expired') {
        return await reply.code(410).send({ error: 'lease_expired', message: `the lease behind lock ${JSON.stringify(resource.slice(0, 80))} token ${fencingToken} expired before this release`, resource, fencingToken })
      }
      return await reply.code(404).send({ error: 'not_found', message: `this node holds no lock on ${JSON.stringify(resource.slice(0, 80))} with fencing token ${fencingToken} for an API client`, resource, fencingToken })
    }
    try {
      await release(h)
      return { released: true, resource, fencingToken, leaseId: h.handle.leaseId }
    } catch (err) {
      await coordError(reply, err)
    }
  })

  // ---- barriers --------------------------------------------------------------------------

  app.post<{ Body: { parties: number, timeoutMs?: number } }>('/v1/barriers/*', { schema: barrierSchema }, async (req, reply) => {
    let t: ReturnType<typeof target>
    try {
      t = target(req, '/v1/barriers/', 'name', ['wait'])
    } catch (err) {
      return await coordError(reply, err)
    }
    if (t?.action !== 'wait') return await noRoute(req, reply)
    const { name } = t
    const { parties, timeoutMs } = req.body
    const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs
    // Each wait has a lease of its own: a client that goes away is withdrawn by revoking it,
    // rather than counted as a party that arrived.
    let lease: Lease | null = null
    let gone = false
    onClientGone(reply, () => {
      gone = true
      void lease?.revoke().catch(() => {})
    })
    try {
      lease = await coord().grantLease(undefined, left(deadline))
      if (gone) return
      const { generation } = await coord().barrier(name, parties).wait({ timeoutMs: left(deadline), lease })
      return { name, generation, parties }
    } catch (err) {
      await coordError(reply, err)
    } finally {
      void lease?.revoke().catch(() => {})
    }
  })

  // ---- elections -------------------------------------------------------------------------

  app.post<{ Body: ElectionBody, Querystring: { hold?: Hold } }>('/v1/elections/*', { schema: electionPostSchema, preValidation: emptyBody }, async (req, reply) => {
    let t: ReturnType<typeof target>
    try {
      t = target(req, '/v1/elections/', 'role', ['campaign', 'proclaim'])
    } catch (err) {
      return await coordError(reply, err)
    }
    if (t === null || t.action === null) return await noRoute(req, reply)
    const { name: role } = t
    const body = req.body
    const office = offices.get(role)

    if (t.action === 'proclaim') {
      if (body.value === undefined) return await badRequest(reply, 'body must have required property \'value\'')
      if (body.ttlMs !== undefined || body.timeoutMs !== undefined || req.query.hold !== undefined) return await badRequest(reply, 'proclaim takes only value')
      if (office === undefined) return await reply.code(404).send({ error: 'not_found', message: `this node holds no candidacy for ${JSON.stringify(role.slice(0, 80))} for an API client`, role })
      if (office.leadership === null) return await reply.code(409).send({ error: 'not_leader', message: `this node's candidate for ${JSON.stringify(role.slice(0, 80))} is not the leader yet`, role })
      try {
        await office.leadership.proclaim(body.value)
        return { role, value: body.value }
      } catch (err) {
        return await coordError(reply, err)
      }
    }

    if (office !== undefined) {
      const code = office.leadership !== null ? 'already_held' : 'already_waiting'
      return await reply.code(409).send({ error: code, message: `this node already ${office.leadership !== null ? 'leads' : 'campaigns for'} ${JSON.stringify(role.slice(0, 80))} for an API client (DELETE /v1/elections/… first)`, role })
    }
    const value = body.value ?? node.peerId.toString()
    const deadline = body.timeoutMs === undefined ? undefined : performance.now() + body.timeoutMs
    const o: Office = { role, lease: null, leadership: null, withdrawn: false, stream: null }
    offices.set(role, o)
    const drop = (): void => { if (offices.get(role) === o) offices.delete(role) }
    let gone = false
    onClientGone(reply, () => {
      gone = true
      drop()
      void o.lease?.revoke().catch(() => {})
    })
    try {
      const lease = o.lease = await coord().grantLease(body.ttlMs, left(deadline))
      if (gone || o.withdrawn) throw new CoordinationError('lease_expired', 'withdrawn')
      void lease.gone.then(reason => {
        if (offices.get(role) !== o) return
        offices.delete(role)
        endHold(o.stream, { event: 'lost', reason })
      })
      o.leadership = await coord().campaign(role, value, { lease, timeoutMs: left(deadline) })
      if (gone) throw new CoordinationError('lease_expired', 'withdrawn')
    } catch (err) {
      drop()
      void o.lease?.revoke().catch(() => {})
      if (o.withdrawn) return await reply.code(409).send({ error: 'withdrawn', message: `the campaign for ${JSON.stringify(role.slice(0, 80))} was withdrawn by DELETE /v1/elections/…`, role })
      return await coordError(reply, err)
    }
    const elected = { role, value, leaseId: o.leadership.leaseId, revision: o.leadership.revision }
    if (req.query.hold !== 'connection') return elected
    o.stream = openHold(reply, elected, streams, () => { void resign(o).catch(() => {}) })
  })

  app.get<{ Querystring: { observe?: 'true' | 'false' } }>('/v1/elections/*', { schema: electionGetSchema }, async (req, reply) => {
    let t: ReturnType<typeof target>
    try {
      t = target(req, '/v1/elections/', 'role', [])
    } catch (err) {
      return await coordError(reply, err)
    }
    if (t === null) return await noRoute(req, reply)
    const { name: role } = t
    const stream = req.query.observe === 'true' || (req.query.observe === undefined && (req.headers.accept ?? '').includes('text/event-stream'))
    if (!stream) return { role, leader: leaderJson(coord().leader(role)) }

    // One `leader` event now and one on every change of the leader or its value, until the client goes.
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    res.write(': connected\n\n')
    sse.add(res)
    const unsubscribe = coord().observe(role, l => {
      res.write(`event: leader\ndata: ${JSON.stringify({ role, leader: leaderJson(l) })}\n\n`)
    })
    const keepAlive = setInterval(() => { res.write(': keep-alive\n\n') }, 15_000)
    keepAlive.unref()
    res.on('close', () => {
      clearInterval(keepAlive)
      unsubscribe()
      sse.delete(res)
    })
  })

  app.delete('/v1/elections/*', { schema: electionDeleteSchema }, async (req, reply) => {
    let t: ReturnType<typeof target>
    try {
      t = target(req, '/v1/elections/', 'role', [])
    } catch (err) {
      return await coordError(reply, err)
    }
    if (t === null) return await noRoute(req, reply)
    const { name: role } = t
    const o = offices.get(role)
    if (o === undefined) return await reply.code(404).send({ error: 'not_found', message: `this node holds no candidacy for ${JSON.stringify(role.slice(0, 80))} for an API client`, role })
    const was = o.leadership !== null ? 'leader' : 'candidate'
    try {
      await resign(o)
      return { resigned: true, role, was }
    } catch (err) {
      await coordError(reply, err)
    }
  })
}

/** Lets a client POST without a body to a route whose body fields are all optional. */
async function emptyBody (req: FastifyRequest): Promise<void> {
  if (req.body === undefined || req.body === null) req.body = {}
}
