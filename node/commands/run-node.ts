/**
 * `swarmnet start` and `swarmnet bootstrap`: resolve the config, start the node, print one ready
 * line on stdout, and stop gracefully on SIGINT/SIGTERM.
 */
import { resolveConfig, type RawLayer } from '../config.js'
import { createLogger } from '../logger.js'
import { createSwarmNode } from '../swarm-node.js'

const STOP_DEADLINE_MS = 4500

export interface RunNodeOptions {
  role: 'member' | 'bootstrap'
  flags: RawLayer
  configFile?: string
  stopOnStdinClose?: boolean
}

export async function runNode (opts: RunNodeOptions): Promise<void> {
  const config = resolveConfig({ flags: opts.flags, env: process.env, configFile: opts.configFile })
  const log = createLogger(config.logLevel, { role: opts.role })
  const node = await createSwarmNode({ ...config, role: opts.role, logger: log, processMetrics: true })
  // Handlers go in before the ready line: a signal that arrives right after it must not
  // find the default action (instant death) still in place.
  let stopping = false
  let started: Promise<void> = Promise.resolve()
  const shutdown = (reason: string): void => {
    if (stopping) {
      log.warn({ reason }, 'second signal: exiting now')
      process.exit(0)
    }
    stopping = true
    log.info({ reason }, 'stopping')
    // The deadline keeps the promise of exiting within 5 s even if a peer stalls the stop.
    const deadline = setTimeout(() => {
      log.warn('stop took too long; exiting')
      process.exit(0)
    }, STOP_DEADLINE_MS)
    deadline.unref()
    started.then(async () => node.stop()).then(() => {
      process.exit(0)
    }, (err: Error) => {
      log.error({ err }, 'stop failed')
      process.exit(0)
    })
  }
  process.on('SIGINT', () => { shutdown('SIGINT') })
  process.on('SIGTERM', () => { shutdown('SIGTERM') })
  if (opts.stopOnStdinClose === true) {
    // The parent (`swarmnet local`) holds our stdin open; if it dies we must not linger.
    process.stdin.on('end', () => { shutdown('stdin closed') })
    process.stdin.on('error', () => { shutdown('stdin closed') })
    process.stdin.resume()
  }
  started = node.start()
  await started
  process.stdout.write(JSON.stringify({
    event: 'ready',
    peerId: node.peerId.toString(),
    name: node.name,
    addrs: node.addrs(),
    api: node.apiUrl ?? null
  }) + '\n')
}
