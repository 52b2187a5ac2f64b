import { strict as assert } from 'node:assert'
import type { AnyMessage, Message } from '../../protocols/raft/core/index.js'
import { Cluster, logOf, text } from '../sim/harness.js'

const app = (to: string) => (m: AnyMessage) => m.type === 'MsgApp' && m.to === to
const among = (ids: string[]) => (m: AnyMessage) => ids.includes(m.from) && ids.includes(m.to)

/** a and c hold `leaderLog`, b holds `followerLog`; a wins with c's vote while b's traffic waits. */
function divergent (leaderLog: number[], followerLog: number[], over = {}): Cluster {
  const c = new Cluster(['a', 'b', 'c'], [], over)
  const term = Math.max(...leaderLog, ...followerLog)
  c.restore('a', { hardState: { term, vote: '', commit: 1 }, entries: logOf(leaderLog) })
  c.restore('b', { hardState: { term, vote: '', commit: 1 }, entries: logOf(followerLog) })
  c.restore('c', { hardState: { term, vote: '', commit: 1 }, entries: logOf(leaderLog) })
  c.drainAll()
  c.tick('a', 10)
  c.deliver(among(['a', 'c']))
  c.drop(m => m.type !== 'MsgApp')
  assert.equal(c.node('a').status().role, 'leader')
  return c
}

describe('raft core: replication', () => {
  it('fast back-off: the rejection names the conflicting term and its first index; one step skips it', () => {
    const c = divergent([1, 1, 1, 4, 4, 4, 4, 4, 4, 4], [1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2])
    const first = c.deliverOne(app('b'))
    assert.deepEqual([first.index, first.logTerm], [10, 4])
    const [rej] = c.take(m => m.from === 'b')
    assert.deepEqual([rej?.reject, rej?.index, rej?.logTerm, rej?.rejectHint], [true, 10, 2, 4])
    c.node('a').step(rej as Message)
    c.drain('a')
    const [retry] = c.take(app('b'))
    assert.deepEqual([retry?.index, retry?.logTerm], [3, 1], 'the leader has no term 2: it jumps before the run')
    assert.deepEqual(retry?.entries?.map(e => e.index), [4, 5, 6, 7, 8, 9, 10, 11])
    c.node('b').step(retry as Message)
    const b = c.node('b').status()
    assert.deepEqual([b.lastIndex, b.lastTerm], [11, 5], 'the conflicting tail was replaced')
  })

  it('fast back-off: when the leader holds the conflicting term it resumes after its last entry of it', () => {
    const c = divergent([1, 1, 2, 2, 4, 4], [1, 1, 2, 2, 2, 2, 2, 2])
    c.deliverOne(app('b'))
    const [rej] = c.take(m => m.from === 'b')
    assert.deepEqual([rej?.index, rej?.logTerm, rej?.rejectHint], [6, 2, 3])
    c.node('a').step(rej as Message)
    c.drain('a')
    const [retry] = c.take(app('b'))
    assert.deepEqual([retry?.index, retry?.logTerm], [4, 2])
  })

  it('fast back-off: a follower with a short log answers with its last index', () => {
    const c = divergent([1, 1, 1, 1, 1, 1], [1, 1])
    c.deliverOne(app('b'))
    const [rej] = c.take(m => m.from === 'b')
    assert.deepEqual([rej?.index, rej?.logTerm, rej?.rejectHint], [6, 0, 2])
    c.node('a').step(rej as Message)
    c.drain('a')
    const [retry] = c.take(app('b'))
    assert.deepEqual([retry?.index, retry?.entries?.length], [2, 5])
  })

  for (const unsafe of [false, true]) {
    it(unsafe
      ? 'with the test-only commitOldTermByCounting flag the same sequence does commit the old entry'
      : 'never commits an entry of an earlier term by counting replicas, only under one of its own', () => {
      // a alone holds index 2 (term 1); it wins term 2 with b's vote and sends one entry per append.
      const c = new Cluster(['a', 'b', 'c'], [], { maxEntriesPerAppend: 1, unsafe: { commitOldTermByCounting: unsafe } })
      c.restore('a', { hardState: { term: 1, vote: '', commit: 1 }, entries: logOf([1, 1]) })
      for (const id of ['b', 'c']) c.restore(id, { hardState: { term: 1, vote: '', commit: 1 }, entries: logOf([1]) })
      c.drainAll()
      c.tick('a', 10)
      const ackOf3 = (m: AnyMessage) => m.type === 'MsgAppResp' && m.reject !== true && m.index === 3
      c.deliver(m => among(['a', 'b'])(m) && !ackOf3(m))
      const a = c.node('a').status()
      assert.equal(a.term, 2)
      assert.equal(a.progress?.b?.match, 2, 'b stores index 2 (term 1): with a, a majority')
      assert.equal(a.commit, unsafe ? 2 : 1)
      c.deliver(among(['a', 'b']))
      assert.equal(c.node('a').status().commit, 3, 'the term-2 entry commits, and index 2 with it')
    })
  }

  it('forwards a follower\'s proposal to the leader; drops it when there is no leader', () => {
    const c = new Cluster(['a', 'b', 'c'])
    assert.deepEqual(c.node('b').propose(new TextEncoder().encode('early')), { status: 'dropped', reason: 'no-leader' })
    c.elect('a')
    const res = c.node('b').propose(new TextEncoder().encode('x'))
    assert.deepEqual(res, { status: 'forwarded', to: 'a' })
    c.drain('b')
    assert.deepEqual(c.outbox.map(m => [m.type, m.to]), [['MsgProp', 'a']])
    // A forwarded proposal reaching a node that is not leader is dropped, never forwarded again;
    // it goes back to its forwarder as refused.
    c.node('c').step({ ...(c.outbox[0] as Message), to: 'c' })
    assert.equal(c.node('c').stats.proposalsDropped, 1)
    assert.deepEqual(c.drain('c').map(m => [m.type, m.to, m.reject]), [['MsgProp', 'b', true]])
    c.deliver()
    assert.deepEqual((c.applied.get('a') ?? []).map(text), ['', 'x'])
    // The forwarder hears of the commit at once (its client waits); the others with the next
    // append, or at the leader's next tick.
    assert.deepEqual((c.applied.get('b') ?? []).map(text), ['', 'x'])
    assert.deepEqual((c.applied.get('c') ?? []).map(text), [''])
    c.tick('a')
    c.deliver()
    for (const id of ['a', 'b', 'c']) assert.deepEqual((c.applied.get(id) ?? []).map(text), ['', 'x'])
  })

  it('bounds the append messages in flight to a follower in replicate state', () => {
    const c = new Cluster(['a', 'b', 'c'], [], { maxInflightAppends: 2, maxEntriesPerAppend: 1 })
    c.elect('a')
    assert.equal(c.node('a').status().progress?.b?.state, 'replicate')
    for (let i = 0; i < 5; i++) c.node('a').propose(new TextEncoder().encode(`v${i}`))
    c.drain('a')
    const toB = c.outbox.filter(app('b'))
    assert.deepEqual(toB.map(m => m.entries?.map(e => e.index)), [[2], [3]], 'two in flight, one entry each')
    assert.equal(c.node('a').status().progress?.b?.inflight, 2)
    // Each ack frees a slot and lets exactly one more append go.
    c.deliverOne(app('b'))
    c.deliverOne(m => m.from === 'b')
    assert.deepEqual(c.outbox.filter(app('b')).map(m => m.entries?.map(e => e.index)), [[3], [4]])
    c.deliver()
    assert.equal(c.node('b').status().lastIndex, 6)
  })

  it('sends everything proposed between two ready() calls as one append per follower and one persist', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.elect('a')
    const a = c.node('a')
    for (let i = 0; i < 5; i++) assert.equal(a.propose(new TextEncoder().encode(`v${i}`)).status, 'accepted')
    const rd = a.ready()
    assert.deepEqual(rd?.entries.map(e => e.index), [2, 3, 4, 5, 6])
    assert.deepEqual(rd?.messages.map(m => [m.type, m.to, m.entries?.length]), [['MsgApp', 'b', 5], ['MsgApp', 'c', 5]])
    if (rd !== null) a.advance(rd)
  })

  it('a leader hands out its heartbeats while a Ready is still being persisted; nobody else does', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.elect('a')
    const a = c.node('a')
    a.propose(new TextEncoder().encode('x'))
    const rd = a.ready()!
    assert.equal(rd.sendFirst, true)
    // The driver is fsyncing rd; a tick goes by (a heartbeat every tick here).
    a.tick()
    const early = a.takeMessages()
    assert.deepEqual(early.map(m => [m.type, m.to]), [['MsgHeartbeat', 'b'], ['MsgHeartbeat', 'c']])
    assert.deepEqual(a.takeMessages(), [], 'taken once')
    a.advance(rd)
    assert.equal((a.ready()?.messages ?? []).filter(m => m.type === 'MsgHeartbeat').length, 0, 'not sent again')
    c.node('b').tick()
    assert.deepEqual(c.node('b').takeMessages(), [], 'a follower waits for its Ready')
  })

  it('heartbeats carry min(leader commit, follower match)', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.elect('a')
    c.propose('a', 'x')
    c.deliver(among(['a', 'b']))
    c.drop()
    assert.equal(c.node('a').status().commit, 2)
    c.tick('a')
    const beats = c.take(m => m.type === 'MsgHeartbeat')
    assert.deepEqual(beats.map(m => [m.to, m.commit]), [['b', 2], ['c', 1]])
  })

  it('a follower persists appended entries in the same Ready as its ack', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.elect('a')
    c.propose('a', 'x')
    c.node('b').step(c.take(app('b'))[0] as Message)
    const rd = c.node('b').ready()
    assert.deepEqual(rd?.entries.map(e => e.index), [2])
    assert.deepEqual(rd?.messages.map(m => [m.type, m.index]), [['MsgAppResp', 2]])
  })

  it('a restarted node comes back with its durable state and re-applies its committed entries', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.restore('b', { hardState: { term: 3, vote: 'a', commit: 2 }, entries: logOf([1, 3, 3]) })
    const rd = c.node('b').ready()
    assert.equal(rd?.hardState, undefined, 'nothing new to persist')
    assert.deepEqual(rd?.entries, [])
    assert.deepEqual(rd?.committedEntries.map(e => e.index), [1, 2])
    const st = c.node('b').status()
    assert.deepEqual([st.term, st.vote, st.lastIndex], [3, 'a', 3])
  })
})
