/**
 * The leader's view of one follower (etcd's Progress). In 'probe' the leader does not know where
 * the follower's log matches, so it sends one append per heartbeat interval and waits; in
 * 'replicate' it streams appends optimistically, at most maxInflight unacknowledged at a time.
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

export type ProgressState = 'probe' | 'replicate'

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
  readonly inflights: Inflights

  constructor (next: number, maxInflight: number, readonly isLearner: boolean) {
    this.next = next
    this.inflights = new Inflights(maxInflight)
  }

  becomeProbe (): void {
    this.state = 'probe'
    this.probeSent = false
    this.next = this.match + 1
    this.inflights.reset()
  }

  becomeReplicate (): void {
    this.state = 'replicate'
    this.probeSent = false
    this.next = this.match + 1
    this.inflights.reset()
  }

  isPaused (): boolean {
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
