/**
 * The leader's view of one follower (etcd's Progress). In 'probe' the leader does not know where
 * the follower's log matches, so it sends one append per heartbeat interval and waits; in
 * 'replicate' it streams appends optimistically, at most maxInflight unacknowledged at a time; in
 * 'snapshot' the follower needs entries the leader compacted away, a snapshot is on its way and
 * nothing else is sent until it is acknowledged or the driver reports the transfer's outcome.
 */

/** A bounded FIFO of the last index carried by each unacknowledged append. */
export class Inflights {
  private readonly items: number[] = []
  constructor (readonly capacity: number) {}

  get count (): number { return this.items.length }
  full (): boolean { return this.items.length >= this.capacity }
  add (lastIndex: number): void { this.items.push(lastIndex) }

  /** An ack up to `index` releases every append it covers. */
  freeLE (index: number): void {
    let n = 0
    while (n < this.items.length && (this.items[n] ?? Infinity) <= index) n++
    if (n > 0) this.items.splice(0, n)
  }

  freeFirstOne (): void { this.items.shift() }
  reset (): void { this.items.length = 0 }
}

export type ProgressState = 'probe' | 'replicate' | 'snapshot'

export class Progress {
  match = 0
  next: number
  state: ProgressState = 'probe'
  /** Probe state: an append is out, wait for its answer (or the next heartbeat response). */
  probeSent = false
  /** Heard from this follower since the last check-quorum round. */
  recentActive = false
  /** The commit index last sent to this follower (appends and heartbeats carry it). */
  commitSent = 0
  /** Snapshot state: the index of the snapshot sent (0 once it is known to have failed). */
  pendingSnapshot = 0
  readonly inflights: Inflights

  constructor (next: number, maxInflight: number, public isLearner: boolean) {
    this.next = next
    this.inflights = new Inflights(maxInflight)
  }

  becomeProbe (): void {
    // After a snapshot that arrived, the follower's log resumes after it, not after the old match.
    this.next = this.state === 'snapshot' ? Math.max(this.match, this.pendingSnapshot) + 1 : this.match + 1
    this.state = 'probe'
    this.probeSent = false
    this.pendingSnapshot = 0
    this.inflights.reset()
  }

  becomeSnapshot (index: number): void {
    this.state = 'snapshot'
    this.probeSent = false
    this.pendingSnapshot = index
    this.inflights.reset()
  }

  becomeReplicate (): void {
    this.state = 'replicate'
    this.probeSent = false
    this.pendingSnapshot = 0
    this.next = this.match + 1
    this.inflights.reset()
  }

  isPaused (): boolean {
    if (this.state === 'snapshot') return true
    return this.state === 'probe' ? this.probeSent : this.inflights.full()
  }

  /** Record an append just sent carrying `count` entries ending at `lastIndex`. */
  sentEntries (count: number, lastIndex: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1
        this.inflights.add(lastIndex)
      }
    } else {
      this.probeSent = true
    }
  }

  /** An ack up to n; false when it tells nothing new (duplicate or reordered). */
  maybeUpdate (n: number): boolean {
    if (n <= this.match) return false
    this.probeSent = false
    this.match = n
    if (this.next < n + 1) this.next = n + 1
    return true
  }

  /**
   * A rejection of the append whose prev index was `rejected`; `nextHint` is where the hint says
   * to try next. False when the rejection is stale (answers an append we already moved past).
   */
  maybeDecrTo (rejected: number, nextHint: number): boolean {
    // Answers an append sent before the snapshot: the snapshot decides what comes next.
    if (this.state === 'snapshot') return false
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false
      this.becomeProbe()
      return true
    }
    if (this.next - 1 !== rejected) return false
    this.next = Math.max(Math.min(rejected, nextHint), this.match + 1)
    this.probeSent = false
    return true
  }
}
