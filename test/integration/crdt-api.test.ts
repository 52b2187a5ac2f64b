import { strict as assert } from 'node:assert'
import fc from 'fast-check'
import { multiaddr } from '@multiformats/multiaddr'
import type { FastifyInstance } from 'fastify'
import { buildApi, startApi, type ApiServer } from '../../node/api/server.js'
import type { SwarmNode } from '../../node/swarm-node.js'
import { startNode } from '../harness/swarm.js'
import { waitFor } from '../harness/wait.js'
import { sseReader } from '../harness/sse.js'

describe('HTTP API: shared state', function () {
  this.timeout(30_000)
  let a: SwarmNode
  let b: SwarmNode
  let api: FastifyInstance
  before(async () => {
    a = await startNode('memory', { crdt: { antiEntropyMs: 60_000 } })
    b = await startNode('memory', { crdt: { antiEntropyMs: 60_000 } })
    await a.libp2p.dial(multiaddr(b.addrs()[0]!))
    api = buildApi(a)
  })
  after(async () => { await api.close(); await a.stop(); await b.stop() })

  const patch = async (doc: string, ops: unknown): Promise<{ status: number, body: Record<string, unknown> }> => {
    const res = await api.inject({ method: 'PATCH', url: `/v1/state/${doc}`, payload: { ops } as Record<string, unknown> })
    return { status: res.statusCode, body: res.json() }
  }

  it('PATCH applies operations and answers with the new version; GET returns the document', async () => {
    const r = await patch('portfolio', [
      { op: 'set', path: 'prices/ETH-USD', value: 3012.5 },
      { op: 'set', path: 'prices/BTC-USD', value: { bid: 61000, ask: 61010 } },
      { op: 'set', path: 'orders/id/with/slashes', value: 'open' },
      { op: 'increment', path: 'trades', by: 3 },
      { op: 'increment', path: 'trades' },
      { op: 'add', path: 'watchlist', value: 'ETH' },
      { op: 'add', path: 'watchlist', value: 'SOL' },
      { op: 'remove', path: 'watchlist', value: 'SOL' }
    ])
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.equal(r.body.applied, 8)
    assert.equal(typeof r.body.version, 'number')
    const v1 = r.body.version as number
    const r2 = await patch('portfolio', [{ op: 'delete', path: 'orders/id/with/slashes' }, { op: 'increment', path: 'trades', by: -1 }])
    assert.equal(r2.status, 200)
    assert.ok((r2.body.version as number) > v1)

    const got = await api.inject({ method: 'GET', url: '/v1/state/portfolio' })
    assert.equal(got.statusCode, 200)
    const body = got.json()
    assert.deepEqual({ maps: body.maps, sets: body.sets, counters: body.counters }, {
      maps: { prices: { 'BTC-USD': { bid: 61000, ask: 61010 }, 'ETH-USD': 3012.5 }, orders: {} },
      sets: { watchlist: ['ETH'] },
      counters: { trades: 3 }
    })
    assert.equal(body.version, r2.body.version)
    assert.match(body.hash, /^[0-9a-f]{64}$/)
    // Stored and sent before the answer: the peer gets it.
    await waitFor(() => b.state.get('portfolio')?.counter('trades').value() === 3, { message: 'the change on b' })
    const list = await api.inject({ method: 'GET', url: '/v1/state' })
    assert.ok((list.json().docs as Array<{ name: string }>).some(d => d.name === 'portfolio'))
  })

  it('answers 400 with a clear message for an invalid operation, and applies none of the request', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [[{ op: 'set', path: 'prices', value: 1 }], /ops\[0\].*<map>\/<key>/],
      [[{ op: 'set', path: 'prices/ETH' }], /set needs a value/],
      [[{ op: 'increment', path: 'trades', by: 1.5 }], /non-zero integer/],
      [[{ op: 'increment', path: 'trades', value: 2 }], /"by"/],
      [[{ op: 'add', path: 'watchlist', value: { nested: true } }], /strings, finite numbers or booleans/],
      [[{ op: 'add', path: 'bad name!', value: 'x' }], /set name/],
      [[{ op: 'increment', path: 'a/b' }], /counter name/],
      [[{ op: 'set', path: 'ok/fine', value: 1 }, { op: 'delete', path: 'm/k', value: 2 }], /ops\[1\].*no value/],
      [[{ op: 'explode', path: 'x' }], /allowed values/],
      [[{ op: 'set', path: 'x/y', value: 1, extra: true }], /additional/],
      [[], /fewer than 1/]
    ]
    for (const [ops, message] of cases) {
      const r = await patch('portfolio', ops)
      assert.equal(r.status, 400, JSON.stringify(ops))
      assert.match(String(r.body.message), message, JSON.stringify(r.body))
    }
    assert.equal(a.state.get('portfolio')!.map('ok').get('fine'), undefined, 'the valid operation before the invalid one was not applied')
    assert.equal((await api.inject({ method: 'GET', url: '/v1/state/nothing-here' })).statusCode, 404)
    assert.equal((await api.inject({ method: 'GET', url: '/v1/state/bad%20name' })).statusCode, 400)
  })

  it('never fails with a 500 on arbitrary operations', async () => {
    const op = fc.record({
      op: fc.oneof(fc.constantFrom('set', 'delete', 'increment', 'add', 'remove'), fc.string()),
      path: fc.oneof(fc.string(), fc.constantFrom('m/k', 'c', 's', 'm/', '/k', 'm//k')),
      value: fc.option(fc.jsonValue(), { nil: undefined }),
      by: fc.option(fc.oneof(fc.integer(), fc.double()), { nil: undefined })
    }, { requiredKeys: ['op', 'path'] })
    await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 5 }), async (ops) => {
      const r = await patch('fuzz', ops)
      assert.ok(r.status === 200 || r.status === 400, `${r.status} ${JSON.stringify(r.body)}`)
    }), { numRuns: 300 })
  })

  it('GET /v1/state/:doc/changes streams a snapshot, then local and remote changes', async () => {
    let server: ApiServer | undefined
    try {
      server = await startApi(a, { host: '127.0.0.1', port: 0 })
      const controller = new AbortController()
      const res = await fetch(`${server.url}/v1/state/live/changes`, { signal: controller.signal })
      assert.equal(res.headers.get('content-type'), 'text/event-stream')
      const { events, until: readUntil } = sseReader(res)
      await readUntil(1)
      assert.equal(events[0]!.event, 'snapshot')
      assert.equal(events[0]!.data.version, 0)

      assert.equal((await patch('live', [{ op: 'set', path: 'm/k', value: 'local' }])).status, 200)
      await readUntil(2)
      assert.equal(events[1]!.data.origin, 'local')
      assert.deepEqual(events[1]!.data.changes, [{ kind: 'map', name: 'm', key: 'k', value: 'local' }])

      await waitFor(() => b.state.get('live') != null && a.messaging!.broadcast.subscribers('crdt:live').length === 1, { message: 'b to follow the document' })
      b.state.doc('live').counter('n').increment(2)
      await readUntil(3)
      controller.abort()
      assert.equal(events[2]!.data.origin, 'remote')
      assert.deepEqual(events[2]!.data.changes, [{ kind: 'counter', name: 'n', value: 2 }])
    } finally {
      await server?.close()
    }
  })
})
