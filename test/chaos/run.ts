/**
 * A Jepsen-style run against real processes: a bootstrap peer and `nodes` members (worker.ts),
 * clients in this process doing key-value operations and lock -> fenced write -> unlock cycles
 * through them, and a nemesis that SIGKILLs and restarts members and cuts minorities off. Every
 * operation's call and return are timed here (performance.now) and its outcome recorded; at the
 * end the cluster is healed, every key is read back through every member, and the histories go
 * through the linearizability checker (test/lincheck):
 *
 * - key-value: a register per key (puts of unique values, linearizable reads, compare-and-set on
 *   the version). With the final reads in the history this also covers lost writes: an
 *   acknowledged put must be the final value or be overwritten by a later write.
 * - locks: a fenced mutex per resource with leases (models.ts): tokens grow, an accepted fenced
 *   write carries the current holder's token, a grant that takes over ends the old tenure.
 *
 * Outcomes: ok and definite refusals (a failed compare, a fenced write refused, a release by a
 * non-holder) go into the history as observed; an outcome that is unknown (a timeout, a write
 * that may still commit, a worker killed before answering) goes in with `return: Infinity`;
 * operations that definitely took no effect (never proposed) stay out.
 *
 * Keys and lock resources change every KEY_EPOCH_MS, so each register's and each lock's history
 * stays small enough to check quickly. The seed fixes the nemesis's schedule and the clients'
 * choices; the timing of a real cluster does not replay exactly, so a seed reproduces a run's
 * shape, not its every step.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { checkLinearizable, type CheckResult, type Operation } from '../lincheck/checker.js'
import { kvRegisterModel, type KvInput, type KvOutput, type LockInput, type LockOutput } from '../lincheck/models.js'
import { Prng } from '../sim/prng.js'
import { expiringLockModel } from './models.js'
import { NodeProcess, type Outcome } from './node-process.js'
import type { Request } from './protocol.js'

export interface ChaosOptions {
  seed: number
  /** How long clients and the nemesis run (startup, settling and checking come on top). */
  durationMs: number
  /** Raft voters, each a worker process (default 5). */
  nodes?: number
  /** Client loops per member (default 2). */
  clients?: number
  /** Progress lines (nemesis actions, phases); default silent. */
  log?: (line: string) => void
  /** Save the history even when the run passes (it is always saved on a violation). */
  keepHistory?: boolean
  /** Bound on each checker run; past it the verdict is 'unknown' (default 60 s). */
  checkTimeoutMs?: number
  /** Ends the run early: every process is killed at once and runChaos rejects. */
  signal?: AbortSignal
  /**
   * Members serve reads from their own replica, which is not linearizable: a self-test, the
   * run should report a violation.
   */
  staleReads?: boolean
}

type OutcomeType = 'ok' | 'fail' | 'info'

export interface ChaosStats {
  /** By operation name, then outcome. */
  ops: Record<string, Record<OutcomeType, number>>
  okOps: number
  nemesis: { kills: number, restarts: number, partitions: number, heals: number }
  /** Operations in the checked histories, and the registers and locks they split into. */
  kvOps: number
  kvKeys: number
  lockOps: number
  resources: number
  startupMs: number
  chaosMs: number
  settleMs: number
  checkMs: number
  totalMs: number
  finalTerm: number
}

/**
 * A lock acquisition that returned a token its own node no longer held when acquire returned:
 * the caller believes it has a lock that is free. Fencing still refuses its writes, so the
 * histories can stay linearizable; these are reported on their own.
 *
 * - 'released': the lease was still alive, so something other than expiry released the grant
 *   before acquire returned (a bug: e.g. the withdrawal of a wait that timed out just as the
 *   grant came, which releases the grant, and acquire still returns it).
 * - 'expired': the lease was gone: it expired while the node could not reach the leader, and
 *   the grant and the expiry were applied together. Leases allow this; noted, not a failure.
 */
export interface Anomaly {
  kind: 'released' | 'expired'
  client: string
  node: string
  resource: string
  token: number
  call: number
  return: number
  /** The acquire took at least its whole wait: the grant raced the timeout. */
  waitedOut: boolean
}

export interface ChaosResult {
  seed: number
  /** True: both histories check out; false: a violation; 'unknown': the checker ran out of time. */
  valid: boolean | 'unknown'
  anomalies: Anomaly[]
  stats: ChaosStats
  /** What went wrong, with a window of the history, when `valid` is not true. */
  report?: string
  historyFile?: string
}

/** One call as this process saw it: the raw record behind both histories. */
interface OpRecord {
  client: string
  node: string
  op: string
  args: Request
  call: number
  ret: number
  type: OutcomeType
  error?: string
  out?: Record<string, unknown>
}

interface NemesisEvent { at: number, action: string, nodes: string[], note?: string }

const KEYS_PER_EPOCH = 4
const KEY_EPOCH_MS = 10_000
const RESOURCES = ['lock-a', 'lock-b']
const OP_TIMEOUT_MS = 2000
const LOCK_TTL_MS = 2000
const LOCK_WAIT_MS = 4000
/** Parent-side deadlines: past the worker's own, so a live worker always answers first. */
const KV_DEADLINE_MS = OP_TIMEOUT_MS + 3000
/** A lock's wait, then its withdrawal and its lease's revocation if the wait fails. */
const LOCK_DEADLINE_MS = LOCK_WAIT_MS + OP_TIMEOUT_MS + 5000 + 3000
const SETTLE_DEADLINE_MS = 40_000

type KvOp = Operation<KvInput, KvOutput>
type LockOp = Operation<LockInput, LockOutput>

function sleep (ms: number, stop?: Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const slept = new Promise<void>(resolve => { timer = setTimeout(resolve, ms) })
  return (stop === undefined ? slept : Promise.race([slept, stop])).finally(() => { clearTimeout(timer) })
}

export async function runChaos (opts: ChaosOptions): Promise<ChaosResult> {
  const n = opts.nodes ?? 5
  const perNode = opts.clients ?? 2
  const log = opts.log ?? (() => {})
  const t0 = performance.now()
  const now = (): number => performance.now() - t0
  const root = mkdtempSync(join(tmpdir(), 'swarmnet-chaos-'))
  const master = new Prng(opts.seed)
  const nemesisRng = master.fork()

  const records: OpRecord[] = []
  const kvHistory: KvOp[] = []
  const lockHistory: LockOp[] = []
  const events: NemesisEvent[] = []
  const anomalies: Anomaly[] = []
  const usedKeys = new Set<string>()
  const stats: ChaosStats = {
    ops: {},
    okOps: 0,
    nemesis: { kills: 0, restarts: 0, partitions: 0, heals: 0 },
    kvOps: 0,
    kvKeys: 0,
    lockOps: 0,
    resources: 0,
    startupMs: 0,
    chaosMs: 0,
    settleMs: 0,
    checkMs: 0,
    totalMs: 0,
    finalTerm: 0
  }

  let stopping = false
  let stop!: () => void
  const stopped = new Promise<void>(resolve => { stop = resolve })
  const boot = new NodeProcess('bootstrap', { role: 'bootstrap', dir: join(root, 'bootstrap'), port: 0, bootstrap: [], voters: n, opTimeoutMs: OP_TIMEOUT_MS })
  const members: NodeProcess[] = []
  const background: Array<Promise<unknown>> = []
  const aborted = (): void => {
    if (opts.signal?.aborted === true) throw new Error('the chaos run was aborted')
  }
  const onAbort = (): void => {
    stopping = true
    stop()
    for (const m of [boot, ...members]) void m.crash()
  }
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    aborted()
    const bootAddr = (await boot.start()).addrs[0]
    if (bootAddr === undefined) throw new Error('the bootstrap peer has no address')
    for (let i = 0; i < n; i++) {
      members.push(new NodeProcess(`n${i + 1}`, { role: 'member', dir: join(root, `n${i + 1}`), port: 0, bootstrap: [bootAddr], voters: n, opTimeoutMs: OP_TIMEOUT_MS, staleReads: opts.staleReads === true }))
    }
    await Promise.all(members.map(async m => m.start()))
    log(`${n} members up after ${(now() / 1000).toFixed(1)} s; waiting for a leader`)
    const leader = await waitSettled(members, SETTLE_DEADLINE_MS, opts.signal)
    stats.startupMs = now()
    log(`cluster of ${n} formed in ${(stats.startupMs / 1000).toFixed(1)} s, leader ${members.find(m => m.peerId === leader)?.name ?? leader}`)

    // ---- the run ----------------------------------------------------------------------------
    const chaosStart = now()
    const name = (peerId: string): string => members.find(m => m.peerId === peerId)?.name ?? peerId.slice(-6)

    const record = (client: string, node: NodeProcess, args: Request, call: number, ret: number, o: Exclude<Outcome, { type: 'down' }>): OpRecord => {
      const op = args.op === 'put' && args.prevVersion !== undefined ? 'cas' : args.op
      const r: OpRecord = { client, node: node.name, op, args, call, ret, type: o.type }
      if (o.type === 'ok') {
        const { type: _t, ...out } = o
        r.out = out
      } else {
        r.error = o.error
      }
      records.push(r)
      const byType = stats.ops[op] ??= { ok: 0, fail: 0, info: 0 }
      byType[o.type]++
      if (o.type === 'ok') stats.okOps++
      return r
    }

    /** Runs one request; null when it could not be sent (the worker was down). */
    const invoke = async (client: string, node: NodeProcess, args: Request, deadlineMs: number): Promise<{ o: Exclude<Outcome, { type: 'down' }>, call: number, ret: number } | null> => {
      const call = now()
      const o = await node.call(args, deadlineMs)
      const ret = now()
      if (o.type === 'down') return null
      record(client, node, args, call, o.type === 'info' ? Infinity : ret, o)
      return { o, call, ret: o.type === 'info' ? Infinity : ret }
    }

    const epoch = (): number => Math.floor((now() - chaosStart) / KEY_EPOCH_MS)
    const keysNow = (): string[] => Array.from({ length: KEYS_PER_EPOCH }, (_, i) => `k${epoch()}.${i}`)
    // Resources change with the keys: lost grants pile up in a lock's history and each one
    // multiplies the checker's work, so each lock only lives for an epoch.
    const resourcesNow = (): string[] => RESOURCES.map(r => `${r}.${epoch()}`)
    const fencedKey = (resource: string): string => `f.${resource}`

    const kvRecord = (client: string, input: KvInput, call: number, ret: number, output?: KvOutput): void => {
      kvHistory.push(ret === Infinity ? { client, input, call, return: ret } : { client, input, call, return: ret, output })
    }
    const lockRecord = (client: string, input: LockInput, call: number, ret: number, output?: LockOutput): void => {
      lockHistory.push(ret === Infinity ? { client, input, call, return: ret } : { client, input, call, return: ret, output })
    }

    const client = async (id: string, node: NodeProcess, rng: Prng): Promise<void> => {
      let seq = 0
      const versions = new Map<string, number>()
      const unique = (): string => `${id}.${++seq}`

      const kvOp = async (): Promise<void> => {
        const key = rng.pick(keysNow())
        usedKeys.add(key)
        const roll = rng.float()
        if (roll < 0.4) {
          const value = unique()
          const r = await invoke(id, node, { op: 'put', key, value }, KV_DEADLINE_MS)
          if (r === null) return
          if (r.o.type === 'ok') {
            versions.set(key, r.o.version ?? 0)
            kvRecord(id, { op: 'put', key, value }, r.call, r.ret, { ok: true, version: r.o.version })
          } else if (r.o.type === 'info') {
            kvRecord(id, { op: 'put', key, value }, r.call, Infinity)
          }
        } else if (roll < 0.75) {
          const r = await invoke(id, node, { op: 'get', key }, KV_DEADLINE_MS)
          // A read that did not answer changed nothing: it tells the checker nothing either.
          if (r === null || r.o.type !== 'ok') return
          if (r.o.found === true) {
            versions.set(key, r.o.version ?? 0)
            kvRecord(id, { op: 'get', key }, r.call, r.ret, { found: true, value: r.o.value, version: r.o.version })
          } else {
            versions.set(key, 0)
            kvRecord(id, { op: 'get', key }, r.call, r.ret, { found: false })
          }
        } else {
          const value = unique()
          const prevVersion = versions.get(key) ?? 0
          const input: KvInput = { op: 'cas', key, value, expectVersion: prevVersion }
          const r = await invoke(id, node, { op: 'put', key, value, prevVersion }, KV_DEADLINE_MS)
          if (r === null) return
          if (r.o.type === 'ok') {
            versions.set(key, r.o.version ?? 0)
            kvRecord(id, input, r.call, r.ret, { ok: true, version: r.o.version })
          } else if (r.o.type === 'fail' && r.o.error === 'conflict') {
            versions.delete(key)
            kvRecord(id, input, r.call, r.ret, { ok: false })
          } else if (r.o.type === 'info') {
            kvRecord(id, input, r.call, Infinity)
          }
        }
      }

      /** A fenced write: a lock-model operation, and a put of the register when it may apply. */
      const fencedPut = async (resource: string, token: number, note: string): Promise<void> => {
        const key = fencedKey(resource)
        usedKeys.add(key)
        const value = `${unique()}${note}`
        const r = await invoke(id, node, { op: 'fencedPut', resource, token, key, value }, KV_DEADLINE_MS)
        if (r === null) return
        const input: LockInput = { op: 'fencedWrite', resource, token, value }
        if (r.o.type === 'ok') {
          lockRecord(id, input, r.call, r.ret, { accepted: true })
          kvRecord(id, { op: 'put', key, value }, r.call, r.ret, { ok: true, version: r.o.version })
        } else if (r.o.type === 'fail' && r.o.error === 'fenced') {
          lockRecord(id, input, r.call, r.ret, { accepted: false })
        } else if (r.o.type === 'info') {
          lockRecord(id, input, r.call, Infinity)
          kvRecord(id, { op: 'put', key, value }, r.call, Infinity)
        }
      }

      const lockCycle = async (): Promise<void> => {
        const resource = rng.pick(resourcesNow())
        // The lock model's owner: one per tenure, so a late release cannot end a later one.
        const owner = `${id}/${++seq}`
        const acquire: LockInput = { op: 'acquire', resource, client: owner }
        const a = await invoke(id, node, { op: 'lock', resource, ttlMs: LOCK_TTL_MS, timeoutMs: LOCK_WAIT_MS }, LOCK_DEADLINE_MS)
        if (a === null) return
        if (a.o.type === 'info') lockRecord(id, acquire, a.call, Infinity)
        if (a.o.type !== 'ok' || a.o.token === undefined) return
        const token = a.o.token
        lockRecord(id, acquire, a.call, a.ret, { token })
        if (a.o.held === false) {
          anomalies.push({ kind: a.o.leaseAlive === false ? 'expired' : 'released', client: id, node: node.name, resource, token, call: a.call, return: a.ret, waitedOut: a.ret - a.call >= LOCK_WAIT_MS })
        }
        const writes = rng.between(1, 2)
        for (let i = 0; i < writes && !stopping; i++) {
          await fencedPut(resource, token, '')
          if (rng.chance(0.3)) {
            const key = fencedKey(resource)
            const g = await invoke(id, node, { op: 'get', key }, KV_DEADLINE_MS)
            if (g !== null && g.o.type === 'ok') kvRecord(id, { op: 'get', key }, g.call, g.ret, g.o.found === true ? { found: true, value: g.o.value, version: g.o.version } : { found: false })
          }
        }
        const release: LockInput = { op: 'release', resource, client: owner, token }
        const u = await invoke(id, node, { op: 'unlock', resource, token }, KV_DEADLINE_MS)
        if (u === null) return
        if (u.o.type === 'ok') lockRecord(id, release, u.call, u.ret, { ok: true })
        else if (u.o.type === 'fail' && u.o.error === 'not_holder') lockRecord(id, release, u.call, u.ret, { ok: false })
        else if (u.o.type === 'info') lockRecord(id, release, u.call, Infinity)
        // A stale holder trying again: must be refused once the release took effect.
        if (rng.chance(0.25)) await fencedPut(resource, token, ' (stale)')
      }

      while (!stopping) {
        if (!node.up) {
          await Promise.race([node.whenUp(), stopped])
          continue
        }
        if (rng.chance(0.3)) await lockCycle()
        else await kvOp()
      }
    }

    // ---- the nemesis ------------------------------------------------------------------------
    let cut: Set<NodeProcess> | null = null
    const blockList = (m: NodeProcess): string[] => {
      if (cut === null) return []
      const inside = cut.has(m)
      return members.filter(o => o !== m && cut!.has(o) !== inside).map(o => o.peerId)
    }
    const applyPartition = async (targets: NodeProcess[]): Promise<void> => {
      await Promise.all(targets.filter(m => m.up).map(async m => {
        const peers = blockList(m)
        await m.call(peers.length === 0 ? { op: 'heal' } : { op: 'block', peers }, 5000)
      }))
    }
    const note = (action: string, nodes: NodeProcess[], extra?: string): void => {
      const e: NemesisEvent = { at: now(), action, nodes: nodes.map(m => m.name) }
      if (extra !== undefined) e.note = extra
      events.push(e)
      log(`  ${(e.at / 1000).toFixed(1).padStart(6)} s  nemesis ${action} ${e.nodes.join(',')}${extra !== undefined ? ` (${extra})` : ''}`)
    }
    const down = new Set<NodeProcess>()
    let restartFailure: Error | null = null

    const killAndRestart = async (victim: NodeProcess, pauseMs: number, leader: boolean): Promise<void> => {
      down.add(victim)
      stats.nemesis.kills++
      note('kill', [victim], leader ? 'the leader' : undefined)
      await victim.crash()
      await sleep(pauseMs, stopped)
      try {
        aborted()
        await victim.start()
        // It comes back on whichever side of the current partition it is on.
        await applyPartition([victim])
        stats.nemesis.restarts++
        note('restart', [victim])
      } catch (err) {
        restartFailure ??= err as Error
        note('restart-failed', [victim], (err as Error).message.slice(0, 200))
      } finally {
        down.delete(victim)
      }
    }

    /** The leader as some member sees it, when it is up. */
    const leaderNow = async (): Promise<NodeProcess | undefined> => {
      const st = await members.find(m => m.up)?.call({ op: 'status' }, 1000)
      const id = st?.type === 'ok' ? st.raft?.leader : undefined
      return members.find(m => m.up && m.peerId === id)
    }

    // Half the faults aim at the leader: failover with writes in flight is where bugs live.
    const nemesis = async (): Promise<void> => {
      while (!stopping) {
        await sleep(nemesisRng.between(1000, 3000), stopped)
        if (stopping) return
        const roll = nemesisRng.float()
        if (roll < 0.35) {
          // At most a minority down at once.
          const candidates = members.filter(m => m.up && !down.has(m))
          if (down.size + 1 > Math.floor((n - 1) / 2) || candidates.length === 0) {
            note('skip-kill', [], `${down.size} down already`)
            continue
          }
          const leader = nemesisRng.chance(0.5) ? await leaderNow() : undefined
          const victim = leader !== undefined && candidates.includes(leader) ? leader : nemesisRng.pick(candidates)
          background.push(killAndRestart(victim, nemesisRng.between(300, 2000), victim === leader))
        } else if (roll < 0.75) {
          const size = nemesisRng.between(1, Math.floor((n - 1) / 2))
          const leader = nemesisRng.chance(0.5) ? await leaderNow() : undefined
          const pool = members.filter(m => m !== leader)
          const minority: NodeProcess[] = leader !== undefined ? [leader] : []
          while (minority.length < size) minority.push(pool.splice(nemesisRng.int(pool.length), 1)[0]!)
          cut = new Set(minority)
          stats.nemesis.partitions++
          note('partition', minority, `cut off from ${pool.map(m => m.name).join(',')}${leader !== undefined ? '; the leader is cut off' : ''}`)
          await applyPartition(members)
        } else {
          cut = null
          stats.nemesis.heals++
          note('heal', [])
          await applyPartition(members)
        }
      }
    }

    log(`chaos for ${(opts.durationMs / 1000).toFixed(0)} s: ${n * perNode} clients, seed ${opts.seed}`)
    const clients = members.flatMap((m, i) => Array.from({ length: perNode }, (_, j) => client(`c${i * perNode + j + 1}`, m, master.fork())))
    const nemesisDone = nemesis()
    await sleep(opts.durationMs, stopped)
    stopping = true
    stop()
    await nemesisDone
    cut = null
    await Promise.all(background)
    await applyPartition(members)
    note('heal-all', [])
    await Promise.all(clients)
    stats.chaosMs = now() - chaosStart
    aborted()
    if (restartFailure !== null) throw restartFailure

    // ---- settle and read back -----------------------------------------------------------------
    const settleStart = now()
    const finalLeader = await waitSettled(members, SETTLE_DEADLINE_MS, opts.signal)
    log(`settled after ${((now() - settleStart) / 1000).toFixed(1)} s, leader ${name(finalLeader)}`)
    const keys = [...usedKeys].sort()
    await Promise.all(members.flatMap(m => keys.map(async key => {
      for (let attempt = 0; ; attempt++) {
        const r = await invoke('final', m, { op: 'get', key }, KV_DEADLINE_MS)
        if (r !== null && r.o.type === 'ok') {
          kvRecord(`final/${m.name}`, { op: 'get', key }, r.call, r.ret, r.o.found === true ? { found: true, value: r.o.value, version: r.o.version } : { found: false })
          break
        }
        if (attempt >= 10) throw new Error(`final read of ${key} through ${m.name} kept failing: ${JSON.stringify(r?.o)}`)
        await sleep(200)
      }
    })))
    const st = await members[0]!.call({ op: 'status' }, 5000)
    stats.finalTerm = st.type === 'ok' ? st.raft?.term ?? 0 : 0
    stats.settleMs = now() - settleStart

    // ---- check --------------------------------------------------------------------------------
    aborted()
    const checkStart = performance.now()
    const checkTimeoutMs = opts.checkTimeoutMs ?? 60_000
    const kvResult = checkLinearizable(kvRegisterModel, kvHistory, { timeoutMs: checkTimeoutMs })
    const lockResult = checkLinearizable(expiringLockModel, lockHistory, { timeoutMs: checkTimeoutMs })
    stats.checkMs = performance.now() - checkStart
    stats.kvOps = kvHistory.length
    stats.kvKeys = new Set(kvHistory.map(o => o.input.key)).size
    stats.lockOps = lockHistory.length
    stats.resources = new Set(lockHistory.map(o => o.input.resource)).size
    stats.totalMs = now()

    const valid = kvResult.ok === true && lockResult.ok === true ? true : kvResult.ok === false || lockResult.ok === false ? false : 'unknown'
    const result: ChaosResult = { seed: opts.seed, valid, anomalies, stats }
    if (valid !== true) {
      result.report = [
        describeFailure('key-value', kvResult),
        describeFailure('locks', lockResult)
      ].filter(s => s !== '').join('\n')
    }
    if (valid !== true || anomalies.some(a => a.kind === 'released') || opts.keepHistory === true) {
      result.historyFile = join(tmpdir(), `swarmnet-chaos-${opts.seed}-${Date.now()}.json`)
      writeFileSync(result.historyFile, JSON.stringify({
        seed: opts.seed,
        options: { durationMs: opts.durationMs, nodes: n, clients: perNode },
        note: 'times are ms since the run started; return null means the outcome is unknown',
        valid,
        stats,
        anomalies,
        nemesis: events,
        records,
        kvHistory,
        lockHistory,
        kvResult: summarize(kvResult),
        lockResult: summarize(lockResult)
      }, (_k, v: unknown) => v === Infinity ? null : v, 1))
    }
    return result
  } finally {
    // Whatever happened: no process and no data dir outlive the run (pending restarts go first,
    // so none starts a worker after the sweep).
    opts.signal?.removeEventListener('abort', onAbort)
    stopping = true
    stop()
    await Promise.allSettled(background)
    await Promise.all([boot, ...members].map(async m => m.crash()))
    rmSync(root, { recursive: true, force: true })
  }
}

/** Polls until every member is up and follows the same leader, which is one of them; its peer id. */
async function waitSettled (members: NodeProcess[], timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (signal?.aborted === true) throw new Error('the chaos run was aborted')
    const sts = await Promise.all(members.map(async m => m.call({ op: 'status' }, 2000)))
    const rafts = sts.map(s => s.type === 'ok' ? s.raft : undefined)
    const leader = rafts[0]?.leader ?? null
    const last = rafts.map((r, i) => `${members[i]!.name}:${r === undefined ? 'down' : `${r.role}/${r.term}/${r.leader?.slice(-6) ?? '-'}/${r.voters.length}`}`).join(' ')
    if (leader !== null && members.some(m => m.peerId === leader) && rafts.every(r => r !== undefined && r.leader === leader && r.voters.length === members.length)) return leader
    if (performance.now() > deadline) throw new Error(`no leader followed by all ${members.length} members within ${timeoutMs} ms: ${last}`)
    await sleep(100)
  }
}

function summarize<S, I, O> (r: CheckResult<S, I, O>): unknown {
  if (r.ok === true) return { ok: true }
  if (r.ok === 'unknown') return r
  return { ok: false, partition: r.partition, reason: r.reason, state: r.state, longest: r.longest.length, next: r.next }
}

const WINDOW = 12

/** The failing part's reason and the operations around where the search got stuck. */
function describeFailure<S, I, O> (what: string, r: CheckResult<S, I, O>): string {
  if (r.ok === true) return ''
  if (r.ok === 'unknown') return `${what}: checker gave up: ${r.reason}`
  const ops = [...r.history].sort((a, b) => a.call - b.call)
  const stuck = r.next[0] ?? r.longest[r.longest.length - 1] ?? ops[0]
  const at = stuck === undefined ? 0 : ops.indexOf(stuck)
  const from = Math.max(0, at - WINDOW)
  const lines = ops.slice(from, at + WINDOW).map(o => {
    const mark = r.next.includes(o) ? '>' : r.longest.includes(o) ? ' ' : '?'
    const out = o.return === Infinity ? '? (unknown)' : JSON.stringify(o.output)
    return `  ${mark} [${fmt(o.call)} .. ${o.return === Infinity ? '     ?' : fmt(o.return)}] ${String(o.client)}: ${JSON.stringify(o.input)} -> ${out}`
  })
  return [
    `${what}: VIOLATION: ${r.reason}`,
    `  operations ${from + 1}-${Math.min(ops.length, at + WINDOW)} of ${ops.length} in that part, by call time (> could come next, ? not linearized):`,
    ...lines
  ].join('\n')
}

function fmt (ms: number): string {
  return (ms / 1000).toFixed(3)
}

function describeAnomalies (list: Anomaly[]): string {
  const lines: string[] = []
  const example = (a: Anomaly): string => `    ${a.client} via ${a.node}: ${a.resource} token ${a.token}, acquire [${fmt(a.call)} .. ${fmt(a.return)}] s${a.waitedOut ? ', took its whole wait' : ''}`
  const released = list.filter(a => a.kind === 'released')
  const expired = list.filter(a => a.kind === 'expired')
  if (released.length > 0) {
    const waited = released.filter(a => a.waitedOut).length
    lines.push(`  ANOMALY   ${released.length} lock acquisitions returned a grant already released on their node, lease still alive (${waited} took their whole wait: the timed-out wait's withdrawal released the grant); e.g.:`)
    lines.push(...released.slice(0, 5).map(example))
  }
  if (expired.length > 0) {
    lines.push(`  note      ${expired.length} lock acquisitions returned after their lease had expired (granted and expired in one batch after a partition); e.g.:`)
    lines.push(...expired.slice(0, 3).map(example))
  }
  return lines.join('\n')
}

/** The anomalies that are bugs (see Anomaly). */
export function failing (r: ChaosResult): Anomaly[] {
  return r.anomalies.filter(a => a.kind === 'released')
}

/** Human summary of a result. */
export function summary (r: ChaosResult): string {
  const s = r.stats
  const ops = Object.entries(s.ops).map(([op, c]) => `${op} ${c.ok}/${c.fail}/${c.info}`).join(', ')
  const verdict = (r.valid === true ? 'no violation' : r.valid === false ? 'VIOLATION' : 'UNKNOWN (checker timed out)') +
    (failing(r).length > 0 ? `, ${failing(r).length} ANOMALIES` : '')
  return [
    `chaos seed ${r.seed}: ${verdict}`,
    `  ops       ${s.okOps} ok; by op ok/fail/info: ${ops}`,
    `  nemesis   ${s.nemesis.kills} kills, ${s.nemesis.restarts} restarts, ${s.nemesis.partitions} partitions, ${s.nemesis.heals} heals; final term ${s.finalTerm}`,
    `  checked   ${s.kvOps} kv ops on ${s.kvKeys} keys, ${s.lockOps} lock ops on ${s.resources} resources in ${(s.checkMs / 1000).toFixed(2)} s`,
    `  time      startup ${(s.startupMs / 1000).toFixed(1)} s, chaos ${(s.chaosMs / 1000).toFixed(1)} s, settle+read ${(s.settleMs / 1000).toFixed(1)} s, total ${(s.totalMs / 1000).toFixed(1)} s`,
    ...(r.report !== undefined ? [r.report] : []),
    ...(r.anomalies.length > 0 ? [describeAnomalies(r.anomalies)] : []),
    ...(r.historyFile !== undefined ? [`  history   ${r.historyFile}`] : [])
  ].join('\n')
}
