import { strict as assert } from 'node:assert'
import { decodeConfEntry } from '../../protocols/raft/core/index.js'
import type { AnyMessage } from '../../protocols/raft/core/index.js'
import { Cluster, logOf } from '../sim/harness.js'

const among = (ids: string[]) => (m: AnyMessage) => ids.includes(m.from) && ids.includes(m.to)

function steady (voters = ['a', 'b', 'c']): Cluster {
  const c = new Cluster(voters)
  c.elect('a')
  c.tick('a')
  c.deliver()
  return c
}

/** d joins as a learner: it starts from the configuration it was admitted with. */
function withLearner (): Cluster {
  const c = steady()
  const res = c.node('a').proposeConfChange({ op: 'add-learner', id: 'd' })
  assert.equal(res.status, 'accepted')
  c.add('d', { voters: ['a', 'b', 'c'], learners: ['d'] })
  c.drain('a')
  c.deliver()
  c.tick('a')
  c.deliver()
  return c
}

describe('raft core: membership changes', () => {
  it('adds a learner: in force on append, reported in Ready.config, the learner catches up', () => {
    const c = steady()
    const a = c.node('a')
    const res = a.proposeConfChange({ op: 'add-learner', id: 'd' })
    assert.deepEqual(res, { status: 'accepted', index: 2, term: 1 })
    assert.deepEqual(a.status().learners, ['d'], 'before it is even persisted')
    assert.equal(a.status().configIndex, 2)
    const rd = a.ready()
    assert.deepEqual(rd?.config, { voters: ['a', 'b', 'c'], learners: ['d'] })
    assert.deepEqual(rd?.entries.map(e => e.type), ['config'])
    const cc = decodeConfEntry(rd?.entries[0]?.data ?? new Uint8Array())
    assert.deepEqual(cc, { op: 'add-learner', id: 'd', voters: ['a', 'b', 'c'], learners: ['d'] })
    if (rd !== null) {
      c.outbox.push(...(rd.firstMessages ?? []), ...rd.messages, ...rd.extMessages)
      a.advance(rd)
    }
    c.add('d', { voters: ['a', 'b', 'c'], learners: ['d'] })
    c.deliver()
    c.tick('a')
    c.deliver()
    assert.equal(c.node('d').status().lastIndex, 2)
    assert.equal(c.node('d').status().commit, 2)
    assert.deepEqual(c.configs.get('b'), { voters: ['a', 'b', 'c'], learners: ['d'] })
    assert.deepEqual(c.applied.get('d')?.map(e => e.type), ['noop', 'config'])
  })

  it('one change at a time, and only once the leader has committed an entry of its term', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.tick('a', 10)
    c.deliver(m => m.type !== 'MsgApp')
    assert.equal(c.node('a').status().role, 'leader')
    assert.deepEqual(c.node('a').proposeConfChange({ op: 'add-learner', id: 'd' }), { status: 'refused', reason: 'not-ready' })
    c.deliver()
    assert.equal(c.node('a').proposeConfChange({ op: 'add-learner', id: 'd' }).status, 'accepted')
    assert.deepEqual(c.node('a').proposeConfChange({ op: 'add-learner', id: 'e' }), { status: 'refused', reason: 'pending-config' })
    c.drain('a')
    c.deliver()
    assert.equal(c.node('a').proposeConfChange({ op: 'add-learner', id: 'e' }).status, 'accepted')
    assert.deepEqual(c.node('b').proposeConfChange({ op: 'remove', id: 'c' }), { status: 'refused', reason: 'not-leader' })
  })

  it('refuses changes that do not fit the configuration', () => {
    const c = steady()
    const a = c.node('a')
    assert.deepEqual(a.proposeConfChange({ op: 'add-learner', id: 'b' }), { status: 'refused', reason: 'invalid' })
    assert.deepEqual(a.proposeConfChange({ op: 'promote', id: 'zz' }), { status: 'refused', reason: 'invalid' })
    assert.deepEqual(a.proposeConfChange({ op: 'remove', id: 'zz' }), { status: 'refused', reason: 'invalid' })
    assert.deepEqual(a.proposeConfChange({ op: 'add-voter', id: 'zz' }), { status: 'refused', reason: 'not-caught-up' })
    assert.deepEqual(a.proposeConfChange({ op: 'add-learner', id: '' }), { status: 'refused', reason: 'invalid' })
    const solo = new Cluster(['s'])
    solo.elect('s')
    assert.deepEqual(solo.node('s').proposeConfChange({ op: 'remove', id: 's' }), { status: 'refused', reason: 'last-voter' })
  })

  it('promotes a learner only once it has caught up; then it counts toward the quorum', () => {
    const c = steady()
    c.node('a').proposeConfChange({ op: 'add-learner', id: 'd' })
    c.add('d', { voters: ['a', 'b', 'c'], learners: ['d'] })
    c.drain('a')
    c.deliver(m => m.to !== 'd' && m.from !== 'd')
    c.drop()
    assert.deepEqual(c.node('a').proposeConfChange({ op: 'promote', id: 'd' }), { status: 'refused', reason: 'not-caught-up' })
    c.tick('a')
    c.deliver()
    const res = c.node('a').proposeConfChange({ op: 'add-voter', id: 'd' })
    assert.equal(res.status, 'accepted', 'add-voter of a caught-up learner promotes it')
    assert.deepEqual(c.node('a').status().voters, ['a', 'b', 'c', 'd'])
    c.drain('a')
    c.deliver()
    // Four voters: a and one other are no longer a quorum.
    c.propose('a', 'x')
    c.deliver(among(['a', 'b']))
    assert.equal(c.node('a').status().commit, 3)
    c.deliver(among(['a', 'd']))
    assert.equal(c.node('a').status().commit, 4)
    // The new voter campaigns like any other.
    assert.equal(c.node('d').status().voters.includes('d'), true)
  })

  it('a removed voter no longer counts, never campaigns, and cannot disrupt a working cluster', () => {
    const c = steady()
    c.node('a').proposeConfChange({ op: 'remove', id: 'c' })
    c.drain('a')
    c.deliver()
    assert.deepEqual(c.node('c').status().voters, ['a', 'b'], 'c still gets the entry that removes it')
    assert.deepEqual(c.configs.get('c'), { voters: ['a', 'b'], learners: [] })
    c.tick('a')
    c.deliver()
    assert.equal(c.node('a').status().progress?.c, undefined, 'once committed, c is no longer replicated to')
    // a and b alone commit now.
    c.propose('a', 'x')
    c.deliver(among(['a', 'b']))
    assert.equal(c.node('a').status().commit, 3)
    c.drop()
    c.tick('c', 100)
    assert.equal(c.outbox.filter(m => m.from === 'c').length, 0, 'c never campaigns')
    // Should it campaign anyway (it missed its removal), b, hearing its leader, ignores it.
    c.tick('a')
    c.deliver(among(['a', 'b']))
    c.node('b').step({ type: 'MsgVote', from: 'c', to: 'b', term: 5, index: 9, logTerm: 9 })
    assert.equal(c.node('b').stats.ignoredVoteInLease, 1)
    assert.equal(c.node('b').status().term, 1)
  })

  it('a node answers a candidate outside its (stale) configuration: that vote can be the one needed', () => {
    // b holds an uncommitted entry of a deposed leader removing a; the real configuration is a's.
    const c = new Cluster(['a', 'b', 'c'])
    const conf = new TextEncoder().encode(JSON.stringify({ op: 'remove', id: 'a', voters: ['b', 'c'], learners: [] }))
    c.restore('b', { hardState: { term: 1, vote: '', commit: 1 }, entries: [...logOf([1]), { term: 1, index: 2, data: conf, type: 'config' }] })
    assert.deepEqual(c.node('b').status().voters, ['b', 'c'])
    c.node('b').step({ type: 'MsgVote', from: 'a', to: 'b', term: 3, index: 5, logTerm: 2 })
    const [resp] = c.drain('b')
    assert.deepEqual([resp?.type, resp?.reject === true], ['MsgVoteResp', false])
    assert.equal(c.node('b').status().vote, 'a')
  })

  it('a leader that removes itself leads until the change commits, then hands over and steps down', () => {
    const c = steady()
    c.node('a').proposeConfChange({ op: 'remove', id: 'a' })
    assert.equal(c.node('a').status().role, 'leader')
    c.drain('a')
    // b acknowledges: a itself no longer counts, so b alone is not a quorum of {b, c}.
    c.deliver(among(['a', 'b']))
    assert.equal(c.node('a').status().role, 'leader')
    assert.equal(c.node('a').status().commit, 1)
    c.deliver(among(['a', 'c']))
    const a = c.node('a').status()
    assert.equal(a.commit, 2)
    assert.equal(a.role, 'follower')
    assert.equal(c.node('a').stats.stepDowns, 1)
    // A caught-up voter was told to campaign and wins at once.
    c.deliver()
    const leaders = ['b', 'c'].filter(id => c.node(id).status().role === 'leader')
    assert.equal(leaders.length, 1)
    assert.equal(c.node(leaders[0] as string).status().term, 2)
    c.tick('a', 100)
    assert.equal(c.outbox.filter(m => m.from === 'a' && m.type !== 'MsgHeartbeatResp' && m.type !== 'MsgAppResp').length, 0, 'a never campaigns again')
  })

  it('a truncated config entry takes its configuration with it', () => {
    const c = new Cluster(['a', 'b', 'c', 'd', 'e'])
    c.elect('a')
    c.tick('a')
    c.deliver()
    c.node('a').proposeConfChange({ op: 'remove', id: 'e' })
    c.drain('a')
    c.deliver(among(['a', 'b']))
    c.drop()
    assert.deepEqual(c.node('b').status().voters, ['a', 'b', 'c', 'd'])
    assert.deepEqual(c.configs.get('b'), { voters: ['a', 'b', 'c', 'd'], learners: [] })
    // a and b are cut off; d and e stop hearing a, then c wins with their votes and its log
    // replaces b's tail.
    for (const id of ['d', 'e']) c.tick(id, 10)
    c.drop()
    c.tick('c', 10)
    c.deliver(among(['c', 'd', 'e']))
    c.drop()
    assert.equal(c.node('c').status().role, 'leader')
    c.tick('c')
    c.deliver(among(['b', 'c', 'd', 'e']))
    assert.deepEqual(c.node('b').status().voters, ['a', 'b', 'c', 'd', 'e'])
    assert.deepEqual(c.configs.get('b'), { voters: ['a', 'b', 'c', 'd', 'e'], learners: [] })
    assert.equal(c.node('b').status().configIndex, 0)
  })

  it('a restarted node takes its configuration from its log, its snapshot, then its initial config', () => {
    const c = new Cluster(['a', 'b', 'c'])
    const conf = (op: string, id: string, voters: string[], learners: string[] = []) =>
      new TextEncoder().encode(JSON.stringify({ op, id, voters, learners }))
    const log = logOf([1, 1, 1])
    log[1] = { ...log[1] as typeof log[0], type: 'config', data: conf('remove', 'c', ['a', 'b']) }
    c.restore('b', { hardState: { term: 1, vote: '', commit: 1 }, entries: log })
    assert.deepEqual(c.node('b').status().voters, ['a', 'b'])
    assert.equal(c.node('b').status().configIndex, 2)
    c.restore('b', {
      hardState: { term: 1, vote: '', commit: 5 },
      entries: logOf([1, 1, 1, 1, 1, 1]).slice(5),
      snapshot: { index: 5, term: 1, voters: ['a', 'b', 'c', 'x'], learners: ['y'] }
    })
    const st = c.node('b').status()
    assert.deepEqual([st.voters, st.learners, st.snapshotIndex, st.lastIndex, st.applied], [['a', 'b', 'c', 'x'], ['y'], 5, 6, 5])
    assert.throws(() => c.restore('b', { hardState: { term: 1, vote: '', commit: 0 }, entries: [{ term: 1, index: 1, data: new Uint8Array([1]), type: 'config' }] }), /does not decode/)
  })

  it('a node accepts a leader outside its configuration (one added by entries it has not got yet)', () => {
    const c = withLearner()
    c.node('a').proposeConfChange({ op: 'promote', id: 'd' })
    c.drain('a')
    c.deliver()
    // A brand-new node whose admission config predates d's promotion hears from d as leader.
    const e = c.add('e', { voters: ['a', 'b', 'c'], learners: ['e'] })
    e.step({ type: 'MsgHeartbeat', from: 'd', to: 'e', term: 7, commit: 0, index: 1 })
    assert.equal(e.status().leader, 'd')
    assert.equal(e.status().term, 7)
    assert.equal(e.stats.ignoredNonMember, 0)
  })

  it('rejects an append whose config entry does not decode', () => {
    const c = steady()
    const b = c.node('b')
    const before = b.stats.ignoredMalformed
    b.step({ type: 'MsgApp', from: 'a', to: 'b', term: 1, index: 1, logTerm: 1, commit: 1, entries: [{ term: 1, index: 2, data: new Uint8Array([0xff]), type: 'config' }] })
    assert.equal(b.stats.ignoredMalformed, before + 1)
    assert.equal(b.status().lastIndex, 1)
  })
})
