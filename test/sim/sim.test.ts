import { strict as assert } from 'node:assert'
import type { Entry, UnsafeFlags } from '../../protocols/raft/core/index.js'
import { Checker, InvariantViolation } from './invariants.js'
import { Network } from './network.js'
import { Prng } from './prng.js'
import { runSim, SimViolation } from './sim.js'
import type { SimCounts } from './sim.js'

const SEEDS = 2000
/** A broken core must be caught within this many hostile seeds. */
const CATCH_WITHIN = 400

function entry (index: number, term: number, byte = index): Entry {
  return { index, term, data: new Uint8Array([byte]) }
}

function violation (fn: () => void): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof InvariantViolation) return err.invariant
    throw err
  }
  return 'none'
}

describe('raft simulator', function () {
  this.timeout(120_000)

  it(`keeps every invariant over ${SEEDS} seeded schedules`, () => {
    const failures: string[] = []
    let leaders = 0
    let committed = 0
    const total: Partial<Record<keyof SimCounts, number>> = {}
    for (let seed = 1; seed <= SEEDS; seed++) {
      try {
        const r = runSim({ seed })
        leaders += r.leaders
        committed += r.committed
        for (const [k, v] of Object.entries(r.counts) as Array<[keyof SimCounts, number]>) total[k] = (total[k] ?? 0) + v
      } catch (err) {
        if (!(err instanceof SimViolation)) throw err
        failures.push(err.message)
      }
    }
    assert.deepEqual(failures, [], 'replay with: npm run sim -- --seed N --trace')
    // The schedules must actually exercise the protocol, not idle.
    assert.ok(leaders > 2 * SEEDS, `only ${leaders} leaders elected`)
    assert.ok(committed > 20 * SEEDS, `only ${committed} entries committed`)
    const atLeast: Partial<Record<keyof SimCounts, number>> = {
      readsServed: 3 * SEEDS, transfers: SEEDS / 2, confChanges: SEEDS / 5, compactions: SEEDS, snapshotsInstalled: SEEDS / 4, preVoteYields: SEEDS / 10, leaderLost: SEEDS / 10, proposalsQueued: SEEDS / 20
    }
    for (const [k, min] of Object.entries(atLeast) as Array<[keyof SimCounts, number]>) {
      assert.ok((total[k] ?? 0) >= min, `only ${total[k] ?? 0} ${k}`)
    }
  })

  it('replays a seed bit for bit', () => {
    for (const seed of [7, 1234]) {
      const a = runSim({ seed })
      const b = runSim({ seed })
      assert.equal(a.traceHash, b.traceHash)
      assert.deepEqual(a, b)
    }
    assert.notEqual(runSim({ seed: 7 }).traceHash, runSim({ seed: 8 }).traceHash)
  })

  const broken: Array<[keyof UnsafeFlags, string[]]> = [
    ['grantVoteWithoutLogCheck', ['Leader Completeness', 'State Machine Safety']],
    ['commitOldTermByCounting', ['Leader Completeness', 'State Machine Safety']],
    ['readIndexWithoutQuorum', ['Linearizable Read']]
  ]
  for (const [flag, expected] of broken) {
    it(`catches a core broken with ${flag} within ${CATCH_WITHIN} seeds`, () => {
      for (let seed = 1; seed <= CATCH_WITHIN; seed++) {
        try {
          runSim({ seed, profile: 'hostile', unsafe: { [flag]: true } })
        } catch (err) {
          if (!(err instanceof SimViolation)) throw err
          assert.ok(expected.includes(err.invariant), err.message)
          return
        }
      }
      assert.fail(`no violation in ${CATCH_WITHIN} seeds`)
    })
  }

  describe('its parts', () => {
    it('the PRNG is deterministic, seed-sensitive and roughly uniform', () => {
      const a = new Prng(99)
      const b = new Prng(99)
      const xs = Array.from({ length: 1000 }, () => a.next())
      assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.next()))
      assert.notEqual(new Prng(100).next(), xs[0])
      const r = new Prng(1)
      const buckets = [0, 0, 0, 0]
      for (let i = 0; i < 40_000; i++) buckets[r.int(4)]!++
      for (const n of buckets) assert.ok(n > 9_000 && n < 11_000, `bucket ${n}`)
      for (let i = 0; i < 1000; i++) {
        const f = r.float()
        assert.ok(f >= 0 && f < 1)
      }
    })

    it('the network blocks partitioned links both ways, one-way blocks one way, heal clears', () => {
      const net = new Network(new Prng(1))
      net.partition(['a'], ['b', 'c'])
      net.blockOneWay('b', 'c')
      assert.deepEqual([net.linkUp('a', 'b'), net.linkUp('c', 'a'), net.linkUp('b', 'c'), net.linkUp('c', 'b')], [false, false, false, true])
      assert.deepEqual(net.transmit('a', 'b', 0), [])
      net.heal()
      assert.equal(net.transmit('a', 'b', 0).length, 1)
    })

    it('the checker flags two leaders in a term', () => {
      const c = new Checker()
      c.onLeader('a', 1, [])
      assert.equal(violation(() => { c.onLeader('b', 1, []) }), 'Election Safety')
    })

    it('the checker flags equal index and term over different prefixes', () => {
      const c = new Checker()
      c.onPersist('a', undefined, [entry(1, 1), entry(2, 2)], 0)
      assert.equal(violation(() => { c.onPersist('b', undefined, [entry(1, 2), entry(2, 2)], 0) }), 'Log Matching')
      assert.equal(violation(() => { c.onPersist('b', undefined, [entry(1, 1), entry(2, 2, 7)], 0) }), 'Log Matching')
    })

    it('the checker flags different entries applied at one index, and a leader missing a committed entry', () => {
      const c = new Checker()
      c.onApply('a', 1, entry(1, 1))
      assert.equal(violation(() => { c.onApply('b', 1, entry(1, 1, 9)) }), 'State Machine Safety')
      assert.equal(violation(() => { c.onLeader('b', 2, [entry(1, 2)]) }), 'Leader Completeness')
      const d = new Checker()
      d.onLeader('c', 3, [])
      assert.equal(violation(() => { d.onApply('a', 2, entry(1, 2)) }), 'Leader Completeness')
    })

    it('the checker follows Log Matching across a snapshot base', () => {
      const c = new Checker()
      c.onPersist('a', undefined, [entry(3, 2)], 0, 2, 1)
      assert.equal(violation(() => { c.onPersist('b', undefined, [entry(3, 2)], 0, 2, 2) }), 'Log Matching')
      assert.equal(violation(() => { c.onPersist('c', { term: 2, vote: '', commit: 4 }, [entry(3, 2)], 0, 2, 1) }), 'Durable Commit')
    })

    it('the checker flags a second vote in one term', () => {
      const c = new Checker()
      c.onPersist('a', { term: 2, vote: 'b', commit: 0 }, [], 0)
      assert.equal(violation(() => { c.onPersist('a', { term: 2, vote: 'c', commit: 0 }, [], 0) }), 'One Vote Per Term')
    })
  })
})
