/** What a key-value call can fail with; the HTTP API maps each to a status code. */
export { KvInputError } from './kv.js'

/** No cluster, no leader or no quorum within the deadline (HTTP 503). */
export class RaftUnavailableError extends Error {
  /** True when the write may still be applied later (it reached a leader but did not commit in time). */
  readonly maybeApplied: boolean
  constructor (message: string, maybeApplied = false) {
    super(message)
    this.name = 'RaftUnavailableError'
    this.maybeApplied = maybeApplied
  }
}

/** A compare-and-set whose prevVersion did not match (HTTP 409); `version` is the current one (0: absent). */
export class KvConflictError extends Error {
  constructor (readonly key: string, readonly version: number, readonly expected: number) {
    super(`version of ${JSON.stringify(key.slice(0, 80))} is ${version}, not ${expected}`)
    this.name = 'KvConflictError'
  }
}

/** A fenced write whose token is no longer held (HTTP 409, error 'fenced'): a stale lock holder. */
export class KvFencedError extends Error {
  constructor (readonly key: string, readonly resource: string, readonly token: number) {
    super(`fencing token ${token} no longer holds the lock on ${JSON.stringify(resource.slice(0, 80))}; write to ${JSON.stringify(key.slice(0, 80))} refused`)
    this.name = 'KvFencedError'
  }
}
