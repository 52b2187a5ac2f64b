/**
 * A tiny synchronous cluster for hand-written unit tests of the Raft core: no clock, no network
 * randomness. Messages wait in an outbox until the test delivers them (all, or those a filter
 * lets through), so each test spells out its message sequence.
 */
import { RaftNode } from '../../protocols/raft/core/index.js'
import type { AnyMessage, ConfState, Entry, RaftConfig, ReadState, RestoredState, SnapshotMeta } from '../../protocols/raft/core/index.js'

export function config (id: string, voters: string[], over: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id,
    voters,
    electionTicks: 10,
    heartbeatTicks: 1,
    rand: () => 0, // every timeout is exactly electionTicks unless a test says otherwise
    maxInflightAppends: 4,
    maxEntriesPerAppend: 64,
    checkQuorum: true,
    preVote: true,
    ...over
  }
}

export type Filter = (m: AnyMessage) => boolean

export class Cluster {
  readonly nodes = new Map<string, RaftNode>()
  readonly applied = new Map<string, Entry[]>()
  /** Reads each node's Readys confirmed. */
  readonly reads = new Map<string, ReadState[]>()
  /** The last Ready.config of each node that reported one. */
  readonly configs = new Map<string, ConfState>()
  /** Snapshots each node was told to install (Ready.snapshot). */
  readonly installed = new Map<string, SnapshotMeta[]>()
  /** Each node's initial configuration, for restore(). */
  private readonly initial = new Map<string, ConfState>()
  outbox: AnyMessage[] = []

  constructor (readonly voters: string[], readonly learners: string[] = [], readonly over: Partial<RaftConfig> = {}) {
    for (const id of [...voters, ...learners]) this.add(id, { voters, learners })
  }

  /** A new node (e.g. one about to be added to the configuration) starting from `conf`. */
  add (id: string, conf: ConfState): RaftNode {
    this.initial.set(id, conf)
    const n = new RaftNode(config(id, conf.voters, { learners: conf.learners, ...this.over }))
    this.nodes.set(id, n)
    this.applied.set(id, [])
    this.reads.set(id, [])
    return n
  }

  node (id: string): RaftNode {
    const n = this.nodes.get(id)
    if (n === undefined) throw new Error(`no node ${id}`)
    return n
  }

  /** Drain one node's Readys: its messages go to the outbox, committed entries to `applied`. */
  drain (id: string): AnyMessage[] {
    const out: AnyMessage[] = []
    const n = this.node(id)
    for (let rd = n.ready(); rd !== null; rd = n.ready()) {
      if (rd.snapshot !== undefined) {
        this.installed.set(id, [...(this.installed.get(id) ?? []), rd.snapshot])
        this.applied.set(id, [])
      }
      out.push(...(rd.firstMessages ?? []), ...rd.messages, ...rd.extMessages)
      this.applied.get(id)?.push(...rd.committedEntries)
      this.reads.get(id)?.push(...(rd.readStates ?? []))
      if (rd.config !== undefined) this.configs.set(id, rd.config)
      n.advance(rd)
    }
    this.outbox.push(...out)
    return out
  }

  drainAll (): void {
    for (const id of this.nodes.keys()) this.drain(id)
  }

  tick (id: string, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).tick()
    this.drain(id)
  }

  /**
   * Deliver queued messages that pass `filter`, and what they cause, until none passes; the rest
   * stay queued (use drop() to lose them). Messages to nodes that do not exist are lost.
   */
  deliver (filter: Filter = () => true, maxRounds = 100): void {
    for (let round = 0; round < maxRounds; round++) {
      const batch = this.take(filter)
      if (batch.length === 0) return
      for (const m of batch) {
        const n = this.nodes.get(m.to)
        if (n === undefined) continue
        n.step(m)
        this.drain(m.to)
      }
    }
  }

  /** Deliver just the first queued message matching `pick`; returns it. */
  deliverOne (pick: Filter): AnyMessage {
    const i = this.outbox.findIndex(pick)
    const m = this.outbox[i]
    if (m === undefined) throw new Error('no such message queued')
    this.outbox.splice(i, 1)
    this.node(m.to).step(m)
    this.drain(m.to)
    return m
  }

  drop (pick: Filter = () => true): void {
    this.take(pick)
  }

  /** Replace a node by one restarted from durable state. */
  restore (id: string, restored: RestoredState): void {
    const conf = this.initial.get(id) ?? { voters: this.voters, learners: this.learners }
    this.nodes.set(id, new RaftNode(config(id, conf.voters, { learners: conf.learners, ...this.over }), restored))
    this.applied.set(id, [])
    this.reads.set(id, [])
  }

  /** Take outbox messages matching `pick`, leaving the rest queued. */
  take (pick: Filter): AnyMessage[] {
    const taken = this.outbox.filter(pick)
    this.outbox = this.outbox.filter(m => !pick(m))
    return taken
  }

  /** Let `id` time out and win an election with everyone reachable. */
  elect (id: string): void {
    this.tick(id, 10)
    this.deliver()
    const st = this.node(id).status()
    if (st.role !== 'leader') throw new Error(`${id} did not become leader: ${st.role}`)
  }

  propose (id: string, text: string): void {
    this.node(id).propose(new TextEncoder().encode(text))
    this.drain(id)
  }
}

export function text (e: Entry): string {
  return new TextDecoder().decode(e.data)
}

/** A log of the given terms at indexes 1, 2, 3..., data naming each entry. */
export function logOf (terms: number[]): Entry[] {
  return terms.map((term, i) => ({ term, index: i + 1, data: new TextEncoder().encode(`e${i + 1}t${term}`) }))
}
