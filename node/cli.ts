#!/usr/bin/env node
/**
 * The `swarmnet` command. Usage errors and bad configuration exit with code 2 and one line on
 * stderr; nothing a user can cause prints a stack trace.
 */
import { Command, CommanderError, Option } from 'commander'
import { SwarmError } from './errors.js'
import { VERSION } from './version.js'
import { runNode } from './commands/run-node.js'
import { runKeygen } from './commands/keygen.js'
import { newSwarmKey } from './swarm-key.js'
import { runLocal } from './commands/local.js'
import { runSend, runPublish, runListen } from './commands/client.js'
import { runKvGet, runKvPut, runKvDel } from './commands/kv.js'
import { runLock, runBarrier, runElect } from './commands/coordination.js'
import { runMembersAdd, runMembersList, runMembersRemove, runTransfer } from './commands/members.js'
import type { RawLayer } from './config.js'

const collect = (value: string, prev: string[] = []): string[] => [...prev, value]

/** The flags shared by `start` and `bootstrap`. No defaults here: they live in config.ts. */
function addNodeOptions (cmd: Command): Command {
  return cmd
    .option('--config <file>', 'JSON config file (flags > SWARMNET_* environment > file > defaults)')
    .option('--listen <maddr>', 'listen address, repeatable (default /ip4/0.0.0.0/tcp/4001)', collect)
    .option('--announce <maddr>', 'address to announce instead of the listen addresses (NAT, public IP), repeatable', collect)
    .option('--bootstrap <maddr>', 'bootstrap peer address ending in /p2p/<id>, repeatable', collect)
    .option('--data-dir <dir>', 'data directory for the identity key and the store (default ./.swarmnet)')
    .option('--key-file <file>', 'identity key file (default <data-dir>/identity.key)')
    .option('--name <name>', 'agent name shown to the swarm (default agent-<end of peer id>)')
    .option('--capabilities <list>', 'comma-separated capabilities, e.g. news,analysis')
    .option('--swarm-key <file>', 'private swarm key file (see `swarmnet swarm-key`); peers without it never connect')
    .option('--allow-peers <ids|file>', 'only these peer ids may connect, both ways: comma-separated, or a file with one per line')
    .option('--api <host:port>', 'HTTP API address (default 127.0.0.1:7400; port 0 picks a free one)')
    .option('--no-api', 'do not start the HTTP API')
    .option('--api-token <token>', 'bearer token the API requires (needed for a non-loopback --api)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .option('--mdns', 'also discover peers on the LAN by mDNS')
    .option('--swarm <name>', 'swarm name; scopes broadcast topics (default "default")')
    .option('--max-message-bytes <n>', 'largest message sent or accepted (default 1048576)')
    .option('--replay-window-ms <n>', 'accepted clock difference and replay window for messages (default 300000)')
    .option('--voters <n>', 'Raft voters: the first N members that find each other form the cluster, later ones join as learners (default 3)')
    .option('--snapshot-entries <n>', 'take a Raft snapshot and compact the log every N applied entries (default 10000)')
    .option('--replace-dead-voter-ms <ms>', 'the Raft leader replaces a voter silent this long by a caught-up learner; 0 never (default 30000)')
    .addOption(new Option('--stop-on-stdin-close', 'stop when standard input closes (used by `swarmnet local`)').hideHelp())
}

/** Maps commander's parsed options onto a config layer (only what was given). */
function flagsLayer (opts: Record<string, unknown>): { flags: RawLayer, configFile?: string } {
  const flags: RawLayer = {}
  const map: Array<[string, keyof RawLayer]> = [
    ['listen', 'listen'], ['announce', 'announce'], ['bootstrap', 'bootstrap'], ['dataDir', 'dataDir'],
    ['keyFile', 'keyFile'], ['name', 'name'], ['capabilities', 'capabilities'], ['swarmKey', 'swarmKey'],
    ['allowPeers', 'allowPeers'], ['api', 'api'], ['apiToken', 'apiToken'], ['logLevel', 'logLevel'], ['mdns', 'mdns'],
    ['swarm', 'swarm'], ['maxMessageBytes', 'maxMessageBytes'], ['replayWindowMs', 'replayWindowMs'], ['voters', 'voters'], ['snapshotEntries', 'snapshotEntries'], ['replaceDeadVoterMs', 'replaceDeadVoterMs']
  ]
  for (const [opt, field] of map) {
    const v = opts[opt]
    if (v !== undefined) flags[field] = v as string | string[] | boolean
  }
  return { flags, configFile: opts.config as string | undefined }
}

export function buildProgram (): Command {
  const program = new Command()
  program
    .name('swarmnet')
    .description('Peer-to-peer coordination runtime for swarms of autonomous agents')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')

  addNodeOptions(program.command('start').description('run a swarm node (the agent sidecar daemon)'))
    .action(async (opts: Record<string, unknown>) => {
      const { flags, configFile } = flagsLayer(opts)
      await runNode({ role: 'member', flags, configFile, stopOnStdinClose: opts.stopOnStdinClose === true })
    })

  addNodeOptions(program.command('bootstrap').description('run a lean, long-lived bootstrap peer that others join through'))
    .action(async (opts: Record<string, unknown>) => {
      const { flags, configFile } = flagsLayer(opts)
      await runNode({ role: 'bootstrap', flags, configFile, stopOnStdinClose: opts.stopOnStdinClose === true })
    })

  program.command('keygen')
    .description('write a new Ed25519 identity key file and print its peer id')
    .option('--out <file>', 'key file to write (default <data-dir>/identity.key)')
    .option('--data-dir <dir>', 'data directory (default ./.swarmnet)')
    .option('--force', 'replace an existing key file')
    .action(async (opts: { out?: string, dataDir?: string, force?: boolean }) => {
      await runKeygen(opts)
    })

  program.command('swarm-key')
    .description('print a new private swarm key (pnet format) to stdout; save it and give it to every member')
    .action(() => {
      process.stdout.write(newSwarmKey())
    })

  program.command('local')
    .description('run a local swarm: one bootstrap peer and N node processes on 127.0.0.1')
    .option('--nodes <n>', 'number of member nodes', '5')
    .option('--base-port <port>', 'first TCP port (bootstrap); nodes use the next ones, APIs follow (default: free ports)')
    .option('--data-dir <dir>', 'root data directory (default ./.swarmnet/local)')
    .option('--swarm-key <file>', 'private swarm key file for every node')
    .addOption(new Option('--log-level <level>', 'log level of the nodes').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'))
    .action(async (opts: { nodes: string, basePort?: string, dataDir?: string, swarmKey?: string, logLevel: string }) => {
      await runLocal(opts)
    })

  const clientOptions = (cmd: Command): Command => cmd
    .option('--api <url>', 'the node\'s API (default $SWARMNET_API_URL or http://127.0.0.1:7400)')
    .option('--api-token <token>', 'bearer token (default $SWARMNET_API_TOKEN)')

  clientOptions(program.command('send')
    .description('send an acknowledged direct message through a running node; prints the ack (and response)')
    .argument('<peer>', 'peer id of the receiver')
    .argument('<type>', 'message type, e.g. task_assignment or an application-defined name')
    .argument('[payload]', 'payload: JSON, or a plain string')
    .addOption(new Option('--priority <p>', 'priority').choices(['low', 'normal', 'high', 'critical']))
    .option('--timeout <ms>', 'give up after this many ms (default 5000)')
    .option('--retries <n>', 'retries within the timeout (default 3)')
    .option('--response', 'ask the receiver\'s handler for a response'))
    .action(async (peer: string, type: string, payload: string | undefined, opts: Record<string, string | boolean | undefined>) => {
      await runSend(peer, type, payload, opts as never)
    })

  clientOptions(program.command('publish')
    .description('broadcast a message to a topic through a running node')
    .argument('<topic>', 'topic name')
    .argument('<type>', 'message type')
    .argument('[payload]', 'payload: JSON, or a plain string')
    .addOption(new Option('--priority <p>', 'priority').choices(['low', 'normal', 'high', 'critical'])))
    .action(async (topic: string, type: string, payload: string | undefined, opts: Record<string, string | undefined>) => {
      await runPublish(topic, type, payload, opts)
    })

  clientOptions(program.command('listen')
    .description('print every message the node receives, one JSON line each, until Ctrl-C')
    .option('--types <list>', 'only these message types (comma-separated)')
    .option('--topics <list>', 'also subscribe to these broadcast topics (comma-separated)'))
    .action(async (opts: Record<string, string | undefined>) => {
      await runListen(opts)
    })

  const kv = program.command('kv').description('read and write the replicated key-value store through a running node (Raft)')
  clientOptions(kv.command('get')
    .description('print {key, value, version} as JSON; exit 1 if the key does not exist')
    .argument('<key>', 'the key')
    .option('--stale', 'answer from the node\'s own copy instead of a linearizable read through the leader')
    .option('--timeout <ms>', 'give up after this many ms (default 5000)'))
    .action(async (key: string, opts: Record<string, string | boolean | undefined>) => {
      await runKvGet(key, opts as never)
    })
  clientOptions(kv.command('put')
    .description('write a value through the leader; prints {key, version, index}')
    .argument('<key>', 'the key')
    .argument('<value>', 'the value: JSON, or a plain string')
    .option('--prev-version <n>', 'compare-and-set: only if the key\'s version is n (0: only if it does not exist)')
    .option('--timeout <ms>', 'give up after this many ms (default 5000)'))
    .action(async (key: string, value: string, opts: Record<string, string | undefined>) => {
      await runKvPut(key, value, opts)
    })
  clientOptions(kv.command('del')
    .description('delete a key through the leader; exit 1 if it did not exist')
    .argument('<key>', 'the key')
    .option('--prev-version <n>', 'only if the key\'s version is n')
    .option('--timeout <ms>', 'give up after this many ms (default 5000)'))
    .action(async (key: string, opts: Record<string, string | undefined>) => {
      await runKvDel(key, opts)
    })

  const members = program.command('members').description('the Raft voters and learners of a running node\'s cluster, and changes to them')
  clientOptions(members.command('list', { isDefault: true })
    .description('print {members: [{peerId, role, self, leader, match?, lastHeardMs}]}'))
    .action(async (opts: Record<string, string | undefined>) => { await runMembersList(opts) })
  clientOptions(members.command('add')
    .description('make a peer a voter (it catches up as a learner first) or, with --learner, a learner')
    .argument('<peerId>', 'the peer id')
    .option('--learner', 'add as a learner only')
    .option('--timeout <ms>', 'give up after this many ms (default 30000)'))
    .action(async (peerId: string, opts: Record<string, string | boolean | undefined>) => { await runMembersAdd(peerId, opts as never) })
  clientOptions(members.command('remove')
    .description('remove a voter or learner from the cluster')
    .argument('<peerId>', 'the peer id')
    .option('--timeout <ms>', 'give up after this many ms (default 30000)'))
    .action(async (peerId: string, opts: Record<string, string | undefined>) => { await runMembersRemove(peerId, opts) })
  clientOptions(members.command('transfer')
    .description('hand Raft leadership to --to, or to the most up-to-date voter; prints {leader, term}')
    .option('--to <peerId>', 'the voter to lead')
    .option('--timeout <ms>', 'give up after this many ms (default 5000)'))
    .action(async (opts: Record<string, string | undefined>) => { await runTransfer(opts) })

  // Coordination (docs/coordination.md): what these hold is released when the command ends.
  clientOptions(program.command('lock')
    .description('take a fenced lock through a running node; prints {resource, fencingToken, leaseId, mode}, then runs the command and releases, or holds until Ctrl-C')
    .argument('<resource>', 'the resource to lock')
    .argument('[command...]', 'command to run while holding the lock, after --; it gets SWARMNET_FENCING_TOKEN and SWARMNET_LOCK_RESOURCE, and its exit code is the exit code')
    .option('--shared', 'a shared lock (with other shared holders) instead of an exclusive one')
    .option('--ttl <ms>', 'lease TTL: how long the lock survives the node once its keep-alives stop (default 10000)')
    .option('--timeout <ms>', 'give up waiting after this many ms (default 30000)'))
    .action(async (resource: string, command: string[], opts: Record<string, string | boolean | undefined>) => {
      await runLock(resource, command, opts as never)
    })
  clientOptions(program.command('barrier')
    .description('wait at a barrier until --parties callers (on any nodes) have arrived; prints {name, generation, parties}')
    .argument('<name>', 'the barrier')
    .requiredOption('--parties <n>', 'how many callers the barrier waits for')
    .option('--timeout <ms>', 'give up waiting after this many ms (default 30000)'))
    .action(async (name: string, opts: Record<string, string | undefined>) => {
      await runBarrier(name, opts as never)
    })
  clientOptions(program.command('elect')
    .description('campaign for a role through a running node; prints {role, value, leaseId, revision} once elected and leads until Ctrl-C, then resigns')
    .argument('<role>', 'the role')
    .argument('[value]', 'what the leader proclaims (default: the node\'s peer id)')
    .option('--ttl <ms>', 'lease TTL: how long the office survives the node once its keep-alives stop (default 10000)')
    .option('--timeout <ms>', 'give up campaigning after this many ms (default 30000)')
    .option('--observe', 'instead of campaigning, print {role, leader} now and at every change until Ctrl-C'))
    .action(async (role: string, value: string | undefined, opts: Record<string, string | boolean | undefined>) => {
      await runElect(role, value, opts as never)
    })

  return program
}

async function main (): Promise<void> {
  const program = buildProgram()
  try {
    await program.parseAsync(process.argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; everything else commander reports is a usage error.
      const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help'
      process.exit(ok ? 0 : 2)
    }
    if (err instanceof SwarmError) {
      process.stderr.write(`swarmnet: ${err.message}\n`)
      process.exit(err.exitCode)
    }
    process.stderr.write(`swarmnet: unexpected error: ${(err as Error)?.message ?? String(err)}\n`)
    if (process.env.SWARMNET_DEBUG != null) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`)
    process.exit(1)
  }
}

await main()
