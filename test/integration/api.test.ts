import { strict as assert } from 'node:assert'
import { buildApi } from '../../node/api/server.js'
import type { SwarmNode } from '../../node/swarm-node.js'
import { startNode } from '../harness/swarm.js'

describe('HTTP API', () => {
  let node: SwarmNode
  before(async () => { node = await startNode('memory', { name: 'api-test', capabilities: ['news', 'risk'] }) })
  after(async () => { await node.stop() })

  it('serves /v1/status, /health and /metrics', async () => {
    const app = buildApi(node)
    const st = await app.inject({ url: '/v1/status' })
    assert.equal(st.statusCode, 200)
    const body = st.json()
    assert.equal(body.peerId, node.peerId.toString())
    assert.equal(body.name, 'api-test')
    assert.deepEqual(body.capabilities, ['news', 'risk'])
    assert.deepEqual(body.peers, [])
    assert.equal(body.role, 'member')
    assert.deepEqual(body.direct, [], 'direct links are listed')
    assert.equal(typeof body.uptimeMs, 'number')
    assert.match(body.version, /^\d+\.\d+\.\d+/)
    assert.deepEqual((await app.inject({ url: '/health' })).json(), { ok: true })
    const metrics = await app.inject({ url: '/metrics' })
    assert.equal(metrics.statusCode, 200)
    assert.match(metrics.body, /swarmnet_connected_peers 0/)
    await app.close()
  })

  it('answers unknown routes with a JSON 404', async () => {
    const app = buildApi(node)
    const res = await app.inject({ url: '/v1/nope?x=1' })
    assert.equal(res.statusCode, 404)
    assert.deepEqual(res.json(), { error: 'not_found', message: 'no route GET /v1/nope' })
    await app.close()
  })

  it('requires the bearer token on every route when one is set', async () => {
    const token = 'correct-horse-battery-staple'
    const app = buildApi(node, token)
    for (const url of ['/v1/status', '/health', '/metrics', '/v1/nope']) {
      assert.equal((await app.inject({ url })).statusCode, 401, `${url} without a token`)
      assert.equal((await app.inject({ url, headers: { authorization: 'Bearer wrong' } })).statusCode, 401, `${url} with a wrong token`)
    }
    const ok = await app.inject({ url: '/v1/status', headers: { authorization: `Bearer ${token}` } })
    assert.equal(ok.statusCode, 200)
    assert.equal((await app.inject({ url: '/v1/status' })).json().error, 'unauthorized')
    await app.close()
  })
})
