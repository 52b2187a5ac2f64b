/**
 * A tiny synchronous cluster for hand-written unit tests of the Raft core: no clock, no network
 * randomness. Messages wait in an outbox until the test delivers them (all, or those a filter
 * lets through), so each test spells out its message sequence.
 */
import { RaftNode } from '../../protocols/raft/core/index.js'
import type { Entry, Message, RaftConfig, RestoredState } from '../../protocols/raft/core/index.js'

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

export class Cluster {
  readonly nodes = new Map<string, RaftNode>()
  readonly applied = new Map<string, Entry[]>()
  outbox: Message[] = []

  constructor (readonly voters: string[], readonly learners: string[] = [], readonly over: Partial<RaftConfig> = {}) {
    for (const id of [...voters, ...learners]) {
      this.nodes.set(id, new RaftNode(config(id, voters, { learners, ...over })))
      this.applied.set(id, [])
    }
  }

  node (id: string): RaftNode {
    const n = this.nodes.get(id)
    if (n === undefined) throw new Error(`no node ${id}`)
    return n
  }

  /** Drain one node's Readys: its messages go to the outbox, committed entries to `applied`. */
  drain (id: string): Message[] {
    const out: Message[] = []
    const n = this.node(id)
    for (let rd = n.ready(); rd !== null; rd = n.ready()) {
      out.push(...rd.messages)
      this.applied.get(id)?.push(...rd.committedEntries)
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
   * stay queued (use drop() to lose them).
   */
  deliver (filter: (m: Message) => boolean = () => true, maxRounds = 100): void {
    for (let round = 0; round < maxRounds; round++) {
      const batch = this.take(filter)
      if (batch.length === 0) return
      for (const m of batch) {
        this.node(m.to).step(m)
        this.drain(m.to)
      }
    }
  }

  /** Deliver just the first queued message matching `pick`; returns it. */
  deliverOne (pick: (m: Message) => boolean): Message {
    const i = this.outbox.findIndex(pick)
    const m = this.outbox[i]
    if (m === undefined) throw new Error('no such message queued')
    this.outbox.splice(i, 1)
    this.node(m.to).step(m)
    this.drain(m.to)
    return m
  }

  drop (pick: (m: Message) => boolean = () => true): void {
    this.take(pick)
  }

  /** Replace a node by one restarted from durable state. */
  restore (id: string, restored: RestoredState): void {
    this.nodes.set(id, new RaftNode(config(id, this.voters, { learners: this.learners, ...this.over }), restored))
    this.applied.set(id, [])
  }

  /** Take outbox messages matching `pick`, leaving the rest queued. */
  take (pick: (m: Message) => boolean): Message[] {
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
