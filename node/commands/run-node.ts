/**
 * `swarmnet start` and `swarmnet bootstrap`: resolve the config, start the node, print one ready
 * line on stdout, and stop gracefully on SIGINT/SIGTERM.
 */
import { resolveConfig, type RawLayer } from '../config.js'
import { createLogger } from '../logger.js'
import { createSwarmNode, type SwarmNode } from '../swarm-node.js'

const STOP_DEADLINE_MS = 4500
/** A second signal this soon after the first is the same request (Ctrl-C reaches a node from the terminal and from `swarmnet local`). */
const REPEAT_WINDOW_MS = 1000

export interface RunNodeOptions {
  role: 'member' | 'bootstrap'
  flags: RawLayer
  configFile?: string
  stopOnStdinClose?: boolean
}

export async function runNode (opts: RunNodeOptions): Promise<void> {
  const config = resolveConfig({ flags: opts.flags, env: process.env, configFile: opts.configFile })
  const log = createLogger(config.logLevel, { role: opts.role })

  // Handlers go in first: a signal during start-up, or right after the ready line, must not
  // meet the default action (instant death) and leave a half-written store behind.
  let node: SwarmNode | undefined
  let starting: Promise<unknown> = Promise.resolve()
  let stoppingSince = 0
  const shutdown = (reason: string): void => {
    if (stoppingSince > 0) {
      if (Date.now() - stoppingSince < REPEAT_WINDOW_MS) return
      log.warn({ reason }, 'second signal: exiting now')
      process.exit(0)
    }
    stoppingSince = Date.now()
    log.info({ reason }, 'stopping')
    // The deadline keeps the promise of exiting within 5 s even if a peer stalls the stop.
    const deadline = setTimeout(() => {
      log.warn('stop took too long; exiting')
      process.exit(0)
    }, STOP_DEADLINE_MS)
    deadline.unref()
    starting.catch(() => {}).then(async () => node?.stop()).then(() => {
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

  const start = async (): Promise<SwarmNode> => {
    const n = await createSwarmNode({ ...config, role: opts.role, logger: log, processMetrics: true })
    node = n
    await n.start()
    return n
  }
  const pending = start()
  starting = pending
  const started = await pending
  if (stoppingSince > 0) return // stopping already: no ready line
  process.stdout.write(JSON.stringify({
    event: 'ready',
    peerId: started.peerId.toString(),
    name: started.name,
    addrs: started.addrs(),
    api: started.apiUrl ?? null
  }) + '\n')
}
