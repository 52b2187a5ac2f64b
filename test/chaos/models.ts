/**
 * The fenced-lock model the chaos run checks against: the lincheck lease model plus leases that
 * run out with nobody taking over.
 *
 * In the lease model a holder only stops holding when a later grant takes the lock over. Here a
 * lease also expires on its own (its owner was killed or cut off from the leader), and the
 * lock is free until the next grant; the holder finds out when its fenced write or its release
 * is refused. So a refusal of the holder's own token is allowed, and from then on that tenure
 * is over: a write with its token accepted later is still a violation. Everything else (tokens
 * grow, an accepted write carries the current holder's token, a takeover ends the old tenure)
 * is the lease model's.
 */
import type { Model } from '../lincheck/checker.js'
import { leaseLockModel, type LockInput, type LockOutput, type LockState } from '../lincheck/models.js'

export const expiringLockModel: Model<LockState, LockInput, LockOutput> = {
  ...leaseLockModel,
  step: (s, input, out) => {
    const r = leaseLockModel.step(s, input, out)
    if (r.ok || out === undefined || s.holder === null || input.op === 'acquire' || s.token !== input.token) return r
    const refused = (input.op === 'fencedWrite' && out.accepted === false) ||
      (input.op === 'release' && out.ok === false && input.client === s.holder)
    return refused ? { ok: true, state: { holder: null, token: null, floor: s.floor } } : r
  }
}
