/** The pure Raft core: see docs/protocols/raft.md for the driver contract. */
export { RaftNode } from './raft.js'
export type { RaftStatus } from './raft.js'
export { NONE } from './types.js'
export type {
  Entry, EntryType, HardState, Message, MessageType, NodeId, ProposeResult, RaftConfig, RaftStats,
  Ready, RestoredState, Role, SoftState, UnsafeFlags
} from './types.js'
