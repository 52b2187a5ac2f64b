/** A binary min-heap of timed events; ties break by insertion order, so runs are deterministic. */
interface Slot<T> { time: number, seq: number, item: T }

export class EventQueue<T> {
  private readonly heap: Array<Slot<T>> = []
  private seq = 0

  get size (): number { return this.heap.length }

  push (time: number, item: T): void {
    const h = this.heap
    h.push({ time, seq: this.seq++, item })
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!less(h[i]!, h[p]!)) break
      swap(h, i, p)
      i = p
    }
  }

  pop (): { time: number, item: T } | undefined {
    const h = this.heap
    const top = h[0]
    if (top === undefined) return undefined
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && less(h[l]!, h[m]!)) m = l
        if (r < h.length && less(h[r]!, h[m]!)) m = r
        if (m === i) break
        swap(h, i, m)
        i = m
      }
    }
    return { time: top.time, item: top.item }
  }
}

function less<T> (x: Slot<T>, y: Slot<T>): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq)
}

function swap<T> (h: T[], i: number, j: number): void {
  const t = h[i]!
  h[i] = h[j]!
  h[j] = t
}
