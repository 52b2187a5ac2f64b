/**
 * Hybrid logical clock (Kulkarni et al., 2014). A stamp is (wall, logical): `wall` follows the
 * physical clock in ms, `logical` orders events inside one millisecond and past a peer whose
 * clock runs ahead. Stamps are totally ordered by (wall, logical, peer id, writer id), so two
 * concurrent writes to one map key always have a single winner. Pure: the physical clock is
 * injected.
 */
export interface HlcStamp { wall: number, logical: number }

/** A stamp with the writer that made it; the peer id breaks ties between equal clocks. */
export interface Stamp extends HlcStamp { peer: string, writer: string }

export class Hlc {
  wall = 0
  logical = 0

  constructor (private readonly physical: () => number) {}

  /** The stamp of a local event: later than every stamp made or observed before. */
  now (): HlcStamp {
    const pt = Math.floor(this.physical())
    if (pt > this.wall) {
      this.wall = pt
      this.logical = 0
    } else {
      this.logical++
    }
    return { wall: this.wall, logical: this.logical }
  }

  /** Moves the clock past a stamp seen elsewhere, so the next local stamp orders after it. */
  observe (remote: HlcStamp): void {
    if (remote.wall > this.wall) {
      this.wall = remote.wall
      this.logical = remote.logical
    } else if (remote.wall === this.wall && remote.logical > this.logical) {
      this.logical = remote.logical
    }
  }

  /** How far a stamp is ahead of the physical clock (0 when it is not). */
  drift (remote: HlcStamp): number {
    return Math.max(0, remote.wall - Math.floor(this.physical()))
  }
}

export function compareClock (a: HlcStamp, b: HlcStamp): number {
  return a.wall !== b.wall ? a.wall - b.wall : a.logical - b.logical
}

/** Total order: clock first, then peer id, then writer id (one peer may have had several). */
export function compareStamps (a: Stamp, b: Stamp): number {
  const c = compareClock(a, b)
  if (c !== 0) return c
  if (a.peer !== b.peer) return a.peer < b.peer ? -1 : 1
  return a.writer < b.writer ? -1 : a.writer > b.writer ? 1 : 0
}

export function isClock (wall: unknown, logical: unknown): boolean {
  return Number.isSafeInteger(wall) && (wall as number) >= 0 && Number.isSafeInteger(logical) && (logical as number) >= 0
}
