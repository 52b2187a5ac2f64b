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
