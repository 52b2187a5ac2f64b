/**
 * Cluster membership. A configuration lives in the log as a 'config' entry holding the change and
 * the whole resulting configuration, so any prefix of the log names its configuration without
 * replaying deltas: the latest config entry, else the snapshot's, else the initial one.
 *
 * A node uses the latest configuration in its log as soon as the entry is appended, committed or
 * not (thesis §4.1), rather than when it is applied (etcd). Why: with append-time changes the
 * configuration a node votes and counts with is a function of its log alone, so the proof of
 * single-server changes (any two adjacent configurations share a majority) covers it directly;
 * apply-time changes let a node that applies late count with a configuration two changes old,
 * whose majority need not meet the current one. The price is that a truncated config entry
 * must revert the configuration, which RaftLog does by dropping it from its list.
 */
import type { ConfChange, ConfChangeOp, ConfState, NodeId } from './types.js'

/** What a 'config' entry's data holds. */
export interface ConfEntry extends ConfChange, ConfState {}

const OPS = new Set<ConfChangeOp>(['add-learner', 'promote', 'add-voter', 'remove'])
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeConfEntry (cc: ConfChange, next: ConfState): Uint8Array {
  return encoder.encode(JSON.stringify({ op: cc.op, id: cc.id, voters: next.voters, learners: next.learners }))
}

/** The entry's change and resulting configuration, or undefined if the data is not one. */
export function decodeConfEntry (data: Uint8Array): ConfEntry | undefined {
  let v: unknown
  try {
    v = JSON.parse(decoder.decode(data))
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null) return undefined
  const r = v as Record<string, unknown>
  if (!OPS.has(r.op as ConfChangeOp) || typeof r.id !== 'string') return undefined
  const conf = confState(r.voters, r.learners)
  if (conf === undefined) return undefined
  return { op: r.op as ConfChangeOp, id: r.id, ...conf }
}

/** A well-formed configuration from untrusted lists: strings, no duplicates, at least one voter. */
export function confState (voters: unknown, learners: unknown): ConfState | undefined {
  if (!Array.isArray(voters) || !Array.isArray(learners) || voters.length === 0) return undefined
  const seen = new Set<string>()
  for (const id of [...voters, ...learners]) {
    if (typeof id !== 'string' || id === '' || seen.has(id)) return undefined
    seen.add(id)
  }
  return { voters: voters.slice() as NodeId[], learners: learners.slice() as NodeId[] }
}

export function sameConf (a: ConfState, b: ConfState): boolean {
  return sameList(a.voters, b.voters) && sameList(a.learners, b.learners)
}

function sameList (a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id, i) => b[i] === id)
}

/** The configuration after `cc`, or why `cc` does not fit `conf`. Order is kept: new ids go last. */
export function changeConf (conf: ConfState, cc: ConfChange): ConfState | 'invalid' | 'last-voter' {
  const isVoter = conf.voters.includes(cc.id)
  const isLearner = conf.learners.includes(cc.id)
  const without = (ids: NodeId[]): NodeId[] => ids.filter(id => id !== cc.id)
  switch (cc.op) {
    case 'add-learner':
      if (isVoter || isLearner || cc.id === '') return 'invalid'
      return { voters: conf.voters.slice(), learners: [...conf.learners, cc.id] }
    case 'promote':
    case 'add-voter':
      if (!isLearner) return 'invalid'
      return { voters: [...conf.voters, cc.id], learners: without(conf.learners) }
    case 'remove':
      if (isVoter) {
        if (conf.voters.length === 1) return 'last-voter'
        return { voters: without(conf.voters), learners: conf.learners.slice() }
      }
      if (isLearner) return { voters: conf.voters.slice(), learners: without(conf.learners) }
      return 'invalid'
  }
}

/** The configuration a node currently counts with, as sets. */
export class Membership {
  readonly voters = new Set<NodeId>()
  readonly learners = new Set<NodeId>()

  constructor (conf: ConfState) { this.set(conf) }

  set (conf: ConfState): void {
    this.voters.clear()
    this.learners.clear()
    for (const id of conf.voters) this.voters.add(id)
    for (const id of conf.learners) this.learners.add(id)
  }

  quorum (): number { return Math.floor(this.voters.size / 2) + 1 }
  isMember (id: NodeId): boolean { return this.voters.has(id) || this.learners.has(id) }
  state (): ConfState { return { voters: [...this.voters], learners: [...this.learners] } }
}
