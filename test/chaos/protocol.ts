/**
 * The chaos worker's RPC: one JSON object per line, requests on the worker's stdin, replies on
 * its stdout (after a first line announcing it is ready). Replies say how sure the outcome is,
 * in Jepsen's terms: `ok` (it happened), `fail` (it definitely did not take effect, or, for the
 * outcomes a model understands, a definite refusal: `conflict`, `fenced`, `not_holder`) and
 * `info` (it may or may not have taken effect: timeouts, a leader lost mid-write).
 */
import type { RaftStatusJson } from '../../protocols/raft/service.js'

export interface WorkerConfig {
  role: 'member' | 'bootstrap'
  /** Data dir: identity, LevelDB (raft log and state). The same dir is the same member. */
  dir: string
  /** TCP port on 127.0.0.1; 0 picks one. A restart asks for the port it had. */
  port: number
  bootstrap: string[]
  voters: number
  /** Deadline of each raft call inside the worker. */
  opTimeoutMs: number
  /** Serve reads from the local replica: a deliberate bug, to see the checker catch it. */
  staleReads?: boolean
}

export type Request =
  | { op: 'status' }
  | { op: 'put', key: string, value: unknown, prevVersion?: number }
  | { op: 'get', key: string }
  | { op: 'lock', resource: string, ttlMs: number, timeoutMs: number }
  | { op: 'fencedPut', resource: string, token: number, key: string, value: unknown }
  | { op: 'unlock', resource: string, token: number }
  | { op: 'block', peers: string[] }
  | { op: 'heal' }

export interface ReadyLine { event: 'ready', peerId: string, addrs: string[] }

/** What an `ok` reply carries, by operation. */
export interface OkFields {
  version?: number
  found?: boolean
  value?: unknown
  token?: number
  /** lock: whether this node's applied state still has the grant when acquire returned. */
  held?: boolean
  /** lock: whether the lock's lease still existed then. */
  leaseAlive?: boolean
  raft?: RaftStatusJson
}

export type Reply =
  | ({ id: number, type: 'ok' } & OkFields)
  | { id: number, type: 'fail' | 'info', error: string, message: string }
