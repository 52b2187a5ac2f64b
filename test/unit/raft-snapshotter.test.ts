import { strict as assert } from 'node:assert'
import { Snapshotter } from '../../protocols/raft/snapshotter.js'
import { writeSnapshot } from '../../protocols/raft/snapshot.js'
import { DEFAULT_CHUNK_BYTES } from '../../protocols/raft/snapshot-transfer.js'
import { compactionPoint } from '../../protocols/raft/compaction.js'
import { encodeRecord } from '../../protocols/raft/kv.js'
import type { RaftFrame } from '../../protocols/raft/raft.pb.js'
import type { SnapshotMeta } from '../../protocols/raft/core/index.js'
import { withDeadline } from '../harness/wait.js'
import { tempDirs } from '../harness/temp.js'

function * records (n: number): Generator<[string, Uint8Array]> {
  for (let i = 0; i < n; i++) yield [`key/${i}`, encodeRecord({ value: { n: i, s: 'v'.repeat(40) }, version: i + 1 })]
}

describe('raft snapshotter over a link that backs up', () => {
  const dir = tempDirs('swarmnet-raft-snapshotter-')

  it('waits for the link to drain instead of losing chunks, so the transfer never waits for a resend', async () => {
    const from = dir()
    const written = await writeSnapshot(from, { index: 10, term: 2, voters: ['l', 'f'], learners: [], cluster: 'c' }, records(20_000), new Uint8Array(0))
    const chunks = Math.ceil(written.bytes / DEFAULT_CHUNK_BYTES)
    assert.ok(chunks >= 4, `a snapshot of several chunks (${written.bytes} bytes)`)

    // The link to the follower backs up after every chunk and drains on the next turn.
    let blocked = false
    let sent = 0
    let dropped = 0
    let waited = 0
    let onReceived: (meta: SnapshotMeta) => void = () => {}
    const received = new Promise<SnapshotMeta>(resolve => { onReceived = resolve })
    let onOutcome: (status: string) => void = () => {}
    const outcome = new Promise<string>(resolve => { onOutcome = resolve })
    // Stall checks (start()) are never started: only a transfer that loses nothing can finish.
    const leader: Snapshotter = new Snapshotter({
      dir: from,
      cluster: () => 'c',
      send: (_to: string, frame: RaftFrame) => {
        if (frame.snapChunk == null) return true
        if (blocked) { dropped++; return false }
        sent++
        blocked = true
        const c = frame.snapChunk
        setImmediate(() => { follower.onChunk('l', c) })
        return true
      },
      writable: async () => {
        if (!blocked) return
        waited++
        await new Promise(resolve => setImmediate(resolve))
        blocked = false
      },
      reportSnapshot: (_to: string, status: string) => { onOutcome(status) },
      received: () => { throw new Error('the leader receives nothing') }
    })
    const follower: Snapshotter = new Snapshotter({
      dir: dir(),
      cluster: () => 'c',
      send: (_to: string, frame: RaftFrame) => {
        if (frame.snapAck != null) { const a = frame.snapAck; setImmediate(() => { leader.onAck('f', a) }) }
        return true
      },
      writable: async () => {},
      reportSnapshot: () => {},
      received: (_from: string, _term: number, meta: SnapshotMeta) => { onReceived(meta) }
    })
    try {
      await leader.send('f', 2, 10)
      assert.equal(await withDeadline(outcome, 20_000, 'the transfer to finish'), 'finished')
      assert.equal((await received).index, 10)
      assert.equal(dropped, 0, 'no chunk handed to a backed-up link')
      assert.ok(waited > 0, 'the sender waited for the link')
      assert.equal(sent, chunks, 'each chunk sent once')
    } finally {
      await leader.stop()
      await follower.stop()
    }
  })
})

describe('raft compaction point', () => {
  const base = { index: 100_000, snapshotEntries: 10_000, tail: 5000, holdSnapshots: 4, activeMs: 2000 }

  it('keeps the tail behind the snapshot (at most half a snapshot interval)', () => {
    assert.equal(compactionPoint(base), 95_000)
    assert.equal(compactionPoint({ ...base, snapshotEntries: 100 }), 99_950)
    assert.equal(compactionPoint({ ...base, followers: [{ match: 100_000, silentMs: 10 }] }), 95_000)
  })

  it('a leader keeps what a live follower still needs, up to holdSnapshots intervals', () => {
    assert.equal(compactionPoint({ ...base, followers: [{ match: 99_000, silentMs: 10 }, { match: 81_000, silentMs: 100 }] }), 81_000)
    assert.equal(compactionPoint({ ...base, followers: [{ match: 20_000, silentMs: 10 }] }), 60_000)
  })

  it('a follower that is silent or has matched nothing yet holds nothing back', () => {
    assert.equal(compactionPoint({ ...base, followers: [{ match: 70_000, silentMs: 5000 }] }), 95_000)
    assert.equal(compactionPoint({ ...base, followers: [{ match: 0, silentMs: 10 }] }), 95_000)
    assert.equal(compactionPoint({ ...base, followers: [{ match: 70_000, silentMs: Infinity }] }), 95_000)
  })
})
