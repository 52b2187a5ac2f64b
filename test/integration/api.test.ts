import { strict as assert } from 'node:assert'
import http from 'node:http'
import { buildApi, startApi } from '../../node/api/server.js'
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

  it('closing under a busy keep-alive client cuts no request: answers say connection: close, and idle connections go once requests stop', async () => {
    // Each loop is a client that goes elsewhere once told the connection closes (as one that
    // follows x-swarmnet-leader does). Cutting an idle keep-alive connection while such a client
    // has just sent on it gives ECONNRESET, and the client cannot tell whether the request ran.
    const api = await startApi(node, { host: '127.0.0.1', port: 0 })
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
    const url = new URL('/health', api.url)
    const errors: string[] = []
    let served = 0
    let toldToLeave = 0
    const get = async (): Promise<boolean> => await new Promise(resolve => {
      const req = http.get(url, { agent }, res => {
        res.resume()
        res.on('end', () => {
          served++
          const leave = res.headers.connection === 'close'
          if (leave) toldToLeave++
          resolve(!leave)
        })
      })
      req.on('error', (err: NodeJS.ErrnoException) => { errors.push(err.code ?? err.message); resolve(false) })
    })
    const loops = Array.from({ length: 4 }, async () => { while (await get()); })
    await new Promise<void>(resolve => { const check = (): void => { if (served >= 200) resolve(); else setImmediate(check) }; check() })
    await api.close()
    await Promise.all(loops)
    agent.destroy()
    assert.deepEqual(errors, [], 'no request failed')
    assert.equal(toldToLeave, 4, 'every client was told to go elsewhere')
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
