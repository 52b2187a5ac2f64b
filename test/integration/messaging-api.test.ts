import { strict as assert } from 'node:assert'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { FastifyInstance } from 'fastify'
import { buildApi, startApi, type ApiServer } from '../../node/api/server.js'
import type { SwarmNode } from '../../node/swarm-node.js'
import { startNode } from '../harness/swarm.js'
import { waitFor } from '../harness/wait.js'
import { sseReader } from '../harness/sse.js'

describe('HTTP API: messaging', function () {
  this.timeout(30_000)
  let a: SwarmNode
  let b: SwarmNode
  let api: FastifyInstance
  before(async () => {
    a = await startNode('memory')
    b = await startNode('memory')
    await a.libp2p.dial(multiaddr(b.addrs()[0]!))
    b.handle('data_request', (m) => ({ got: JSON.parse(new TextDecoder().decode(m.payload)) }))
    b.handle('slow', async () => { await new Promise(() => {}) })
    api = buildApi(a)
  })
  after(async () => { await api.close(); await a.stop(); await b.stop() })

  const post = async (url: string, payload: unknown): Promise<{ status: number, body: Record<string, unknown> }> => {
    const res = await api.inject({ method: 'POST', url, payload: payload as Record<string, unknown> })
    return { status: res.statusCode, body: res.json() }
  }

  it('POST /v1/messages: 200 with the ack and the response', async () => {
    const r = await post('/v1/messages', { to: b.peerId.toString(), type: 'data_request', payload: { n: 7 }, requiresResponse: true, priority: 'high' })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.equal(r.body.acked, true)
    assert.match(String(r.body.messageId), /^[0-9a-f-]{36}$/)
    assert.equal(typeof r.body.latencyMs, 'number')
    const response = r.body.response as Record<string, unknown>
    assert.deepEqual(response.payload, { got: { n: 7 } })
    assert.equal(response.from, b.peerId.toString())
    assert.equal(response.correlationId, r.body.messageId)
  })

  it('POST /v1/messages: 504 on timeout, 404 for an unknown or unreachable peer, 422 when refused', async () => {
    assert.equal((await post('/v1/messages', { to: b.peerId.toString(), type: 'slow', timeoutMs: 300, maxRetries: 1 })).status, 504)
    const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const unknown = await post('/v1/messages', { to: stranger, type: 'heartbeat', timeoutMs: 2000, maxRetries: 0 })
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body))
    assert.equal((await post('/v1/messages', { to: 'nonsense', type: 'heartbeat' })).status, 404)
    const refused = await post('/v1/messages', { to: b.peerId.toString(), type: 'decision', requiresResponse: true })
    assert.equal(refused.status, 422)
    assert.match(String(refused.body.reason), /no handler/)
  })

  it('answers invalid bodies with 400 and a message naming the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ type: 'heartbeat' }, /to/],
      [{ to: b.peerId.toString(), type: 'bad type!' }, /type/],
      [{ to: b.peerId.toString(), type: 'heartbeat', priority: 'urgent' }, /priority/],
      [{ to: b.peerId.toString(), type: 'heartbeat', timeoutMs: -5 }, /timeoutMs/],
      [{ to: b.peerId.toString(), type: 'heartbeat', extra: 1 }, /additional/],
      [{ to: 5, type: 'heartbeat' }, /to/]
    ]
    for (const [body, pattern] of cases) {
      const r = await post('/v1/messages', body)
      assert.equal(r.status, 400, JSON.stringify(body))
      assert.equal(r.body.error, 'invalid_body')
      assert.match(String(r.body.message), pattern)
    }
    const notJson = await api.inject({ method: 'POST', url: '/v1/messages', headers: { 'content-type': 'application/json' }, payload: '{oops' })
    assert.equal(notJson.statusCode, 400)
    assert.equal((await post('/v1/broadcast', { topic: 'no spaces allowed', type: 'event' })).status, 400)
  })

  it('POST /v1/broadcast: 200 with the message id and recipients', async () => {
    b.subscribe('news')
    await waitFor(() => a.messaging!.broadcast.subscribers('news').length === 1, { message: 'the subscription' })
    const r = await post('/v1/broadcast', { topic: 'news', type: 'announcement', payload: 'hello' })
    assert.equal(r.status, 200)
    assert.equal(r.body.recipients, 1)
  })

  it('GET /v1/events streams received messages as Server-Sent Events', async () => {
    let server: ApiServer | undefined
    try {
      server = await startApi(b, { host: '127.0.0.1', port: 0 })
      const controller = new AbortController()
      const res = await fetch(`${server.url}/v1/events?types=market_signal&topics=ticks`, { signal: controller.signal })
      assert.equal(res.headers.get('content-type'), 'text/event-stream')
      // Headers arrive with the ': connected' comment, after the subscription is in place.
      const sse = sseReader(res)
      await waitFor(() => a.messaging!.broadcast.subscribers('ticks').length === 1, { message: 'the topic subscription' })
      await a.send(b.peerId, { type: 'heartbeat' }) // filtered out by type
      await a.send(b.peerId, { type: 'market_signal', payload: { sym: 'BTC' } })
      await a.broadcast('ticks', { type: 'market_signal', payload: { sym: 'ETH' } })
      await sse.until(2)
      const events = sse.events.map(e => e.data)
      controller.abort()
      assert.deepEqual(events.map(e => [e.type, e.from, e.payload, e.topic]), [
        ['market_signal', a.peerId.toString(), { sym: 'BTC' }, undefined],
        ['market_signal', a.peerId.toString(), { sym: 'ETH' }, 'ticks']
      ])
      for (const e of events) {
        assert.match(String(e.messageId), /^[0-9a-f-]{36}$/)
        assert.equal(typeof e.timestamp, 'number')
      }
    } finally {
      await server?.close()
    }
  })
})
