/**
 * xoshiro128** seeded through splitmix32: small, fast, and the only randomness the simulator
 * uses, so a seed fixes the whole run.
 */
export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor (seed: number) {
    let s = seed >>> 0
    const split = (): number => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = split()
    this.b = split()
    this.c = split()
    this.d = split()
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1 // the all-zero state is a fixed point
  }

  /** Uniform uint32. */
  next (): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0
    const t = (this.b << 9) >>> 0
    this.c = (this.c ^ this.a) >>> 0
    this.d = (this.d ^ this.b) >>> 0
    this.b = (this.b ^ this.c) >>> 0
    this.a = (this.a ^ this.d) >>> 0
    this.c = (this.c ^ t) >>> 0
    this.d = rotl(this.d, 11)
    return result
  }

  /** Uniform in [0, 1). */
  float (): number { return this.next() / 4294967296 }
  /** Uniform integer in [0, n). */
  int (n: number): number { return Math.floor(this.float() * n) }
  /** Uniform integer in [lo, hi]. */
  between (lo: number, hi: number): number { return lo + this.int(hi - lo + 1) }
  chance (p: number): boolean { return this.float() < p }

  pick<T> (items: readonly T[]): T {
    const v = items[this.int(items.length)]
    if (v === undefined) throw new Error('pick from an empty list')
    return v
  }

  /** An independent stream, e.g. one per node, so nodes don't perturb each other's draws. */
  fork (): Prng { return new Prng(this.next()) }
}

function rotl (x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}
