/**
 * Messaging over HTTP, for agents in any language: send acknowledged direct messages,
 * broadcast, multicast, and follow received messages as Server-Sent Events.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { SwarmNode } from '../swarm-node.js'
import { TimeoutError, UnreachableError, RejectedError, CircuitOpenError, MessagingError } from '../../protocols/direct/errors.js'
import { BroadcastError, TOPIC_PATTERN } from '../../protocols/broadcast/service.js'
import { EnvelopeError } from '../../protocols/envelope/errors.js'
import { PRIORITIES, type SwarmMessage } from '../../protocols/envelope/types.js'
import type { BusEvent } from '../../protocols/events/bus.js'

const TYPE = { type: 'string', pattern: '^[A-Za-z0-9_.:/-]{1,64}$' }
/** Protocol traffic that rides on broadcast (CRDT deltas): shown only when asked for by type. */
const INTERNAL_TYPES = new Set(['crdt_delta'])
const messageFields = {
  type: TYPE,
  payload: {},
  priority: { type: 'string', enum: [...PRIORITIES] },
  timeoutMs: { type: 'integer', minimum: 1, maximum: 86_400_000 },
  maxRetries: { type: 'integer', minimum: 0, maximum: 100 },
  correlationId: { type: 'string', maxLength: 128 }
}

const sendSchema = {
  body: {
    type: 'object',
    required: ['to', 'type'],
    additionalProperties: false,
    properties: { to: { type: 'string', minLength: 1, maxLength: 128 }, requiresResponse: { type: 'boolean' }, ...messageFields }
  }
}
const broadcastSchema = {
  body: {
    type: 'object',
    required: ['topic', 'type'],
    additionalProperties: false,
    properties: { topic: { type: 'string', pattern: TOPIC_PATTERN.source }, ...messageFields }
  }
}
const multicastSchema = {
  body: {
    type: 'object',
    required: ['to', 'type'],
    additionalProperties: false,
    properties: { to: { type: 'array', minItems: 1, maxItems: 1024, items: { type: 'string', minLength: 1, maxLength: 128 } }, ...messageFields }
  }
}

interface MessageBody {
  type: string
  payload?: unknown
  priority?: typeof PRIORITIES[number]
  timeoutMs?: number
  maxRetries?: number
  correlationId?: string
  requiresResponse?: boolean
}

/** The JSON shape of a message for HTTP clients: JSON payloads inline, others base64. */
export function messageJson (m: SwarmMessage, topic?: string): Record<string, unknown> {
  const json = m.contentType === 'application/json'
  let payload: unknown = null
  if (m.payload.length > 0) {
    try {
      payload = json ? JSON.parse(new TextDecoder().decode(m.payload)) : Buffer.from(m.payload).toString('base64')
    } catch {
      payload = Buffer.from(m.payload).toString('base64')
    }
  }
  return {
    messageId: m.messageId,
    type: m.type,
    from: m.sourceAgent,
    topic: topic ?? m.topic,
    payload,
    contentType: m.contentType,
    priority: m.priority,
    correlationId: m.correlationId,
    timestamp: m.timestamp
  }
}

async function sendError (reply: FastifyReply, err: unknown): Promise<void> {
  if (err instanceof TimeoutError) return await reply.code(504).send({ error: 'timeout', message: err.message })
  if (err instanceof UnreachableError) return await reply.code(404).send({ error: 'unreachable', message: err.message })
  if (err instanceof CircuitOpenError) return await reply.code(503).header('retry-after', Math.ceil(err.retryAfterMs / 1000)).send({ error: 'circuit_open', message: err.message, retryAfterMs: err.retryAfterMs })
  if (err instanceof RejectedError) {
    const status = err.reason === 'queue_full' ? 503 : err.reason.startsWith('invalid message') ? 400 : 422
    return await reply.code(status).send({ error: 'rejected', reason: err.reason, message: err.message })
  }
  if (err instanceof EnvelopeError || err instanceof BroadcastError) return await reply.code(400).send({ error: 'invalid_message', message: err.message })
  throw err
}

export function messagingRoutes (app: FastifyInstance, node: SwarmNode): void {
  const sse = new Set<FastifyReply>()
  app.addHook('preClose', async () => {
    // Open event streams would keep close() waiting forever.
    for (const reply of sse) reply.raw.end()
    sse.clear()
  })

  app.post<{ Body: MessageBody & { to: string } }>('/v1/messages', { schema: sendSchema }, async (req, reply) => {
    const { to, ...message } = req.body
    try {
      const r = await node.send(to, message)
      return { messageId: r.messageId, acked: true, latencyMs: r.latencyMs, attempts: r.attempts, response: r.response != null ? messageJson(r.response) : undefined }
    } catch (err) {
      await sendError(reply, err)
    }
  })

  app.post<{ Body: MessageBody & { topic: string } }>('/v1/broadcast', { schema: broadcastSchema }, async (req, reply) => {
    const { topic, ...message } = req.body
    try {
      return await node.broadcast(topic, message)
    } catch (err) {
      await sendError(reply, err)
    }
  })

  app.post<{ Body: MessageBody & { to: string[] } }>('/v1/multicast', { schema: multicastSchema }, async (req, reply) => {
    const { to, ...message } = req.body
    try {
      const results = await node.multicast(to, message)
      return {
        results: results.map(r => r.ok
          ? { peerId: r.peerId, ok: true, messageId: r.result.messageId, latencyMs: r.result.latencyMs }
          : { peerId: r.peerId, ok: false, error: r.code, message: r.error })
      }
    } catch (err) {
      await sendError(reply, err)
    }
  })

  app.get<{ Querystring: { types?: string, topics?: string } }>('/v1/events', {
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { types: { type: 'string', maxLength: 4096 }, topics: { type: 'string', maxLength: 4096 } }
      }
    }
  }, async (req, reply) => {
    const list = (s?: string): string[] => (s ?? '').split(',').map(x => x.trim()).filter(x => x !== '')
    const types = new Set(list(req.query.types))
    const topics = list(req.query.topics)
    for (const t of topics) {
      if (!TOPIC_PATTERN.test(t)) return await reply.code(400).send({ error: 'bad_request', message: `topics: ${JSON.stringify(t)} is not a valid topic` })
    }
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    res.write(': connected\n\n')
    sse.add(reply)
    const unsubscribe = [
      node.events.on('*', (e: BusEvent) => {
        if (e.channel === 'local' || (types.size > 0 ? !types.has(e.message.type) : INTERNAL_TYPES.has(e.message.type))) return
        res.write(`event: message\ndata: ${JSON.stringify(messageJson(e.message, e.topic))}\n\n`)
      }),
      ...topics.map(t => node.subscribe(t))
    ]
    // A comment every 15 s keeps proxies from closing an idle stream.
    const keepAlive = setInterval(() => { res.write(': keep-alive\n\n') }, 15_000)
    keepAlive.unref()
    res.on('close', () => {
      clearInterval(keepAlive)
      for (const u of unsubscribe) u()
      sse.delete(reply)
    })
  })
}

export { MessagingError }
