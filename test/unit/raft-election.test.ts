import { strict as assert } from 'node:assert'
import { RaftNode } from '../../protocols/raft/core/index.js'
import type { AnyMessage, Message } from '../../protocols/raft/core/index.js'
import { Cluster, config } from '../sim/harness.js'

const to = (id: string) => (m: AnyMessage) => m.to === id
const notTo = (id: string) => (m: AnyMessage) => m.to !== id

describe('raft core: elections', () => {
  it('elects a leader by pre-vote then vote, and the leader appends an empty entry of its term', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.tick('a', 9)
    assert.equal(c.outbox.length, 0, 'no campaign before the election timeout')
    c.tick('a')
    assert.deepEqual(c.outbox.map(m => [m.type, m.to, m.term]), [['MsgPreVote', 'b', 1], ['MsgPreVote', 'c', 1]])
    assert.equal(c.node('a').status().term, 0, 'pre-vote does not bump the term')
    c.deliver()
    const a = c.node('a').status()
    assert.equal(a.role, 'leader')
    assert.equal(a.term, 1)
    assert.equal(a.lastIndex, 1)
    for (const id of ['a', 'b', 'c']) {
      const st = c.node(id).status()
      assert.equal(st.leader, 'a')
      assert.equal(st.commit, 1)
      const applied = c.applied.get(id) ?? []
      assert.deepEqual(applied.map(e => [e.index, e.term, e.type]), [[1, 1, 'noop']])
    }
  })

  it('draws election timeouts in [electionTicks, 2 * electionTicks)', () => {
    for (const [r, ticks] of [[0, 10], [0.5, 15], [0.999, 19], [1, 19], [-3, 10]] as const) {
      const n = new RaftNode(config('a', ['a', 'b', 'c'], { rand: () => r }))
      let t = 0
      while (n.status().role === 'follower' && t < 100) { n.tick(); t++ }
      assert.equal(t, ticks, `rand ${r}`)
    }
  })

  it('pre-vote: a node cut off from the cluster does not inflate its term nor disrupt on return', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.elect('a')
    // c is partitioned: it times out again and again, each pre-vote lost.
    for (let i = 0; i < 5; i++) {
      c.tick('c', 10)
      c.drop()
    }
    assert.equal(c.node('c').status().term, 1)
    assert.equal(c.node('c').status().role, 'pre-candidate')
    // The partition heals while the others still hear the leader: c's pre-vote is ignored.
    c.tick('a')
    c.deliver(notTo('c'))
    c.drop()
    c.tick('c', 10)
    c.deliver(to('b'))
    assert.equal(c.node('b').stats.ignoredVoteInLease, 1)
    assert.equal(c.node('b').status().term, 1)
    c.drop()
    // The leader's next heartbeat brings c back, with no election.
    c.tick('a')
    c.deliver()
    for (const id of ['a', 'b', 'c']) {
      assert.equal(c.node(id).status().term, 1)
      assert.equal(c.node(id).status().leader, 'a')
    }
  })

  it('pre-vote: a candidate with a stale log is refused and nobody changes term', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.elect('a')
    c.propose('a', 'x')
    c.deliver(notTo('c'))
    c.drop()
    // a goes silent; b's lease runs out (it campaigns itself, unanswered) before c asks.
    c.tick('b', 10)
    c.drop()
    c.tick('c', 10)
    c.deliverOne(m => m.type === 'MsgPreVote' && m.to === 'b')
    const [answer] = c.take(m => m.from === 'b')
    assert.deepEqual([answer?.type, answer?.term, answer?.reject], ['MsgPreVoteResp', 1, true])
    c.node('c').step(answer as Message)
    assert.equal(c.node('b').status().term, 1)
    assert.equal(c.node('c').status().term, 1)
    assert.equal(c.node('c').status().role, 'pre-candidate')
  })

  it('pre-vote: of two rivals timing out together only one stands (better log, then smaller id), so the vote never splits', () => {
    for (const cAhead of [false, true]) {
      const c = new Cluster(['a', 'b', 'c'])
      c.elect('a')
      if (cAhead) {
        c.propose('a', 'x')
        c.deliver(m => m.to !== 'b' && m.from !== 'b')
      }
      c.drop()
      // a dies; b and c time out in the same tick and ask each other at once.
      c.tick('b', 10)
      c.tick('c', 10)
      assert.deepEqual([c.node('b').status().role, c.node('c').status().role], ['pre-candidate', 'pre-candidate'])
      c.deliver(m => m.to !== 'a')
      c.drop()
      const [winner, loser] = cAhead ? ['c', 'b'] : ['b', 'c']
      assert.deepEqual([c.node(winner).status().role, c.node(winner).status().term], ['leader', 2])
      assert.deepEqual([c.node(loser).status().role, c.node(loser).status().leader], ['follower', winner])
      assert.equal(c.node(loser).stats.preVoteYields, 1)
      assert.equal(c.node(winner).stats.preVoteYields, 0)
      assert.equal(c.node(loser).stats.elections + c.node(winner).stats.elections, 1, 'one election, no split vote')
    }
  })

  it('check-quorum with a longer window (checkQuorumTicks): a leader rides out a shorter silence', () => {
    const c = new Cluster(['a', 'b', 'c'], [], { checkQuorumTicks: 30 })
    c.elect('a')
    c.tick('a', 29)
    c.drop()
    assert.equal(c.node('a').status().role, 'leader')
    // One answer within the window keeps it; a whole silent window deposes it.
    c.tick('a')
    c.deliver(m => m.to === 'b' || m.from === 'b')
    c.drop()
    c.tick('a', 30)
    c.drop()
    assert.equal(c.node('a').status().role, 'leader')
    c.tick('a', 30)
    c.drop()
    assert.equal(c.node('a').status().role, 'follower')
    assert.throws(() => new RaftNode(config('a', ['a', 'b', 'c'], { checkQuorumTicks: 5 })), /checkQuorumTicks/)
  })

  it('check-quorum: a leader that hears from no quorum for an election timeout steps down', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.elect('a')
    c.tick('a', 10)
    c.drop()
    assert.equal(c.node('a').status().role, 'leader', 'followers were active in the first round')
    c.tick('a', 10)
    c.drop()
    const st = c.node('a').status()
    assert.equal(st.role, 'follower')
    assert.equal(st.leader, '')
    assert.equal(st.term, 1)
    assert.equal(c.node('a').stats.stepDowns, 1)
  })

  it('check-quorum: a leader that keeps hearing from a quorum stays', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.elect('a')
    for (let i = 0; i < 50; i++) {
      c.tick('a')
      c.deliver(m => m.to !== 'c' && m.from !== 'c')
      c.drop()
    }
    assert.equal(c.node('a').status().role, 'leader')
  })

  it('a deposed leader back from a partition learns the new term from any answer and steps down', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.elect('a')
    // a is cut off; c and then b stop hearing it, and b wins term 2 with c's vote.
    c.tick('c', 10)
    c.drop()
    c.tick('b', 10)
    c.deliver(m => m.to !== 'a')
    c.drop()
    assert.deepEqual([c.node('b').status().role, c.node('b').status().term], ['leader', 2])
    assert.deepEqual([c.node('a').status().role, c.node('a').status().term], ['leader', 1])
    // a heals and heartbeats at term 1: the answer carries term 2.
    c.tick('a')
    c.deliver()
    assert.deepEqual([c.node('a').status().role, c.node('a').status().term], ['follower', 2])
    c.tick('b')
    c.deliver()
    assert.equal(c.node('a').status().leader, 'b')
  })

  it('leader lease: a follower that heard from the leader ignores a higher-term vote request', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.elect('a')
    const b = c.node('b')
    const vote: Message = { type: 'MsgVote', from: 'c', to: 'b', term: 9, index: 100, logTerm: 9 }
    c.tick('b', 9)
    b.step(vote)
    assert.equal(b.stats.ignoredVoteInLease, 1)
    assert.equal(b.status().term, 1)
    assert.equal(c.drain('b').length, 0, 'no answer at all')
    // Once b has not heard from a leader for a whole timeout, the same request wins its vote.
    c.tick('b')
    c.drop()
    b.step(vote)
    assert.equal(b.status().term, 9)
    assert.equal(b.status().vote, 'c')
    const [resp] = c.drain('b')
    assert.equal(resp?.type, 'MsgVoteResp')
    assert.notEqual(resp?.reject, true)
  })

  it('a follower told its leader\'s connection closed campaigns within a few ticks; one that still hears the leader refuses it', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.elect('a')
    const b = c.node('b')
    // Unknown or other peers change nothing.
    b.leaderUnreachable('c')
    assert.equal(b.stats.leaderLost, 0)
    // a's process died: b campaigns after 1 tick (rand 0) instead of a whole election timeout.
    b.leaderUnreachable('a')
    assert.equal(b.stats.leaderLost, 1)
    assert.equal(b.status().leader, '', 'b no longer names a leader')
    c.tick('b')
    assert.deepEqual(c.outbox.filter(m => m.from === 'b').map(m => [m.type, m.to]), [['MsgPreVote', 'a'], ['MsgPreVote', 'c']])
    // c saw the same close: its lease is over too, so b wins at once.
    c.node('c').leaderUnreachable('a')
    c.deliver(m => m.to !== 'a')
    c.drop()
    assert.equal(b.status().role, 'leader')
    assert.equal(b.status().term, 2)

    // A false alarm: c's connection to the leader b closed, but a still hears from b and refuses.
    c.tick('b')
    c.deliver()
    c.node('c').leaderUnreachable('b')
    c.tick('c')
    c.deliver(m => m.to === 'a')
    c.drop()
    assert.equal(c.node('a').stats.ignoredVoteInLease, 1)
    assert.equal(b.status().role, 'leader')
    assert.equal(b.status().term, 2)
  })

  it('a granted vote and its answer leave in the same Ready, the vote in its hard state', () => {
    const c = new Cluster(['a', 'b', 'c'])
    const b = c.node('b')
    b.step({ type: 'MsgVote', from: 'a', to: 'b', term: 1, index: 0, logTerm: 0 })
    const rd = b.ready()
    assert.deepEqual(rd?.hardState, { term: 1, vote: 'a', commit: 0 })
    assert.deepEqual(rd?.messages.map(m => [m.type, m.to, m.reject === true]), [['MsgVoteResp', 'a', false]])
    assert.throws(() => b.ready(), /before advance/)
    if (rd !== null) b.advance(rd)
    assert.equal(b.ready(), null)
  })

  it('a candidate\'s vote requests leave before its own vote is durable; it leads only once that vote is (advance)', () => {
    const a = new RaftNode(config('a', ['a', 'b', 'c'], { preVote: false }))
    for (let i = 0; i < 10; i++) a.tick()
    const rd = a.ready()
    assert.ok(rd !== null)
    assert.deepEqual(rd.hardState, { term: 1, vote: 'a', commit: 0 })
    assert.deepEqual(rd.messages.map(m => [m.type, m.to]), [['MsgVote', 'b'], ['MsgVote', 'c']])
    assert.equal(rd.sendFirst, true)
    // Both others grant while a's own vote is still being written: a quorum without a's vote,
    // yet a must not lead a term it could forget in a crash.
    for (const from of ['b', 'c']) a.step({ type: 'MsgVoteResp', from, to: 'a', term: 1 })
    assert.equal(a.status().role, 'candidate')
    assert.deepEqual(a.takeMessages(), [])
    a.advance(rd)
    assert.equal(a.status().role, 'leader')
    assert.equal(a.status().term, 1)

    // A Ready that also answers an append (a transfer's campaign order arrives right behind
    // the appends): the vote requests still go first, the answer waits for the disk as always.
    const b = new RaftNode(config('b', ['a', 'b', 'c'], { preVote: false }))
    b.step({ type: 'MsgApp', from: 'a', to: 'b', term: 1, index: 0, logTerm: 0, entries: [{ index: 1, term: 1, type: 'noop', data: new Uint8Array() }], commit: 0 })
    for (let i = 0; i < 10; i++) b.tick()
    const mixed = b.ready()
    assert.ok(mixed !== null)
    assert.equal(mixed.sendFirst, undefined)
    assert.deepEqual(mixed.firstMessages?.map(m => [m.type, m.to, m.index, m.logTerm]), [['MsgVote', 'a', 1, 1], ['MsgVote', 'c', 1, 1]])
    assert.deepEqual(mixed.messages.map(m => m.type), ['MsgAppResp'])
    assert.equal(mixed.entries.length, 1)
    b.step({ type: 'MsgVoteResp', from: 'c', to: 'b', term: 2 })
    assert.equal(b.status().role, 'candidate', 'not before its own vote is durable')
    b.advance(mixed)
    assert.equal(b.status().role, 'leader')
  })

  it('learners never campaign and their votes never count for quorum', () => {
    const c = new Cluster(['a', 'b', 'c'], ['l'])
    c.tick('l', 100)
    assert.equal(c.outbox.length, 0, 'a learner never campaigns')
    assert.equal(c.node('l').status().term, 0)
    // It does answer (it may have been promoted by an entry it has not got yet), like etcd.
    const l = c.node('l')
    l.step({ type: 'MsgPreVote', from: 'a', to: 'l', term: 5, index: 0, logTerm: 0 })
    assert.equal(l.status().term, 0)
    assert.deepEqual(c.drain('l').map(m => [m.type, m.reject === true]), [['MsgPreVoteResp', false]])
    c.drop()

    // A grant from the learner does not make a candidate win.
    c.tick('a', 10)
    c.drop()
    c.node('a').step({ type: 'MsgPreVoteResp', from: 'l', to: 'a', term: 1 })
    assert.equal(c.node('a').status().role, 'pre-candidate')

    // The learner gets the log, but its ack does not make a quorum with the leader alone.
    c.tick('a', 10)
    c.deliver()
    assert.equal(c.node('a').status().role, 'leader')
    assert.equal(c.node('l').status().leader, 'a')
    c.propose('a', 'x')
    c.deliver(m => m.to === 'l' || m.from === 'l')
    assert.equal(c.node('l').status().lastIndex, 2)
    assert.equal(c.node('a').status().commit, 1, 'leader + learner is no majority')
    c.deliver(to('b'))
    c.deliver()
    assert.equal(c.node('a').status().commit, 2)
  })

  it('ignores and counts messages from non-members; odd input never throws', () => {
    const n = new RaftNode(config('a', ['a', 'b', 'c']))
    n.step({ type: 'MsgAppResp', from: 'mallory', to: 'a', term: 7, index: 0 })
    n.step({ type: 'MsgProp', from: 'mallory', to: 'a', term: 0, entries: [{ term: 0, index: 0, data: new Uint8Array([1]) }] })
    assert.equal(n.stats.ignoredNonMember, 2)
    assert.equal(n.status().term, 0)
    const junk: unknown[] = [
      null, 42, 'MsgApp', {}, { type: 'MsgNope', from: 'b', to: 'a', term: 1 },
      { type: 'MsgApp', from: 'b', to: 'a', term: -1 },
      { type: 'MsgApp', from: 'b', to: 'a', term: NaN },
      { type: 'MsgApp', from: 'b', to: 'a', term: 2 ** 53 },
      { type: 'MsgApp', from: 'b', to: 'a', term: 1, entries: 'x' },
      { type: 'MsgApp', from: 'b', to: 'a', term: 1, entries: [{ index: '1', term: 1, data: new Uint8Array() }] },
      { type: 'MsgApp', from: 'b', to: 'a', term: 1, index: 0, entries: [{ index: 5, term: 1, data: new Uint8Array() }] },
      { type: 'MsgApp', from: 'b', to: 'a', term: 1, index: 0, entries: [{ index: 1, term: 3, data: new Uint8Array() }] },
      { type: 'MsgAppResp', from: 'b', to: 'a', term: 1, reject: 'yes' },
      { type: 'MsgHeartbeat', from: 7, to: 'a', term: 1 },
      { type: 'MsgHeartbeat', from: 'a', to: 'a', term: 1 }
    ]
    for (const j of junk) assert.doesNotThrow(() => n.step(j as Message))
    assert.equal(n.stats.ignoredMalformed, junk.length)
    n.step({ type: 'MsgHeartbeat', from: 'b', to: 'z', term: 1 })
    assert.equal(n.stats.ignoredMisaddressed, 1)
    assert.equal(n.status().term, 0)
    // A huge term from a member is legitimate Raft: follow it.
    n.step({ type: 'MsgHeartbeat', from: 'b', to: 'a', term: 1e12, commit: 0 })
    assert.equal(n.status().term, 1e12)
    assert.equal(n.status().leader, 'b')
  })
})
