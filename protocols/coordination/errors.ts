/** What a coordination call fails with; `code` tells the cases apart (the HTTP API maps it to a status). */
export type CoordinationErrorCode =
  | 'timeout' // the wait ran out (the request was withdrawn)
  | 'deadlock' // waiting would close a cycle: this request is the victim
  | 'lease_expired' // the lease behind the call was revoked or expired
  | 'already_held' | 'already_waiting' | 'parties_mismatch' | 'not_holder' | 'not_leader' | 'limit' | 'invalid'

export class CoordinationError extends Error {
  constructor (readonly code: CoordinationErrorCode, message: string) {
    super(message)
    this.name = 'CoordinationError'
  }
}

/** The lock request would wait in a cycle of waits; `cycle` names the leases in it. */
export class DeadlockError extends CoordinationError {
  constructor (message: string, readonly cycle: string[]) {
    super('deadlock', message)
    this.name = 'DeadlockError'
  }
}
