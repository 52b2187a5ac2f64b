/** The pure Raft core: see docs/protocols/raft.md and types.ts for the driver contract. */
export { RaftNode } from './raft.js'
export type { RaftStatus } from './raft.js'
export { decodeConfEntry } from './membership.js'
export type { ConfEntry } from './membership.js'
export { NONE } from './types.js'
export type {
  AnyMessage, AnyMessageType, ConfChange, ConfChangeOp, ConfChangeRefusal, ConfChangeResult, ConfState, Entry,
  EntryType, ExtMessage, ExtMessageType, HardState, Message, MessageType, NodeId, ProposeResult, RaftConfig,
  RaftStats, ReadIndexResult, ReadState, Ready, RestoredState, Role, SnapshotMeta, SoftState, TransferResult,
  UnsafeFlags
} from './types.js'
