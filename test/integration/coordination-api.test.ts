import { strict as assert } from 'node:assert'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { SwarmNode, SwarmNodeOptions } from '../../node/swarm-node.js'
import { buildApi, startApi, type ApiServer } from '../../node/api/server.js'
import { killAll, runCli, spawnCli } from '../harness/cli.js'
import { sseReader } from '../harness/sse.js'
import { startSwarm, waitFullyConnected, type TestSwarm } from '../harness/swarm.js'
import { waitFor } from '../harness/wait.js'

const FAST: Partial<SwarmNodeOptions> = { raft: { settleMs: 300 }, voters: 3 }

type Json = Record<string, unknown>

async function oneLeader (nodes: SwarmNode[]): Promise<void> {
  await waitFor(() => {
    const ls = nodes.filter(n => n.raft.status().role === 'leader')
    return ls.length === 1 && nodes.every(n => n.raft.status().leader === ls[0]!.peerId.toString())
  }, { timeoutMs: 20_000, message: 'one raft leader followed by all' })
}

async function call (api: FastifyInstance, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: Json): Promise<{ status: number, body: Json }> {
  const res = await api.inject({ method, url, payload })
  return { status: res.statusCode, body: res.json() }
}

describe('coordination over HTTP and the CLI (3 members)', function () {
  this.timeout(60_000)
  let swarm: TestSwarm
  let nodes: SwarmNode[]
  let apis: FastifyInstance[]
  let servers: ApiServer[]
  before(async () => {
    swarm = await startSwarm({ members: 3, node: FAST })
    nodes = swarm.members
    await waitFullyConnected(swarm.all)
    await oneLeader(nodes)
    apis = nodes.map(n => buildApi(n))
    servers = await Promise.all(nodes.map(async n => startApi(n, { host: '127.0.0.1', port: 0 })))
  })
  afterEach(killAll)
  after(async () => {
    await Promise.all([...(apis ?? []).map(async a => a.close()), ...(servers ?? []).map(async s => s.close())])
    await swarm?.stop()
  })

  it('locks: FIFO across nodes, typed 404/409/504 answers, fenced KV writes accepted, then refused after the release', async () => {
    const [a, b, c] = apis as [FastifyInstance, FastifyInstance, FastifyInstance]
    const url = '/v1/locks/orders%2FBTC'
    const first = await call(a, 'POST', url, { ttlMs: 5000 })
    assert.equal(first.status, 200, JSON.stringify(first.body))
    assert.equal(first.body.resource, 'orders/BTC')
    assert.equal(first.body.mode, 'exclusive')
    const t1 = first.body.fencingToken as number
    const second = call(b, 'POST', url, { timeoutMs: 20_000 })
    await waitFor(async () => ((await call(c, 'GET', url)).body.queue as Json[]).length === 1, { message: 'b queued behind a' })
    const info = (await call(c, 'GET', url)).body
    assert.deepEqual(info.holders, [{ lease: first.body.leaseId, owner: nodes[0]!.peerId.toString(), mode: 'exclusive', fencingToken: t1 }])
    // Reads answer from the node's applied state: ask one that has applied what is asked about.
    assert.deepEqual((await call(a, 'POST', `${url}/check`, { fencingToken: t1 })).body, { resource: 'orders/BTC', fencingToken: t1, valid: true })

    const fenced = (token: number): Json => ({ resource: 'orders/BTC', token })
    assert.equal((await call(b, 'PUT', '/v1/kv/positions/BTC', { value: 1, fence: fenced(t1) })).status, 200)
    // Only the node that took the lock for a client releases it, and only with its token.
    assert.equal((await call(b, 'DELETE', url, { fencingToken: t1 })).status, 404)
    const wrong = await call(a, 'DELETE', url, { fencingToken: t1 + 1000 })
    assert.equal(wrong.status, 404)
    assert.equal(wrong.body.error, 'not_found')
    assert.deepEqual((await call(a, 'DELETE', url, { fencingToken: t1 })).body, { released: true, resource: 'orders/BTC', fencingToken: t1, leaseId: first.body.leaseId })
    const granted = await second
    assert.equal(granted.status, 200, JSON.stringify(granted.body))
    const t2 = granted.body.fencingToken as number
    assert.ok(t2 > t1, `${t2} > ${t1}`)

    // The old holder is fenced off everywhere: PUT, DELETE (query fence) and batch.
    const stale = await call(c, 'PUT', '/v1/kv/positions/BTC', { value: 2, fence: fenced(t1) })
    assert.equal(stale.status, 409)
    assert.equal(stale.body.error, 'fenced')
    assert.equal(stale.body.token, t1)
    assert.equal(stale.body.resource, 'orders/BTC')
    assert.equal((await call(c, 'POST', `${url}/check`, { fencingToken: t1 })).body.valid, false)
    assert.equal((await call(c, 'DELETE', `/v1/kv/positions/BTC?fenceResource=orders%2FBTC&fenceToken=${t1}`)).status, 409)
    const batch = await call(c, 'POST', '/v1/kv', { ops: [{ op: 'put', key: 'positions/BTC', value: 3, fence: fenced(t1) }, { op: 'put', key: 'positions/BTC', value: 4, fence: fenced(t2) }] })
    assert.deepEqual((batch.body.results as Json[]).map(r => [r.status, r.error]), [[409, 'fenced'], [200, undefined]])
    assert.equal((await call(c, 'GET', '/v1/kv/positions/BTC')).body.value, 4)
    assert.equal((await call(a, 'DELETE', url, { fencingToken: t1 })).status, 404)

    const late = await call(c, 'POST', url, { timeoutMs: 300 })
    assert.equal(late.status, 504)
    assert.equal(late.body.error, 'timeout')
    await waitFor(async () => ((await call(c, 'GET', url)).body.queue as Json[]).length === 0, { message: 'the timed-out waiter withdrawn' })
    assert.equal((await call(b, 'DELETE', url, { fencingToken: t2 })).status, 200)
    assert.deepEqual((await call(b, 'GET', url)).body, { resource: 'orders/BTC', holders: [], queue: [] })
    assert.equal((await call(b, 'DELETE', `/v1/kv/positions/BTC?fenceResource=orders%2FBTC&fenceToken=${t2}`)).status, 409)

    // No body at all is an exclusive lock with the defaults; a name of exactly 256 bytes is fine.
    const long = 'x'.repeat(256)
    const plain = await a.inject({ method: 'POST', url: `/v1/locks/${long}` })
    assert.equal(plain.statusCode, 200, plain.body)
    assert.equal((await call(a, 'DELETE', `/v1/locks/${long}`, { fencingToken: (plain.json() as Json).fencingToken as number })).status, 200)
  })

  it('leases: one lease holds several locks; already_held and deadlock are 409s, the cycle named; revoking releases', async () => {
    const [a, b] = apis as [FastifyInstance, FastifyInstance]
    const la = (await call(a, 'POST', '/v1/leases', { ttlMs: 5000 })).body.leaseId as string
    const lb = (await call(b, 'POST', '/v1/leases', {})).body.leaseId as string
    assert.ok(la !== undefined && lb !== undefined)
    const r1 = await call(a, 'POST', '/v1/locks/r1', { leaseId: la })
    assert.equal(r1.status, 200)
    assert.equal(r1.body.leaseId, la)
    const again = await call(a, 'POST', '/v1/locks/r1', { leaseId: la })
    assert.equal(again.status, 409)
    assert.equal(again.body.error, 'already_held')
    assert.equal((await call(b, 'POST', '/v1/locks/r2', { leaseId: lb })).status, 200)
    const waitA = call(a, 'POST', '/v1/locks/r2', { leaseId: la, timeoutMs: 20_000 })
    await waitFor(() => nodes[1]!.coordination.lockInfo('r2').queue.length === 1, { message: 'a queued on r2' })
    const dead = await call(b, 'POST', '/v1/locks/r1', { leaseId: lb, timeoutMs: 20_000 })
    assert.equal(dead.status, 409)
    assert.equal(dead.body.error, 'deadlock')
    assert.deepEqual([...dead.body.cycle as string[]].sort(), [la, lb].sort())
    assert.deepEqual((await call(b, 'DELETE', `/v1/leases/${lb}`)).body, { revoked: true, leaseId: lb })
    const r2 = await waitA
    assert.equal(r2.status, 200, JSON.stringify(r2.body))
    assert.equal((await call(a, 'DELETE', '/v1/locks/r2', { fencingToken: r2.body.fencingToken as number })).status, 200)
    assert.equal(nodes[0]!.coordination.lockInfo('r1').holders.length, 1, 'releasing r2 kept the lease and r1')
    assert.equal((await call(a, 'DELETE', `/v1/leases/${la}`)).status, 200)
    await waitFor(() => nodes[0]!.coordination.lockInfo('r1').holders.length === 0, { message: 'r1 released with its lease' })
    assert.equal((await call(a, 'DELETE', '/v1/locks/r1', { fencingToken: r1.body.fencingToken as number })).status, 404)
    assert.equal((await call(a, 'DELETE', `/v1/leases/${la}`)).status, 404)
    assert.equal((await call(a, 'POST', '/v1/locks/r3', { leaseId: la })).status, 404)
  })

  it('barriers: three concurrent waits on three nodes are released together; parties_mismatch and timeout', async () => {
    const got = await Promise.all(apis.map(async api => call(api, 'POST', '/v1/barriers/sync%2Fall/wait', { parties: 3, timeoutMs: 15_000 })))
    for (const g of got) assert.equal(g.status, 200, JSON.stringify(g.body))
    assert.equal(new Set(got.map(g => g.body.generation)).size, 1)
    assert.deepEqual(Object.keys(got[0]!.body).sort(), ['generation', 'name', 'parties'])
    assert.equal(got[0]!.body.name, 'sync/all')

    const [a, b, c] = apis as [FastifyInstance, FastifyInstance, FastifyInstance]
    const waitA = call(a, 'POST', '/v1/barriers/m/wait', { parties: 2, timeoutMs: 15_000 })
    await waitFor(() => nodes[0]!.raft.coordination.barrierInfo('m') !== null, { message: 'a arrived at m' })
    const mismatch = await call(b, 'POST', '/v1/barriers/m/wait', { parties: 3 })
    assert.equal(mismatch.status, 409)
    assert.equal(mismatch.body.error, 'parties_mismatch')
    const [ra, rc] = await Promise.all([waitA, call(c, 'POST', '/v1/barriers/m/wait', { parties: 2 })])
    assert.equal(ra.status, 200)
    assert.equal(ra.body.generation, rc.body.generation)

    const lonely = await call(b, 'POST', '/v1/barriers/lonely/wait', { parties: 2, timeoutMs: 300 })
    assert.equal(lonely.status, 504)
    assert.equal(lonely.body.error, 'timeout')
  })

  it('elections: campaign, observe over SSE, proclaim, resign and FIFO succession, withdrawal', async () => {
    const [a, b, c] = apis as [FastifyInstance, FastifyInstance, FastifyInstance]
    const role = 'executor/BTC'
    const url = '/v1/elections/executor%2FBTC'
    const ctl = new AbortController()
    const res = await fetch(`${servers[0]!.url}${url}?observe=true`, { signal: ctl.signal })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/)
    const sse = sseReader(res)
    await sse.until(1)
    assert.deepEqual(sse.events[0], { event: 'leader', data: { role, leader: null } })

    const ea = await call(a, 'POST', `${url}/campaign`, { value: 'a' })
    assert.equal(ea.status, 200, JSON.stringify(ea.body))
    assert.deepEqual(Object.keys(ea.body).sort(), ['leaseId', 'revision', 'role', 'value'])
    const pendingB = call(b, 'POST', `${url}/campaign`, { value: 'b', timeoutMs: 20_000 })
    await sse.until(2)
    assert.equal((sse.events[1]!.data.leader as Json).value, 'a')
    await waitFor(() => nodes[2]!.raft.coordination.candidates(role).length === 2, { message: 'b a candidate' })
    const seen = (await call(c, 'GET', url)).body
    assert.deepEqual(seen, { role, leader: { value: 'a', revision: ea.body.revision, lease: ea.body.leaseId, owner: nodes[0]!.peerId.toString() } })
    assert.equal((await call(b, 'POST', `${url}/proclaim`, { value: 'b!' })).body.error, 'not_leader')
    assert.equal((await call(c, 'POST', `${url}/proclaim`, { value: 'c!' })).status, 404)
    assert.equal((await call(a, 'POST', `${url}/campaign`, { value: 'a' })).body.error, 'already_held')
    assert.equal((await call(b, 'POST', `${url}/campaign`, { value: 'b' })).body.error, 'already_waiting')
    assert.deepEqual((await call(a, 'POST', `${url}/proclaim`, { value: 'a2' })).body, { role, value: 'a2' })
    await sse.until(3)
    assert.equal((sse.events[2]!.data.leader as Json).value, 'a2')

    assert.deepEqual((await call(a, 'DELETE', url)).body, { resigned: true, role, was: 'leader' })
    const eb = await pendingB
    assert.equal(eb.status, 200, JSON.stringify(eb.body))
    assert.ok((eb.body.revision as number) > (ea.body.revision as number))
    await sse.until(4)
    assert.equal((sse.events[3]!.data.leader as Json).value, 'b')
    assert.equal((await call(a, 'DELETE', url)).status, 404)

    // A candidate that is withdrawn answers 409 withdrawn; the leader is untouched.
    const pendingC = call(c, 'POST', `${url}/campaign`, { timeoutMs: 20_000 })
    // c's own candidacy, not just two candidates: c may not have applied a's resignation yet.
    const cState = nodes[2]!.raft.coordination
    await waitFor(() => cState.candidates(role).some(x => cState.lease(x.lease)?.owner === nodes[2]!.peerId.toString()), { message: 'c a candidate' })
    assert.deepEqual((await call(c, 'DELETE', url)).body, { resigned: true, role, was: 'candidate' })
    const withdrawn = await pendingC
    assert.equal(withdrawn.status, 409)
    assert.equal(withdrawn.body.error, 'withdrawn')
    assert.equal((await call(b, 'DELETE', url)).status, 200)
    await sse.until(5)
    assert.deepEqual(sse.events[4]!.data, { role, leader: null })
    assert.equal(sse.events.length, 5, JSON.stringify(sse.events))

    // The stream ends cleanly when the client goes: its observer is dropped.
    const observers = (): Map<string, unknown> => (nodes[0]!.coordination as unknown as { observers: Map<string, unknown> }).observers
    assert.ok(observers().has(role))
    ctl.abort()
    await waitFor(() => !observers().has(role), { message: 'the observer dropped after the client went' })
  })

  it('bad input is a 400 with a message, never a crash', async () => {
    const a = apis[0]!
    const cases: Array<[string, string, Json | undefined]> = [
      ['POST', '/v1/locks/x', { mode: 'weird' }],
      ['POST', '/v1/locks/x', { ttlMs: '5000' }],
      ['POST', '/v1/locks/x', { ttlMs: 10 }],
      ['POST', '/v1/locks/x', { timeoutMs: -1 }],
      ['POST', '/v1/locks/x', { timeoutMs: 1.5 }],
      ['POST', '/v1/locks/x', { extra: true }],
      ['POST', '/v1/locks/x', { fencingToken: 3 }],
      ['POST', '/v1/locks/x', { leaseId: 'l1', ttlMs: 5000 }],
      ['POST', `/v1/locks/${'x'.repeat(257)}`, {}],
      ['POST', `/v1/locks/${encodeURIComponent('€'.repeat(100))}`, {}],
      ['POST', '/v1/locks/', {}],
      ['POST', '/v1/locks/a%00b', {}],
      ['POST', '/v1/locks/%E0%A4%A', {}],
      ['POST', '/v1/locks/x/check', {}],
      ['POST', '/v1/locks/x/check', { fencingToken: 'seven' }],
      ['POST', '/v1/locks/x/check', { fencingToken: 1, mode: 'shared' }],
      ['GET', `/v1/locks/${'y'.repeat(300)}`, undefined],
      ['DELETE', '/v1/locks/x', undefined],
      ['DELETE', '/v1/locks/x', { fencingToken: 0 }],
      ['POST', '/v1/leases', { ttlMs: 1 }],
      ['POST', '/v1/barriers/b/wait', {}],
      ['POST', '/v1/barriers/b/wait', { parties: 0 }],
      ['POST', '/v1/barriers/b/wait', { parties: 10_001 }],
      ['POST', '/v1/barriers/b/wait', { parties: 1.5 }],
      ['POST', '/v1/barriers/b/wait', { parties: 2, extra: 1 }],
      ['POST', `/v1/barriers/${'z'.repeat(1000)}/wait`, { parties: 2 }],
      ['POST', '/v1/elections/r/campaign', { value: 'v'.repeat(5000) }],
      ['POST', '/v1/elections/r/campaign', { value: 7 }],
      ['POST', '/v1/elections/r/campaign?hold=forever', {}],
      ['POST', '/v1/elections/r/proclaim', {}],
      ['POST', '/v1/elections/r/proclaim', { value: 'v', ttlMs: 1000 }],
      ['GET', '/v1/elections/r?observe=yes', undefined],
      ['DELETE', `/v1/elections/${'r'.repeat(257)}`, undefined],
      ['PUT', '/v1/kv/k', { value: 1, fence: { resource: 'r', token: 0 } }],
      ['PUT', '/v1/kv/k', { value: 1, fence: { resource: 'r' } }],
      ['PUT', '/v1/kv/k', { value: 1, fence: { resource: 'r', token: 1, extra: 1 } }],
      ['PUT', '/v1/kv/k', { value: 1, fence: { resource: '€'.repeat(100), token: 1 } }],
      ['DELETE', '/v1/kv/k?fenceResource=r', undefined],
      ['DELETE', '/v1/kv/k?fenceResource=r&fenceToken=abc', undefined]
    ]
    for (const [method, url, payload] of cases) {
      const r = await a.inject({ method: method as 'GET', url, payload })
      const what = `${method} ${url.slice(0, 60)} ${JSON.stringify(payload)?.slice(0, 60)}`
      assert.equal(r.statusCode, 400, `${what}: ${r.body}`)
      const body = r.json() as Json
      // Fastify itself refuses a URL that is not valid percent-encoding, with its own error name.
      assert.ok(body.error === 'bad_request' || body.error === 'invalid_body' || body.code === 'FST_ERR_BAD_URL', `${what}: ${r.body}`)
      assert.equal(typeof body.message, 'string', what)
    }
    const longName = await call(a, 'POST', `/v1/locks/${'x'.repeat(257)}`, {})
    assert.match(longName.body.message as string, /longer than 256 bytes/)
    const batch = await call(a, 'POST', '/v1/kv', { ops: [{ op: 'get', key: 'k', fence: { resource: 'r', token: 1 } }] })
    assert.equal((batch.body.results as Json[])[0]!.status, 400)
    assert.equal((await call(a, 'POST', '/v1/locks/a/b/c', {})).status, 404)
    assert.equal((await call(a, 'POST', '/v1/barriers/b', { parties: 2 })).status, 404)
    assert.equal((await a.inject({ method: 'GET', url: '/health' })).statusCode, 200)
  })

  it('a node cut off from the leader loses its locks by lease expiry: a held stream says so, DELETE answers 410', async () => {
    const i = nodes.findIndex(n => n.raft.status().role !== 'leader')
    const victim = nodes[i]!
    const others = nodes.filter(n => n !== victim)
    const kept = await call(apis[i]!, 'POST', '/v1/locks/cut', { ttlMs: 1000 })
    assert.equal(kept.status, 200)
    const res = await fetch(`${servers[i]!.url}/v1/locks/cut2?hold=connection`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ttlMs: 1000 }) })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /application\/x-ndjson/)
    const reader = res.body!.getReader()
    let text = ''
    while (!text.includes('\n')) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    assert.equal((JSON.parse(text.split('\n')[0]!) as Json).resource, 'cut2')

    // Raft frames (keep-alives included) between the victim and the others stop, both ways.
    const cut = victim.peerId.toString()
    for (const n of nodes) n.raft.setFilter((_dir, peer) => n === victim ? false : peer !== cut)
    try {
      await waitFor(() => others.every(n => n.raft.coordination.lockInfo('cut').holders.length === 0 && n.raft.coordination.lockInfo('cut2').holders.length === 0), { timeoutMs: 15_000, message: 'the leader to expire the cut-off leases' })
    } finally {
      for (const n of nodes) n.raft.setFilter(null)
    }
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    const lines = text.split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l) as Json)
    assert.deepEqual(lines.at(-1), { event: 'lost', reason: 'expired' })
    const gone = await call(apis[i]!, 'DELETE', '/v1/locks/cut', { fencingToken: kept.body.fencingToken as number })
    assert.equal(gone.status, 410)
    assert.equal(gone.body.error, 'lease_expired')
    await oneLeader(nodes)
  })

  it('CLI: lock runs a command with its fencing token while another waits, holds until a signal, releases when killed; barrier; elect and observe', async () => {
    const [url, url2] = servers.map(s => s.url) as [string, string, string]
    // Processes that only wait for each other start now, beside the lock commands.
    const observer = spawnCli(['elect', '--api', url, 'cli-role', '--observe'])
    const barrier = Promise.all([url, url2].map(async u => runCli(['barrier', '--api', u, 'cli-barrier', '--parties', '2', '--timeout', '30000'])))
    const usage = Promise.all([
      runCli(['lock', '--api', url, 'x', '--timeout', 'soon']),
      runCli(['barrier', '--api', url, 'b', '--parties', '0'])
    ])
    const dir = mkdtempSync(join(tmpdir(), 'swarmnet-coord-cli-'))
    const go = join(dir, 'go')
    // The first command holds the lock until the test creates `go`, then exits 3.
    const holdUntilGo = `console.log('token=' + process.env.SWARMNET_FENCING_TOKEN + ' resource=' + process.env.SWARMNET_LOCK_RESOURCE);
      const t = setInterval(() => { if (require('node:fs').existsSync(${JSON.stringify(go)})) { clearInterval(t); process.exit(3) } }, 20)`
    const first = spawnCli(['lock', '--api', url, 'job', '--', process.execPath, '-e', holdUntilGo])
    const g1 = JSON.parse(await first.line(/"fencingToken"/)) as Json
    assert.equal(await first.line(/^token=/), `token=${g1.fencingToken as number} resource=job`)
    const second = spawnCli(['lock', '--api', url2, 'job', '--timeout', '20000', '--', process.execPath, '-e', 'console.log("token=" + process.env.SWARMNET_FENCING_TOKEN)'])
    await waitFor(() => nodes[0]!.coordination.lockInfo('job').queue.length === 1, { message: 'the second lock command queued' })
    assert.deepEqual(second.stdoutLines, [])
    writeFileSync(go, '')
    assert.equal((await first.exit).code, 3, first.stderr())
    const g2 = JSON.parse(await second.line(/"fencingToken"/)) as Json
    assert.ok((g2.fencingToken as number) > (g1.fencingToken as number))
    assert.equal(await second.line(/^token=/), `token=${g2.fencingToken as number}`)
    assert.equal((await second.exit).code, 0, second.stderr())
    await waitFor(() => nodes[0]!.coordination.lockInfo('job').holders.length === 0, { message: 'job released' })

    // Without a command: held until a signal. A SIGKILLed holder's lock is released with its connection.
    const holder = spawnCli(['lock', '--api', url, 'held'])
    await holder.line(/"fencingToken"/)
    const waiter = spawnCli(['lock', '--api', url2, 'held', '--shared', '--timeout', '20000'])
    await waitFor(() => nodes[1]!.coordination.lockInfo('held').queue.length === 1, { message: 'the waiter queued' })
    holder.proc.kill('SIGKILL')
    const shared = JSON.parse(await waiter.line(/"fencingToken"/)) as Json
    assert.equal(shared.mode, 'shared')
    const busy = await runCli(['lock', '--api', url, 'held', '--timeout', '300'])
    assert.equal(busy.code, 1)
    assert.match(busy.stderr, /^swarmnet: 504 timeout: /)
    waiter.proc.kill('SIGTERM')
    assert.equal((await waiter.exit).code, 0, waiter.stderr())
    assert.equal(nodes[1]!.coordination.lockInfo('held').holders.length, 0, 'released before the CLI exited')

    const [p1, p2] = await barrier
    assert.equal(p1!.code, 0, p1!.stderr)
    assert.equal(p2!.code, 0, p2!.stderr)
    assert.equal((JSON.parse(p1!.stdout) as Json).generation, (JSON.parse(p2!.stdout) as Json).generation)

    await observer.line(/"leader":null/)
    const leader = spawnCli(['elect', '--api', url2, 'cli-role', 'me'])
    const elected = JSON.parse(await leader.line(/"revision"/)) as Json
    assert.equal(elected.value, 'me')
    await observer.line(/"value":"me"/)
    leader.proc.kill('SIGTERM')
    assert.equal((await leader.exit).code, 0, leader.stderr())
    await waitFor(() => observer.stdoutLines.length === 3, { message: () => `the observer to see the resignation: ${JSON.stringify(observer.stdoutLines)}` })
    assert.deepEqual(JSON.parse(observer.stdoutLines[2]!), { role: 'cli-role', leader: null })
    observer.proc.kill('SIGINT')
    assert.equal((await observer.exit).code, 0, observer.stderr())

    // Usage errors exit 2: a bad flag value here, parties out of range at the API.
    const [flag, parties] = await usage
    assert.equal(flag.code, 2, flag.stderr)
    assert.match(flag.stderr, /--timeout must be a non-negative integer/)
    assert.equal(parties.code, 2)
    assert.match(parties.stderr, /400 invalid_body/)
  })
})
