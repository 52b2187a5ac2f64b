import { strict as assert } from 'node:assert'
import type { AnyMessage } from '../../protocols/raft/core/index.js'
import { Cluster } from '../sim/harness.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const timeoutNow = (m: AnyMessage) => m.type === 'MsgTimeoutNow'

function steady (learners: string[] = []): Cluster {
  const c = new Cluster(['a', 'b', 'c'], learners)
  c.elect('a')
  c.tick('a')
  c.deliver()
  return c
}

describe('raft core: leadership transfer', () => {
  it('hands over to an up-to-date voter: MsgTimeoutNow at once, a campaign that passes the leases', () => {
    const c = steady()
    assert.deepEqual(c.node('a').transferLeadership('b'), { status: 'started', to: 'b' })
    assert.equal(c.node('a').status().transferee, 'b')
    const out = c.drain('a')
    assert.deepEqual(out.filter(timeoutNow).map(m => [m.to, m.term]), [['b', 1]])
    c.deliverOne(timeoutNow)
    // No pre-vote: a real vote at once, flagged so c (which hears a every tick) grants it.
    const votes = c.outbox.filter(m => m.from === 'b')
    assert.deepEqual(votes.map(m => [m.type, m.to, m.term, m.transfer]), [['MsgVote', 'a', 2, true], ['MsgVote', 'c', 2, true]])
    c.deliver()
    assert.equal(c.node('b').status().role, 'leader')
    assert.equal(c.node('b').status().term, 2)
    assert.equal(c.node('a').status().role, 'follower')
    assert.equal(c.node('c').stats.ignoredVoteInLease, 0)
    c.tick('b')
    c.deliver()
    for (const id of ['a', 'b', 'c']) assert.equal(c.node(id).status().leader, 'b')
  })

  it('tells a target whose appends are all sent to campaign at once, after them, not after their ack', () => {
    const c = steady()
    c.propose('a', 'x')
    c.node('a').transferLeadership('b')
    const out = c.drain('a').filter(timeoutNow)
    assert.deepEqual(out.map(m => [m.to, m.index, m.logTerm]), [['b', 2, 1]], 'names the entry of x')
    assert.equal(c.outbox.findIndex(m => m.type === 'MsgApp' && m.to === 'b' && m.entries?.length === 1) < c.outbox.findIndex(timeoutNow), true, 'queued behind the append of x')
    c.deliver()
    assert.equal(c.node('b').status().role, 'leader')
    assert.equal(c.node('b').status().lastIndex, 3, 'its own empty entry after x')
  })

  it('a target that lost an append does not campaign until it holds everything, then does', () => {
    const c = steady()
    c.propose('a', 'x')
    c.deliver(m => m.to !== 'c' && m.from !== 'c')
    c.drop() // the append of x to c is lost
    assert.equal(c.node('a').status().progress?.c?.match, 1)
    c.node('a').transferLeadership('c')
    c.drain('a')
    c.deliverOne(timeoutNow)
    assert.equal(c.node('c').stats.ignoredEarlyTimeoutNow, 1, 'c lacks x')
    assert.equal(c.node('c').status().role, 'follower')
    // The empty append sent with the order finds the hole; x follows, its ack, then the order again.
    c.deliver()
    assert.equal(c.node('c').status().role, 'leader')
    assert.deepEqual(c.node('c').status().lastIndex, 3, 'its own empty entry after x')
  })

  it('drops proposals until the target is told to campaign, refuses forwarded ones and membership changes', () => {
    // b never answered a: its progress is a paused probe, so x is not on its way to b and the
    // campaign order waits for b to catch up.
    const c = new Cluster(['a', 'b', 'c'])
    c.tick('a', 10)
    c.deliver(m => m.to !== 'b' && m.from !== 'b')
    c.drop()
    assert.equal(c.node('a').status().role, 'leader')
    c.propose('a', 'x')
    c.deliver(m => m.to !== 'b' && m.from !== 'b')
    c.drop()
    c.node('a').transferLeadership('b')
    assert.equal(c.drain('a').filter(timeoutNow).length, 0, 'b lacks entries not yet sent')
    c.drop()
    assert.deepEqual(c.node('a').propose(enc('late')), { status: 'dropped', reason: 'transferring' })
    c.node('a').step({ type: 'MsgProp', from: 'c', to: 'a', term: 0, entries: [{ term: 0, index: 0, data: enc('fwd') }] })
    assert.equal(c.node('a').status().lastIndex, 2, 'nothing appended')
    assert.deepEqual(c.node('a').proposeConfChange({ op: 'remove', id: 'c' }), { status: 'refused', reason: 'transferring' })
    // The forwarded one goes back to its forwarder, which proposes it again instead of waiting
    // out its deadline.
    const back = c.drain('a').filter(m => m.type === 'MsgProp')
    assert.deepEqual(back.map(m => [m.to, m.reject, m.entries?.map(e => new TextDecoder().decode(e.data))]), [['c', true, ['fwd']]])
    c.node('c').step(back[0]!)
    const rd = c.node('c').ready()
    assert.deepEqual(rd?.refusedProposals?.map(d => new TextDecoder().decode(d)), ['fwd'])
    assert.equal(c.node('c').stats.proposalsDropped, 0)
  })

  it('hands proposals made once the target is told to campaign on to it: its first append carries them, and the old leader learns their commit', () => {
    const c = steady()
    c.node('a').transferLeadership('b')
    assert.deepEqual(c.node('a').propose(enc('p1')), { status: 'forwarded', to: 'b' })
    const out = c.drain('a')
    assert.ok(out.findIndex(timeoutNow) < out.findIndex(m => m.type === 'MsgProp' && m.to === 'b'), 'behind the campaign order')
    c.deliverOne(timeoutNow)
    c.deliverOne(m => m.type === 'MsgProp' && m.to === 'b')
    assert.equal(c.node('b').status().role, 'candidate')
    assert.equal(c.node('b').stats.proposalsQueued, 1)
    c.deliver()
    assert.equal(c.node('b').status().role, 'leader')
    const firstAppend = c.applied.get('b')!.filter(e => e.term === 2).map(e => new TextDecoder().decode(e.data))
    assert.deepEqual(firstAppend, ['', 'p1'], 'its empty entry, then p1')
    assert.deepEqual(c.applied.get('a')!.map(e => new TextDecoder().decode(e.data)).slice(-1), ['p1'], 'a heard the commit without waiting for a heartbeat')
  })

  it('a target that does not win sends what it held back to the leader that handed it on', () => {
    const c = steady()
    c.node('a').transferLeadership('b')
    c.node('a').propose(enc('p1'))
    c.drain('a')
    c.deliverOne(timeoutNow)
    c.deliverOne(m => m.type === 'MsgProp' && m.to === 'b')
    c.drop() // its vote requests
    c.tick('b', 20) // campaigns again, on its own: no longer by the transfer
    const back = c.outbox.filter(m => m.type === 'MsgProp' && m.from === 'b')
    assert.deepEqual(back.map(m => [m.to, m.reject, m.entries?.map(e => new TextDecoder().decode(e.data))]), [['a', true, ['p1']]])
    c.node('a').step(back[0]!)
    assert.deepEqual(c.node('a').ready()?.refusedProposals?.map(d => new TextDecoder().decode(d)), ['p1'])
  })

  it('is abandoned after an election timeout when the target does not take over', () => {
    const c = steady()
    c.node('a').transferLeadership('b')
    c.drain('a')
    c.drop() // the MsgTimeoutNow is lost
    for (let i = 0; i < 9; i++) {
      c.tick('a')
      c.deliver(m => m.to !== 'b' && m.from !== 'b')
      c.drop()
    }
    assert.equal(c.node('a').status().transferee, 'b')
    c.tick('a')
    c.drop()
    assert.equal(c.node('a').status().transferee, undefined)
    assert.equal(c.node('a').stats.transfersAborted, 1)
    assert.equal(c.node('a').status().role, 'leader')
    assert.equal(c.node('a').propose(enc('again')).status, 'accepted')
  })

  it('picks the most up-to-date voter when no target is named', () => {
    const c = steady()
    c.propose('a', 'x')
    c.deliver(m => m.to !== 'b' && m.from !== 'b')
    c.drop()
    assert.deepEqual(c.node('a').transferLeadership(), { status: 'started', to: 'c' })
  })

  it('refuses without a leader, a learner target, or nobody to hand over to', () => {
    const c = steady(['l'])
    assert.deepEqual(c.node('b').transferLeadership('c'), { status: 'refused', reason: 'not-leader' })
    assert.deepEqual(c.node('a').transferLeadership('l'), { status: 'refused', reason: 'not-a-voter' })
    assert.deepEqual(c.node('a').transferLeadership('zz'), { status: 'refused', reason: 'not-a-voter' })
    assert.deepEqual(c.node('a').transferLeadership('a'), { status: 'refused', reason: 'no-target' })
    const solo = new Cluster(['s'])
    solo.elect('s')
    assert.deepEqual(solo.node('s').transferLeadership(), { status: 'refused', reason: 'no-target' })
    // A learner told to campaign ignores it.
    c.node('l').step({ type: 'MsgTimeoutNow', from: 'a', to: 'l', term: 1 })
    assert.equal(c.node('l').status().role, 'follower')
    assert.equal(c.node('l').status().term, 1)
  })

  it('a vote request without the transfer flag is still held off by the lease', () => {
    const c = steady()
    c.node('c').step({ type: 'MsgVote', from: 'b', to: 'c', term: 2, index: 2, logTerm: 1 })
    assert.equal(c.node('c').stats.ignoredVoteInLease, 1)
    c.node('c').step({ type: 'MsgVote', from: 'b', to: 'c', term: 2, index: 2, logTerm: 1, transfer: true })
    assert.equal(c.node('c').status().vote, 'b')
  })
})
