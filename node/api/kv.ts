/**
 * The replicated key-value store over HTTP. Keys are everything after /v1/kv/ (slashes allowed,
 * URL-encoded as needed). Writes and linearizable reads go through the Raft log; a stale read
 * answers from this node's copy. A write may carry a fence (a lock's fencing token): it applies
 * only while that token still holds the lock, else 409 'fenced' (docs/coordination.md).
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { SwarmNode } from '../swarm-node.js'
import { KvConflictError, KvFencedError, KvInputError, RaftUnavailableError } from '../../protocols/raft/errors.js'
import type { Fence } from '../../protocols/raft/kv.js'

const TIMEOUT = { type: 'string', pattern: '^[0-9]{1,6}$' }
const FENCE = {
  type: 'object',
  required: ['resource', 'token'],
  additionalProperties: false,
  properties: { resource: { type: 'string', minLength: 1, maxLength: 256 }, token: { type: 'integer', minimum: 1 } }
}

const putSchema = {
  body: {
    type: 'object',
    required: ['value'],
    additionalProperties: false,
    properties: { value: {}, prevVersion: { type: 'integer', minimum: 0 }, fence: FENCE }
  },
  querystring: { type: 'object', additionalProperties: false, properties: { timeoutMs: TIMEOUT } }
}
const getSchema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { consistency: { type: 'string', enum: ['linearizable', 'stale'] }, timeoutMs: TIMEOUT }
  }
}
const deleteSchema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      prevVersion: { type: 'string', pattern: '^[0-9]{1,16}$' },
      timeoutMs: TIMEOUT,
      // A DELETE has no body: its fence is these two, given together.
      fenceResource: { type: 'string', minLength: 1, maxLength: 256 },
      fenceToken: { type: 'string', pattern: '^[1-9][0-9]{0,15}$' }
    }
  }
}

/** Most operations one POST /v1/kv may carry. */
export const MAX_BATCH_OPS = 1000

const batchSchema = {
  body: {
    type: 'object',
    required: ['ops'],
    additionalProperties: false,
    properties: {
      ops: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_BATCH_OPS,
        items: {
          type: 'object',
          required: ['op', 'key'],
          additionalProperties: false,
          properties: {
            op: { type: 'string', enum: ['put', 'get', 'del'] },
            key: { type: 'string' },
            value: {},
            prevVersion: { type: 'integer', minimum: 0 },
            fence: FENCE,
            consistency: { type: 'string', enum: ['linearizable', 'stale'] }
          }
        }
      }
    }
  },
  querystring: { type: 'object', additionalProperties: false, properties: { timeoutMs: TIMEOUT } }
}

export interface BatchOp { op: 'put' | 'get' | 'del', key: string, value?: unknown, prevVersion?: number, fence?: Fence, consistency?: 'linearizable' | 'stale' }

/** One batch result: the body the single-key route would answer, plus its status code. */
export type BatchResult = Record<string, unknown> & { status: number }

/** The single-key routes' error bodies, as a batch result; unknown errors become 500. */
function errorResult (err: unknown): BatchResult {
  if (err instanceof KvInputError) return { status: 400, error: 'bad_request', message: err.message }
  if (err instanceof KvConflictError) return { status: 409, error: 'conflict', message: err.message, key: err.key, version: err.version }
  if (err instanceof KvFencedError) return { status: 409, error: 'fenced', message: err.message, key: err.key, resource: err.resource, token: err.token }
  if (err instanceof RaftUnavailableError) return { status: 503, error: 'unavailable', message: err.message, maybeApplied: err.maybeApplied }
  return { status: 500, error: 'internal', message: (err as Error).message }
}

const notFound = (key: string): BatchResult => ({ status: 404, error: 'not_found', message: `no key ${JSON.stringify(key.slice(0, 200))}`, key })

async function runOp (node: SwarmNode, o: BatchOp, timeoutMs: number | undefined): Promise<BatchResult> {
  try {
    if (o.op === 'put') {
      if (!('value' in o)) return { status: 400, error: 'bad_request', message: 'put needs a value' }
      return { status: 200, ...await node.kv.put(o.key, o.value, { prevVersion: o.prevVersion, fence: o.fence, timeoutMs }) }
    }
    if (o.op === 'del') {
      const r = await node.kv.delete(o.key, { prevVersion: o.prevVersion, fence: o.fence, timeoutMs })
      return r.deleted ? { status: 200, ...r } : { ...notFound(o.key), index: r.index }
    }
    if (o.fence !== undefined) return { status: 400, error: 'bad_request', message: 'a fence applies to put and del, not to get' }
    const r = await node.kv.get(o.key, { consistency: o.consistency, timeoutMs })
    return r === null ? notFound(o.key) : { status: 200, ...r }
  } catch (err) {
    return errorResult(err)
  }
}

const timeout = (s?: string): number | undefined => s === undefined ? undefined : Math.max(1, Number(s))

async function kvError (reply: FastifyReply, err: unknown): Promise<void> {
  const { status, ...body } = errorResult(err)
  if (status === 500) throw err
  return await reply.code(status).send(body)
}

export function kvRoutes (app: FastifyInstance, node: SwarmNode): void {
  // Every answer names the leader as this node knows it, so a client that follows the leader
  // moves as soon as leadership does (a write forwarded through the old leader says so).
  const raft = node.messaging?.raft
  if (raft != null) {
    app.addHook('onSend', async (_req, reply) => {
      reply.header('x-swarmnet-leader', raft.leaderId() ?? '')
    })
  }
  // Several independent operations in one request, each its own log entry with its own result,
  // in order (not a transaction): what a client with many calls in flight sends to save a round
  // trip and an HTTP exchange per call. Proposed together, they share appends and fsyncs.
  app.post<{ Body: { ops: BatchOp[] }, Querystring: { timeoutMs?: string } }>('/v1/kv', { schema: batchSchema }, async (req) => {
    const t = timeout(req.query.timeoutMs)
    return { results: await Promise.all(req.body.ops.map(async o => runOp(node, o, t))) }
  })

  app.put<{ Params: { '*': string }, Body: { value: unknown, prevVersion?: number, fence?: Fence }, Querystring: { timeoutMs?: string } }>('/v1/kv/*', { schema: putSchema }, async (req, reply) => {
    try {
      return await node.kv.put(req.params['*'], req.body.value, { prevVersion: req.body.prevVersion, fence: req.body.fence, timeoutMs: timeout(req.query.timeoutMs) })
    } catch (err) {
      await kvError(reply, err)
    }
  })

  app.get<{ Params: { '*': string }, Querystring: { consistency?: 'linearizable' | 'stale', timeoutMs?: string } }>('/v1/kv/*', { schema: getSchema }, async (req, reply) => {
    const key = req.params['*']
    try {
      const r = await node.kv.get(key, { consistency: req.query.consistency, timeoutMs: timeout(req.query.timeoutMs) })
      if (r === null) return await reply.code(404).send({ error: 'not_found', message: `no key ${JSON.stringify(key.slice(0, 200))}`, key })
      return r
    } catch (err) {
      await kvError(reply, err)
    }
  })

  app.delete<{ Params: { '*': string }, Querystring: { prevVersion?: string, timeoutMs?: string, fenceResource?: string, fenceToken?: string } }>('/v1/kv/*', { schema: deleteSchema }, async (req, reply) => {
    const key = req.params['*']
    const { fenceResource, fenceToken } = req.query
    if ((fenceResource === undefined) !== (fenceToken === undefined)) {
      return await reply.code(400).send({ error: 'bad_request', message: 'fenceResource and fenceToken go together' })
    }
    const fence = fenceResource === undefined ? undefined : { resource: fenceResource, token: Number(fenceToken) }
    try {
      const prevVersion = req.query.prevVersion === undefined ? undefined : Number(req.query.prevVersion)
      const r = await node.kv.delete(key, { prevVersion, fence, timeoutMs: timeout(req.query.timeoutMs) })
      if (!r.deleted) return await reply.code(404).send({ error: 'not_found', message: `no key ${JSON.stringify(key.slice(0, 200))}`, key, index: r.index })
      return r
    } catch (err) {
      await kvError(reply, err)
    }
  })

  app.get('/v1/leader', async () => {
    const st = node.raft.status()
    const { leader, term, self } = node.raft.leader()
    return { leader, term, self, role: st.role, cluster: st.cluster, formation: st.formation.state }
  })
}
