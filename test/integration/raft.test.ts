import { strict as assert } from 'node:assert'
import { peerIdFromString } from '@libp2p/peer-id'
import type { FastifyInstance } from 'fastify'
import type { SwarmNode, SwarmNodeOptions } from '../../node/swarm-node.js'
import { buildApi, startApi } from '../../node/api/server.js'
import { SwarmnetClient, SwarmnetClientError } from '../../node/http-client.js'
import { RAFT_PROTOCOL } from '../../protocols/raft/transport.js'
import { RaftFrame, RaftMessage } from '../../protocols/raft/raft.pb.js'
import { encodeFrames } from '../../protocols/direct/frames.js'
import { KvConflictError, KvInputError, RaftUnavailableError } from '../../protocols/raft/errors.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { startNode, startSwarm, waitFullyConnected, type TestSwarm } from '../harness/swarm.js'
import { tempDirs } from '../harness/temp.js'
import { waitFor } from '../harness/wait.js'

const FAST: Partial<SwarmNodeOptions> = { raft: { settleMs: 300 } }

const leaders = (nodes: SwarmNode[]): SwarmNode[] => nodes.filter(n => n.raft.status().role === 'leader')

/** One leader that every node in `nodes` follows, all of them members. */
async function waitOneLeader (nodes: SwarmNode[], timeoutMs = 15_000): Promise<SwarmNode> {
  await waitFor(() => {
    const ls = leaders(nodes)
    if (ls.length !== 1) return false
    const id = ls[0]!.peerId.toString()
    return nodes.every(n => n.raft.status().formation.state === 'member' && n.raft.status().leader === id)
  }, { timeoutMs, message: () => `one leader followed by all: ${JSON.stringify(nodes.map(n => { const s = n.raft.status(); return [s.role, s.term, s.leader?.slice(-6), s.formation.state, s.formation.waiting] }))}` })
  return leaders(nodes)[0]!
}

/** Cuts `minority` off from everyone else, both ways, for raft frames only. */
function partition (all: SwarmNode[], minority: SwarmNode[]): void {
  const cut = new Set(minority.map(n => n.peerId.toString()))
  for (const n of all) {
    const inside = cut.has(n.peerId.toString())
    n.raft.setFilter((_dir, peer) => cut.has(peer) === inside)
  }
}

function heal (all: SwarmNode[]): void {
  for (const n of all) n.raft.setFilter(null)
}

/** Whether `from` holds an open raft stream of its own to `to`. */
function raftStreamOpen (from: SwarmNode, to: SwarmNode): boolean {
  return from.libp2p.getConnections(to.peerId)
    .some(conn => conn.streams.some(s => s.direction === 'outbound' && s.protocol === RAFT_PROTOCOL && s.status === 'open'))
}

describe('raft cluster (in-process)', function () {
  this.timeout(60_000)
  const tmp = tempDirs('swarmnet-raft-')
  let swarm: TestSwarm | undefined
  const extra: SwarmNode[] = []
  const apis: FastifyInstance[] = []
  afterEach(async () => {
    await Promise.all(apis.splice(0).map(async a => a.close()))
    await Promise.all(extra.splice(0).map(async n => n.stop()))
    await swarm?.stop()
    swarm = undefined
  })

  it('waits while fewer than N voters exist, forms with N, and takes a later node as a learner; HTTP API', async () => {
    const boot = await startNode('memory', { role: 'bootstrap' })
    extra.push(boot)
    const join = async (): Promise<SwarmNode> => {
      const n = await startNode('memory', { ...FAST, voters: 3, bootstrap: boot.addrs() })
      extra.push(n)
      return n
    }
    const [a, b] = [await join(), await join()]
    await waitFor(() => /waiting for 3 voters: 2 seen/.test(a.raft.status().formation.waiting ?? ''), { message: () => `a to report waiting: ${JSON.stringify(a.raft.status().formation)}` })
    const st = a.status().raft!
    assert.equal(st.formation.state, 'forming')
    assert.equal(st.leader, null)
    assert.deepEqual(st.voters, [])
    await assert.rejects(a.kv.put('k', 1, { timeoutMs: 500 }), (err: unknown) => err instanceof RaftUnavailableError && /no cluster yet/.test(err.message))

    const c = await join()
    const leader = await waitOneLeader([a, b, c])
    assert.equal(leader.raft.status().voters.length, 3)
    const api = buildApi(a)
    apis.push(api)
    const put = await api.inject({ method: 'PUT', url: '/v1/kv/orders/BTC-1', payload: { value: { side: 'buy', qty: 2 } } })
    assert.equal(put.statusCode, 200, put.body)
    const { version, index } = put.json() as { version: number, index: number }
    assert.equal(version, index)
    const got = await api.inject({ method: 'GET', url: '/v1/kv/orders/BTC-1' })
    assert.deepEqual(got.json(), { key: 'orders/BTC-1', value: { side: 'buy', qty: 2 }, version })
    assert.equal((await api.inject({ method: 'GET', url: '/v1/kv/orders%2FETH?consistency=stale' })).statusCode, 404)
    const conflict = await api.inject({ method: 'PUT', url: '/v1/kv/orders/BTC-1', payload: { value: 1, prevVersion: version + 1000 } })
    assert.equal(conflict.statusCode, 409)
    assert.equal((conflict.json() as { version: number }).version, version)
    const cas = await api.inject({ method: 'PUT', url: '/v1/kv/orders/BTC-1', payload: { value: 'filled', prevVersion: version } })
    assert.equal(cas.statusCode, 200, cas.body)
    assert.equal((await api.inject({ method: 'PUT', url: '/v1/kv/x', payload: { value: 1, extra: true } })).statusCode, 400)
    assert.equal((await api.inject({ method: 'PUT', url: '/v1/kv/x', payload: { prevVersion: 1 } })).statusCode, 400)
    assert.equal((await api.inject({ method: 'GET', url: '/v1/kv/x?consistency=eventual' })).statusCode, 400)
    assert.equal((await api.inject({ method: 'DELETE', url: '/v1/kv/orders/BTC-1' })).statusCode, 200)
    assert.equal((await api.inject({ method: 'DELETE', url: '/v1/kv/orders/BTC-1' })).statusCode, 404)
    const lead = (await api.inject({ method: 'GET', url: '/v1/leader' })).json() as { leader: string, term: number }
    assert.equal(lead.leader, leader.peerId.toString())
    const status = (await api.inject({ method: 'GET', url: '/v1/status' })).json() as { raft: Record<string, unknown> }
    for (const field of ['role', 'term', 'leader', 'commitIndex', 'appliedIndex', 'voters', 'learners']) assert.ok(field in status.raft, field)

    await a.kv.put('before-join', 'x')
    const d = await join()
    await waitFor(() => d.raft.status().role === 'learner' && d.raft.status().appliedIndex >= a.raft.status().commitIndex, { message: () => `d to be a caught-up learner: ${JSON.stringify(d.raft.status())}` })
    assert.deepEqual(await d.kv.get('before-join', { consistency: 'stale' }), (await a.kv.get('before-join')))
    // A learner's write goes through the leader; it resolves once the learner applied it.
    const w = await d.kv.put('from-learner', 42)
    assert.deepEqual(await d.kv.get('from-learner', { consistency: 'stale' }), { key: 'from-learner', value: 42, version: w.version })
    await waitOneLeader([a, b, c, d])
    for (const n of [a, b, c, d]) assert.deepEqual(n.raft.status().learners, [d.peerId.toString()])
  })

  /**
   * Three voters, each with a key and a data dir of its own: restart(i) stops member i, runs
   * `meanwhile`, and starts it again as itself (nodes[i] is then the new instance).
   */
  async function restartableCluster (): Promise<{ nodes: SwarmNode[], restart: (i: number, meanwhile: () => Promise<void>) => Promise<void> }> {
    const boot = await startNode('memory', { role: 'bootstrap' })
    extra.push(boot)
    const keys = await Promise.all([0, 1, 2].map(async () => generateKeyPair('Ed25519')))
    const dirs = keys.map(() => tmp())
    const start = async (i: number): Promise<SwarmNode> => {
      const n = await startNode('memory', { ...FAST, voters: 3, bootstrap: boot.addrs(), privateKey: keys[i], inMemory: false, dataDir: dirs[i] })
      extra.push(n)
      return n
    }
    const nodes = await Promise.all(keys.map(async (_k, i) => start(i)))
    const restart = async (i: number, meanwhile: () => Promise<void>): Promise<void> => {
      await nodes[i]!.stop()
      extra.splice(extra.indexOf(nodes[i]!), 1)
      await meanwhile()
      nodes[i] = await start(i)
    }
    return { nodes, restart }
  }

  it('a restarted member opens raft streams to every other member at once, followers included', async () => {
    // Followers never write to each other. Without streams opened ahead of need, the first vote
    // or append after the next leader change waited for one to be negotiated (a handover's gap).
    const { nodes, restart } = await restartableCluster()
    const leader = await waitOneLeader(nodes)
    await leader.kv.put('before', 1)
    const i = nodes.findIndex(n => n !== leader)
    await restart(i, async () => { await leader.kv.put('while-down', 2) })
    await waitOneLeader(nodes)
    await waitFor(() => nodes[i]!.raft.status().appliedIndex >= leader.raft.status().commitIndex, { message: 'the restarted member to catch up' })
    await waitFor(() => nodes.every(x => nodes.every(y => x === y || raftStreamOpen(x, y))), {
      message: () => `raft streams between all members (rows: from): ${JSON.stringify(nodes.map(x => nodes.map(y => x === y || raftStreamOpen(x, y))))}`
    })
  })

  it('a leader that stops hands over to the member connected longest, not to one that has just restarted', async () => {
    // A member started moments ago is still warming up; leading at once gave rolling restarts
    // their longest write gaps. Both followers are caught up, so the core alone would pick the
    // first voter in its list: the restarted one is chosen to be that one.
    const { nodes, restart } = await restartableCluster()
    const leader = await waitOneLeader(nodes)
    const firstFollower = leader.raft.status().voters.find(id => id !== leader.peerId.toString())
    const i = nodes.findIndex(n => n.peerId.toString() === firstFollower)
    const longest = nodes.find((n, j) => j !== i && n !== leader)!
    await restart(i, async () => { await leader.kv.put('while-down', 1) })
    await waitFor(() => nodes[i]!.raft.status().appliedIndex >= leader.raft.status().commitIndex && nodes[i]!.raft.status().leader === leader.peerId.toString(), { message: 'the restarted member to catch up' })
    const before = leader.peerId.toString()
    await leader.stop()
    extra.splice(extra.indexOf(leader), 1)
    await waitFor(() => ![null, before].includes(nodes[i]!.raft.status().leader), { message: 'the restarted member to follow the new leader' })
    assert.equal(nodes[i]!.raft.status().leader, longest.peerId.toString(), 'the restarted member follows the one connected longest')
    assert.equal(longest.raft.status().role, 'leader')
  })

  it('writes the leader appended but had not committed when it handed over are answered once the new leader commits them', async () => {
    // With one follower down, every commit needs the transferee's ack, and its vote request goes
    // out before that ack: the old leader always steps down with these writes uncommitted.
    const { nodes } = await restartableCluster()
    const leader = await waitOneLeader(nodes)
    await leader.kv.put('before', 0)
    const [down, target] = nodes.filter(n => n !== leader) as [SwarmNode, SwarmNode]
    await down.stop()
    extra.splice(extra.indexOf(down), 1)
    const writes = Array.from({ length: 50 }, async (_x, i) => await leader.kv.put(`w${i}`, i, { timeoutMs: 10_000 }))
    const moved = await leader.raft.transferLeadership(target.peerId.toString(), 5000)
    assert.equal(moved.leader, target.peerId.toString())
    const outcomes = await Promise.allSettled(writes)
    const failed = outcomes.flatMap(o => o.status === 'rejected' ? [String(o.reason)] : [])
    assert.deepEqual(failed, [], 'no write failed')
    // A key's version is the index of the write that set it: each was applied once, where acknowledged.
    const acked = await Promise.all(writes)
    for (let i = 0; i < 50; i++) assert.equal((await target.kv.get(`w${i}`))?.version, acked[i]!.index)
    assert.equal(leader.raft.reproposed(), 0)
  })

  it('a write a cut-off leader appended, which the next leader replaced, is proposed again and applied once', async () => {
    const { nodes } = await restartableCluster()
    const old = await waitOneLeader(nodes)
    await old.kv.put('before', 0)
    const others = nodes.filter(n => n !== old)
    partition(nodes, [old])
    // Appended at the old leader's next index, which can never commit there.
    const lost = old.kv.put('again', 1, { timeoutMs: 20_000 })
    const index = old.raft.status().commitIndex + 1
    const next = await waitOneLeader(others)
    // The new leader's own entries fill that index and more.
    for (let i = 0; i < 5; i++) await next.kv.put(`n${i}`, i)
    heal(nodes)
    const put = await lost
    assert.ok(put.index > index, `applied at ${put.index}, after the replaced index ${index}`)
    assert.equal(old.raft.reproposed(), 1)
    // A key's version is the index of the write that set it: applied once, where acknowledged.
    await waitFor(() => nodes.every(n => n.raft.status().appliedIndex >= put.index), { message: 'every node to apply it' })
    for (const n of nodes) assert.equal((await n.kv.get('again', { consistency: 'stale' }))?.version, put.index)
  })

  it('POST /v1/kv runs independent operations with one result each; the HTTP client shares requests between concurrent calls', async () => {
    swarm = await startSwarm({ members: 3, node: { ...FAST, voters: 3 } })
    await waitFullyConnected(swarm.all)
    await waitOneLeader(swarm.members)
    const node = swarm.members[1]!
    const api = buildApi(node)
    apis.push(api)
    const batch = await api.inject({
      method: 'POST',
      url: '/v1/kv',
      payload: { ops: [{ op: 'put', key: 'a', value: 1 }, { op: 'put', key: 'a', value: 2, prevVersion: 1 }, { op: 'get', key: 'none' }, { op: 'del', key: 'none' }, { op: 'put', key: 'b' }] }
    })
    assert.equal(batch.statusCode, 200, batch.body)
    assert.equal(batch.headers['x-swarmnet-leader'], node.raft.leader().leader)
    const results = (batch.json() as { results: Array<Record<string, unknown>> }).results
    assert.deepEqual(results.map(r => r.status), [200, 409, 404, 404, 400])
    assert.equal(results[1]!.error, 'conflict')
    // Operations of one batch are concurrent: a read sees the batch's writes from the next request on.
    const after = await api.inject({ method: 'POST', url: '/v1/kv', payload: { ops: [{ op: 'get', key: 'a' }, { op: 'get', key: 'a', consistency: 'stale' }] } })
    assert.deepEqual((after.json() as { results: Array<Record<string, unknown>> }).results.map(r => r.value), [1, 1])
    for (const bad of [{}, { ops: [] }, { ops: [{ op: 'cas', key: 'a' }] }, { ops: [{ op: 'get' }] }, { ops: Array.from({ length: 1001 }, () => ({ op: 'get', key: 'a' })) }]) {
      assert.equal((await api.inject({ method: 'POST', url: '/v1/kv', payload: bad })).statusCode, 400, JSON.stringify(bad).slice(0, 80))
    }

    const server = await startApi(node, { host: '127.0.0.1', port: 0 }, 'secret')
    try {
      const client = new SwarmnetClient({ url: server.url, token: 'secret', maxRequests: 2 })
      const acks = await Promise.all(Array.from({ length: 200 }, async (_, i) => client.kv.put(`c/${i}`, i)))
      assert.equal(new Set(acks.map(a => a.index)).size, 200)
      assert.deepEqual(await client.kv.get('c/7'), { key: 'c/7', value: 7, version: acks[7]!.version })
      assert.equal(await client.kv.get('c/none'), null)
      await assert.rejects(client.kv.put('c/7', 0, { prevVersion: 1 }), (err: unknown) => err instanceof KvConflictError && err.version === acks[7]!.version)
      await assert.rejects(client.kv.put('', 0), KvInputError)
      assert.equal((await client.kv.delete('c/7')).deleted, true)
      assert.equal((await client.kv.delete('c/7')).deleted, false)
      assert.equal((await client.leader()).leader, node.raft.leader().leader)
      // Every answer names the leader, so a client can follow it without asking.
      assert.equal(client.leaderHint, node.raft.leader().leader)
      client.close()
      const anonymous = new SwarmnetClient({ url: server.url })
      await assert.rejects(anonymous.kv.get('c/1'), (err: unknown) => err instanceof SwarmnetClientError && err.status === 401)
      anonymous.close()
    } finally {
      await server.close()
    }
  })

  it('5 voters, 2 cut off: the majority keeps serving, the minority answers writes with 503, then catches up', async () => {
    swarm = await startSwarm({ members: 5, node: { ...FAST, voters: 5 } })
    const all = swarm.members
    await waitFullyConnected(swarm.all)
    const leader = await waitOneLeader(all)
    for (let i = 0; i < 20; i++) await all[i % 5]!.kv.put(`k${i}`, i)
    // The leader is on the minority side: the hardest case.
    const minority = [leader, all.find(n => n !== leader)!]
    const majority = all.filter(n => !minority.includes(n))
    const termBefore = leader.raft.status().term
    partition(all, minority)

    const newLeader = await waitOneLeader(majority)
    assert.ok(newLeader.raft.status().term > termBefore)
    const acked: number[] = []
    for (let i = 0; i < 20; i++) {
      await majority[i % 3]!.kv.put(`m${i}`, i, { timeoutMs: 3000 })
      acked.push(i)
    }
    // The old leader steps down (check-quorum) and nobody in the minority can commit.
    await waitFor(() => minority.every(n => n.raft.status().role !== 'leader'), { message: 'the old leader to step down' })
    const api = buildApi(minority[1]!)
    apis.push(api)
    const refused = await api.inject({ method: 'PUT', url: '/v1/kv/m-lost?timeoutMs=800', payload: { value: 1 } })
    assert.equal(refused.statusCode, 503, refused.body)
    assert.equal((refused.json() as { error: string }).error, 'unavailable')
    await assert.rejects(minority[0]!.kv.put('m-lost-2', 1, { timeoutMs: 800 }), RaftUnavailableError)
    await assert.rejects(minority[0]!.kv.get('k1', { timeoutMs: 500 }), RaftUnavailableError)
    // Stale reads still answer from the local copy.
    assert.equal((await minority[0]!.kv.get('k3', { consistency: 'stale' }))?.value, 3)

    heal(all)
    const final = await waitOneLeader(all)
    await final.kv.put('after-heal', true)
    const commit = final.raft.status().commitIndex
    await waitFor(() => all.every(n => n.raft.status().appliedIndex >= commit), { message: 'every node to apply everything' })
    for (const n of all) {
      for (const i of acked) assert.equal((await n.kv.get(`m${i}`, { consistency: 'stale' }))?.value, i)
      assert.equal(await n.kv.get('m-lost', { consistency: 'stale' }), null, 'a refused write was not applied')
    }
  })

  it('rejects and counts malformed RPCs, RPCs from non-members and a huge term from a non-member; keeps working', async () => {
    swarm = await startSwarm({ members: 3, node: { ...FAST, voters: 3 } })
    const all = swarm.members
    await waitFullyConnected(swarm.all)
    const leader = await waitOneLeader(all)
    const target = all.find(n => n !== leader)!
    const termBefore = target.raft.status().term
    // The bootstrap peer runs no raft: it is a stranger to the cluster, with a valid connection.
    const stranger = swarm.bootstrap
    const stream = await stranger.libp2p.dialProtocol(peerIdFromString(target.peerId.toString()), RAFT_PROTOCOL)
    const msg = (over: Partial<RaftMessage>): Uint8Array => RaftFrame.encode({ msg: { type: RaftMessage.Type.VOTE, term: 1, index: 0, logTerm: 0, entries: [], commit: 0, reject: false, rejectHint: 0, context: '', transfer: false, ...over } as RaftMessage })
    stream.send(encodeFrames([
      new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02]), // not a RaftFrame
      msg({ term: 2 ** 40 }), // a huge term from a non-member
      msg({ type: RaftMessage.Type.APP, term: termBefore + 1, entries: [{ term: termBefore + 1, index: 1, type: 0 as never, data: new Uint8Array(3) }] }),
      RaftFrame.encode({ hello: { state: 'MEMBER' as never, expect: 3, proposal: [], voters: ['x'], learners: [], cluster: 'evil', leader: '' } })
    ]))
    await waitFor(() => target.raft.rejected('malformed') >= 1 && target.raft.rejected('non_member') >= 2, {
      message: () => `counted rejections: malformed ${target.raft.rejected('malformed')}, non_member ${target.raft.rejected('non_member')}`
    })
    // A length prefix past the frame limit drops the stream.
    const big = await stranger.libp2p.dialProtocol(peerIdFromString(target.peerId.toString()), RAFT_PROTOCOL)
    big.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]))
    await waitFor(() => target.raft.rejected('too_large') === 1, { message: 'an oversized frame to be refused' })
    // A member sending a term of 2^63 (no exact integer in JS; our encoder would refuse it, so
    // the bytes are written by hand): refused as malformed, never stepped.
    const before = target.raft.rejected('malformed')
    const fromMember = await leader.libp2p.dialProtocol(peerIdFromString(target.peerId.toString()), RAFT_PROTOCOL)
    const heartbeat = new Uint8Array([0x08, 0x07, 0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])
    fromMember.send(encodeFrames([new Uint8Array([0x0a, heartbeat.length, ...heartbeat])]))
    await waitFor(() => target.raft.rejected('malformed') > before, { message: 'the unsafe term to be refused' })
    fromMember.abort(new Error('done'))

    // Refused before the core: no term from the stranger (an election of our own could still
    // move the term by one or two on a loaded machine, never to 2^40).
    assert.equal(target.raft.coreStats()?.ignoredNonMember, 0, 'nothing from the stranger reached the core')
    assert.ok(target.raft.status().term < termBefore + 3, `term ${target.raft.status().term} after ${termBefore}`)
    const w = await target.kv.put('still-works', 1)
    assert.equal((await leader.kv.get('still-works'))?.version, w.version)
    stream.abort(new Error('done'))
  })
})
