import { strict as assert } from 'node:assert'
import fc from 'fast-check'
import { checkLinearizable, type Model, type Operation } from '../lincheck/checker.js'
import { kvRegisterModel, leaseLockModel, lockModel, type KvInput, type KvOutput, type LockInput, type LockOutput } from '../lincheck/models.js'

type KvOp = Operation<KvInput, KvOutput>
type LockOp = Operation<LockInput, LockOutput>

const U = Infinity

function op<I, O> (client: string, input: I, call: number, ret: number, output?: O): Operation<I, O> {
  return ret === Infinity ? { client, input, call, return: ret } : { client, input, call, return: ret, output }
}

const put = (c: string, key: string, value: unknown, call: number, ret: number, version?: number): KvOp =>
  op(c, { op: 'put', key, value }, call, ret, version === undefined ? { ok: true } : { ok: true, version })
const get = (c: string, key: string, value: unknown, call: number, ret: number, version?: number): KvOp =>
  op(c, { op: 'get', key }, call, ret, value === undefined ? { found: false } : { found: true, value, ...(version === undefined ? {} : { version }) })
const acquire = (c: string, resource: string, call: number, ret: number, token?: number): LockOp =>
  op(c, { op: 'acquire', resource, client: c }, call, ret, token === undefined ? undefined : { token })
const release = (c: string, resource: string, token: number, call: number, ret: number, ok = true): LockOp =>
  op(c, { op: 'release', resource, client: c, token }, call, ret, { ok })
const fenced = (c: string, resource: string, token: number, call: number, ret: number, accepted?: boolean): LockOp =>
  op(c, { op: 'fencedWrite', resource, token, value: c }, call, ret, accepted === undefined ? undefined : { accepted })

function linearizable<S, I, O> (model: Model<S, I, O>, history: Array<Operation<I, O>>): boolean {
  const r = checkLinearizable(model, history, { timeoutMs: 20_000 })
  if (r.ok === 'unknown') throw new Error(`check timed out: ${r.reason}`)
  return r.ok
}

/** xorshift32: a seed fixes a generated history. */
function rng (seed: number): (n: number) => number {
  let s = (seed >>> 0) || 0x9e3779b9
  return (n) => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s % n
  }
}

interface Pending<I, O> { index: number, input: I, applied: boolean, output?: O }

/**
 * Clients running operations against a sequential store with random real-time overlap: each
 * operation's call is recorded, then at some later step it takes effect, then at a later step
 * its return is recorded, so the history is linearizable by construction. Some operations lose
 * their answer (recorded with an unknown outcome), before or after taking effect; one lost
 * before may still take effect much later, or never. `apply` returns undefined for a definite
 * refusal, which leaves the operation out of the history.
 */
function simulate<I, O> (opts: {
  seed: number
  clients: number
  ops: number
  lost: number
  issue: (client: number, rand: (n: number) => number) => I
  apply: (input: I, client: number) => O | undefined
  answered?: (client: number, input: I, output: O | undefined) => void
}): Array<Operation<I, O>> {
  const rand = rng(opts.seed)
  const history: Array<Operation<I, O> | undefined> = []
  const pending: Array<Pending<I, O> | undefined> = new Array(opts.clients).fill(undefined)
  const late: Array<{ index: number, input: I, client: number }> = []
  let time = 0
  let issued = 0
  const settle = (c: number, p: Pending<I, O>, lostAnswer: boolean): void => {
    const h = history[p.index]
    if (h !== undefined) {
      if (p.applied && p.output === undefined) history[p.index] = undefined // refused: no effect
      else if (!lostAnswer) history[p.index] = { ...h, return: time, output: p.output }
    }
    pending[c] = undefined
    opts.answered?.(c, p.input, lostAnswer ? undefined : p.output)
  }
  while (issued < opts.ops || pending.some(p => p !== undefined)) {
    time += rand(5) === 0 ? 0 : 1 + rand(3) // equal times now and then
    if (late.length > 0 && rand(20) === 0) {
      const i = rand(late.length)
      const l = late[i]
      late.splice(i, 1)
      if (l !== undefined && opts.apply(l.input, l.client) === undefined) history[l.index] = undefined
      continue
    }
    const c = rand(opts.clients)
    const p = pending[c]
    if (p === undefined) {
      if (issued >= opts.ops) continue
      issued++
      const input = opts.issue(c, rand)
      pending[c] = { index: history.length, input, applied: false }
      history.push({ client: `c${c}`, input, call: time, return: Infinity })
    } else if (!p.applied) {
      if (rand(1000) < opts.lost * 1000) {
        if (rand(2) === 0) late.push({ index: p.index, input: p.input, client: c })
        settle(c, p, true)
      } else {
        p.applied = true
        const output = opts.apply(p.input, c)
        if (output !== undefined) p.output = output
      }
    } else {
      settle(c, p, rand(1000) < opts.lost * 1000)
    }
  }
  return history.filter((h): h is Operation<I, O> => h !== undefined)
}

function simulateRegister (seed: number, clients: number, ops: number, keys: number, versions: boolean, lost: number): KvOp[] {
  const store = new Map<string, { value: string, version: number }>()
  const written: string[] = []
  let index = 0
  let unique = 0
  return simulate<KvInput, KvOutput>({
    seed,
    clients,
    ops,
    lost,
    issue: (_c, rand) => {
      const key = `k${rand(keys)}`
      const roll = rand(100)
      if (roll < 35) return { op: 'put', key, value: `v${unique++}` }
      if (roll < 70) return { op: 'get', key }
      if (roll < 80) return { op: 'delete', key }
      const value = `v${unique++}`
      const cur = store.get(key)
      if (versions) return { op: 'cas', key, value, expectVersion: rand(2) === 0 ? (cur?.version ?? 0) : rand(index + 1) }
      const expect = rand(2) === 0 ? cur?.value : written[rand(written.length + 1)]
      return { op: 'cas', key, value, expect }
    },
    apply: (input) => {
      const cur = store.get(input.key)
      switch (input.op) {
        case 'get':
          if (cur === undefined) return { found: false }
          return versions ? { found: true, value: cur.value, version: cur.version } : { found: true, value: cur.value }
        case 'put':
          store.set(input.key, { value: String(input.value), version: ++index })
          written.push(String(input.value))
          return versions ? { ok: true, version: index } : { ok: true }
        case 'delete':
          index++
          store.delete(input.key)
          return { ok: true, deleted: cur !== undefined }
        case 'cas': {
          index++
          const match = input.expectVersion !== undefined
            ? (input.expectVersion === 0 ? cur === undefined : cur?.version === input.expectVersion)
            : (input.expect === undefined ? cur === undefined : cur?.value === input.expect)
          if (!match) return { ok: false }
          store.set(input.key, { value: String(input.value), version: index })
          written.push(String(input.value))
          return versions ? { ok: true, version: index } : { ok: true }
        }
      }
    }
  })
}

function simulateLock (seed: number, clients: number, ops: number, leases: boolean, lost: number): LockOp[] {
  const locks = new Map<string, { holder: string | null, token: number }>()
  const mine: Array<{ resource: string, token: number } | undefined> = []
  const old: Array<{ resource: string, token: number } | undefined> = []
  let issueRand: (n: number) => number = () => 0
  return simulate<LockInput, LockOutput>({
    seed,
    clients,
    ops,
    lost,
    issue: (c, rand) => {
      issueRand = rand
      const held = mine[c]
      const stale = old[c]
      if (stale !== undefined && rand(6) === 0) return { op: 'fencedWrite', resource: stale.resource, token: stale.token, value: c }
      if (held === undefined) return { op: 'acquire', resource: `r${rand(2)}`, client: `o${c}` }
      if (rand(3) === 0) return { op: 'release', resource: held.resource, client: `o${c}`, token: held.token }
      return { op: 'fencedWrite', resource: held.resource, token: held.token, value: c }
    },
    apply: (input) => {
      const l = locks.get(input.resource) ?? { holder: null, token: 0 }
      locks.set(input.resource, l)
      switch (input.op) {
        case 'acquire':
          if (l.holder !== null && !leases) return undefined // busy: a definite refusal
          l.holder = input.client
          l.token += 1 + issueRand(3) // tokens grow, not always by one
          return { token: l.token }
        case 'release':
          if (l.holder !== input.client || l.token !== input.token) return { ok: false }
          l.holder = null
          return { ok: true }
        case 'fencedWrite':
          return { accepted: l.holder !== null && l.token === input.token }
      }
    },
    answered: (c, input, output) => {
      if (output === undefined) return
      if (input.op === 'acquire' && output.token !== undefined) mine[c] = { resource: input.resource, token: output.token }
      if (input.op === 'release' || (input.op === 'fencedWrite' && output.accepted === false)) {
        old[c] = mine[c] ?? old[c]
        mine[c] = undefined
      }
    }
  })
}

/**
 * The definition, by brute force: some order of all operations with a known outcome and any
 * of those with an unknown one, respecting real time (an operation that returned before another
 * was called comes first), that the model accepts. Small histories only.
 */
function bruteForce<S, I, O> (model: Model<S, I, O>, history: Array<Operation<I, O>>): boolean {
  const placed = new Array<boolean>(history.length).fill(false)
  const go = (state: S): boolean => {
    if (history.every((h, i) => placed[i] === true || h.return === Infinity)) return true
    return history.some((h, i) => {
      if (placed[i] === true) return false
      if (history.some((g, j) => j !== i && placed[j] !== true && g.return < h.call)) return false
      const r = model.step(state, h.input, h.output)
      if (!r.ok) return false
      placed[i] = true
      const found = go(r.state)
      placed[i] = false
      return found
    })
  }
  return go(model.init())
}

const interval = fc.tuple(fc.nat(8), fc.option(fc.nat(4), { nil: undefined }))
function arbitraryHistory<I, O> (input: fc.Arbitrary<I>, output: fc.Arbitrary<O>): fc.Arbitrary<Array<Operation<I, O>>> {
  return fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), input, interval, output), { maxLength: 7 }).map(ops =>
    ops.map(([client, inp, [call, length], out]) => length === undefined
      ? { client, input: inp, call, return: Infinity }
      : { client, input: inp, call, return: call + length, output: out }))
}

describe('linearizability checker: key-value register', () => {
  it('accepts a sequential history, and a read concurrent with a write ordered either way', () => {
    assert.deepEqual(checkLinearizable(kvRegisterModel, []), { ok: true })
    assert.equal(linearizable(kvRegisterModel, [get('a', 'x', undefined, 0, 1), put('a', 'x', 1, 2, 3), get('b', 'x', 1, 4, 5)]), true)
    for (const seen of [1, 2]) {
      assert.equal(linearizable(kvRegisterModel, [put('a', 'x', 1, 0, 1), put('a', 'x', 2, 2, 10), get('b', 'x', seen, 3, 4)]), true)
    }
    // Operations that only touch at an instant count as concurrent.
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', 1, 0, 5), get('b', 'x', undefined, 5, 6)]), true)
  })

  it('rejects a stale read after a completed write, and says where', () => {
    const history = [put('a', 'x', 1, 0, 1), put('a', 'x', 2, 2, 3), get('b', 'x', 1, 4, 5), put('c', 'y', 7, 0, 9), get('c', 'y', 7, 10, 11)]
    const r = checkLinearizable(kvRegisterModel, history)
    assert.equal(r.ok, false)
    if (r.ok !== false) return
    assert.equal(r.partition, '"x"')
    assert.equal(r.history.length, 3)
    assert.equal(r.longest.length, 2)
    assert.deepEqual(r.next, [history[2]])
    assert.match(r.reason, /partition "x": not linearizable: at most 2 of 3 operations with known outcome/)
  })

  it('rejects a read of a value never written', () => {
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', 1, 0, 10), get('b', 'x', 3, 1, 2)]), false)
    assert.equal(linearizable(kvRegisterModel, [get('b', 'x', 1, 1, 2)]), false)
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', { n: 1, m: [2] }, 0, 1), get('b', 'x', { m: [2], n: 1 }, 2, 3)]), true)
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', { n: 1 }, 0, 1), get('b', 'x', { n: '1' }, 2, 3)]), false)
  })

  it('rejects reads that see a new value and then, later, the old one', () => {
    const history = [put('a', 'x', 1, 0, 1), put('a', 'x', 2, 2, 20), get('b', 'x', 2, 3, 4), get('c', 'x', 1, 5, 6)]
    assert.equal(linearizable(kvRegisterModel, history), false)
    // Overlapping, the two reads may be ordered the other way round.
    assert.equal(linearizable(kvRegisterModel, [history[0] as KvOp, history[1] as KvOp, get('b', 'x', 2, 3, 6), get('c', 'x', 1, 4, 7)]), true)
  })

  it('an operation with unknown outcome may take effect any time after its call, or never, but not be undone', () => {
    const w1 = put('a', 'x', 1, 0, 1)
    const lost = put('b', 'x', 2, 2, U)
    assert.equal(lost.output, undefined)
    assert.equal(linearizable(kvRegisterModel, [w1, lost, get('c', 'x', 2, 50, 51)]), true)
    assert.equal(linearizable(kvRegisterModel, [w1, lost, get('c', 'x', 1, 50, 51)]), true)
    assert.equal(linearizable(kvRegisterModel, [w1, lost, get('c', 'x', 1, 3, 4), get('c', 'x', 2, 5, 6), get('c', 'x', 2, 7, 8)]), true)
    assert.equal(linearizable(kvRegisterModel, [w1, lost, get('c', 'x', 2, 3, 4), get('c', 'x', 1, 5, 6)]), false)
    // Not before its call.
    assert.equal(linearizable(kvRegisterModel, [w1, get('c', 'x', 2, 2, 3), put('b', 'x', 2, 4, U)]), false)
    // A lost delete, and a lost compare-and-set that could only succeed before the other write.
    assert.equal(linearizable(kvRegisterModel, [w1, op('b', { op: 'delete', key: 'x' }, 2, U), get('c', 'x', undefined, 5, 6)]), true)
    const cas: KvOp = op('b', { op: 'cas', key: 'x', expect: 1, value: 3 }, 2, U)
    assert.equal(linearizable(kvRegisterModel, [w1, cas, get('c', 'x', 3, 3, 4), put('a', 'x', 2, 5, 6), get('c', 'x', 2, 7, 8)]), true)
    assert.equal(linearizable(kvRegisterModel, [w1, cas, put('a', 'x', 2, 3, 4), get('c', 'x', 3, 5, 6)]), false)
    // A lost read changes nothing.
    assert.equal(linearizable(kvRegisterModel, [w1, op('b', { op: 'get', key: 'x' }, 0, U), get('c', 'x', 1, 5, 6)]), true)
  })

  it('an operation with unknown outcome may never take effect even where taking effect would be illegal', () => {
    // A register written once: a second write is never legal, whatever it answered.
    const setOnce: Model<number | null, { op: 'set', v: number } | { op: 'get' }, { v: number | null }> = {
      init: () => null,
      step: (s, input, out) => input.op === 'set'
        ? { ok: s === null, state: input.v }
        : { ok: out === undefined || out.v === s, state: s },
      hash: (s) => String(s)
    }
    const history: Array<Operation<{ op: 'set', v: number } | { op: 'get' }, { v: number | null }>> = [
      { client: 'a', input: { op: 'set', v: 1 }, call: 0, return: U },
      { client: 'b', input: { op: 'set', v: 2 }, call: 1, return: 2, output: { v: 2 } },
      { client: 'c', input: { op: 'get' }, call: 3, return: 4, output: { v: 2 } }
    ]
    assert.equal(linearizable(setOnce, history), true)
    assert.equal(linearizable(setOnce, [...history, { client: 'c', input: { op: 'get' }, call: 5, return: 6, output: { v: 1 } }]), false)
  })

  it('deletes, and compares-and-sets on the value or on the version', () => {
    const del = (c: string, call: number, ret: number, deleted?: boolean): KvOp => op(c, { op: 'delete', key: 'x' }, call, ret, { ok: true, deleted })
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', 1, 0, 1), del('a', 2, 3, true), get('b', 'x', undefined, 4, 5), del('b', 6, 7, false)]), true)
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', 1, 0, 1), del('a', 2, 3), get('b', 'x', 1, 4, 5)]), false)
    assert.equal(linearizable(kvRegisterModel, [del('a', 0, 1, true)]), false)

    const cas = (c: string, expect: unknown, value: unknown, call: number, ret: number, ok: boolean): KvOp =>
      op(c, { op: 'cas', key: 'x', expect, value }, call, ret, { ok })
    assert.equal(linearizable(kvRegisterModel, [cas('a', undefined, 1, 0, 1, true), cas('b', 1, 2, 2, 3, true), get('c', 'x', 2, 4, 5)]), true)
    // Two overlapping compare-and-sets from the same value cannot both win.
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', 1, 0, 1), cas('b', 1, 2, 2, 5, true), cas('c', 1, 3, 2, 5, true)]), false)
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', 1, 0, 1), cas('b', 1, 2, 2, 5, true), cas('c', 1, 3, 2, 5, false)]), true)
    // A failed comparison that should have matched.
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', 1, 0, 1), cas('b', 1, 2, 2, 3, false)]), false)

    const casV = (c: string, expectVersion: number, value: unknown, call: number, ret: number, ok: boolean, version?: number): KvOp =>
      op(c, { op: 'cas', key: 'x', expectVersion, value }, call, ret, ok && version !== undefined ? { ok, version } : { ok })
    assert.equal(linearizable(kvRegisterModel, [casV('a', 0, 1, 0, 1, true, 4), casV('b', 4, 2, 2, 3, true, 6), casV('c', 4, 3, 4, 5, false), get('d', 'x', 2, 6, 7, 6)]), true)
    assert.equal(linearizable(kvRegisterModel, [casV('a', 0, 1, 0, 1, true, 4), casV('b', 3, 2, 2, 3, true, 6)]), false)
    // The version of a value written by a lost put is learnt from a read, then holds.
    const lost = put('a', 'x', 1, 0, U)
    assert.equal(linearizable(kvRegisterModel, [lost, get('b', 'x', 1, 2, 3, 8), casV('c', 8, 2, 4, 5, true, 9)]), true)
    assert.equal(linearizable(kvRegisterModel, [lost, get('b', 'x', 1, 2, 3, 8), casV('c', 7, 2, 4, 5, true, 9)]), false)
    assert.equal(linearizable(kvRegisterModel, [lost, casV('c', 7, 2, 4, 5, true, 9)]), true)
  })

  it('requires versions to grow from write to write, and reads to report the last write\'s', () => {
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', 1, 0, 1, 5), put('a', 'x', 2, 2, 3, 3)]), false)
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', 1, 0, 10, 5), put('b', 'x', 2, 1, 9, 3), get('c', 'x', 1, 11, 12)]), true)
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', 1, 0, 1, 5), get('b', 'x', 1, 2, 3, 4)]), false)
    // After a write that did not report its version, versions still have to grow.
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', 1, 0, 1, 5), put('a', 'x', 2, 2, 3), put('a', 'x', 3, 4, 5, 4)]), false)
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', 1, 0, 1, 5), put('a', 'x', 2, 2, 3), get('b', 'x', 2, 4, 5, 5)]), false)
    assert.equal(linearizable(kvRegisterModel, [put('a', 'x', 1, 0, 1, 5), put('a', 'x', 2, 2, 3), put('a', 'x', 3, 4, 5, 6)]), true)
  })
})

describe('linearizability checker: fenced lock', () => {
  it('accepts grants handed over through releases, and concurrent acquires in either order', () => {
    assert.equal(linearizable(lockModel, [
      acquire('a', 'r', 0, 1, 1), fenced('a', 'r', 1, 2, 3, true), release('a', 'r', 1, 4, 5),
      acquire('b', 'r', 6, 7, 4), fenced('b', 'r', 4, 8, 9, true), fenced('a', 'r', 1, 8, 9, false)
    ]), true)
    // b called later but got the lock first.
    assert.equal(linearizable(lockModel, [acquire('a', 'r', 0, 10, 2), acquire('b', 'r', 1, 3, 1), release('b', 'r', 1, 4, 5)]), true)
    // Resources are independent.
    assert.equal(linearizable(lockModel, [acquire('a', 'r', 0, 1, 1), acquire('b', 's', 2, 3, 1)]), true)
  })

  it('rejects two holders at once; with leases the second grant is a takeover', () => {
    const history = [acquire('a', 'r', 0, 1, 1), acquire('b', 'r', 2, 3, 2)]
    const r = checkLinearizable(lockModel, history)
    assert.equal(r.ok, false)
    if (r.ok === false) assert.match(r.reason, /partition "r".*held by "a" with token 1/)
    assert.equal(linearizable(leaseLockModel, history), true)
    // After a takeover the old holder's writes are refused and its release fails.
    assert.equal(linearizable(leaseLockModel, [...history, fenced('a', 'r', 1, 4, 5, false), release('a', 'r', 1, 6, 7, false)]), true)
    assert.equal(linearizable(leaseLockModel, [...history, fenced('a', 'r', 1, 4, 5, true)]), false)
    assert.equal(linearizable(leaseLockModel, [...history, release('a', 'r', 1, 4, 5)]), false)
  })

  it('rejects a fenced write accepted with a stale token, accepts its refusal', () => {
    const handover = [acquire('a', 'r', 0, 1, 1), release('a', 'r', 1, 2, 3), acquire('b', 'r', 4, 5, 2)]
    assert.equal(linearizable(lockModel, [...handover, fenced('a', 'r', 1, 6, 7, true)]), false)
    assert.equal(linearizable(lockModel, [...handover, fenced('a', 'r', 1, 6, 7, false)]), true)
    // Concurrent with the release it may have come first.
    assert.equal(linearizable(lockModel, [acquire('a', 'r', 0, 1, 1), release('a', 'r', 1, 2, 5), fenced('a', 'r', 1, 3, 4, true), acquire('b', 'r', 6, 7, 2)]), true)
    // Refused while its token was current.
    assert.equal(linearizable(lockModel, [acquire('a', 'r', 0, 1, 1), fenced('a', 'r', 1, 2, 3, false)]), false)
    // Nobody holds the lock.
    assert.equal(linearizable(lockModel, [fenced('a', 'r', 1, 2, 3, true)]), false)
  })

  it('requires tokens to strictly increase from grant to grant', () => {
    assert.equal(linearizable(lockModel, [acquire('a', 'r', 0, 1, 5), release('a', 'r', 5, 2, 3), acquire('b', 'r', 4, 5, 5)]), false)
    assert.equal(linearizable(lockModel, [acquire('a', 'r', 0, 1, 5), release('a', 'r', 5, 2, 3), acquire('b', 'r', 4, 5, 3)]), false)
    assert.equal(linearizable(leaseLockModel, [acquire('a', 'r', 0, 1, 5), acquire('b', 'r', 2, 3, 4)]), false)
    // The same grant again to its holder (a retried request) is not a new grant.
    assert.equal(linearizable(lockModel, [acquire('a', 'r', 0, 1, 5), acquire('a', 'r', 2, 3, 5)]), true)
  })

  it('a lost acquire may hold the lock, its token learnt from a fenced write', () => {
    const lost = acquire('a', 'r', 0, U)
    assert.equal(linearizable(lockModel, [lost, acquire('b', 'r', 5, 6, 3)]), true)
    assert.equal(linearizable(lockModel, [lost, fenced('a', 'r', 7, 5, 6, true)]), true)
    assert.equal(linearizable(lockModel, [lost, fenced('a', 'r', 7, 5, 6, true), acquire('b', 'r', 7, 8, 9)]), false)
    assert.equal(linearizable(lockModel, [lost, fenced('a', 'r', 7, 5, 6, true), release('a', 'r', 7, 7, 8), acquire('b', 'r', 9, 10, 9)]), true)
    assert.equal(linearizable(lockModel, [lost, fenced('a', 'r', 7, 5, 6, true), release('a', 'r', 7, 7, 8), acquire('b', 'r', 9, 10, 6)]), false)
    // The lost grant's token, once known, bounds the next grant's.
    const before = [acquire('c', 'r', 0, 1, 3), release('c', 'r', 3, 2, 3)]
    assert.equal(linearizable(leaseLockModel, [...before, acquire('a', 'r', 4, U), fenced('x', 'r', 4, 5, 6, true), acquire('b', 'r', 7, 8, 4)]), false)
    assert.equal(linearizable(leaseLockModel, [...before, acquire('a', 'r', 4, U), fenced('x', 'r', 4, 5, 6, true), acquire('b', 'r', 7, 8, 5)]), true)
    // A lost release may have let the next holder in.
    assert.equal(linearizable(lockModel, [acquire('a', 'r', 0, 1, 1), op('a', { op: 'release', resource: 'r', client: 'a', token: 1 }, 2, U), acquire('b', 'r', 5, 6, 2)]), true)
  })

  it('lets only the holder release', () => {
    assert.equal(linearizable(lockModel, [acquire('a', 'r', 0, 1, 1), release('b', 'r', 1, 2, 3)]), false)
    assert.equal(linearizable(lockModel, [acquire('a', 'r', 0, 1, 1), release('b', 'r', 1, 2, 3, false), release('a', 'r', 1, 4, 5)]), true)
    assert.equal(linearizable(lockModel, [acquire('a', 'r', 0, 1, 1), release('a', 'r', 2, 2, 3)]), false)
  })
})

describe('linearizability checker: search', () => {
  it('agrees with a brute-force search on small arbitrary register histories', () => {
    const value = fc.constantFrom(1, 2)
    const version = fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined })
    const input: fc.Arbitrary<KvInput> = fc.oneof(
      fc.record({ op: fc.constant('put' as const), key: fc.constant('x'), value }),
      fc.record({ op: fc.constant('get' as const), key: fc.constant('x') }),
      fc.record({ op: fc.constant('delete' as const), key: fc.constant('x') }),
      fc.record({ op: fc.constant('cas' as const), key: fc.constant('x'), value, expect: fc.option(value, { nil: undefined }) }),
      fc.record({ op: fc.constant('cas' as const), key: fc.constant('x'), value, expectVersion: fc.integer({ min: 0, max: 4 }) })
    )
    const output: fc.Arbitrary<KvOutput> = fc.record({
      ok: fc.boolean(),
      found: fc.boolean(),
      value,
      version,
      deleted: fc.option(fc.boolean(), { nil: undefined })
    })
    let linearizableSeen = 0
    fc.assert(fc.property(arbitraryHistory(input, output), (history) => {
      const expected = bruteForce(kvRegisterModel, history)
      if (expected) linearizableSeen++
      assert.equal(linearizable(kvRegisterModel, history), expected)
    }), { numRuns: 3000 })
    assert.ok(linearizableSeen > 300, `only ${linearizableSeen} linearizable`)
  })

  it('agrees with a brute-force search on small arbitrary lock histories', () => {
    const token = fc.integer({ min: 1, max: 4 })
    const owner = fc.constantFrom('a', 'b')
    const input: fc.Arbitrary<LockInput> = fc.oneof(
      fc.record({ op: fc.constant('acquire' as const), resource: fc.constant('r'), client: owner }),
      fc.record({ op: fc.constant('release' as const), resource: fc.constant('r'), client: owner, token }),
      fc.record({ op: fc.constant('fencedWrite' as const), resource: fc.constant('r'), token })
    )
    const output: fc.Arbitrary<LockOutput> = fc.record({ token, ok: fc.boolean(), accepted: fc.boolean() })
    for (const model of [lockModel, leaseLockModel]) {
      let linearizableSeen = 0
      fc.assert(fc.property(arbitraryHistory(input, output), (history) => {
        const expected = bruteForce(model, history)
        if (expected) linearizableSeen++
        assert.equal(linearizable(model, history), expected)
      }), { numRuns: 3000 })
      assert.ok(linearizableSeen > 300, `only ${linearizableSeen} linearizable`)
    }
  })

  it('answers unknown when it runs out of time', () => {
    // Twenty concurrent writes and a read of a value none of them wrote: every order of every
    // subset of the writes is a configuration to rule out.
    const history: KvOp[] = []
    for (let i = 0; i < 20; i++) history.push(put(`c${i}`, 'x', i, 0, 100))
    history.push(get('r', 'x', 'nope', 0, 100))
    const r = checkLinearizable(kvRegisterModel, history, { timeoutMs: 50 })
    assert.equal(r.ok, 'unknown')
    if (r.ok === 'unknown') {
      assert.equal(r.partition, '"x"')
      assert.match(r.reason, /timed out/)
    }
  })

  it('refuses malformed operations', () => {
    assert.throws(() => checkLinearizable(kvRegisterModel, [put('a', 'x', 1, 2, 1)]), RangeError)
    assert.throws(() => checkLinearizable(kvRegisterModel, [put('a', 'x', 1, NaN, 1)]), RangeError)
    assert.throws(() => checkLinearizable(kvRegisterModel, [put('a', 'x', 1, Infinity, Infinity)]), RangeError)
  })

  it('finds generated register histories linearizable, and not once a read returns a value never written', () => {
    fc.assert(fc.property(
      fc.integer(), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.constantFrom(0, 0.05, 0.2),
      (seed, clients, ops, keys, versions, lost) => {
        const history = simulateRegister(seed, clients, ops, keys, versions, lost)
        assert.equal(linearizable(kvRegisterModel, history), true)
        const reads = history.filter(h => h.input.op === 'get' && h.return !== Infinity)
        const read = reads[rng(seed)(reads.length + 1)]
        if (read === undefined) return
        const mutated = history.map(h => h === read ? { ...h, output: { ...h.output, found: true, value: 'never written' } } : h)
        assert.equal(linearizable(kvRegisterModel, mutated), false)
      }
    ), { numRuns: 300 })
  })

  it('finds generated lock histories linearizable', () => {
    fc.assert(fc.property(
      fc.integer(), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 80 }), fc.boolean(), fc.constantFrom(0, 0.05, 0.2),
      (seed, clients, ops, leases, lost) => {
        const history = simulateLock(seed, clients, ops, leases, lost)
        assert.equal(linearizable(leases ? leaseLockModel : lockModel, history), true)
      }
    ), { numRuns: 300 })
  })

  it('gets through a 2,000-operation history of 8 clients on one key', () => {
    for (const lost of [0, 0.01]) {
      const history = simulateRegister(42, 8, 2000, 1, true, lost)
      assert.equal(history.length, 2000)
      assert.deepEqual(checkLinearizable(kvRegisterModel, history), { ok: true })
    }
    const locks = simulateLock(7, 8, 2000, true, 0.01)
    assert.deepEqual(checkLinearizable(leaseLockModel, locks), { ok: true })
  })
})
