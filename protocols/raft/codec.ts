/**
 * Core messages to and from the wire (`RaftMessage` in raft.pb.proto). The wire never names the
 * sender or receiver: the stream's remote peer is the sender, this node the receiver.
 */
import type { AnyMessage, AnyMessageType, Entry, EntryType, SnapshotMeta } from './core/index.js'
import { Entry as PbEntry, RaftMessage, type SnapshotMeta as PbSnapshotMeta } from './raft.pb.js'

const TYPE_TO_PB: Record<AnyMessageType, RaftMessage.Type> = {
  MsgProp: RaftMessage.Type.PROP,
  MsgApp: RaftMessage.Type.APP,
  MsgAppResp: RaftMessage.Type.APP_RESP,
  MsgVote: RaftMessage.Type.VOTE,
  MsgVoteResp: RaftMessage.Type.VOTE_RESP,
  MsgPreVote: RaftMessage.Type.PRE_VOTE,
  MsgPreVoteResp: RaftMessage.Type.PRE_VOTE_RESP,
  MsgHeartbeat: RaftMessage.Type.HEARTBEAT,
  MsgHeartbeatResp: RaftMessage.Type.HEARTBEAT_RESP,
  MsgReadIndex: RaftMessage.Type.READ_INDEX,
  MsgReadIndexResp: RaftMessage.Type.READ_INDEX_RESP,
  MsgTimeoutNow: RaftMessage.Type.TIMEOUT_NOW,
  MsgSnap: RaftMessage.Type.SNAP
}
const PB_TO_TYPE = new Map<string, AnyMessageType>(Object.entries(TYPE_TO_PB).map(([k, v]) => [v, k as AnyMessageType]))
const ENTRY_TO_PB: Record<EntryType, PbEntry.Type> = { normal: PbEntry.Type.NORMAL, noop: PbEntry.Type.NOOP, config: PbEntry.Type.CONFIG }
const PB_TO_ENTRY = new Map<string, EntryType>([[PbEntry.Type.NORMAL, 'normal'], [PbEntry.Type.NOOP, 'noop'], [PbEntry.Type.CONFIG, 'config']])

/** Longest read context accepted (the service's read ids are far shorter). */
const MAX_CONTEXT = 128

export function toPb (m: AnyMessage): RaftMessage {
  const pb: RaftMessage = {
    type: TYPE_TO_PB[m.type],
    term: m.term,
    index: m.index ?? 0,
    logTerm: m.logTerm ?? 0,
    entries: (m.entries ?? []).map(e => ({ term: e.term, index: e.index, type: ENTRY_TO_PB[e.type ?? 'normal'], data: e.data as Uint8Array<ArrayBuffer> })),
    commit: m.commit ?? 0,
    reject: m.reject === true,
    rejectHint: m.rejectHint ?? 0,
    context: m.context ?? '',
    transfer: m.transfer === true
  }
  if (m.snapshot !== undefined) pb.snapshot = { index: m.snapshot.index, term: m.snapshot.term, voters: m.snapshot.voters, learners: m.snapshot.learners }
  return pb
}

function snapshotOf (s: PbSnapshotMeta): SnapshotMeta | undefined {
  if (!Number.isSafeInteger(s.index) || !Number.isSafeInteger(s.term) || s.index < 0 || s.term < 0) return undefined
  return { index: s.index, term: s.term, voters: s.voters, learners: s.learners }
}

/** The core's message, or undefined when a field is out of range (the core would drop it too). */
export function fromPb (pb: RaftMessage, from: string, to: string): AnyMessage | undefined {
  const type = PB_TO_TYPE.get(pb.type)
  const nums = [pb.term, pb.index, pb.logTerm, pb.commit, pb.rejectHint]
  if (type === undefined || !nums.every(n => Number.isSafeInteger(n) && n >= 0) || pb.context.length > MAX_CONTEXT) return undefined
  const entries: Entry[] = []
  for (const e of pb.entries) {
    const t = PB_TO_ENTRY.get(e.type)
    if (t === undefined || !Number.isSafeInteger(e.term) || !Number.isSafeInteger(e.index)) return undefined
    entries.push(t === 'normal' ? { term: e.term, index: e.index, data: e.data } : { term: e.term, index: e.index, data: e.data, type: t })
  }
  const m: AnyMessage = { type, from, to, term: pb.term, index: pb.index, logTerm: pb.logTerm, commit: pb.commit, reject: pb.reject, rejectHint: pb.rejectHint }
  if (entries.length > 0) m.entries = entries
  if (pb.context !== '') m.context = pb.context
  if (pb.transfer) m.transfer = true
  if (pb.snapshot != null) {
    const snap = snapshotOf(pb.snapshot)
    if (snap === undefined) return undefined
    m.snapshot = snap
  }
  return m
}
