/**
 * `npm run bench [-- name... [--write] [options]]`: runs the named benchmarks, or all of them.
 * With --write each benchmark's section in docs/benchmarks.md is replaced (or appended), with the
 * command, the date and the machine, so figures in the docs always say where they came from.
 *
 * A benchmark is one registry entry: its options (node:util parseArgs format) and a function
 * that prints its table and returns it as markdown. Later ones (messaging, raft, crdt) add an entry.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util'
import { runStartup, parseStartupOptions, cleanup as cleanupStartup } from './startup.js'
import { runMessaging, parseMessagingOptions, cleanup as cleanupMessaging } from './messaging.js'
import { runRaft, parseRaftOptions, cleanup as cleanupRaft } from './raft.js'
import { runCrdt, parseCrdtOptions, cleanup as cleanupCrdt } from './crdt.js'
import { runCoordination, parseCoordinationOptions, cleanup as cleanupCoordination } from './coordination.js'
import { applyV8Settings } from '../node/v8-settings.js'

// The load generator shares the host with the members it measures: it sizes V8's worker pool as
// they do (node/v8-settings.ts), or its own background threads would delay the acks it times.
// Its young generation stays V8's, as in every run recorded before the members' changed.
applyV8Settings({ youngGeneration: false })

type Values = Record<string, string | boolean | Array<string | boolean> | undefined>

export interface BenchResult {
  /** The section body for docs/benchmarks.md. */
  markdown: string
  /** Raw figures, printed with --json. */
  data: unknown
}

export interface Benchmark {
  title: string
  /** What is measured and how, for the docs section. */
  about: string
  options: ParseArgsOptionsConfig
  /** Option lines for --help. */
  usage: string[]
  run: (values: Values) => Promise<BenchResult>
  /** Stops whatever the benchmark started; called on Ctrl-C. */
  cleanup?: () => Promise<void>
}

export const benchmarks: Record<string, Benchmark> = {
  startup: {
    title: 'Startup',
    about: 'Time from process spawn to the ready line, and until every node of a local swarm (one bootstrap peer plus N members on ' +
      '127.0.0.1, TCP, `--log-level warn`, fresh data dirs) lists all the others in `/v1/status`; and the CPU one member\'s restart costs the others. Source: `bench/startup.ts`, `bench/rejoin.ts`.',
    options: { sizes: { type: 'string' }, runs: { type: 'string' }, 'rejoin-restarts': { type: 'string' } },
    usage: ['--sizes 5,20   member counts of the local swarms (default 5,20)', '--runs 3       runs per measurement (default 3)', '--rejoin-restarts 6 member restarts in the rejoin measurement (0: skip)'],
    run: async (values) => {
      const result = await runStartup(parseStartupOptions(values as { sizes?: string, runs?: string, 'rejoin-restarts'?: string }))
      const { markdown, ...data } = result
      return { markdown, data }
    },
    cleanup: cleanupStartup
  },
  messaging: {
    title: 'Messaging against NATS',
    about: 'Acknowledged direct round trips (our send resolved by the receiver\'s ack; NATS request-reply resolved by an empty reply), ' +
      'receiver in a separate process, 256-byte payloads; and broadcast to 10 receivers (gossipsub across 11 TCP nodes in one process; ' +
      'NATS fan-out to 10 subscriber connections in one process), both run side by side against Debian\'s nats-server in one run. ' +
      'Every swarmnet message is Ed25519-signed by its sender and verified by its receiver. Source: `bench/messaging.ts`.',
    options: { messages: { type: 'string' }, rate: { type: 'string' }, broadcasts: { type: 'string' } },
    usage: ['--messages 20000   round trips at 64 in flight (1/8 of that at 1)', '--rate 200         broadcasts per second', '--broadcasts 400   broadcasts sent'],
    run: async (values) => runMessaging(parseMessagingOptions(values as { messages?: string, rate?: string, broadcasts?: string })),
    cleanup: cleanupMessaging
  },
  raft: {
    title: 'Raft against etcd',
    about: 'Durable writes to the leader of a 3-member cluster on 127.0.0.1 (swarmnet: three `swarmnet start --voters 3` processes joined ' +
      'through one bootstrap peer; etcd 3.4 from Debian\'s etcd-server, default settings), side by side in one run, the client in the ' +
      'benchmark process; and failover after SIGKILL of the leader. Source: `bench/raft.ts`.',
    options: { writes: { type: 'string' }, failovers: { type: 'string' }, 'soak-minutes': { type: 'string' }, 'rolling-rounds': { type: 'string' }, 'rolling-rate': { type: 'string' } },
    usage: ['--writes 4000    writes per in-flight level (1 in flight: a quarter)', '--failovers 10   leader kills per system', '--soak-minutes 0 minutes of loaded writes counting spurious elections (swarmnet)', '--rolling-rounds 5 rolling restarts of all 3 voters per system', '--rolling-rate 1500 writes/s offered during them (0: a closed loop)'],
    run: async (values) => runRaft(parseRaftOptions(values as { writes?: string, failovers?: string, 'soak-minutes'?: string, 'rolling-rounds'?: string, 'rolling-rate'?: string })),
    cleanup: cleanupRaft
  },
  crdt: {
    title: 'Shared state (CRDT) against plain Yjs',
    about: 'Local update rate, delta resync of divergent operations (the anchor\'s scenario) and memory per document, our documents ' +
      'against plain Yjs in the same process; and time to converge after a partition heals, 10 and 50 nodes in one process on the ' +
      'in-process memory transport. Source: `bench/crdt.ts`.',
    options: { 'heal-nodes': { type: 'string' }, 'heal-ops': { type: 'string' }, diverge: { type: 'string' }, 'crdt-runs': { type: 'string' } },
    usage: ['--heal-nodes 10,50   swarm sizes for the heal', '--heal-ops 1000      conflicting operations per side', '--diverge 10000      divergent operations to resync', '--crdt-runs 3        runs of the in-process measurements'],
    run: async (values) => runCrdt(parseCrdtOptions(values as { 'heal-nodes'?: string, 'heal-ops'?: string, diverge?: string, 'crdt-runs'?: string })),
    cleanup: cleanupCrdt
  },
  coordination: {
    title: 'Locks against etcd',
    about: 'Fenced lock acquire+release pairs on the leader of a 3-member cluster on 127.0.0.1 (swarmnet: three `swarmnet start --voters 3` ' +
      'processes joined through one bootstrap peer, through the HTTP lock API; etcd 3.4 from Debian\'s etcd-server, default settings, ' +
      'through the `etcd3` gRPC client), side by side in one run, the clients in the benchmark process: uncontended (each client its own ' +
      'resource) and contended (clients taking turns on one resource). Source: `bench/coordination.ts`.',
    options: { 'lock-seconds': { type: 'string' }, 'lock-clients': { type: 'string' }, contenders: { type: 'string' } },
    usage: ['--lock-seconds 6    seconds per run', '--lock-clients 1,16 client counts of the uncontended runs', '--contenders 10     clients contending for one resource'],
    run: async (values) => runCoordination(parseCoordinationOptions(values as { 'lock-seconds'?: string, 'lock-clients'?: string, contenders?: string })),
    cleanup: cleanupCoordination
  }
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const DOC = resolve(ROOT, 'docs/benchmarks.md')

const INTRO = `# Benchmarks

Run them with \`npm run bench\` (all of them) or \`npm run bench -- startup\` (one by name); add
\`--write\` to replace that benchmark's section below with the new figures. Each section records
the command, the date and the machine it ran on.

The figures are from a small, noisy machine (2 cores, shared with other work), so absolute numbers
move between runs by tens of percent. Compare ratios within one run (for example 5 vs 20 members)
rather than figures across runs or machines.
`

function sh (cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return undefined
  }
}

function cpuModel (): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find(l => l.startsWith('model name'))
    if (line != null) return line.split(':').slice(1).join(':').trim()
  } catch { // not Linux: fall through
  }
  return cpus()[0]?.model ?? 'unknown'
}

/** The command as the user typed it, so a reader can rerun exactly that. */
function commandLine (argv: string[]): string {
  const quoted = argv.map(a => /^[\w./,=:@-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)
  if (process.env.npm_lifecycle_event === 'bench') return ['npm run bench', ...(quoted.length > 0 ? ['--', ...quoted] : [])].join(' ')
  return ['node dist/bench/run.js', ...quoted].join(' ')
}

function machine (): string[] {
  const commit = sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])
  const dirty = sh('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'])
  return [
    `- CPU: ${cpuModel()}, ${sh('nproc', []) ?? availableParallelism()} cores (nproc)`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB; load average at start: ${loadavg().map(l => l.toFixed(2)).join(', ')}`,
    `- Node ${process.version}, Linux ${release()}`,
    ...(commit != null ? [`- Commit: ${commit}${dirty != null && dirty !== '' ? ' with uncommitted changes' : ''}`] : [])
  ]
}

function section (name: string, bench: Benchmark, body: string, command: string, date: string, facts: string[]): string {
  return [
    `<!-- bench:${name}:begin (written by npm run bench -- ${name} --write; edits inside are replaced) -->`,
    `## ${bench.title}`,
    '',
    bench.about,
    '',
    `- Command: \`${command}\``,
    `- Date: ${date}`,
    ...facts,
    '',
    body,
    `<!-- bench:${name}:end -->`
  ].join('\n')
}

/** Replaces the benchmark's delimited section, or appends it; text outside sections is kept. */
export function replaceSection (doc: string, name: string, text: string): string {
  const begin = doc.indexOf(`<!-- bench:${name}:begin`)
  const endMarker = `<!-- bench:${name}:end -->`
  const end = doc.indexOf(endMarker, begin)
  if (begin >= 0 && end >= 0) return doc.slice(0, begin) + text + doc.slice(end + endMarker.length)
  return doc.trimEnd() + '\n\n' + text + '\n'
}

function help (): string {
  const lines = ['usage: npm run bench -- [name...] [--write] [--json] [options]', '', 'benchmarks (all when none is named):']
  for (const [name, b] of Object.entries(benchmarks)) {
    lines.push(`  ${name}`, ...b.usage.map(u => `    ${u}`))
  }
  lines.push('', '  --write   replace the benchmark\'s section in docs/benchmarks.md', '  --json    also print the raw results as JSON')
  return lines.join('\n') + '\n'
}

async function main (): Promise<number> {
  const argv = process.argv.slice(2)
  const options: ParseArgsOptionsConfig = {
    write: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' }
  }
  for (const b of Object.values(benchmarks)) Object.assign(options, b.options)
  let parsed
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${help()}`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help === true) {
    process.stdout.write(help())
    return 0
  }
  const unknown = positionals.filter(n => !(n in benchmarks))
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}\n`)
    return 2
  }
  const names = positionals.length > 0 ? [...new Set(positionals)] : Object.keys(benchmarks)

  // Ctrl-C must not leave swarm processes or temp dirs behind.
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) process.exit(130)
    interrupted = true
    process.stderr.write(`bench: ${signal}, cleaning up\n`)
    void Promise.all(Object.values(benchmarks).map(async b => b.cleanup?.())).finally(() => { process.exit(130) })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const command = commandLine(argv)
  const date = sh('date', ['-u']) ?? new Date().toUTCString()
  const facts = machine()
  for (const name of names) {
    const bench = benchmarks[name]!
    process.stdout.write(`\n## ${bench.title}\n\n`)
    const result = await bench.run(values)
    if (values.json === true) process.stdout.write(JSON.stringify(result.data, null, 2) + '\n')
    if (values.write === true) {
      mkdirSync(dirname(DOC), { recursive: true })
      const doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : INTRO
      writeFileSync(DOC, replaceSection(doc, name, section(name, bench, result.markdown, command, date, facts)))
      process.stderr.write(`bench: wrote the ${name} section of ${DOC}\n`)
    }
  }
  return 0
}

try {
  process.exitCode = await main()
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`)
  await Promise.all(Object.values(benchmarks).map(async b => b.cleanup?.()))
  process.exitCode = 1
}
