/**
 * Cluster administration over HTTP: membership (`/v1/raft/members`) and leadership transfer
 * (`/v1/raft/transfer`). Any member may be asked; the leader carries the change out.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { SwarmNode } from '../swarm-node.js'
import { RaftUnavailableError } from '../../protocols/raft/errors.js'
import { RaftMembershipError } from '../../protocols/raft/service.js'

const PEER = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[1-9A-HJ-NP-Za-km-z]+$' }
const TIMEOUT = { type: 'integer', minimum: 1, maximum: 600_000 }

async function adminError (reply: FastifyReply, err: unknown): Promise<void> {
  if (err instanceof RaftMembershipError) return await reply.code(409).send({ error: 'conflict', message: err.message })
  if (err instanceof RaftUnavailableError) return await reply.code(503).send({ error: 'unavailable', message: err.message, maybeApplied: err.maybeApplied })
  throw err
}

export function raftAdminRoutes (app: FastifyInstance, node: SwarmNode): void {
  app.get('/v1/raft/members', async () => ({ members: node.raft.members() }))

  app.post<{ Body: { peerId: string, role: 'voter' | 'learner', timeoutMs?: number } }>('/v1/raft/members', {
    schema: { body: { type: 'object', required: ['peerId', 'role'], additionalProperties: false, properties: { peerId: PEER, role: { type: 'string', enum: ['voter', 'learner'] }, timeoutMs: TIMEOUT } } }
  }, async (req, reply) => {
    try {
      return { members: await node.raft.setMember(req.body.peerId, req.body.role, req.body.timeoutMs) }
    } catch (err) {
      await adminError(reply, err)
    }
  })

  app.delete<{ Params: { peerId: string }, Querystring: { timeoutMs?: number } }>('/v1/raft/members/:peerId', {
    schema: { params: { type: 'object', properties: { peerId: PEER } }, querystring: { type: 'object', additionalProperties: false, properties: { timeoutMs: TIMEOUT } } }
  }, async (req, reply) => {
    try {
      return { members: await node.raft.setMember(req.params.peerId, 'removed', req.query.timeoutMs) }
    } catch (err) {
      await adminError(reply, err)
    }
  })

  app.post<{ Body: { to?: string, timeoutMs?: number } | null }>('/v1/raft/transfer', {
    schema: { body: { type: ['object', 'null'], additionalProperties: false, properties: { to: PEER, timeoutMs: TIMEOUT } } }
  }, async (req, reply) => {
    try {
      return await node.raft.transferLeadership(req.body?.to, req.body?.timeoutMs)
    } catch (err) {
      await adminError(reply, err)
    }
  })
}
