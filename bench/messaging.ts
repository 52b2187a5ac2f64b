/**
 * Messaging side by side with NATS (nats-server from Debian, the `nats` npm client), in one run:
 * - acknowledged round trips at 1 and 64 in flight, 256-byte payloads: our direct send (resolved
 *   by the receiver's ack) against NATS request-reply (resolved by the responder's empty reply).
 *   In both cases the receiver is a separate process and the sender is this one.
 * - broadcast to 10 receivers: gossipsub over 11 TCP nodes in this process against NATS fan-out
 *   to 10 subscriber connections in this process, at a fixed rate; latency per delivery.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closedLoop, debianBinary, freePort, latencyStats, type Stats } from './common.js'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import { createSwarmNode, type SwarmNode } from '../node/swarm-node.js'
import { startSwarm, waitFullyConnected } from '../test/harness/swarm.js'
import { waitFor } from '../test/harness/wait.js'

export interface MessagingOptions { messages: number, rate: number, broadcasts: number }


const children = new Set<ChildProcess>()
const closers: Array<() => Promise<void>> = []

export async function cleanup (): Promise<void> {
  for (const c of children) c.kill('SIGKILL')
  children.clear()
  await Promise.allSettled(closers.splice(0).map(async c => c()))
}

/** A warm-up (JIT, streams), then 1 and 64 in flight. */
async function roundTrips (opts: MessagingOptions, call: () => Promise<unknown>): Promise<Record<string, Stats>> {
  await closedLoop(2000, 64, call)
  return {
    1: await closedLoop(Math.max(500, Math.floor(opts.messages / 8)), 1, call),
    64: await closedLoop(opts.messages, 64, call)
  }
}

function peerScript (): string {
  return fileURLToPath(new URL('./messaging-peer.js', import.meta.url))
}

async function startPeer (args: string[]): Promise<{ proc: ChildProcess, ready: Record<string, unknown> }> {
  const proc = spawn(process.execPath, [peerScript(), ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  children.add(proc)
  proc.once('exit', () => children.delete(proc))
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve)
    proc.once('exit', code => { reject(new Error(`benchmark peer exited with ${code}`)) })
  })
  return { proc, ready: JSON.parse(line) as Record<string, unknown> }
}

async function stopPeer (proc: ChildProcess): Promise<void> {
  const gone = new Promise(resolve => proc.once('exit', resolve))
  proc.stdin?.end()
  await gone
}

/** nats-server, installed from Debian when missing; undefined (with the reason) when impossible. */
function natsServerBinary (): { bin?: string, why?: string } {
  return debianBinary('nats-server', 'nats-server')
}

async function startNats (bin: string): Promise<{ url: string, stop: () => Promise<void> }> {
  const port = await freePort()
  const proc = spawn(bin, ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] })
  children.add(proc)
  await new Promise<void>((resolve, reject) => {
    let text = ''
    proc.stderr!.on('data', (d: Buffer) => {
      text += d.toString()
      if (text.includes('Server is ready')) resolve()
    })
    proc.once('exit', code => { reject(new Error(`nats-server exited with ${code}: ${text}`)) })
  })
  return {
    url: `nats://127.0.0.1:${port}`,
    stop: async () => {
      const gone = new Promise(resolve => proc.once('exit', resolve))
      proc.kill('SIGTERM')
      await gone
      children.delete(proc)
    }
  }
}

async function swarmnetRoundTrips (opts: MessagingOptions): Promise<Record<string, Stats>> {
  const peer = await startPeer(['swarmnet'])
  const sender = await createSwarmNode({ listen: ['/ip4/127.0.0.1/tcp/0'], inMemory: true, api: null, pingIntervalMs: 0 })
  await sender.start()
  closers.push(async () => { await sender.stop() })
  try {
    const target = String(peer.ready.peerId)
    await sender.libp2p.dial(multiaddr((peer.ready.addrs as string[])[0]!))
    const payload = new Uint8Array(256).fill(7)
    return await roundTrips(opts, async () => sender.send(target, { type: 'bench', payload }))
  } finally {
    await sender.stop()
    await stopPeer(peer.proc)
  }
}

async function natsRoundTrips (url: string, opts: MessagingOptions): Promise<Record<string, Stats>> {
  const { connect } = await import('nats')
  const peer = await startPeer(['nats', url])
  const nc = await connect({ servers: url })
  try {
    const payload = new Uint8Array(256).fill(7)
    return await roundTrips(opts, async () => nc.request('bench.req', payload, { timeout: 5000 }))
  } finally {
    await nc.close()
    await stopPeer(peer.proc)
  }
}

/** Publishes `count` messages at `rate`/s; resolves with one latency per delivery. */
async function paced (count: number, rate: number, publish: (i: number) => Promise<void>): Promise<void> {
  const t0 = performance.now()
  for (let i = 0; i < count; i++) {
    const due = t0 + i * 1000 / rate
    const wait = due - performance.now()
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    await publish(i)
  }
}

async function swarmnetFanout (opts: MessagingOptions, gossipSignaturePolicy: 'StrictSign' | 'StrictNoSign' = 'StrictSign'): Promise<{ stats: Stats, delivered: number, expected: number }> {
  // Messaging-only members: twelve nodes' Raft and CRDT timers in one event loop would measure
  // the loop, not the broadcast path (each member runs in its own process in real use).
  const swarm = await startSwarm({ members: 11, transport: 'tcp', node: { without: ['raft', 'crdt'], messaging: { gossipSignaturePolicy } } })
  closers.push(swarm.stop)
  try {
    const [sender, ...receivers] = swarm.members as [SwarmNode, ...SwarmNode[]]
    await waitFullyConnected(swarm.all, 60_000)
    const latencies: number[] = []
    for (const r of receivers) {
      r.subscribe('fanout', (e) => { latencies.push(performance.now() - (e.data as { t: number }).t) })
    }
    sender.subscribe('fanout')
    await waitFor(() => swarm.members.every(n => n.messaging!.broadcast.subscribers('fanout').length >= 10), { timeoutMs: 60_000, message: 'fan-out subscriptions' })
    await paced(opts.broadcasts, opts.rate, async () => { await sender.broadcast('fanout', { type: 'market_signal', payload: { t: performance.now(), pad: 'x'.repeat(200) } }) })
    const expected = opts.broadcasts * receivers.length
    await waitFor(() => latencies.length >= expected, { timeoutMs: 10_000 }).catch(() => {})
    return { stats: latencyStats(latencies, 1), delivered: latencies.length, expected }
  } finally {
    await swarm.stop()
  }
}

async function natsFanout (url: string, opts: MessagingOptions): Promise<{ stats: Stats, delivered: number, expected: number }> {
  const { connect } = await import('nats')
  const subs = await Promise.all(Array.from({ length: 10 }, async () => connect({ servers: url })))
  const pub = await connect({ servers: url })
  const latencies: number[] = []
  try {
    for (const nc of subs) {
      const sub = nc.subscribe('fanout')
      void (async () => { for await (const m of sub) latencies.push(performance.now() - (JSON.parse(new TextDecoder().decode(m.data)) as { t: number }).t) })()
      await nc.flush()
    }
    await paced(opts.broadcasts, opts.rate, async () => {
      pub.publish('fanout', new TextEncoder().encode(JSON.stringify({ t: performance.now(), pad: 'x'.repeat(200) })))
    })
    await pub.flush()
    const expected = opts.broadcasts * 10
    await waitFor(() => latencies.length >= expected, { timeoutMs: 10_000 }).catch(() => {})
    return { stats: latencyStats(latencies, 1), delivered: latencies.length, expected }
  } finally {
    await Promise.all([...subs, pub].map(async nc => nc.close()))
  }
}

const ms = (n: number): string => Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(2) : n.toFixed(1)
const k = (n: number): string => Math.round(n).toLocaleString('en-US')
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`

export function parseMessagingOptions (v: { messages?: string, rate?: string, broadcasts?: string }): MessagingOptions {
  return { messages: Number(v.messages ?? 20_000), rate: Number(v.rate ?? 200), broadcasts: Number(v.broadcasts ?? 400) }
}

export async function runMessaging (opts: MessagingOptions): Promise<{ markdown: string, data: unknown }> {
  const nats = natsServerBinary()
  let server: { url: string, stop: () => Promise<void> } | undefined
  if (nats.bin != null) {
    server = await startNats(nats.bin)
    closers.push(server.stop)
  } else {
    process.stderr.write(`bench: skipping the NATS side: ${nats.why ?? 'unknown'}\n`)
  }
  try {
    const ours = await swarmnetRoundTrips(opts)
    const theirs = server != null ? await natsRoundTrips(server.url, opts) : undefined
    const fanOurs = await swarmnetFanout(opts)
    const fanNoSign = await swarmnetFanout(opts, 'StrictNoSign')
    const fanTheirs = server != null ? await natsFanout(server.url, opts) : undefined

    const rows = ['1', '64'].map(n => {
      const o = ours[n]!
      const t = theirs?.[n]
      return `| ${n} | ${k(o.perSecond)} | ${ms(o.p50)} / ${ms(o.p99)} | ${t != null ? k(t.perSecond) : '-'} | ${t != null ? `${ms(t.p50)} / ${ms(t.p99)}` : '-'} | ${t != null ? ratio(o.perSecond, t.perSecond) : '-'} | ${t != null ? ratio(o.p50, t.p50) : '-'} |`
    })
    const fanRow = (name: string, f: { stats: Stats, delivered: number, expected: number } | undefined): string =>
      f == null ? `| ${name} | - | - | - |` : `| ${name} | ${ms(f.stats.p50)} | ${ms(f.stats.p99)} | ${f.delivered} / ${f.expected} |`
    const markdown = [
      `Acknowledged round trips, 256-byte payloads (${k(opts.messages)} messages at 64 in flight, ${k(Math.max(500, Math.floor(opts.messages / 8)))} at 1; after a 2,000-message warm-up):`,
      '',
      '| in flight | swarmnet msgs/s | swarmnet p50 / p99 ms | NATS msgs/s | NATS p50 / p99 ms | throughput ratio (us/NATS) | p50 ratio (us/NATS) |',
      '|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      `Broadcast to 10 receivers, ${opts.broadcasts} messages at ${opts.rate}/s (latency per delivery, publisher and receivers in one process):`,
      '',
      '| system | p50 ms | p99 ms | delivered |',
      '|---|---:|---:|---:|',
      fanRow('swarmnet (gossipsub StrictSign, the default; 11 TCP nodes)', fanOurs),
      fanRow('swarmnet (gossipsub StrictNoSign, envelope signature only)', fanNoSign),
      fanRow('NATS (10 subscriber connections)', fanTheirs),
      ...(server == null ? ['', `NATS was skipped: ${nats.why ?? ''}`] : []),
      ''
    ].join('\n')
    process.stdout.write(markdown + '\n')
    return { markdown, data: { ours, theirs, fanOurs, fanNoSign, fanTheirs } }
  } finally {
    await server?.stop()
  }
}
