/**
 * Replay or sweep simulator seeds.
 *   node dist/test/sim/cli.js --seed 42 [--trace] [--unsafe grantVoteWithoutLogCheck]
 *   node dist/test/sim/cli.js --runs 10000 [--from 1] [--profile hostile] [--unsafe commitOldTermByCounting]
 *   (unsafe flags: grantVoteWithoutLogCheck, commitOldTermByCounting, readIndexWithoutQuorum)
 */
import { performance } from 'node:perf_hooks'
import type { UnsafeFlags } from '../../protocols/raft/core/index.js'
import { runSim, SimViolation } from './sim.js'
import type { Profile, SimResult } from './sim.js'

const UNSAFE = ['grantVoteWithoutLogCheck', 'commitOldTermByCounting', 'readIndexWithoutQuorum'] as const
const PROFILES: Profile[] = ['mixed', 'normal', 'hostile']

function usage (msg: string): never {
  console.error(`${msg}\nusage: cli.js --seed N [--trace] | --runs N [--from S]   [--profile ${PROFILES.join('|')}] [--unsafe ${UNSAFE.join('|')}]`)
  process.exit(2)
}

function parse (argv: string[]): { seed?: number, runs?: number, from: number, trace: boolean, profile: Profile, unsafe?: UnsafeFlags } {
  const out: ReturnType<typeof parse> = { from: 1, trace: false, profile: 'mixed' }
  const num = (i: number): number => {
    const v = Number(argv[i])
    if (!Number.isSafeInteger(v) || v < 0) usage(`${argv[i - 1]} needs a non-negative integer`)
    return v
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--seed') out.seed = num(++i)
    else if (a === '--runs') out.runs = num(++i)
    else if (a === '--from') out.from = num(++i)
    else if (a === '--trace') out.trace = true
    else if (a === '--profile') {
      const p = argv[++i] as Profile
      if (!PROFILES.includes(p)) usage(`unknown --profile ${p}`)
      out.profile = p
    }
    else if (a === '--unsafe') {
      const flag = argv[++i]
      if (!UNSAFE.includes(flag as typeof UNSAFE[number])) usage(`unknown --unsafe flag ${flag}`)
      out.unsafe = { ...out.unsafe, [flag as string]: true }
    } else usage(`unknown argument ${a}`)
  }
  if ((out.seed === undefined) === (out.runs === undefined)) usage('give exactly one of --seed, --runs')
  return out
}

function summary (r: SimResult): string {
  const s = r.scenario
  const c = r.counts
  return [
    `seed ${r.seed}: ok, trace ${r.traceHash}`,
    `  scenario  ${s.hostile ? 'hostile' : 'normal'}, chaos ${s.chaosTicks} ticks, client burst every ~${s.clientGap}, fault every ~${s.faultGap} time units (tick = 10)`,
    `  cluster   ${s.voters} voters + ${s.learners} learner(s), heartbeat ${s.heartbeatTicks} / election ${s.electionTicks} ticks, inflight ${s.maxInflightAppends}, batch ${s.maxEntriesPerAppend}`,
    `  run       ${r.steps} steps, virtual time ${r.time}`,
    `  network   ${c.sent} sent, ${c.delivered} delivered, ${c.lost} lost, ${c.duplicated} duplicated, ${c.partitions} partitions`,
    `  faults    ${c.crashes} crashes, ${c.restarts} restarts`,
    `  clients   ${c.proposals} proposals: ${c.accepted} accepted by a leader, ${c.forwarded} forwarded, ${c.dropped} dropped; ${c.reads} reads, ${c.readsServed} served${s.leaseRead ? ' (lease reads on)' : ''}`,
    `  operators ${c.transfers} leadership transfers, ${c.confChanges} membership changes (${c.confRefused} refused), ${s.spares} spare node(s)`,
    `  snapshots ${c.compactions} compactions, ${c.snapshotsSent} sent, ${c.snapshotsInstalled} installed`,
    `  outcome   ${r.leaders} leaders elected, final term ${r.maxTerm}, leader ${r.leader}, ${r.committed} entries committed and applied everywhere`
  ].join('\n')
}

const args = parse(process.argv.slice(2))
if (args.seed !== undefined) {
  try {
    const r = runSim({ seed: args.seed, profile: args.profile, unsafe: args.unsafe, log: args.trace ? line => { console.log(line) } : undefined })
    console.log(summary(r))
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err))
    process.exit(1)
  }
} else {
  const runs = args.runs ?? 0
  const failures: string[] = []
  const started = performance.now()
  for (let seed = args.from; seed < args.from + runs; seed++) {
    try {
      runSim({ seed, profile: args.profile, unsafe: args.unsafe })
    } catch (err) {
      if (!(err instanceof SimViolation)) throw err
      failures.push(err.message)
      console.error(`FAIL ${err.message}`)
    }
  }
  const secs = ((performance.now() - started) / 1000).toFixed(1)
  console.log(`${runs} seeds from ${args.from} in ${secs} s: ${failures.length} failed`)
  if (failures.length > 0) {
    const same = [
      args.profile !== 'mixed' ? ` --profile ${args.profile}` : '',
      ...Object.keys(args.unsafe ?? {}).map(f => ` --unsafe ${f}`)
    ].join('')
    console.log(`replay one with: node dist/test/sim/cli.js --seed N --trace${same}`)
    process.exit(1)
  }
}
