/**
 * The replicated key-value store over HTTP. Keys are everything after /v1/kv/ (slashes allowed,
 * URL-encoded as needed). Writes and linearizable reads go through the Raft log; a stale read
 * answers from this node's copy.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { SwarmNode } from '../swarm-node.js'
import { KvConflictError, KvInputError, RaftUnavailableError } from '../../protocols/raft/errors.js'

const TIMEOUT = { type: 'string', pattern: '^[0-9]{1,6}$' }

const putSchema = {
  body: {
    type: 'object',
    required: ['value'],
    additionalProperties: false,
    properties: { value: {}, prevVersion: { type: 'integer', minimum: 0 } }
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
    properties: { prevVersion: { type: 'string', pattern: '^[0-9]{1,16}$' }, timeoutMs: TIMEOUT }
  }
}

const timeout = (s?: string): number | undefined => s === undefined ? undefined : Math.max(1, Number(s))

async function kvError (reply: FastifyReply, err: unknown): Promise<void> {
  if (err instanceof KvInputError) return await reply.code(400).send({ error: 'bad_request', message: err.message })
  if (err instanceof KvConflictError) return await reply.code(409).send({ error: 'conflict', message: err.message, key: err.key, version: err.version })
  if (err instanceof RaftUnavailableError) return await reply.code(503).send({ error: 'unavailable', message: err.message, maybeApplied: err.maybeApplied })
  throw err
}

export function kvRoutes (app: FastifyInstance, node: SwarmNode): void {
  app.put<{ Params: { '*': string }, Body: { value: unknown, prevVersion?: number }, Querystring: { timeoutMs?: string } }>('/v1/kv/*', { schema: putSchema }, async (req, reply) => {
    try {
      return await node.kv.put(req.params['*'], req.body.value, { prevVersion: req.body.prevVersion, timeoutMs: timeout(req.query.timeoutMs) })
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

  app.delete<{ Params: { '*': string }, Querystring: { prevVersion?: string, timeoutMs?: string } }>('/v1/kv/*', { schema: deleteSchema }, async (req, reply) => {
    const key = req.params['*']
    try {
      const prevVersion = req.query.prevVersion === undefined ? undefined : Number(req.query.prevVersion)
      const r = await node.kv.delete(key, { prevVersion, timeoutMs: timeout(req.query.timeoutMs) })
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
