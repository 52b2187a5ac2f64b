/**
 * A linearizability checker: Wing & Gong's search with Lowe's memoization, as in Porcupine.
 *
 * A history is linearizable when each operation can be given one instant between its call and
 * its return so that running the operations in the order of those instants through a sequential
 * model gives exactly the outputs observed.
 *
 * The search. Calls and returns are events sorted by time (calls first at equal times, so
 * operations that only touch count as concurrent and a violation never hangs on a tie) in a
 * doubly-linked list. The operations that may come next are those called before the first
 * return still in the list. Walking from the head, at a call the model says whether the
 * operation with its observed output is legal in the current state; if so the operation and the
 * state before it go on an explicit stack, its call and return are unlinked, and the walk starts
 * again at the head. Reaching a return means nothing before it worked: pop the last choice,
 * link it back, try the operation after it. Memoization: a configuration is the set of
 * operations linearized (a bitset, keyed by an incremental Zobrist hash) and the model's state
 * hash; one reached again is not explored again. Two prunings on top: a read (`readOnly`) that
 * fits without changing the state is taken as the only choice, since it can go first in any
 * linearization from there; and a model's `partition` splits the history into independent parts
 * (per key, per resource) checked one by one (P-compositionality).
 *
 * Unknown outcomes. An operation whose answer never came (timeout, crash, lost connection) is
 * recorded with `return: Infinity` and no output: it may have taken effect at any point after its
 * call, or never. It has no return event, so it never forces a backtrack and the search succeeds
 * once every operation with a known outcome is linearized, whichever unknown ones were used. The
 * model's step gets `undefined` as the output and applies the effect the operation would have
 * had (taking no effect is the same as never being linearized). Unknown operations are tried
 * only where the known candidates ran out, all of them expanded at once, and a configuration is
 * skipped when one seen before had the same known operations and state and a subset of the
 * unknown ones (anything that finishes from the larger set finishes from the smaller). Without
 * that, each lingering unknown operation would double the configurations.
 *
 * The problem is NP-complete: a history that is not linearizable, with many overlapping or many
 * unknown operations, can take long. `timeoutMs` bounds the check, and then the answer is
 * `ok: 'unknown'`.
 */

/** One call to the system under test, as a client saw it. */
export interface Operation<I, O> {
  /** Who made the call; only used in descriptions, ordering comes from the times. */
  client: string | number
  input: I
  /** When the call was made. */
  call: number
  /** When the answer arrived; Infinity when it never did and the outcome is unknown. */
  return: number
  /** The answer; undefined when the outcome is unknown. */
  output?: O
}

export interface StepResult<S> {
  ok: boolean
  state: S
}

/**
 * A sequential specification. States are values: `step` must not change the state it is given.
 */
export interface Model<S, I, O> {
  init: () => S
  /**
   * Whether `input` may give `output` in `state`, and the state after it. `output` is undefined
   * for an operation whose outcome is unknown: accept it and apply the effect it would have had.
   */
  step: (state: S, input: I, output: O | undefined) => StepResult<S>
  /** Memoization key of a state. Must be exact unless `equal` is given. */
  hash: (state: S) => string
  /** Exact equality, for when `hash` may give two different states the same key. */
  equal?: (a: S, b: S) => boolean
  /**
   * Operations that only observe (reads). The promise: taking such an operation out of any
   * sequence the model accepts leaves a sequence it accepts, once some operations with unknown
   * outcome are taken out as well if need be. A step that only narrows what is known (pins down
   * a version that was unknown) keeps that promise. The search then takes an observer that fits
   * the current state without changing it as the only choice there, which prunes a lot.
   */
  readOnly?: (input: I) => boolean
  /** Independent sub-histories (P-compositionality), e.g. one per key. */
  partition?: (history: Array<Operation<I, O>>) => Array<Array<Operation<I, O>>>
  /** A name for a sub-history, used in reports. */
  partitionName?: (part: Array<Operation<I, O>>) => string
  describeState?: (state: S) => string
  describeOperation?: (op: Operation<I, O>) => string
}

export interface CheckOptions {
  /** A bound on the whole check; past it the answer is 'unknown'. No bound when absent. */
  timeoutMs?: number
}

export type CheckResult<S, I, O> =
  | { ok: true }
  | {
    ok: false
    /** The sub-history that is not linearizable, when the model partitions. */
    partition?: string
    reason: string
    /** The operations of the failing sub-history. */
    history: Array<Operation<I, O>>
    /** The longest linearization of a prefix the search found, in linearization order. */
    longest: Array<Operation<I, O>>
    /** The state after `longest`. */
    state: S
    /** The operations with known outcome that could have come after `longest`; none led anywhere. */
    next: Array<Operation<I, O>>
  }
  | { ok: 'unknown', partition?: string, reason: string }

type PartResult<S, I, O> =
  | { ok: true }
  | { ok: false, reason: string, longest: Array<Operation<I, O>>, state: S, next: Array<Operation<I, O>> }
  | { ok: 'unknown', reason: string }

/** A call or return in the event list. */
class EventNode {
  prev: EventNode | null = null
  next: EventNode | null = null
  /** For the call of an operation with a known outcome: its return. */
  ret: EventNode | null = null

  constructor (readonly op: number, readonly order: number, readonly isCall: boolean) {}
}

/** A list of unknown operations linearized, sharing its tail with the path it grew from. */
class Used {
  /** Still part of the current path (and then so is its tail). */
  onPath = true

  constructor (readonly op: number, readonly prev: Used | null) {}
}

interface Frame<S> {
  /** The call of the operation this frame linearized. */
  node: EventNode
  /** The state before it, and its hash. */
  state: S
  stateKey: string
  /** Taken as the only choice: when it fails, so does the configuration before it. */
  forced: boolean
  /** When the frame is the choice among unknown operations: all of them, and which one is in. */
  kids?: Array<{ node: EventNode, state: S, key: string }>
  kid: number
}

const CLOCK_EVERY = 1024

/**
 * Check a history against a model. Throws on a malformed operation (a time that is not a
 * number, a return before its call, an infinite call).
 */
export function checkLinearizable<S, I, O> (
  model: Model<S, I, O>,
  history: Array<Operation<I, O>>,
  opts: CheckOptions = {}
): CheckResult<S, I, O> {
  for (const op of history) validate(op)
  const deadline = opts.timeoutMs === undefined ? Infinity : performance.now() + opts.timeoutMs
  const parts = model.partition === undefined ? [history] : model.partition(history)
  let unknown: { partition?: string, reason: string } | undefined
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? []
    if (part.length === 0) continue
    const name = model.partition === undefined ? undefined : (model.partitionName?.(part) ?? `#${i}`)
    const r = checkPart(model, part, deadline)
    if (r.ok === true) continue
    if (r.ok === false) {
      const where = name === undefined ? '' : `partition ${name}: `
      return { ok: false, ...(name === undefined ? {} : { partition: name }), reason: where + r.reason, history: part, longest: r.longest, state: r.state, next: r.next }
    }
    // Out of time here; a later part may still be small enough to fail definitely.
    unknown ??= { ...(name === undefined ? {} : { partition: name }), reason: (name === undefined ? '' : `partition ${name}: `) + r.reason }
  }
  return unknown === undefined ? { ok: true } : { ok: 'unknown', ...unknown }
}

function validate<I, O> (op: Operation<I, O>): void {
  if (typeof op.call !== 'number' || !Number.isFinite(op.call)) throw new RangeError(`operation call time must be a finite number, got ${String(op.call)}`)
  if (typeof op.return !== 'number' || Number.isNaN(op.return)) throw new RangeError(`operation return time must be a number or Infinity, got ${String(op.return)}`)
  if (op.return < op.call) throw new RangeError(`operation returns (${op.return}) before its call (${op.call})`)
}

function checkPart<S, I, O> (model: Model<S, I, O>, ops: Array<Operation<I, O>>, deadline: number): PartResult<S, I, O> {
  const n = ops.length
  const known = ops.map(op => op.return !== Infinity)

  // Events in time order; calls before returns at equal times, then by operation.
  const events: Array<{ op: number, isCall: boolean, time: number }> = []
  ops.forEach((op, i) => {
    events.push({ op: i, isCall: true, time: op.call })
    if (known[i] === true) events.push({ op: i, isCall: false, time: op.return })
  })
  events.sort((a, b) => a.time - b.time || (a.isCall ? 0 : 1) - (b.isCall ? 0 : 1) || a.op - b.op)

  // Two lists: calls and returns of known operations, and calls of unknown ones.
  const head = new EventNode(-1, -1, false)
  const uhead = new EventNode(-1, -1, true)
  const callOrder = new Array<number>(n).fill(0)
  const returnOrder = new Array<number>(n).fill(Infinity)
  const calls: EventNode[] = []
  let tail = head
  let utail = uhead
  events.forEach((e, order) => {
    const node = new EventNode(e.op, order, e.isCall)
    if (e.isCall) {
      callOrder[e.op] = order
      calls[e.op] = node
    } else {
      returnOrder[e.op] = order
      const call = calls[e.op]
      if (call !== undefined) call.ret = node
    }
    if (known[e.op] === true) {
      node.prev = tail
      tail.next = node
      tail = node
    } else {
      node.prev = utail
      utail.next = node
      utail = node
    }
  })

  // Unknown operations with the same input are interchangeable, and the one called first can go
  // wherever a later one can: a later one is only tried once the earlier one is used.
  const earlierTwin = new Array<number>(n).fill(-1)
  const lastWithInput = new Map<string, number>()
  for (let u = uhead.next; u !== null; u = u.next) {
    const input = plainJson((ops[u.op] as Operation<I, O>).input)
    if (input === undefined) continue
    earlierTwin[u.op] = lastWithInput.get(input) ?? -1
    lastWithInput.set(input, u.op)
  }

  // Zobrist keys for the known operations linearized, two 32-bit halves; unknown ones stay out
  // of the key because configurations are compared on them by inclusion, not equality.
  const rand = splitmix(0x5eed + n)
  const z1 = new Int32Array(n)
  const z2 = new Int32Array(n)
  const words = (n + 31) >>> 5
  const unknownMask = new Uint32Array(words)
  for (let i = 0; i < n; i++) {
    if (known[i] === true) {
      z1[i] = rand()
      z2[i] = rand()
    } else {
      unknownMask[i >>> 5] = (unknownMask[i >>> 5] ?? 0) | (1 << (i & 31))
    }
  }
  const bits = new Uint32Array(words)
  let h1 = 0
  let h2 = 0
  const flip = (op: number): void => {
    bits[op >>> 5] = (bits[op >>> 5] ?? 0) ^ (1 << (op & 31))
    h1 ^= z1[op] ?? 0
    h2 ^= z2[op] ?? 0
  }

  // The memo. A configuration is subsumed by one seen before with the same known operations and
  // state and a subset of the unknown ones: every way to finish from it is a way to finish from
  // the earlier one, which has failed or is still to be explored. Configurations with the same
  // known operations and state hash form a group; each entry in it holds the unknown operations
  // it had used, as the path's list at the time.
  const cache = new Map<string, Array<{ known: Uint32Array, entries: Array<{ used: Used | null, extra: number, state: S }> }>>()
  const equal = model.equal
  const readOnly = model.readOnly
  /** Unknown operations linearized on the current path, the latest first. */
  let used: Used | null = null
  const has = (op: number): boolean => (((bits[op >>> 5] ?? 0) >>> (op & 31)) & 1) === 1
  /** Whether every operation in a list is linearized now; a node still on the path ends the walk. */
  const allIn = (list: Used | null): boolean => {
    for (let u = list; u !== null; u = u.prev) {
      if (u.onPath) return true
      if (!has(u.op)) return false
    }
    return true
  }
  const sameKnown = (seen: Uint32Array): boolean => {
    for (let w = 0; w < words; w++) {
      if ((((seen[w] ?? 0) ^ (bits[w] ?? 0)) & ~(unknownMask[w] ?? 0)) !== 0) return false
    }
    return true
  }
  /**
   * Records the configuration of the current bits and `next`, with `extra` an unknown operation
   * being tried that is in the bits but not yet in `used`; false when one seen before subsumes it.
   */
  const remember = (next: S, nextKey: string, extra = -1): boolean => {
    const key = `${(h1 >>> 0).toString(36)}.${(h2 >>> 0).toString(36)}.${nextKey}`
    let groups = cache.get(key)
    if (groups === undefined) {
      groups = []
      cache.set(key, groups)
    }
    let group = groups.find(g => sameKnown(g.known))
    if (group === undefined) {
      group = { known: bits.slice(), entries: [] }
      groups.push(group)
    }
    for (const seen of group.entries) {
      if ((seen.extra < 0 || has(seen.extra)) && allIn(seen.used) && (equal === undefined || equal(seen.state, next))) return false
    }
    group.entries.push({ used, extra, state: next })
    return true
  }

  const unlink = (node: EventNode): void => {
    if (node.prev !== null) node.prev.next = node.next
    if (node.next !== null) node.next.prev = node.prev
  }
  const relink = (node: EventNode): void => {
    if (node.prev !== null) node.prev.next = node
    if (node.next !== null) node.next.prev = node
  }
  let remaining = known.filter(k => k).length
  const lift = (node: EventNode): void => {
    flip(node.op)
    unlink(node)
    if (node.ret !== null) {
      unlink(node.ret)
      remaining--
    } else {
      used = new Used(node.op, used)
    }
  }
  const unlift = (node: EventNode): void => {
    if (node.ret !== null) {
      relink(node.ret)
      remaining++
    } else if (used !== null) {
      used.onPath = false
      used = used.prev
    }
    relink(node)
    flip(node.op)
  }

  /** Model steps and search moves, for the clock. */
  let steps = 0
  const step = (from: S, op: number): StepResult<S> => {
    steps++
    const o = ops[op] as Operation<I, O>
    return model.step(from, o.input, o.output)
  }

  let state = model.init()
  let stateKey = model.hash(state)
  remember(state, stateKey)
  const stack: Array<Frame<S>> = []
  // The deepest point, by operations with known outcome, with the fewest unknown ones.
  const totalKnown = remaining
  let best: { ops: number[], known: number, state: S } = { ops: [], known: 0, state }
  const noteBest = (): void => {
    const done = totalKnown - remaining
    if (done > best.known || (done === best.known && stack.length < best.ops.length)) {
      best = { ops: stack.map(f => f.node.op), known: done, state }
    }
  }
  const descend = (frame: Frame<S>, next: S, nextKey: string): void => {
    stack.push(frame)
    lift(frame.node)
    state = next
    stateKey = nextKey
  }

  // The search. `node` walks the known list; at its first return the known candidates are used
  // up and the unknown ones called before that return get their turn.
  let node: EventNode | null = head.next
  let fresh = true
  let nextClock = CLOCK_EVERY
  search: for (;;) {
    if (remaining === 0) return { ok: true }
    if (++steps >= nextClock) {
      nextClock = steps + CLOCK_EVERY
      if (performance.now() > deadline) {
        return { ok: 'unknown', reason: `timed out after ${steps} search steps with ${stack.length} of ${n} operations linearized` }
      }
    }
    if (node === null) throw new Error('lincheck: the event list ended with operations left')

    if (fresh && readOnly !== undefined) {
      // A read that fits here without changing the state can go first in any linearization
      // that works from here (take it out where it was, put it first): take it, try nothing else.
      fresh = false
      let forced: { node: EventNode, next: S } | undefined
      for (let c: EventNode | null = node; c !== null && c.isCall; c = c.next) {
        if (!readOnly((ops[c.op] as Operation<I, O>).input)) continue
        const r = step(state, c.op)
        if (r.ok && model.hash(r.state) === stateKey && (equal === undefined || equal(r.state, state))) {
          forced = { node: c, next: r.state }
          break
        }
      }
      if (forced !== undefined) {
        flip(forced.node.op)
        const isNew = remember(forced.next, stateKey)
        flip(forced.node.op)
        if (isNew) {
          descend({ node: forced.node, state, stateKey, forced: true, kid: 0 }, forced.next, stateKey)
          node = head.next
          fresh = true
          continue
        }
        node = null
      }
    }

    if (node !== null && node.isCall) {
      const r = step(state, node.op)
      if (r.ok) {
        const nextKey = model.hash(r.state)
        flip(node.op)
        const isNew = remember(r.state, nextKey)
        flip(node.op)
        if (isNew) {
          descend({ node, state, stateKey, forced: false, kid: 0 }, r.state, nextKey)
          node = head.next
          fresh = true
          continue
        }
      }
      node = node.next
      continue
    }

    // The known candidates are used up (or a forced choice failed: node === null). Try the
    // unknown operations called before the first return, all expanded at once so the memo
    // holds each of them before the search goes deeper: a run of unknown operations is then not
    // explored again in every order and subset that ends in the same state. Right after another
    // unknown operation, one that ends where it did as a sibling (a blind write) is subsumed by
    // that sibling and needs no lookup.
    noteBest()
    const top = stack[stack.length - 1]
    const siblings = top?.kids === undefined ? undefined : new Map(top.kids.map(k => [k.node.op, k]))
    const kids: Array<{ node: EventNode, state: S, key: string }> = []
    for (let u = uhead.next; node !== null && u !== null && u.order < node.order; u = u.next) {
      const twin = earlierTwin[u.op] ?? -1
      if (twin >= 0 && !has(twin)) continue
      const r = step(state, u.op)
      if (!r.ok) continue
      const key = model.hash(r.state)
      const sibling = siblings?.get(u.op)
      if (sibling !== undefined && sibling.key === key && (equal === undefined || equal(sibling.state, r.state))) continue
      flip(u.op)
      if (remember(r.state, key, u.op)) kids.push({ node: u, state: r.state, key })
      flip(u.op)
    }
    const first = kids[0]
    if (first !== undefined) {
      descend({ node: first.node, state, stateKey, forced: false, kids, kid: 0 }, first.state, first.key)
      node = head.next
      fresh = true
      continue
    }

    // Nothing fits here: undo the last choice and take the next one.
    for (;;) {
      const frame = stack.pop()
      if (frame === undefined) break search
      unlift(frame.node)
      state = frame.state
      stateKey = frame.stateKey
      if (frame.forced) continue
      if (frame.kids === undefined) {
        node = frame.node.next
        continue search
      }
      const kid = frame.kids[++frame.kid]
      if (kid !== undefined) {
        frame.node = kid.node
        descend(frame, kid.state, kid.key)
        node = head.next
        fresh = true
        continue search
      }
    }
  }

  // Not linearizable: explain from the deepest point the search reached.
  const inBest = new Uint8Array(n)
  for (const i of best.ops) inBest[i] = 1
  let firstReturn = Infinity
  for (let i = 0; i < n; i++) if (inBest[i] === 0 && (returnOrder[i] ?? Infinity) < firstReturn) firstReturn = returnOrder[i] ?? Infinity
  const next: Array<Operation<I, O>> = []
  const notes: string[] = []
  let unknownPending = 0
  for (let i = 0; i < n; i++) {
    if (inBest[i] === 1 || (callOrder[i] ?? 0) > firstReturn) continue
    if (known[i] !== true) {
      unknownPending++
      continue
    }
    const o = ops[i] as Operation<I, O>
    next.push(o)
    if (notes.length < 8) {
      const legal = model.step(best.state, o.input, o.output).ok
      notes.push(`${describeOp(model, o)}${legal ? ' (legal here, but leads nowhere)' : ' (illegal here)'}`)
    }
  }
  if (next.length > notes.length) notes.push(`and ${next.length - notes.length} more`)
  if (unknownPending > 0) notes.push(`(and ${unknownPending} with unknown outcome, which may take effect here or never)`)
  const longest = best.ops.map(i => ops[i] as Operation<I, O>)
  const stateText = model.describeState?.(best.state) ?? safeJson(best.state)
  return {
    ok: false,
    reason: `not linearizable: at most ${best.known} of ${totalKnown} operations with known outcome could be linearized, reaching state ${stateText}; ` +
      `none of the operations that could come next fits: ${notes.join('; ')}`,
    longest,
    state: best.state,
    next
  }
}

function splitmix (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return z ^ (z >>> 16)
  }
}

/** JSON of a value made only of plain data (objects, arrays, strings, finite numbers, ...). */
function plainJson (v: unknown): string | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v)
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : undefined
  if (Array.isArray(v)) {
    const items = v.map(plainJson)
    return items.every(i => i !== undefined) ? `[${items.join(',')}]` : undefined
  }
  if (typeof v !== 'object') return undefined
  const proto = Object.getPrototypeOf(v) as unknown
  if (proto !== Object.prototype && proto !== null) return undefined
  const o = v as Record<string, unknown>
  const fields: string[] = []
  for (const k of Object.keys(o).sort()) {
    const field = plainJson(o[k])
    if (field === undefined) return undefined
    fields.push(`${JSON.stringify(k)}:${field}`)
  }
  return `{${fields.join(',')}}`
}

function safeJson (v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}

/** A one-line description of an operation, with the model's wording when it has one. */
export function describeOp<S, I, O> (model: Model<S, I, O>, op: Operation<I, O>): string {
  if (model.describeOperation !== undefined) return model.describeOperation(op)
  const out = op.return === Infinity ? '?' : safeJson(op.output)
  return `${String(op.client)}: ${safeJson(op.input)} -> ${out} [${op.call}, ${op.return}]`
}
