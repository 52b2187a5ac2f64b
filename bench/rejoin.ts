/**
 * What a member's restart costs the rest of an idle swarm: CPU time (user + system, read from
 * /proc) that each running member and the bootstrap peer spend in the 4 s after the restarted
 * member's ready line, beside what they spend in 4 s with nothing happening; and the restarted
 * member's own CPU from spawn to 4 s after its ready line. One bootstrap peer and 3 members
 * forming a raft cluster (`--voters 3`) on 127.0.0.1; each member restarted in turn (SIGTERM,
 * then `start` on the same data dir). Linux only (it reads /proc).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { launch, makeTempDir, nodeArgs, readyAddress, removeTempDir, stats, stopAll, type Proc, type Stats } from './procs.js'

export interface RejoinResult {
  restarts: number
  settleMs: number
  windowMs: number
  /** Per running member per window (ms of CPU). */
  idleMember: Stats
  idleBootstrap: Stats
  member: Stats
  bootstrap: Stats
  restarted: Stats
}

const WINDOW_MS = 4000
/** Long enough for the members' DHT walks to back off (doubling from 0.5 s to 30 s). */
const SETTLE_MS = 40_000

/** CPU time of a process so far (ms), user + system. */
function cpuMs (pid: number): number {
  // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100/s).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

export async function measureRejoin (restarts: number, log: (msg: string) => void): Promise<RejoinResult> {
  const root = makeTempDir('swarmnet-bench-rejoin-')
  const procs: Proc[] = []
  try {
    const boot = launch('bootstrap', ['bootstrap', '--name', 'bootstrap', ...nodeArgs(join(root, 'bootstrap'))])
    procs.push(boot)
    const bootAddr = await readyAddress(boot)
    const start = (i: number): Proc => {
      const p = launch(`node-${i}`, ['start', '--name', `node-${i}`, ...nodeArgs(join(root, `node-${i}`)), '--bootstrap', bootAddr, '--voters', '3'])
      procs.push(p)
      return p
    }
    const members = [0, 1, 2].map(start)
    await Promise.all(members.map(async m => m.ready))
    log(`rejoin: cluster up; settling ${SETTLE_MS / 1000} s`)
    await sleep(SETTLE_MS)
    const idleMember: number[] = []
    const idleBootstrap: number[] = []
    {
      const all = [boot, ...members]
      const before = all.map(p => cpuMs(p.proc.pid!))
      await sleep(WINDOW_MS)
      all.forEach((p, k) => { (k === 0 ? idleBootstrap : idleMember).push(cpuMs(p.proc.pid!) - before[k]!) })
    }
    const member: number[] = []
    const bootstrap: number[] = []
    const restarted: number[] = []
    for (let r = 0; r < restarts; r++) {
      const i = r % members.length
      const old = members[i]!
      old.proc.kill('SIGTERM')
      await old.exited
      const others = [boot, ...members.filter((_, j) => j !== i)]
      const before = others.map(p => cpuMs(p.proc.pid!))
      const fresh = members[i] = start(i)
      await fresh.ready
      // The window starts at the ready line: the others' CPU while it connects and catches up.
      const from = others.map(p => cpuMs(p.proc.pid!))
      await sleep(WINDOW_MS)
      const spent = others.map((p, k) => cpuMs(p.proc.pid!) - from[k]!)
      spent.forEach((ms, k) => { (k === 0 ? bootstrap : member).push(ms) })
      restarted.push(cpuMs(fresh.proc.pid!))
      log(`rejoin ${r + 1}/${restarts}: others ${spent.join('/')} ms (${others.map((_, k) => from[k]! - before[k]!).join('/')} before its ready line), restarted ${restarted[restarted.length - 1]} ms`)
      await sleep(1000)
    }
    return {
      restarts,
      settleMs: SETTLE_MS,
      windowMs: WINDOW_MS,
      idleMember: stats(idleMember),
      idleBootstrap: stats(idleBootstrap),
      member: stats(member),
      bootstrap: stats(bootstrap),
      restarted: stats(restarted)
    }
  } finally {
    await stopAll(procs)
    removeTempDir(root)
  }
}
