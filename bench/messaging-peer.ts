/**
 * A benchmark peer in its own process: a swarmnet node that acks `bench` messages, or a NATS
 * responder. It prints one JSON line when ready and exits when its stdin closes.
 */
import { createSwarmNode } from '../node/swarm-node.js'

const mode = process.argv[2]
const stop: Array<() => Promise<void>> = []

if (mode === 'swarmnet') {
  const node = await createSwarmNode({ listen: ['/ip4/127.0.0.1/tcp/0'], inMemory: true, api: null, pingIntervalMs: 0, dataDir: '/nonexistent' })
  await node.start()
  node.handle('bench', () => undefined)
  stop.push(async () => { await node.stop() })
  process.stdout.write(JSON.stringify({ peerId: node.peerId.toString(), addrs: node.addrs() }) + '\n')
} else if (mode === 'nats') {
  const { connect } = await import('nats')
  const nc = await connect({ servers: process.argv[3] })
  const empty = new Uint8Array(0)
  const sub = nc.subscribe('bench.req')
  void (async () => { for await (const m of sub) m.respond(empty) })()
  await nc.flush()
  stop.push(async () => { await nc.close() })
  process.stdout.write(JSON.stringify({ ready: true }) + '\n')
} else {
  process.stderr.write('usage: messaging-peer swarmnet|nats <url>\n')
  process.exit(2)
}

process.stdin.on('end', () => { void Promise.all(stop.map(async s => s())).finally(() => process.exit(0)) })
process.stdin.resume()
