/**
 * Shared state over HTTP: read a document as JSON, change it with a list of operations, follow
 * its changes as Server-Sent Events, and list the swarm's agents.
 *
 *   PATCH /v1/state/portfolio
 *   { "ops": [ { "op": "set", "path": "prices/ETH", "value": 3012.5 },
 *              { "op": "increment", "path": "trades", "by": 1 },
 *              { "op": "add", "path": "watchlist", "value": "ETH" } ] }
 *
 * `set` and `delete` address a map key (`<map>/<key>`; the key is everything after the first
 * slash); `increment` a counter, `add` and `remove` a set (`<name>`). All operations of one
 * request are checked first and applied as one change, or none is.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { SwarmNode } from '../swarm-node.js'
import { CrdtError } from '../../protocols/crdt/core/errors.js'
import { checkKey, checkName, elementKey, toJsonValue, NAME_PATTERN, type SharedDoc, type SetElement } from '../../protocols/crdt/core/doc.js'

export const MAX_OPS = 1000
const OPS = ['set', 'delete', 'increment', 'add', 'remove'] as const

interface OpBody { op: typeof OPS[number], path: string, value?: unknown, by?: number }

const docParams = {
  type: 'object',
  required: ['doc'],
  properties: { doc: { type: 'string', pattern: NAME_PATTERN.source } }
}

const patchSchema = {
  params: docParams,
  body: {
    type: 'object',
    required: ['ops'],
    additionalProperties: false,
    properties: {
      ops: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_OPS,
        items: {
          type: 'object',
          required: ['op', 'path'],
          additionalProperties: false,
          properties: {
            op: { type: 'string', enum: [...OPS] },
            path: { type: 'string', minLength: 1, maxLength: 2048 },
            value: {},
            by: { type: 'number' }
          }
        }
      }
    }
  }
}

class InvalidOperation extends Error {}

/** Checks one operation completely and returns what applies it; throws InvalidOperation. */
function compile (doc: SharedDoc, op: OpBody, i: number): () => void {
  const fail = (msg: string): never => { throw new InvalidOperation(`ops[${i}] (${op.op} ${JSON.stringify(op.path.slice(0, 80))}): ${msg}`) }
  try {
    if (op.op === 'set' || op.op === 'delete') {
      const at = op.path.indexOf('/')
      if (at <= 0 || at === op.path.length - 1) fail('the path is <map>/<key>')
      const map = checkName('map name', op.path.slice(0, at))
      const key = checkKey(op.path.slice(at + 1))
      if (op.by !== undefined) fail('"by" belongs to increment')
      if (op.op === 'delete') {
        if (op.value !== undefined) fail('delete takes no value')
        return () => { doc.map(map).delete(key) }
      }
      if (op.value === undefined) fail('set needs a value')
      const value = toJsonValue(op.value)
      return () => { doc.map(map).set(key, value) }
    }
    const name = checkName(`${op.op === 'increment' ? 'counter' : 'set'} name`, op.path)
    if (op.op === 'increment') {
      if (op.value !== undefined) fail('increment takes "by", not "value"')
      const by = op.by ?? 1
      if (!Number.isSafeInteger(by) || by === 0 || Math.abs(by) > 2 ** 40) fail('"by" must be a non-zero integer of magnitude at most 2^40')
      return () => { doc.counter(name).increment(by) }
    }
    if (op.by !== undefined) fail('"by" belongs to increment')
    elementKey(op.value)
    const element = op.value as SetElement
    return op.op === 'add' ? () => { doc.set(name).add(element) } : () => { doc.set(name).remove(element) }
  } catch (err) {
    if (err instanceof CrdtError) fail(err.message)
    throw err
  }
}

function docJson (doc: SharedDoc): Record<string, unknown> {
  const d = doc.digest()
  return { doc: doc.name, version: d.version, hash: Buffer.from(d.hash).toString('hex'), ...doc.toJSON() }
}

export function stateRoutes (app: FastifyInstance, node: SwarmNode): void {
  const sse = new Set<FastifyReply>()
  app.addHook('preClose', async () => {
    for (const reply of sse) reply.raw.end()
    sse.clear()
  })

  app.get('/v1/state', async () => ({
    docs: node.state.names().map(name => ({ name, version: node.state.get(name)!.version }))
  }))

  app.get<{ Params: { doc: string } }>('/v1/state/:doc', { schema: { params: docParams } }, async (req, reply) => {
    const doc = node.state.get(req.params.doc)
    if (doc == null) return await reply.code(404).send({ error: 'unknown_doc', message: `this node holds no document ${req.params.doc}` })
    return docJson(doc)
  })

  app.patch<{ Params: { doc: string }, Body: { ops: OpBody[] } }>('/v1/state/:doc', { schema: patchSchema }, async (req, reply) => {
    let doc: SharedDoc
    try {
      doc = node.state.doc(req.params.doc)
    } catch (err) {
      if (err instanceof CrdtError) return await reply.code(err.code === 'too_many_docs' ? 507 : 400).send({ error: err.code, message: err.message })
      throw err
    }
    let steps: Array<() => void>
    try {
      steps = req.body.ops.map((op, i) => compile(doc, op, i))
    } catch (err) {
      if (err instanceof InvalidOperation) return await reply.code(400).send({ error: 'invalid_operation', message: err.message })
      throw err
    }
    doc.transact(() => { for (const s of steps) s() })
    // Answer once the change is stored and sent.
    await node.state.flush()
    const d = doc.digest()
    return { doc: doc.name, version: d.version, hash: Buffer.from(d.hash).toString('hex'), applied: steps.length }
  })

  app.get<{ Params: { doc: string } }>('/v1/state/:doc/changes', { schema: { params: docParams } }, async (req, reply) => {
    const name = req.params.doc
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    res.write(': connected\n\n')
    const held = node.state.get(name)
    // The document as it is now, so a client can apply the changes that follow to it.
    res.write(`event: snapshot\ndata: ${JSON.stringify(held != null ? docJson(held) : { doc: name, version: 0, maps: {}, sets: {}, counters: {} })}\n\n`)
    sse.add(reply)
    const unsubscribe = node.state.onChange(name, (e) => {
      const version = node.state.get(name)?.version ?? 0
      res.write(`event: change\ndata: ${JSON.stringify({ doc: e.doc, origin: e.origin, version, changes: e.changes })}\n\n`)
    })
    const keepAlive = setInterval(() => { res.write(': keep-alive\n\n') }, 15_000)
    keepAlive.unref()
    res.on('close', () => {
      clearInterval(keepAlive)
      unsubscribe()
      sse.delete(reply)
    })
  })

  app.get('/v1/agents', async () => ({ staleAfterMs: node.state.staleAfterMs, agents: node.state.agents() }))
}
