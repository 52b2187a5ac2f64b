/** A FIFO per priority level; `shift` takes from the highest non-empty level. */
export class PriorityQueue<T> {
  private readonly levels: T[][]
  private heads: number[]
  private count = 0

  constructor (levels = 4) {
    this.levels = Array.from({ length: levels }, () => [])
    this.heads = new Array<number>(levels).fill(0)
  }

  get size (): number { return this.count }

  push (item: T, level: number): void {
    this.levels[level]!.push(item)
    this.count++
  }

  shift (): T | undefined {
    for (let l = this.levels.length - 1; l >= 0; l--) {
      const q = this.levels[l]!
      const h = this.heads[l]!
      if (h < q.length) {
        const item = q[h]!
        this.count--
        // Compact lazily so shift stays O(1) amortised.
        if (h + 1 >= 1024 && h + 1 >= q.length / 2) { q.splice(0, h + 1); this.heads[l] = 0 } else this.heads[l] = h + 1
        return item
      }
    }
    return undefined
  }

  /** Removes one item (a cancelled or timed-out send). */
  remove (item: T): boolean {
    for (let l = 0; l < this.levels.length; l++) {
      const q = this.levels[l]!
      const i = q.indexOf(item, this.heads[l])
      if (i >= 0) { q.splice(i, 1); this.count--; return true }
    }
    return false
  }

  drain (): T[] {
    const all: T[] = []
    for (let item = this.shift(); item !== undefined; item = this.shift()) all.push(item)
    return all
  }
}
