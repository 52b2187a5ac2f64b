import { strict as assert } from 'node:assert'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import type { SwarmNode } from '../../node/swarm-node.js'
import { DIRECT_PROTOCOL } from '../../protocols/direct/service.js'
import { TimeoutError, UnreachableError, RejectedError, CircuitOpenError } from '../../protocols/direct/errors.js'
import { SignedEnvelope } from '../../protocols/envelope/envelope.pb.js'
import { DirectFrame } from '../../protocols/direct/direct.pb.js'
import { encodeFrames } from '../../protocols/direct/frames.js'
import type { SwarmMessage } from '../../protocols/envelope/types.js'
import { startNode, startSwarm, waitFullyConnected } from '../harness/swarm.js'
import { waitFor, withDeadline } from '../harness/wait.js'

const text = (m: SwarmMessage | undefined): string => new TextDecoder().decode(m?.payload)

describe('messaging', function () {
  this.timeout(60_000)
  const nodes: SwarmNode[] = []
  afterEach(async () => { await Promise.all(nodes.splice(0).map(async n => n.stop())) })
  async function pair (a: Parameters<typeof startNode>[1] = {}, b: Parameters<typeof startNode>[1] = {}): Promise<[SwarmNode, SwarmNode]> {
    const x = await startNode('memory', a)
    const y = await startNode('memory', b)
    nodes.push(x, y)
    await x.libp2p.dial(multiaddr(y.addrs()[0]!))
    return [x, y]
  }

  it('delivers, acks and answers a direct request; the bus sees it too', async () => {
    const [a, b] = await pair()
    const seen: string[] = []
    b.events.on('data_request', (e) => { seen.push(e.message.messageId) })
    b.handle('data_request', (m, ctx) => {
      assert.equal(ctx.from, a.peerId.toString())
      return { echo: JSON.parse(text(m)), by: 'b' }
    })
    const r = await a.send(b.peerId.toString(), { type: 'data_request', payload: { q: 42 }, requiresResponse: true })
    assert.deepEqual(JSON.parse(text(r.response)), { echo: { q: 42 }, by: 'b' })
    assert.equal(r.response?.correlationId, r.messageId)
    assert.equal(r.response?.sourceAgent, b.peerId.toString())
    await waitFor(() => seen.length === 1, { message: 'the bus event' })
    assert.equal(seen[0], r.messageId)
    const plain = await a.send(b.peerId, { type: 'market_signal', payload: 'up' })
    assert.equal(plain.response, undefined)
  })

  it('delivers each message to its handler exactly once over a network that drops and duplicates', async () => {
    // A fixed pattern per direction: every third chunk written is lost, every fifth is sent
    // twice. Sends go in waves so the pattern meets many chunks of this test's own traffic.
    const seen = { outbound: 0, inbound: 0 }
    const faults = (dir: 'outbound' | 'inbound'): 'pass' | 'drop' | 'duplicate' => {
      const i = ++seen[dir]
      return i % 3 === 0 ? 'drop' : i % 5 === 0 ? 'duplicate' : 'pass'
    }
    const [a, b] = await pair({ messaging: { direct: { faults } } }, { messaging: { direct: { faults } } })
    const calls = new Map<string, number>()
    b.handle('task_assignment', (m) => { calls.set(m.messageId, (calls.get(m.messageId) ?? 0) + 1); return m.messageId })
    const results = []
    for (let wave = 0; wave < 10; wave++) {
      results.push(...await Promise.all(Array.from({ length: 20 }, async (_, i) =>
        a.send(b.peerId, { type: 'task_assignment', payload: { wave, i }, requiresResponse: true, timeoutMs: 10_000, maxRetries: 99 }))))
    }
    assert.equal(results.length, 200)
    for (const r of results) {
      assert.equal(calls.get(r.messageId), 1, `handler calls for ${r.messageId}`)
      assert.equal(JSON.parse(text(r.response)), r.messageId)
    }
    assert.equal(calls.size, 200)
    assert.ok(results.some(r => r.attempts > 1), 'some messages needed a retry')
    assert.ok(await b.messaging!.direct.inboundCount('duplicate') > 0, 'duplicates reached the receiver and were absorbed')
  })

  it('times out when no answer comes, after retrying, and runs the handler once', async () => {
    const [a, b] = await pair()
    let calls = 0
    b.handle('proposal', async () => { calls++; await new Promise(() => {}) })
    const started = Date.now()
    await assert.rejects(a.send(b.peerId, { type: 'proposal', timeoutMs: 600, maxRetries: 2, requiresResponse: true }), TimeoutError)
    assert.ok(Date.now() - started >= 600)
    assert.equal(calls, 1)
  })

  it('rejects with the reason: handler failure, no handler, invalid message', async () => {
    const [a, b] = await pair()
    b.handle('vote', () => { throw new Error('ballot box closed') })
    await assert.rejects(a.send(b.peerId, { type: 'vote', payload: 1 }), (err: unknown) => err instanceof RejectedError && /ballot box closed/.test(err.reason))
    await assert.rejects(a.send(b.peerId, { type: 'decision', requiresResponse: true }), (err: unknown) => err instanceof RejectedError && /no handler/.test(err.reason))
    await assert.rejects(a.send(b.peerId, { type: 'not a type!' }), RejectedError)
  })

  it('reports unreachable peers and opens the circuit after repeated failures, then recovers', async () => {
    const keyB = await generateKeyPair('Ed25519')
    const addr = `/memory/breaker-${process.pid}-${Date.now()}`
    const [a, b] = await pair({ messaging: { direct: { breaker: { failureThreshold: 3, openMs: 300 } } } }, { privateKey: keyB, listen: [addr] })
    await b.stop()
    for (let i = 0; i < 3; i++) {
      await assert.rejects(a.send(b.peerId, { type: 'heartbeat', timeoutMs: 2000, maxRetries: 1 }), UnreachableError)
    }
    await assert.rejects(a.send(b.peerId, { type: 'heartbeat' }), CircuitOpenError)
    assert.equal(a.status().direct?.find(l => l.peerId === b.peerId.toString())?.breaker, 'open')
    await assert.rejects(a.send('not-a-peer', { type: 'heartbeat' }), UnreachableError)

    const b2 = await startNode('memory', { privateKey: keyB, listen: [addr] })
    nodes.push(b2)
    await waitFor(() => a.status().direct?.find(l => l.peerId === b2.peerId.toString())?.breaker === 'half-open', { message: 'half-open' })
    await a.send(b2.peerId, { type: 'heartbeat', timeoutMs: 5000 })
    assert.equal(a.messaging!.direct.breakerState(b2.peerId.toString()), 'closed')
  })

  it('lets higher priorities overtake queued lower ones', async () => {
    const [a, b] = await pair({ messaging: { direct: { window: 1 } } })
    const order: string[] = []
    let open!: () => void
    const gate = new Promise<void>(resolve => { open = resolve })
    b.handle('status_update', async (m) => {
      const label = JSON.parse(text(m)) as string
      order.push(label)
      if (label === 'first') await gate
    })
    const sends = [a.send(b.peerId, { type: 'status_update', payload: 'first', timeoutMs: 10_000 })]
    await waitFor(() => order.length === 1, { message: 'the first message to be in the handler' })
    for (const [label, priority] of [['low', 'low'], ['normal', 'normal'], ['high', 'high'], ['critical', 'critical']] as const) {
      sends.push(a.send(b.peerId, { type: 'status_update', payload: label, priority, timeoutMs: 10_000 }))
    }
    open()
    await Promise.all(sends)
    assert.deepEqual(order, ['first', 'critical', 'high', 'normal', 'low'])
  })

  it('rejects forged, garbage and oversized frames with counters, and keeps serving', async () => {
    const [a, b] = await pair()
    b.handle('heartbeat', () => 'ok')
    const direct = b.messaging!.direct
    const env = b.messaging!.envelope

    // A forged signature is refused with its reason.
    const { bytes } = a.messaging!.envelope.seal({ type: 'heartbeat', routing: 'direct', targetAgents: [b.peerId.toString()] })
    const signed = SignedEnvelope.decode(bytes)
    signed.signature[5]! ^= 0xff
    const s1 = await a.libp2p.dialProtocol(b.peerId, DIRECT_PROTOCOL)
    s1.send(encodeFrames([DirectFrame.encode({ envelope: SignedEnvelope.encode(signed) } as DirectFrame)]))
    const lp = lpStream(s1)
    const ack = DirectFrame.decode((await withDeadline(lp.read(), 5000, 'the rejection ack')).subarray())
    assert.equal(ack.ack?.status, 'REJECTED')
    assert.equal(ack.ack?.reason, 'bad_signature')
    assert.equal(await env.rejections('bad_signature'), 1)

    // Garbage inside a valid frame: counted; the stream goes on. A huge length prefix: the stream is dropped.
    const s2 = await a.libp2p.dialProtocol(b.peerId, DIRECT_PROTOCOL)
    s2.send(encodeFrames([new Uint8Array([0xde, 0xad, 0xbe, 0xef])]))
    s2.send(new Uint8Array([0xff, 0xff, 0xff, 0x7f]))
    await waitFor(() => s2.status !== 'open', { message: 'the receiver to drop the stream' })
    assert.equal(await env.rejections('too_large'), 1)
    assert.ok(await env.rejections('malformed') >= 1)

    // Replaying a delivered envelope does not run the handler again.
    let calls = 0
    b.handle('risk_alert', () => { calls++ })
    const first = a.messaging!.envelope.seal({ type: 'risk_alert', routing: 'direct', targetAgents: [b.peerId.toString()] })
    for (let i = 0; i < 2; i++) {
      const s = await a.libp2p.dialProtocol(b.peerId, DIRECT_PROTOCOL)
      s.send(encodeFrames([DirectFrame.encode({ envelope: first.bytes } as DirectFrame)]))
      const reply = DirectFrame.decode((await withDeadline(lpStream(s).read(), 5000, 'an ack')).subarray())
      assert.equal(reply.ack?.status, 'OK')
    }
    assert.equal(calls, 1)
    assert.equal(await direct.inboundCount('duplicate'), 1)

    // And the node still serves normal traffic.
    const r = await a.send(b.peerId, { type: 'heartbeat', requiresResponse: true })
    assert.equal(JSON.parse(text(r.response)), 'ok')
  })

  it('broadcasts to every one of 10 nodes, and multicasts with a result per target', async () => {
    const swarm = await startSwarm({ members: 10 })
    try {
      await waitFullyConnected(swarm.all, 30_000)
      const got = new Map<string, number>()
      for (const n of swarm.members) n.subscribe('signals', () => { got.set(n.peerId.toString(), (got.get(n.peerId.toString()) ?? 0) + 1) })
      const sender = swarm.members[0]!
      // Every member is subscribed, so seeing all 9 others as subscribers means every member's
      // outbound gossip stream is up (gossipsub announces subscriptions on it).
      await waitFor(() => swarm.members.every(n => n.messaging!.broadcast.subscribers('signals').length >= 9), { timeoutMs: 30_000, message: 'all subscriptions to arrive' })
      const res = await sender.broadcast('signals', { type: 'market_signal', payload: { sym: 'ETH' } })
      assert.ok(res.recipients >= 1, `recipients ${res.recipients}`)
      await waitFor(() => got.size === 10, { timeoutMs: 20_000, message: () => `all 10 to receive (got ${got.size})` })
      assert.ok([...got.values()].every(c => c === 1), 'each exactly once')

      const targets = [...swarm.members.slice(1, 4).map(n => n.peerId.toString()), swarm.bootstrap.peerId.toString()]
      const multi = await sender.multicast(targets, { type: 'announcement', payload: 'hi', timeoutMs: 10_000, maxRetries: 2 })
      assert.deepEqual(multi.map(r => r.ok), [true, true, true, false], JSON.stringify(multi.map(r => r.ok ? 'ok' : r.error)))
    } finally {
      await swarm.stop()
    }
  })

  it('drops forged broadcasts in the validator', async () => {
    const [a, b] = await pair()
    let heard = 0
    b.subscribe('alerts', () => { heard++ })
    a.subscribe('alerts')
    await waitFor(() => a.messaging!.broadcast.subscribers('alerts').length === 1, { message: 'the subscription' })
    // Raw gossip without an envelope, then a valid broadcast to prove delivery works.
    await a.libp2p.services.pubsub.publish('/swarmnet/default/alerts', new TextEncoder().encode('not an envelope'))
    await a.broadcast('alerts', { type: 'risk_alert', payload: 'real' })
    await waitFor(() => heard === 1, { message: 'the valid broadcast' })
    await waitFor(async () => await b.messaging!.envelope.rejections('malformed') === 1, { message: 'the forged one to be counted' })
    assert.equal(heard, 1)

    // A replay: the same signed envelope published again (gossip gives it a new id, we do not).
    const { bytes } = a.messaging!.envelope.seal({ type: 'risk_alert', routing: 'broadcast', topic: 'alerts', payload: 'once' })
    await a.libp2p.services.pubsub.publish('/swarmnet/default/alerts', bytes)
    await waitFor(() => heard === 2, { message: 'the original' })
    await a.libp2p.services.pubsub.publish('/swarmnet/default/alerts', bytes)
    await waitFor(async () => await b.messaging!.envelope.rejections('replayed') === 1, { message: 'the replay to be counted' })
    assert.equal(heard, 2)
  })

  it('broadcasts under StrictNoSign with the envelope signature alone', async () => {
    const policy = { messaging: { gossipSignaturePolicy: 'StrictNoSign' as const } }
    const [a, b] = await pair(policy, policy)
    const heard: string[] = []
    b.subscribe('quiet', (e) => { heard.push(e.data as string) })
    a.subscribe('quiet')
    await waitFor(() => a.messaging!.broadcast.subscribers('quiet').length === 1, { message: 'the subscription' })
    await a.libp2p.services.pubsub.publish('/swarmnet/default/quiet', new TextEncoder().encode('forged'))
    await a.broadcast('quiet', { type: 'announcement', payload: 'signed' })
    await waitFor(() => heard.length === 1, { message: 'the signed broadcast' })
    await waitFor(async () => await b.messaging!.envelope.rejections('malformed') === 1, { message: 'the forged one to be refused' })
    assert.deepEqual(heard, ['signed'])
  })

  it('runs bus handlers concurrently; a failing one is counted and blocks no other', async () => {
    const n = await startNode('memory')
    nodes.push(n)
    const got: string[] = []
    n.events.on('event', () => { throw new Error('boom') })
    n.events.on('event', async () => { await new Promise(resolve => setTimeout(resolve, 20)); got.push('slow') })
    n.events.on('*', (e) => { if (e.message.type === 'event') got.push(`any:${e.data as string}`) })
    n.events.emitLocal('event', 'x')
    await waitFor(() => got.length === 2, { message: 'both healthy handlers' })
    assert.deepEqual(got, ['any:x', 'slow'])
    assert.equal(await n.events.failureCount(), 1)
  })
})
