import { strict as assert } from 'node:assert'
import type { AnyMessage } from '../../protocols/raft/core/index.js'
import { Cluster, logOf, text } from '../sim/harness.js'

const isSnap = (m: AnyMessage) => m.type === 'MsgSnap'
const cut = (id: string) => (m: AnyMessage) => m.to !== id && m.from !== id

/** a leads a, b, c; c missed x1..x4, and a compacted everything it applied. */
function behindCompaction (): Cluster {
  const c = new Cluster(['a', 'b', 'c'])
  c.elect('a')
  c.tick('a')
  c.deliver()
  for (let i = 1; i <= 4; i++) c.propose('a', `x${i}`)
  c.deliver(cut('c'))
  c.tick('a')
  c.deliver(cut('c'))
  c.drop()
  assert.equal(c.node('a').status().applied, 5)
  const meta = c.node('a').compact(4)
  assert.deepEqual(meta, { index: 4, term: 1, voters: ['a', 'b', 'c'], learners: [] })
  return c
}

describe('raft core: snapshots and compaction', () => {
  it('compact() drops applied entries and returns the meta to store with the snapshot', () => {
    const c = behindCompaction()
    const a = c.node('a')
    const st = a.status()
    assert.deepEqual([st.snapshotIndex, st.snapshotTerm, st.lastIndex, st.commit], [4, 1, 5, 5])
    assert.deepEqual(a.compact(2), { index: 4, term: 1, voters: ['a', 'b', 'c'], learners: [] }, 'at or below the base: nothing to do')
    assert.throws(() => a.compact(6), /cannot compact/)
    // b is in step: it goes on with plain appends.
    c.propose('a', 'y')
    c.deliver(cut('c'))
    assert.equal(c.node('b').status().lastIndex, 6)
  })

  it('a follower behind the compacted prefix gets a MsgSnap, and nothing else until it answers', () => {
    const c = behindCompaction()
    c.tick('a')
    c.deliver(m => !isSnap(m))
    const [snap] = c.take(isSnap)
    assert.deepEqual([snap?.to, snap?.term, snap?.snapshot], ['c', 1, { index: 4, term: 1, voters: ['a', 'b', 'c'], learners: [] }])
    assert.equal(c.node('a').status().progress?.c?.state, 'snapshot')
    assert.equal(c.node('a').stats.snapshotsSent, 1)
    c.drop()
    c.propose('a', 'y')
    assert.equal(c.outbox.filter(m => m.to === 'c').length, 0, 'paused while the snapshot travels')

    // c installs it: Ready.snapshot comes first, its log now starts after index 4.
    c.node('c').step(snap as AnyMessage)
    const rd = c.node('c').ready()
    assert.deepEqual(rd?.snapshot, { index: 4, term: 1, voters: ['a', 'b', 'c'], learners: [] })
    assert.equal(rd?.hardState?.commit, 4)
    assert.deepEqual(rd?.committedEntries, [], 'the snapshot covers them')
    assert.deepEqual(rd?.messages.map(m => [m.type, m.index]), [['MsgAppResp', 4]])
    if (rd !== null) {
      c.outbox.push(...(rd.firstMessages ?? []), ...rd.messages)
      c.node('c').advance(rd)
    }
    const st = c.node('c').status()
    assert.deepEqual([st.snapshotIndex, st.lastIndex, st.applied], [4, 4, 4])
    assert.equal(c.node('c').stats.snapshotsInstalled, 1)
    // The leader resumes plain appends from there.
    c.deliver()
    assert.equal(c.node('a').status().progress?.c?.state, 'replicate')
    c.tick('a')
    c.deliver()
    assert.equal(c.node('c').status().lastIndex, 6)
    assert.deepEqual(c.applied.get('c')?.map(text), ['', 'x4', 'y'], 'its empty entry from before, then what follows the snapshot')
  })

  it('a failed transfer sends the follower back to probe, and the snapshot goes again', () => {
    const c = behindCompaction()
    c.tick('a')
    c.deliver(m => !isSnap(m))
    c.drop()
    c.node('a').reportSnapshot('c', 'failed')
    assert.equal(c.node('a').status().progress?.c?.state, 'probe')
    c.tick('a')
    c.deliver(m => !isSnap(m))
    assert.equal(c.outbox.filter(isSnap).length, 1)
  })

  it('a finished transfer resumes after the snapshot without waiting for a lost answer', () => {
    const c = behindCompaction()
    c.tick('a')
    c.deliver(m => !isSnap(m))
    c.deliver(isSnap)
    c.drop() // c's answer is lost
    c.node('a').reportSnapshot('c', 'finished')
    assert.deepEqual(c.node('a').status().progress?.c?.next, 5)
    c.tick('a')
    c.deliver()
    assert.equal(c.node('a').status().progress?.c?.match, 5)
  })

  it('a snapshot at or below the commit index, or ending on an entry the follower holds, replaces nothing', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.restore('b', { hardState: { term: 2, vote: '', commit: 2 }, entries: logOf([1, 1, 2, 2]) })
    const b = c.node('b')
    c.drain('b')
    b.step({ type: 'MsgSnap', from: 'a', to: 'b', term: 2, snapshot: { index: 2, term: 1, voters: ['a', 'b', 'c'], learners: [] } })
    assert.deepEqual(c.drain('b').map(m => [m.type, m.index]), [['MsgAppResp', 2]])
    b.step({ type: 'MsgSnap', from: 'a', to: 'b', term: 2, snapshot: { index: 3, term: 2, voters: ['a', 'b', 'c'], learners: [] } })
    const rd = b.ready()
    assert.equal(rd?.snapshot, undefined)
    assert.deepEqual(rd?.committedEntries.map(e => e.index), [3])
    assert.deepEqual(rd?.messages.map(m => [m.type, m.index]), [['MsgAppResp', 3]])
    assert.equal(b.status().lastIndex, 4, 'the entry after it stays')
  })

  it('installing a snapshot adopts its configuration', () => {
    const c = new Cluster(['a', 'b', 'c'])
    const b = c.node('b')
    b.step({ type: 'MsgSnap', from: 'a', to: 'b', term: 3, snapshot: { index: 9, term: 3, voters: ['a', 'b', 'd'], learners: ['c'] } })
    const rd = b.ready()
    assert.deepEqual(rd?.config, { voters: ['a', 'b', 'd'], learners: ['c'] })
    assert.deepEqual(rd?.snapshot?.index, 9)
    assert.equal(b.status().configIndex, 9)
  })

  it('compacting past a config entry keeps the configuration; the meta carries it', () => {
    const c = new Cluster(['a', 'b', 'c'])
    c.elect('a')
    c.tick('a')
    c.deliver()
    c.node('a').proposeConfChange({ op: 'add-learner', id: 'l' })
    c.drain('a')
    c.deliver()
    c.propose('a', 'x')
    c.deliver()
    const meta = c.node('a').compact(3)
    assert.deepEqual(meta, { index: 3, term: 1, voters: ['a', 'b', 'c'], learners: ['l'] })
    assert.deepEqual(c.node('a').status().learners, ['l'])
    assert.equal(c.node('a').status().configIndex, 3, 'the config now comes from the base')
  })

  it('a node restarts over a compacted log and re-applies only what follows the snapshot', () => {
    const c = new Cluster(['a', 'b', 'c'])
    const snapshot = { index: 3, term: 1, voters: ['a', 'b', 'c'], learners: [] }
    c.restore('b', { hardState: { term: 2, vote: 'a', commit: 5 }, entries: logOf([1, 1, 1, 2, 2, 2]).slice(3), snapshot })
    const rd = c.node('b').ready()
    assert.deepEqual(rd?.committedEntries.map(e => e.index), [4, 5])
    const st = c.node('b').status()
    assert.deepEqual([st.snapshotIndex, st.lastIndex, st.lastTerm, st.commit], [3, 6, 2, 5])
    // Entries the snapshot covers, left behind by a crash before the log was trimmed, are skipped.
    c.restore('b', { hardState: { term: 2, vote: 'a', commit: 1 }, entries: logOf([1, 1, 1, 2]), snapshot })
    assert.deepEqual([c.node('b').status().commit, c.node('b').status().lastIndex], [3, 4])
    assert.throws(() => c.restore('b', { hardState: { term: 2, vote: 'a', commit: 3 }, entries: logOf([1, 1, 1, 2, 2]).slice(4), snapshot }), /not contiguous/)
  })

  it('a malformed MsgSnap is dropped', () => {
    const c = new Cluster(['a', 'b', 'c'])
    const b = c.node('b')
    const bad: unknown[] = [
      { type: 'MsgSnap', from: 'a', to: 'b', term: 3 },
      { type: 'MsgSnap', from: 'a', to: 'b', term: 3, snapshot: { index: 9, term: 3, voters: [], learners: [] } },
      { type: 'MsgSnap', from: 'a', to: 'b', term: 3, snapshot: { index: 9, term: 4, voters: ['a'], learners: [] } },
      { type: 'MsgSnap', from: 'a', to: 'b', term: 3, snapshot: { index: 9, term: 3, voters: ['a', 'a'], learners: [] } }
    ]
    for (const m of bad) b.step(m as AnyMessage)
    assert.equal(b.stats.ignoredMalformed, bad.length)
    assert.equal(b.status().term, 0)
  })
})
