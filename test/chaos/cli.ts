/**
 * The chaos run from the command line; exits 1 on a violation or an anomaly, 2 when it could not
 * decide.
 *   npm run chaos -- [--seed N] [--minutes M] [--nodes 5] [--clients 2] [--stale-reads]
 * Without --seed a random one is picked and printed, so a failing run can be repeated.
 * --stale-reads is a self-test: members answer reads from their own replica, and the run
 * should report the violation.
 */
import { randomInt } from 'node:crypto'
import { failing, runChaos, summary } from './run.js'

function usage (msg: string): never {
  console.error(`${msg}\nusage: cli.js [--seed N] [--minutes M] [--nodes N] [--clients N] [--stale-reads]`)
  process.exit(2)
}

function parse (argv: string[]): { seed: number, minutes: number, nodes: number, clients: number, staleReads: boolean } {
  const out = { seed: randomInt(1, 2 ** 31), minutes: 2, nodes: 5, clients: 2, staleReads: false }
  const num = (i: number, integer: boolean): number => {
    const v = Number(argv[i])
    if (argv[i] === undefined || !Number.isFinite(v) || v <= 0 || (integer && !Number.isSafeInteger(v))) usage(`${argv[i - 1]} needs a positive ${integer ? 'integer' : 'number'}`)
    return v
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--seed') out.seed = num(++i, true)
    else if (a === '--minutes') out.minutes = num(++i, false)
    else if (a === '--nodes') out.nodes = num(++i, true)
    else if (a === '--clients') out.clients = num(++i, true)
    else if (a === '--stale-reads') out.staleReads = true
    else usage(`unknown argument ${a}`)
  }
  if (out.nodes < 3 || out.nodes % 2 === 0) usage('--nodes must be odd and at least 3')
  return out
}

const args = parse(process.argv.slice(2))
// Ctrl-C ends the run: its workers are killed and its temp dir removed; a second one exits now
// (the exit hook still kills the workers).
const controller = new AbortController()
const interrupt = (code: number): void => {
  if (controller.signal.aborted) process.exit(code)
  controller.abort()
  process.exitCode = code
}
process.on('SIGINT', () => { interrupt(130) })
process.on('SIGTERM', () => { interrupt(143) })
console.log(`chaos: seed ${args.seed}, ${args.minutes} min, ${args.nodes} nodes, ${args.clients} clients per node${args.staleReads ? ', stale reads (self-test)' : ''}`)
try {
  const r = await runChaos({
    seed: args.seed,
    durationMs: args.minutes * 60_000,
    nodes: args.nodes,
    clients: args.clients,
    keepHistory: true,
    staleReads: args.staleReads,
    signal: controller.signal,
    log: line => { console.log(line) }
  })
  console.log(summary(r))
  const clean = r.valid === true && failing(r).length === 0
  if (!clean) console.log(`repeat with: npm run chaos -- --seed ${args.seed} --minutes ${args.minutes}`)
  process.exitCode = clean ? 0 : r.valid === 'unknown' ? 2 : 1
} catch (err) {
  if (!controller.signal.aborted) {
    console.error(`chaos run failed (seed ${args.seed}): ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    process.exitCode = 2
  }
}
