/**
 * What a seed draws before the run starts: the cluster and its knobs, the fault rates, and the
 * network weather (redrawn now and then during the run).
 */
import type { Weather } from './network.js'
import type { Prng } from './prng.js'

export interface Scenario {
  hostile: boolean
  voters: number
  learners: number
  heartbeatTicks: number
  electionTicks: number
  /** Check-quorum's window: the election timeout, or longer (a leader riding out a stall). */
  checkQuorumTicks: number
  maxInflightAppends: number
  maxEntriesPerAppend: number
  chaosTicks: number
  /** Mean virtual time between client bursts and between faults. */
  clientGap: number
  faultGap: number
  crashMidReady: number
  /**
   * Chance a leader persists a Ready it may send first (Ready.sendFirst) before sending it: its
   * disk won the race. A crash between the two then leaves its new entries durable but unsent.
   */
  persistFirst: number
  /** Chance a leader crashes right after applying newly committed entries: the worst moment. */
  crashAfterCommit: number
  /** Chance, for each peer, that what that crash's Ready sent it was still buffered and died with it. */
  lostInCrash: number
  /**
   * Chance a node crashes as it becomes leader: its first entry durable but not yet sent, or (when
   * it sends first, see persistFirst) sent but not yet durable.
   */
  crashNewLeader: number
  /** Share of client operations that are linearizable reads rather than writes. */
  readRate: number
  /** Share of faults that restart a node that is down (when one is). */
  restartShare: number
  /** Leaders serve reads from their lease (every node ticks within 10% of the nominal rate). */
  leaseRead: boolean
  /** Mean virtual time between operator actions (leadership transfers, membership changes); 0: none. */
  adminGap: number
  /** Nodes outside the founding configuration that operators may add. */
  spares: number
  /** Chance, after each Ready that applied entries, that the driver snapshots and compacts its log. */
  compactRate: number
  /** Entries a compaction leaves behind the applied index (for followers slightly behind). */
  compactKeep: number
}

/**
 * 'normal' draws any mix of knobs; 'hostile' is the churn that exposes subtle bugs. Figure 8 of
 * the Raft paper needs a succession of leaders, each losing its tail: a leader dies as it takes
 * office with its first entry durable but unsent; a later leader holding an older tail counts
 * one of its entries onto a majority, then dies before its own entry leaves; the first one comes
 * back. So: three voters, one entry per append, frequent proposals, leaders crashing as they take
 * office or commit (losing what they had not sent yet), quick restarts, faults far enough apart
 * for elections to complete, and a long run: divergent tails pile up over time.
 * 'mixed' (the default) picks hostile for a quarter of the seeds.
 */
export type Profile = 'mixed' | 'normal' | 'hostile'

export function drawScenario (rng: Prng, profile: Profile = 'mixed'): Scenario {
  const hostile = profile === 'hostile' || (profile === 'mixed' && rng.chance(0.25))
  return {
    hostile,
    voters: hostile || rng.chance(0.5) ? 3 : 5,
    learners: rng.chance(0.3) ? 1 : 0,
    heartbeatTicks: rng.pick([1, 1, 2, 3]),
    electionTicks: 10,
    maxInflightAppends: rng.pick([1, 2, 4, 8]),
    maxEntriesPerAppend: hostile ? 1 : rng.pick([1, 2, 4, 64]),
    chaosTicks: hostile ? rng.between(600, 1000) : rng.between(100, 250),
    clientGap: hostile ? rng.pick([3, 5]) : rng.pick([5, 15, 40]),
    faultGap: hostile ? rng.pick([60, 100, 150]) : rng.pick([20, 60, 150]),
    crashMidReady: rng.pick([0, 0.002, 0.01]),
    crashAfterCommit: hostile ? 0.5 : rng.pick([0, 0.05, 0.2]),
    crashNewLeader: hostile ? 0.4 : rng.pick([0, 0.1, 0.3]),
    readRate: rng.pick(hostile ? [0.2, 0.5] : [0, 0.2, 0.5]),
    leaseRead: rng.chance(0.3),
    adminGap: rng.pick([0, 50, 150]),
    spares: rng.pick([0, 1, 2]),
    compactRate: rng.pick([0, 0.05, 0.3]),
    compactKeep: rng.pick([0, 3, 20]),
    checkQuorumTicks: rng.pick([10, 10, 20]),
    persistFirst: hostile ? 0.75 : rng.pick([0, 0.5]),
    lostInCrash: hostile ? 1 : rng.pick([0, 0.5]),
    restartShare: hostile ? 0.4 : 0.25
  }
}

export function drawWeather (rng: Prng): Weather {
  return {
    dropRate: rng.pick([0, 0.02, 0.1, 0.3]),
    dupRate: rng.pick([0, 0.05, 0.2]),
    minDelay: 1,
    maxDelay: rng.pick([3, 10, 25]),
    lateRate: rng.pick([0, 0.02, 0.1]),
    lateDelay: rng.pick([50, 200])
  }
}
