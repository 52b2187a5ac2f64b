/**
 * Messages come from the network: anything can arrive. sanitize() returns a fresh, well-formed
 * copy (missing numbers become 0) or undefined, so the state machine never sees odd shapes and
 * never keeps references into the caller's object.
 */
import { confState, decodeConfEntry } from './membership.js'
import type { AnyMessage, AnyMessageType, Entry, EntryType, SnapshotMeta } from './types.js'

const TYPES = new Set<AnyMessageType>([
  'MsgProp', 'MsgApp', 'MsgAppResp', 'MsgVote', 'MsgVoteResp',
  'MsgPreVote', 'MsgPreVoteResp', 'MsgHeartbeat', 'MsgHeartbeatResp',
  'MsgReadIndex', 'MsgReadIndexResp', 'MsgTimeoutNow', 'MsgSnap'
])
const ENTRY_TYPES = new Set<EntryType>(['normal', 'noop', 'config'])

function nat (v: unknown): number | undefined {
  if (v === undefined || v === null) return 0
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined
}

function entry (v: unknown): Entry | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const e = v as Record<string, unknown>
  const term = nat(e.term)
  const index = nat(e.index)
  if (term === undefined || index === undefined || !(e.data instanceof Uint8Array)) return undefined
  const type = e.type ?? 'normal'
  if (!ENTRY_TYPES.has(type as EntryType)) return undefined
  return type === 'normal' ? { term, index, data: e.data } : { term, index, data: e.data, type: type as EntryType }
}

function snapshot (v: unknown): SnapshotMeta | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const s = v as Record<string, unknown>
  const index = nat(s.index)
  const term = nat(s.term)
  const conf = confState(s.voters, s.learners)
  if (index === undefined || term === undefined || conf === undefined) return undefined
  return { index, term, ...conf }
}

export function sanitize (raw: unknown): AnyMessage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const r = raw as Record<string, unknown>
  if (!TYPES.has(r.type as AnyMessageType)) return undefined
  if (typeof r.from !== 'string' || typeof r.to !== 'string') return undefined
  const term = nat(r.term)
  const index = nat(r.index)
  const logTerm = nat(r.logTerm)
  const commit = nat(r.commit)
  const rejectHint = nat(r.rejectHint)
  if (term === undefined || index === undefined || logTerm === undefined || commit === undefined || rejectHint === undefined) return undefined
  if (r.reject !== undefined && typeof r.reject !== 'boolean') return undefined
  if (r.transfer !== undefined && typeof r.transfer !== 'boolean') return undefined
  const m: AnyMessage = { type: r.type as AnyMessageType, from: r.from, to: r.to, term, index, logTerm, commit, reject: r.reject === true, rejectHint }
  if (r.transfer === true) m.transfer = true
  if (m.type === 'MsgReadIndex' || m.type === 'MsgReadIndexResp') {
    if (typeof r.context !== 'string') return undefined
    m.context = r.context
  }
  if (m.type === 'MsgSnap') {
    const s = snapshot(r.snapshot)
    if (s === undefined || s.term > term) return undefined
    m.snapshot = s
  }
  if (r.entries !== undefined && r.entries !== null) {
    if (!Array.isArray(r.entries)) return undefined
    const entries: Entry[] = []
    for (const v of r.entries) {
      const e = entry(v)
      if (e === undefined) return undefined
      // A configuration the log could not decode would leave nodes disagreeing on membership.
      if (e.type === 'config' && decodeConfEntry(e.data) === undefined) return undefined
      entries.push(e)
    }
    if (m.type === 'MsgApp' && !appendShapeOk(m, entries)) return undefined
    m.entries = entries
  }
  return m
}

/** Entries of an append follow prev contiguously, with terms never going down nor past the message's. */
function appendShapeOk (m: AnyMessage, entries: Entry[]): boolean {
  let index = m.index ?? 0
  let term = m.logTerm ?? 0
  for (const e of entries) {
    if (e.index !== index + 1 || e.term < term || e.term > m.term) return false
    index = e.index
    term = e.term
  }
  return true
}
