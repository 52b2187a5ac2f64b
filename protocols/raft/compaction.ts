/**
 * Where a node may cut its log after taking a snapshot. Pure: the service passes what it knows.
 *
 * A tail of entries stays behind the snapshot (as etcd keeps 5,000), so a follower a little
 * behind catches up from the log. A leader also keeps what a live follower still needs, up to
 * `holdSnapshots` snapshot intervals: under a steady load, a follower that has just installed a
 * snapshot would otherwise find the entries after it compacted away again by the time it asks
 * for them, and need snapshot after snapshot, never catching up (seen: 45 s of it in a rolling
 * restart at 5,000 writes/s, with a snapshot every 10,000 entries). A follower not heard from
 * lately (down, cut off) holds nothing back: it gets a snapshot when it returns.
 */
export interface CompactionInput {
  /** Index of the snapshot just taken. */
  index: number
  snapshotEntries: number
  /** Entries kept behind the snapshot in any case (capped at half of snapshotEntries). */
  tail: number
  holdSnapshots: number
  /** Leader only: each follower's match index and how long ago it was last heard from (ms). */
  followers?: Array<{ match: number, silentMs: number }>
  /** A follower silent longer than this holds nothing back. */
  activeMs: number
}

export function compactionPoint (c: CompactionInput): number {
  let upTo = c.index - Math.min(c.tail, Math.floor(c.snapshotEntries / 2))
  const floor = c.index - c.holdSnapshots * c.snapshotEntries
  for (const f of c.followers ?? []) {
    if (f.silentMs > c.activeMs || f.match <= 0) continue
    upTo = Math.min(upTo, Math.max(floor, f.match))
  }
  return upTo
}
