import { strict as assert } from 'node:assert'
import { RaftNode } from '../../protocols/raft/core/index.js'
import type { AnyMessage, RaftConfig } from '../../protocols/raft/core/index.js'
import { Cluster, config } from '../sim/harness.js'

const to = (id: string) => (m: AnyMessage) => m.to === id
const among = (ids: string[]) => (m: AnyMessage) => ids.includes(m.from) && ids.includes(m.to)
const beat = (m: AnyMessage) => m.type === 'MsgHeartbeat'

/** a leads a, b, c; everything delivered. */
function steady (over: Partial<RaftConfig> = {}): Cluster {
  const c = new Cluster(['a', 'b', 'c'], [], over)
  c.elect('a')
  c.tick('a')
  c.deliver()
  return c
}

describe('raft core: ReadIndex reads', () => {
  it('the leader serves a read once a quorum acknowledged a heartbeat round sent after it', () => {
    const c = steady()
    const a = c.node('a')
    const commit = a.status().commit
    assert.deepEqual(a.readIndex('r1'), { status: 'pending' })
    c.drain('a')
    const beats = c.take(beat)
    assert.equal(beats.length, 2, 'a round goes out at once, not at the next tick')
    const round = beats[0]?.index ?? 0
    assert.ok(round > 0)
    assert.deepEqual(c.reads.get('a'), [], 'not before any acknowledgement')
    // b answers: with a itself that is a quorum of three.
    const b = beats.find(to('b')) as AnyMessage
    c.node('b').step(b)
    const [ack] = c.drain('b')
    assert.deepEqual([ack?.type, ack?.index], ['MsgHeartbeatResp', round], 'the follower echoes the round')
    c.deliver(m => m.to === 'a')
    assert.deepEqual(c.reads.get('a'), [{ ctx: 'r1', index: commit }])
  })

  it('an acknowledgement of an older round does not confirm a newer read', () => {
    const c = steady()
    const a = c.node('a')
    a.readIndex('r1')
    c.drain('a')
    const first = c.take(beat)
    a.readIndex('r2')
    c.drain('a')
    const second = c.take(beat)
    assert.equal((second[0]?.index ?? 0), (first[0]?.index ?? 0) + 1)
    c.node('b').step(first.find(to('b')) as AnyMessage)
    c.drain('b')
    c.deliver(to('a'))
    assert.deepEqual(c.reads.get('a')?.map(r => r.ctx), ['r1'])
    c.node('c').step(second.find(to('c')) as AnyMessage)
    c.drain('c')
    c.deliver(to('a'))
    assert.deepEqual(c.reads.get('a')?.map(r => r.ctx), ['r1', 'r2'])
  })

  it('reads asked between two ready() calls share one round', () => {
    const c = steady()
    const a = c.node('a')
    for (const ctx of ['x', 'y', 'z']) a.readIndex(ctx)
    c.drain('a')
    assert.equal(c.outbox.filter(beat).length, 2)
    c.deliver()
    assert.deepEqual(c.reads.get('a')?.map(r => r.ctx), ['x', 'y', 'z'])
  })

  it('a new leader serves reads only once an entry of its term is committed, at an index covering it', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.tick('a', 10)
    c.deliver(m => m.type !== 'MsgApp')
    const a = c.node('a')
    assert.equal(a.status().role, 'leader')
    assert.equal(a.status().commit, 0, 'its empty entry is not committed yet')
    a.readIndex('early')
    c.drain('a')
    c.deliver(m => m.type !== 'MsgApp')
    assert.deepEqual(c.reads.get('a'), [], 'leadership confirmed, but the commit index may still lag')
    c.deliver()
    assert.deepEqual(c.reads.get('a'), [{ ctx: 'early', index: 1 }])
  })

  it('a follower forwards its read to the leader and gets the read index back', () => {
    const c = steady()
    c.propose('a', 'x')
    c.deliver()
    assert.deepEqual(c.node('b').readIndex('fr'), { status: 'forwarded', to: 'a' })
    c.drain('b')
    const [req] = c.take(m => m.type === 'MsgReadIndex')
    assert.deepEqual([req?.to, req?.context, req?.term], ['a', 'fr', 0])
    c.node('a').step(req as AnyMessage)
    c.drain('a')
    c.deliver(m => m.type !== 'MsgReadIndexResp')
    const [resp] = c.take(m => m.type === 'MsgReadIndexResp')
    assert.deepEqual([resp?.to, resp?.context, resp?.index], ['b', 'fr', 2])
    c.node('b').step(resp as AnyMessage)
    c.drain('b')
    assert.deepEqual(c.reads.get('b'), [{ ctx: 'fr', index: 2 }])
    assert.deepEqual(c.reads.get('a'), [], 'the leader keeps nothing of it')
  })

  it('drops reads with no leader to ask, and reads at a node that is not leader', () => {
    const c = new Cluster(['a', 'b', 'c'])
    assert.deepEqual(c.node('b').readIndex('r'), { status: 'dropped', reason: 'no-leader' })
    c.elect('a')
    c.node('c').step({ type: 'MsgReadIndex', from: 'b', to: 'c', term: 0, context: 'lost' })
    assert.equal(c.node('c').stats.readsDropped, 1)
    assert.equal(c.drain('c').length, 0)
    const outsider = new RaftNode(config('z', ['a', 'b', 'c']))
    assert.deepEqual(outsider.readIndex('r'), { status: 'dropped', reason: 'not-a-member' })
  })

  it('a leader cut off from the quorum never serves; its pending reads vanish when it steps down', () => {
    const c = steady()
    const a = c.node('a')
    a.readIndex('stale')
    c.drain('a')
    c.drop()
    for (let i = 0; i < 20; i++) {
      c.tick('a')
      c.drop()
    }
    assert.equal(a.status().role, 'follower', 'check-quorum deposed it')
    assert.deepEqual(c.reads.get('a'), [])
    // Back with a quorum as follower: the old read is not served late.
    c.tick('b', 20)
    c.deliver()
    assert.equal(c.node('b').status().role, 'leader')
    c.tick('b')
    c.deliver()
    assert.deepEqual(c.reads.get('a'), [])
  })

  it('a single voter serves at once', () => {
    const c = new Cluster(['a'])
    c.elect('a')
    c.node('a').readIndex('solo')
    c.drain('a')
    assert.deepEqual(c.reads.get('a'), [{ ctx: 'solo', index: 1 }])
  })

  it('the test-only readIndexWithoutQuorum flag serves without a round', () => {
    const c = steady({ unsafe: { readIndexWithoutQuorum: true } })
    c.node('a').readIndex('unsafe')
    const out = c.drain('a')
    assert.equal(out.filter(beat).length, 0)
    assert.equal(c.reads.get('a')?.length, 1)
  })

  describe('lease reads', () => {
    /** a leads with leases on; b and c have been up for a whole election timeout. */
    function leased (): Cluster {
      const c = new Cluster(['a', 'b', 'c'], [], { leaseRead: true })
      for (const id of ['b', 'c']) c.restore(id, { hardState: { term: 0, vote: '', commit: 0 }, entries: [] })
      // Tick b and c past their startup lease but short of campaigning (rand 0: timeout 10).
      c.tick('b', 9)
      c.tick('c', 9)
      c.tick('a', 10)
      c.deliver()
      assert.notEqual(c.node('a').status().role, 'leader', 'b and c still honour a lease they may have granted before')
      c.drop()
      c.tick('b')
      c.tick('c')
      c.drop()
      c.tick('a', 10)
      c.deliver()
      assert.equal(c.node('a').status().role, 'leader')
      return c
    }

    it('are served without a round while a quorum acknowledged a heartbeat within the lease', () => {
      const c = leased()
      c.tick('a')
      c.deliver()
      c.node('a').readIndex('fast')
      const out = c.drain('a')
      assert.equal(out.filter(beat).length, 0, 'no round needed')
      assert.equal(c.reads.get('a')?.[0]?.ctx, 'fast')
    })

    it('need a round again once the lease ran out', () => {
      const c = leased()
      c.tick('a')
      c.deliver()
      // floor((10 - 1) / 1.25) = 7 ticks of lease; heartbeats go unanswered.
      for (let i = 0; i < 7; i++) { c.tick('a'); c.drop() }
      c.node('a').readIndex('slow')
      const out = c.drain('a')
      assert.equal(out.filter(beat).length, 2, 'a round goes out')
      assert.deepEqual(c.reads.get('a'), [])
      c.deliver()
      assert.equal(c.reads.get('a')?.[0]?.ctx, 'slow')
    })

    it('stop once a transfer started: the target\'s votes pass the followers\' leases', () => {
      const c = leased()
      c.tick('a')
      c.deliver()
      c.node('a').transferLeadership('b')
      c.drain('a')
      c.drop()
      c.node('a').readIndex('during')
      const out = c.drain('a')
      assert.equal(out.filter(beat).length, 2)
      assert.deepEqual(c.reads.get('a'), [])
    })

    it('refuse a config without check-quorum', () => {
      assert.throws(() => new RaftNode(config('a', ['a'], { leaseRead: true, checkQuorum: false })), /checkQuorum/)
    })
  })

  it('heartbeat answers count only in the term they were sent (a stale acknowledgement is ignored)', () => {
    const c = steady()
    const a = c.node('a')
    a.readIndex('r')
    c.drain('a')
    c.drop()
    a.step({ type: 'MsgHeartbeatResp', from: 'b', to: 'a', term: 0, index: 99 })
    c.drain('a')
    assert.deepEqual(c.reads.get('a'), [])
    c.tick('a')
    c.deliver(among(['a', 'c']))
    assert.equal(c.reads.get('a')?.length, 1)
  })
})
