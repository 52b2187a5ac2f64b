/**
 * The node's local HTTP API (fastify). It listens on loopback unless told otherwise; when it is
 * given a token, every request must carry `Authorization: Bearer <token>`.
 */
import { timingSafeEqual, createHash } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import type { ApiAddress } from '../config.js'
import { ListenError, describeSystemError } from '../errors.js'
import type { SwarmNode } from '../swarm-node.js'
import { messagingRoutes } from './messaging.js'
import { kvRoutes } from './kv.js'
import { coordinationRoutes } from './coordination.js'
import { raftAdminRoutes } from './raft.js'
import { stateRoutes } from './state.js'
import { precompiledValidators } from './validators.js'

export interface ApiServer {
  url: string
  /** From now on every answer closes its connection (the node is stopping; clients go elsewhere). */
  stopping: () => void
  close: () => Promise<void>
}

/** Each protocol adds its routes through one of these; the node registers them all. */
export type RouteRegistrar = (app: FastifyInstance, node: SwarmNode) => void

const statusSchema = {
  response: {
    200: {
      type: 'object',
      required: ['peerId', 'name', 'role', 'capabilities', 'addrs', 'peers', 'uptimeMs', 'version'],
      // Protocols add their own sections (direct, raft, agents, ...): keep whatever they add.
      additionalProperties: true,
      properties: {
        peerId: { type: 'string' },
        name: { type: 'string' },
        role: { type: 'string' },
        capabilities: { type: 'array', items: { type: 'string' } },
        addrs: { type: 'array', items: { type: 'string' } },
        peers: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              peerId: { type: 'string' },
              addrs: { type: 'array', items: { type: 'string' } },
              latencyMs: { type: ['number', 'null'] }
            }
          }
        },
        raft: { type: 'object', additionalProperties: true },
        agents: { type: 'array', items: { type: 'object', additionalProperties: true } },
        direct: { type: 'array', items: { type: 'object', additionalProperties: true } },
        uptimeMs: { type: 'number' },
        version: { type: 'string' }
      }
    }
  }
}

/** How long stopping the API waits for requests in flight before cutting their connections. */
const DRAIN_MS = 2000
/** Closing waits until no request has come for this long (at most DRAIN_MS), see close(). */
const QUIET_MS = 40

function digest (s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

/**
 * Builds the fastify app without listening (tests use `inject`). `buildValidator`: how route
 * schemas become validators (default: the ones compiled at build time, see validators.ts).
 */
export function buildApi (node: SwarmNode, token?: string, extraRoutes: RouteRegistrar[] = [], buildValidator = precompiledValidators()): FastifyInstance {
  // forceCloseConnections 'idle': on close, idle keep-alive connections go at once and requests in
  // flight finish (a write forwarded to a new leader still gets its answer); new requests get 503.
  // Event streams end in preClose hooks; whatever still runs after DRAIN_MS is cut (see close).
  // Strict schemas: no silently dropped fields, no coercion of a number into a string. The
  // schemas are not checked against the JSON Schema meta-schema at startup (validateSchema): that
  // compiled the meta-schema first, ~70 ms of CPU at every start; the tests exercise every route.
  const app = Fastify({
    logger: false,
    bodyLimit: 2 * 1024 * 1024,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, validateSchema: false } },
    schemaController: { compilersFactory: { buildValidator } }
  })
  const expected = token != null ? digest(token) : undefined

  app.addHook('onRequest', async (req, reply) => {
    if (expected == null) return
    const header = req.headers.authorization ?? ''
    const m = /^Bearer (.+)$/.exec(header)
    // Compare digests so the check takes the same time whatever the length of the guess.
    if (m == null || !timingSafeEqual(digest(m[1] as string), expected)) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'missing or wrong bearer token' })
    }
  })

  app.setNotFoundHandler(async (req, reply) => {
    await reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` })
  })

  app.setErrorHandler(async (err: { statusCode?: number, code?: string, message: string, validation?: unknown }, _req, reply) => {
    const status = err.statusCode ?? 500
    if (status >= 500) node.log.error({ err }, 'api request failed')
    // Schema errors read like "body/priority must be equal to one of the allowed values".
    const error = err.validation != null ? 'invalid_body' : status >= 500 ? 'internal' : 'bad_request'
    await reply.code(status).send({ error, message: err.message })
  })

  app.get('/health', async () => ({ ok: true }))
  app.get('/v1/status', { schema: statusSchema }, async () => node.status())
  app.get('/metrics', async (_req, reply) => {
    node.status() // refreshes gauges derived from live state
    const text = await node.metrics.registry.metrics()
    await reply.header('content-type', node.metrics.registry.contentType).send(text)
  })

  if (node.messaging != null) messagingRoutes(app, node)
  if (node.messaging?.raft != null) {
    kvRoutes(app, node)
    coordinationRoutes(app, node)
    raftAdminRoutes(app, node)
  }
  if (node.messaging?.crdt != null) stateRoutes(app, node)
  for (const register of extraRoutes) register(app, node)
  return app
}

export async function startApi (node: SwarmNode, address: ApiAddress, token?: string, routes: RouteRegistrar[] = []): Promise<ApiServer> {
  const app = buildApi(node, token, routes)
  try {
    await app.listen({ host: address.host, port: address.port })
  } catch (err) {
    await app.close().catch(() => {})
    throw new ListenError('the HTTP API', `${address.host}:${address.port}`, describeSystemError(err))
  }
  const bound = app.server.address() as AddressInfo
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address
  let lastRequest = 0
  let draining = false
  app.server.on('request', (_req, res) => {
    lastRequest = performance.now()
    // Node then ends the connection after this answer, cleanly: the client opens a new one.
    if (draining && !res.headersSent) res.setHeader('connection', 'close')
  })
  return {
    url: `http://${host}:${bound.port}`,
    stopping: () => { draining = true },
    close: async () => {
      draining = true
      // Closing cuts idle keep-alive connections, and a request a busy client just sent on one,
      // not yet read here, is cut with it: ECONNRESET, and the client cannot tell whether it ran.
      // So wait until requests stop coming (clients follow x-swarmnet-leader or reconnect
      // elsewhere; every answer meanwhile closed its connection), then close.
      const quietBy = performance.now() + DRAIN_MS
      while (performance.now() - lastRequest < QUIET_MS && performance.now() < quietBy) {
        await new Promise(resolve => setTimeout(resolve, QUIET_MS / 4))
      }
      const cut = setTimeout(() => { app.server.closeAllConnections() }, DRAIN_MS)
      try {
        await app.close()
      } finally {
        clearTimeout(cut)
      }
    }
  }
}
