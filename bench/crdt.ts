/**
 * Shared state against plain Yjs, in one process:
 * - local update rate: LWW-map sets (one change each) through our documents against Y.Map sets;
 * - delta resync of divergent operations, the workplace anchor's scenario (3 replicas, 20k map
 *   sets over 1,000 keys plus 5k counter increments, then one replica diverges by 10k
 *   operations and resyncs): our sync session (both directions, every frame counted) against
 *   Yjs's own state-vector diff;
 * - time to converge after a heal, 10 and 50 nodes on the in-process memory transport;
 * - memory per document.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import * as Y from 'yjs'
import { multiaddr } from '@multiformats/multiaddr'
import { Replica, SyncSession, type SharedDoc } from '../protocols/crdt/core/index.js'
import type { SwarmNode } from '../node/swarm-node.js'
import { startNode } from '../test/harness/swarm.js'
import { waitFor } from '../test/harness/wait.js'
import { Partition } from '../test/harness/partition.js'

export interface CrdtBenchOptions {
  /** Swarm sizes for the heal measurement. */
  healNodes: number[]
  /** Conflicting operations per side of the partition. */
  healOps: number
  /** Divergent operations for the resync. */
  diverge: number
  runs: number
}

const started: SwarmNode[] = []

export async function cleanup (): Promise<void> {
  await Promise.allSettled(started.splice(0).map(async n => n.stop()))
}

export function parseCrdtOptions (v: { 'heal-nodes'?: string, 'heal-ops'?: string, diverge?: string, 'crdt-runs'?: string }): CrdtBenchOptions {
  return {
    healNodes: (v['heal-nodes'] ?? '10,50').split(',').map(Number).filter(n => n >= 2),
    healOps: Number(v['heal-ops'] ?? 1000),
    diverge: Number(v.diverge ?? 10_000),
    runs: Number(v['crdt-runs'] ?? 3)
  }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

function seeded (seed: number): () => number {
  let s = seed
  return () => { s = (s * 16807) % 2147483647; return s / 2147483647 }
}

let clock = 1_700_000_000_000
function replica (i: number): Replica {
  return new Replica({ peerId: `12D3KooWBenchPeer${i}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`, writer: `w${i}bench`, now: () => clock++, random: seeded(i + 1), persist: false })
}

const kb = (n: number): string => `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)} KB`
const ms = (n: number): string => `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`
const rate = (n: number): string => Math.round(n).toLocaleString('en-US')

// ---- local update rate ----

interface RateResult { oursSet: number, oursSetWithFlush: number, oursIncrement: number, yjsSet: number, yjsIncrement: number }

function localRate (ops = 20_000): RateResult {
  const r = replica(0)
  const doc = r.doc('rate')
  const map = doc.map('m')
  let t = performance.now()
  for (let i = 0; i < ops; i++) map.set(`k${i % 1000}`, i)
  const setMs = performance.now() - t
  const flushStart = performance.now()
  r.flush()
  const flushMs = performance.now() - flushStart
  const counter = doc.counter('c')
  t = performance.now()
  for (let i = 0; i < ops / 4; i++) counter.increment(1)
  const incMs = performance.now() - t

  const y = new Y.Doc()
  y.on('update', () => {}) // as a replicating app would: every change is encoded
  const ym = y.getMap('m')
  t = performance.now()
  for (let i = 0; i < ops; i++) ym.set(`k${i % 1000}`, i)
  const ySetMs = performance.now() - t
  const yc = y.getMap('c')
  const me = String(y.clientID)
  t = performance.now()
  for (let i = 0; i < ops / 4; i++) yc.set(me, ((yc.get(me) as number | undefined) ?? 0) + 1)
  const yIncMs = performance.now() - t
  return {
    oursSet: ops / setMs * 1000,
    oursSetWithFlush: ops / (setMs + flushMs) * 1000,
    oursIncrement: ops / 4 / incMs * 1000,
    yjsSet: ops / ySetMs * 1000,
    yjsIncrement: ops / 4 / yIncMs * 1000
  }
}

// ---- delta resync ----

interface ResyncResult {
  oursBytes: number
  oursUpdateBytes: number
  oursMs: number
  yjsBytes: number
  yjsMs: number
  oursSnapshotBytes: number
  oursSnapshotLoadMs: number
  yjsSnapshotBytes: number
  yjsSnapshotLoadMs: number
  oursSingleUpdate: number
  oursSingleDelta: number
  yjsSingleUpdate: number
}

/** Runs a sync session to its end in memory; returns the bytes both ways and the update bytes. */
function syncPair (initiator: Replica, responder: Replica): { bytes: number, updateBytes: number } {
  const i = new SyncSession(initiator, 'initiator', 'r')
  const r = new SyncSession(responder, 'responder', 'i')
  const toR = i.open()
  const toI: Uint8Array[] = []
  let bytes = 0
  let updateBytes = 0
  while (toR.length + toI.length > 0) {
    for (const f of toR.splice(0)) { bytes += f.length; toI.push(...r.receive(f)) }
    for (const f of toI.splice(0)) { bytes += f.length; if (f.length > 1000) updateBytes += f.length; toR.push(...i.receive(f)) }
  }
  return { bytes, updateBytes }
}

function oursOps (doc: SharedDoc, n: number, offset: number): void {
  const m = doc.map('m')
  const c = doc.counter('c')
  for (let i = 0; i < n; i++) {
    if (i % 5 === 4) c.increment(1)
    else m.set(`k${(i + offset) % 1000}`, i + offset)
  }
}

function yjsOps (y: Y.Doc, n: number, offset: number): void {
  const m = y.getMap('m')
  const c = y.getMap('c')
  const me = String(y.clientID)
  for (let i = 0; i < n; i++) {
    if (i % 5 === 4) c.set(me, ((c.get(me) as number | undefined) ?? 0) + 1)
    else m.set(`k${(i + offset) % 1000}`, i + offset)
  }
}

function resyncOnce (diverge: number): ResyncResult {
  // Ours: 3 replicas share 20k sets and 5k increments (25k operations, 1 in 5 an increment).
  const rs = [replica(1), replica(2), replica(3)]
  rs.forEach((r, i) => { oursOps(r.doc('d'), 25_000 / 3, i * 7919) })
  for (const a of rs) for (const b of rs) if (a !== b) syncPair(a, b)
  oursOps(rs[0]!.get('d')!, diverge, 104_729)
  let t = performance.now()
  const s = syncPair(rs[1]!, rs[0]!)
  const oursMs = performance.now() - t
  const snap = rs[0]!.snapshot('d')
  t = performance.now()
  replica(9).restore('d', [snap])
  const oursLoad = performance.now() - t

  const ys = [new Y.Doc(), new Y.Doc(), new Y.Doc()]
  ys.forEach((y, i) => { yjsOps(y, 25_000 / 3, i * 7919) })
  for (const a of ys) for (const b of ys) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
  yjsOps(ys[0]!, diverge, 104_729)
  t = performance.now()
  const sv = Y.encodeStateVector(ys[1]!)
  const diff = Y.encodeStateAsUpdate(ys[0]!, sv)
  Y.applyUpdate(ys[1]!, diff)
  const yjsMs = performance.now() - t
  const ysnap = Y.encodeStateAsUpdate(ys[0]!)
  t = performance.now()
  Y.applyUpdate(new Y.Doc(), ysnap)
  const yjsLoad = performance.now() - t

  // One map set after all that: what goes on the wire for it.
  rs[0]!.flush()
  rs[0]!.get('d')!.map('m').set('k1', 'v')
  const one = rs[0]!.flush().publish[0]!
  const ups: Uint8Array[] = []
  ys[0]!.on('update', (u: Uint8Array) => { ups.push(u) })
  ys[0]!.getMap('m').set('k1', 'v')
  return {
    oursBytes: s.bytes,
    oursUpdateBytes: s.updateBytes,
    oursMs,
    yjsBytes: diff.length + sv.length,
    yjsMs,
    oursSnapshotBytes: snap.length,
    oursSnapshotLoadMs: oursLoad,
    yjsSnapshotBytes: ysnap.length,
    yjsSnapshotLoadMs: yjsLoad,
    oursSingleUpdate: one.updateBytes,
    oursSingleDelta: one.payload.length,
    yjsSingleUpdate: ups[0]!.length
  }
}

// ---- memory ----

function collector (): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

interface MemoryResult { oursSmallDoc: number, yjsSmallDoc: number, oursLargeDoc: number, yjsLargeDoc: number }

/** Holds what memory() measures until it has measured it. */
const alive: unknown[] = []

function memory (): MemoryResult {
  const gc = collector()
  const heap = (): number => { gc(); gc(); return process.memoryUsage().heapUsed }
  const N = 1000
  let base = heap()
  const r = replica(20)
  for (let i = 0; i < N; i++) {
    const d = r.doc(`doc${i}`)
    d.transact(() => { for (let k = 0; k < 10; k++) d.map('m').set(`k${k}`, k); d.counter('c').increment(1) })
  }
  alive.push(r)
  const ours = (heap() - base) / N
  base = heap()
  for (let i = 0; i < N; i++) {
    const y = new Y.Doc()
    y.transact(() => { for (let k = 0; k < 10; k++) y.getMap('m').set(`k${k}`, k); y.getMap('c').set('me', 1) })
    alive.push(y)
  }
  const yjs = (heap() - base) / N
  base = heap()
  const big = replica(21)
  oursOps(big.doc('big'), 25_000, 0)
  big.flush()
  alive.push(big)
  const oursLarge = heap() - base
  base = heap()
  const yb = new Y.Doc()
  yjsOps(yb, 25_000, 0)
  alive.push(yb)
  const yjsLarge = heap() - base
  alive.length = 0
  return { oursSmallDoc: ours, yjsSmallDoc: yjs, oursLargeDoc: oursLarge, yjsLargeDoc: yjsLarge }
}

// ---- heal ----

interface HealResult { nodes: number, opsPerSide: number, connections: number, across: number, dialMs: number, convergeMs: number, syncBytes: number, gossipBytes: number, startMs: number }

function identical (nodes: SwarmNode[], doc: string): boolean {
  const hashes = new Set(nodes.map(n => {
    const d = n.state.get(doc)
    return d == null ? 'none' : Buffer.from(d.digest().hash).toString('hex')
  }))
  return hashes.size === 1 && !hashes.has('none')
}

async function heal (n: number, opsPerSide: number): Promise<HealResult> {
  const t0 = performance.now()
  const partition = new Partition()
  const rand = seeded(n)
  const nodes: SwarmNode[] = []
  for (let i = 0; i < n; i++) {
    // maxPeers: the peer dialer would otherwise connect everyone it hears of through the DHT.
    const node = await startNode('memory', { name: `n${i}`, maxPeers: 4, services: { partition: partition.hook() }, crdt: { antiEntropyMs: 5000, agent: { heartbeatMs: 60_000 } } })
    started.push(node)
    nodes.push(node)
  }
  const half = Math.floor(n / 2)
  const sides = [nodes.slice(0, half), nodes.slice(half)]
  // A ring and two chords inside each half (it stays connected when split), two links across.
  const edges = new Set<string>()
  const add = (a: number, b: number): void => { if (a !== b) edges.add(a < b ? `${a},${b}` : `${b},${a}`) }
  for (const [s, side] of sides.entries()) {
    const base = s === 0 ? 0 : half
    for (let i = 0; i < side.length; i++) {
      add(base + i, base + (i + 1) % side.length)
      for (let c = 0; c < 2; c++) add(base + i, base + Math.floor(rand() * side.length))
      for (let c = 0; c < 2; c++) add(base + i, (s === 0 ? half : 0) + Math.floor(rand() * (s === 0 ? n - half : half)))
    }
  }
  const pairs = [...edges].map(e => e.split(',').map(Number) as [number, number])
  const dial = async ([a, b]: [number, number]): Promise<void> => { await nodes[a]!.libp2p.dial(multiaddr(nodes[b]!.addrs()[0]!)).catch(() => {}) }
  for (let i = 0; i < pairs.length; i += 20) await Promise.all(pairs.slice(i, i + 20).map(dial))
  nodes[0]!.state.doc('bench').map('m').set('seed', 0)
  await nodes[0]!.state.flush()
  await waitFor(() => identical(nodes, 'bench'), { timeoutMs: 120_000, message: 'the document everywhere' })
  const startMs = performance.now() - t0

  await partition.split(sides, 60_000)
  for (const side of sides) {
    for (let i = 0; i < opsPerSide; i++) {
      const doc = side[i % side.length]!.state.doc('bench')
      if (i % 5 === 4) doc.counter('c').increment(1)
      else doc.map('m').set(`k${i % 200}`, { i, by: side[i % side.length]!.name })
      if (i % 100 === 99) await new Promise(resolve => setImmediate(resolve))
    }
  }
  await Promise.all(nodes.map(async x => x.state.flush()))
  for (const side of sides) await waitFor(() => identical(side, 'bench'), { timeoutMs: 120_000, message: 'each side to agree' })
  const bytes = (): [number, number] => nodes.reduce(([s, g], x) => { const b = x.state.stats().bytes; return [s + b.syncOut, g + b.gossipOut] }, [0, 0])
  const [s0, g0] = bytes()
  const t = performance.now()
  await partition.heal(nodes, false)
  let dialMs = 0
  const dials = Promise.all(pairs.filter(([a, b]) => (a < half) !== (b < half)).map(dial)).then(() => { dialMs = performance.now() - t })
  await waitFor(() => identical(nodes, 'bench'), { timeoutMs: 120_000, intervalMs: 10, message: 'all nodes identical' })
  const convergeMs = performance.now() - t
  await dials
  const [s1, g1] = bytes()
  await cleanup()
  return { nodes: n, opsPerSide, connections: pairs.length, across: pairs.filter(([a, b]) => (a < half) !== (b < half)).length, dialMs, convergeMs, syncBytes: s1 - s0, gossipBytes: g1 - g0, startMs }
}

export async function runCrdt (opts: CrdtBenchOptions): Promise<{ markdown: string, data: unknown }> {
  const say = (s: string): void => { process.stdout.write(s + '\n') }
  try {
    localRate(2000) // warm up
    const rates = Array.from({ length: opts.runs }, () => localRate())
    const rateMed = {
      oursSet: median(rates.map(r => r.oursSet)),
      oursSetWithFlush: median(rates.map(r => r.oursSetWithFlush)),
      oursIncrement: median(rates.map(r => r.oursIncrement)),
      yjsSet: median(rates.map(r => r.yjsSet)),
      yjsIncrement: median(rates.map(r => r.yjsIncrement))
    }
    say(`local: ours ${rate(rateMed.oursSet)} sets/s, Yjs ${rate(rateMed.yjsSet)} sets/s`)
    const resyncs = Array.from({ length: opts.runs }, () => resyncOnce(opts.diverge))
    const pick = (k: keyof ResyncResult): number => median(resyncs.map(r => r[k]))
    say(`resync of ${opts.diverge}: ours ${kb(pick('oursBytes'))} in ${ms(pick('oursMs'))}, Yjs ${kb(pick('yjsBytes'))} in ${ms(pick('yjsMs'))}`)
    const mem = memory()
    say(`memory per small document: ours ${kb(mem.oursSmallDoc)}, Yjs ${kb(mem.yjsSmallDoc)}`)
    const heals: HealResult[] = []
    for (const n of opts.healNodes) {
      const h = await heal(n, opts.healOps)
      heals.push(h)
      say(`heal, ${n} nodes: identical after ${ms(h.convergeMs)}, ${kb(h.syncBytes)} synced`)
    }

    const markdown = [
      `Median of ${opts.runs} runs; Yjs ${yjsVersion()} in the same process. Anchor (workplace notes, Yjs 13.6): 151,607 local sets/s; ` +
        'delta resync of 10k operations 57 KB in 35 ms; full snapshot 201 KB, loaded in 76 ms; 21 bytes per single-op update.',
      '',
      '| Measure | swarmnet | plain Yjs |',
      '| --- | ---: | ---: |',
      `| local LWW-map sets/s (one change each) | ${rate(rateMed.oursSet)} | ${rate(rateMed.yjsSet)} |`,
      `| ... including the batch flush (merge for gossip and store) | ${rate(rateMed.oursSetWithFlush)} | |`,
      `| local counter increments/s | ${rate(rateMed.oursIncrement)} | ${rate(rateMed.yjsIncrement)} |`,
      `| delta resync of ${opts.diverge.toLocaleString('en-US')} divergent operations: bytes | ${kb(pick('oursBytes'))} (update frames ${kb(pick('oursUpdateBytes'))}) | ${kb(pick('yjsBytes'))} |`,
      `| delta resync: time | ${ms(pick('oursMs'))} | ${ms(pick('yjsMs'))} |`,
      `| full snapshot after 35k operations: bytes | ${kb(pick('oursSnapshotBytes'))} | ${kb(pick('yjsSnapshotBytes'))} |`,
      `| full snapshot: load time | ${ms(pick('oursSnapshotLoadMs'))} | ${ms(pick('yjsSnapshotLoadMs'))} |`,
      `| one map set: update bytes (gossip delta) | ${pick('oursSingleUpdate')} (${pick('oursSingleDelta')}) | ${pick('yjsSingleUpdate')} |`,
      `| memory per document (10 keys and a counter, 1,000 documents) | ${kb(mem.oursSmallDoc)} | ${kb(mem.yjsSmallDoc)} |`,
      `| memory of one document after 25k operations | ${kb(mem.oursLargeDoc)} | ${kb(mem.yjsLargeDoc)} |`,
      '',
      'Convergence after a heal: nodes in one process on the in-process memory transport (`@libp2p/memory`: Noise and Yamux still run, no sockets), ' +
        'all in one event loop on this 2-core machine. Each half is a ring plus random chords, with two links per node across (the peer ' +
        'dialer is held to 4 peers of its own so the topology stays sparse); split (links across closed, re-dials refused), ' +
        `${opts.healOps.toLocaleString('en-US')} conflicting operations on each side (sets of 200 shared keys, 1 in 5 a counter increment), each side ` +
        'left to agree, then the links across dialled again. Times from the first re-dial; "identical" when every node holds the same ' +
        'document (polled every 10 ms). A re-dial is a full Noise and Yamux handshake plus identify, which is what the time goes to.',
      '',
      '| Nodes | Links (across) | Re-dials done after | Identical after | Bytes synced during the heal | Gossip bytes during the heal |',
      '| ---: | ---: | ---: | ---: | ---: | ---: |',
      ...heals.map(h => `| ${h.nodes} | ${h.connections} (${h.across}) | ${ms(h.dialMs)} | ${ms(h.convergeMs)} | ${kb(h.syncBytes)} | ${kb(h.gossipBytes)} |`),
      '',
      'Our bytes count every frame of the session in both directions (state vectors and digests, the update, the reverse delete set); ' +
        'Yjs\'s count the state vector and the diff. Our entries are bigger than plain Y.Map entries: a map key is one slot per writer ' +
        '(`<key>\\0<writer>`) holding `[wall, logical, deleted, value]`, the price of last-writer-wins by HLC instead of by Yjs client id.'
    ].join('\n')
    say('')
    say(markdown)
    return { markdown, data: { rate: rateMed, resync: resyncs, memory: mem, heals } }
  } finally {
    await cleanup()
  }
}

function yjsVersion (): string {
  const main = createRequire(import.meta.url).resolve('yjs')
  return (JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { version: string }).version
}
