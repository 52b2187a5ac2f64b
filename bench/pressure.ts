/**
 * The host's pressure stall information (Linux PSI, /proc/pressure), sampled during a benchmark
 * so that a long write gap can be told apart: the disk stalled (every running task waited for
 * I/O, "io full"), the CPUs were saturated (a task waited for a CPU, "cpu some"), or neither, so
 * the cause is in the code. On one 2-core VM every member shares one virtual disk and two CPUs;
 * across machines neither is shared (docs/benchmarks.md, rolling restart).
 */
import { readFileSync } from 'node:fs'

/** Cumulative stall time in microseconds, as the kernel counts it. */
export interface PressureTotals { ioFull: number, cpuSome: number }

/** Fractions of an interval (0..1) that the host spent stalled. */
export interface Pressure { ioFull: number, cpuSome: number }

/** The `total=` of the line that starts with `kind` ("some" or "full") in a /proc/pressure file. */
export function psiTotal (text: string, kind: 'some' | 'full'): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(kind + ' ')) continue
    const m = /\btotal=(\d+)\b/.exec(line)
    return m === null ? undefined : Number(m[1])
  }
  return undefined
}

interface Sample { t: number, ioFull: number, cpuSome: number }

/** At most this many samples are kept (the oldest go): 20 minutes at the default interval. */
const MAX_SAMPLES = 120_000

export class HostPressure {
  private readonly samples: Sample[] = []
  private timer?: ReturnType<typeof setInterval>

  /** `read` returns the totals now; a test passes its own, the benchmark reads /proc/pressure. */
  constructor (private readonly read: () => PressureTotals | undefined, private readonly now: () => number = () => performance.now()) {}

  /** Samples the host every `intervalMs`; undefined where the kernel has no PSI (not Linux, or too old). */
  static start (intervalMs = 10): HostPressure | undefined {
    if (readProcPressure() === undefined) return undefined
    const p = new HostPressure(readProcPressure)
    p.sample()
    p.timer = setInterval(() => { p.sample() }, intervalMs)
    p.timer.unref()
    return p
  }

  stop (): void { clearInterval(this.timer) }

  sample (): void {
    const v = this.read()
    if (v === undefined) return
    this.samples.push({ t: this.now(), ...v })
    if (this.samples.length > MAX_SAMPLES) this.samples.splice(0, this.samples.length - MAX_SAMPLES)
  }

  /**
   * The share of (from, to] (this clock's ms) the host spent stalled, interpolated between the
   * samples around each end; undefined when the samples do not cover it.
   */
  over (from: number, to: number): Pressure | undefined {
    if (!(to > from)) return undefined
    const a = this.at(from)
    const b = this.at(to)
    if (a === undefined || b === undefined) return undefined
    const ms = to - from
    const share = (us: number): number => Math.min(1, Math.max(0, us / 1000 / ms))
    return { ioFull: share(b.ioFull - a.ioFull), cpuSome: share(b.cpuSome - a.cpuSome) }
  }

  private at (t: number): PressureTotals | undefined {
    const s = this.samples
    if (s.length === 0 || t < s[0]!.t || t > s[s.length - 1]!.t) return undefined
    let lo = 0
    let hi = s.length - 1
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1
      if (s[mid]!.t <= t) lo = mid
      else hi = mid
    }
    const x = s[lo]!
    const y = s[hi]!
    const f = y.t === x.t ? 0 : (t - x.t) / (y.t - x.t)
    return { ioFull: x.ioFull + f * (y.ioFull - x.ioFull), cpuSome: x.cpuSome + f * (y.cpuSome - x.cpuSome) }
  }
}

function readProcPressure (): PressureTotals | undefined {
  try {
    const ioFull = psiTotal(readFileSync('/proc/pressure/io', 'utf8'), 'full')
    const cpuSome = psiTotal(readFileSync('/proc/pressure/cpu', 'utf8'), 'some')
    return ioFull === undefined || cpuSome === undefined ? undefined : { ioFull, cpuSome }
  } catch {
    return undefined
  }
}

/** Every running task waited for I/O for at least this share of the gap. */
export const DISK_STALL = 0.25
/** Some task waited for a CPU for at least this share of the gap. */
export const CPU_SATURATED = 0.5

/** Which shared resource the host was stalled on: the disk first, since a disk stall idles the CPUs. */
export function stallOf (p: Pressure): 'disk' | 'cpu' | 'none' {
  return p.ioFull >= DISK_STALL ? 'disk' : p.cpuSome >= CPU_SATURATED ? 'cpu' : 'none'
}

/** "io full 2%, cpu some 58%". */
export function formatPressure (p: Pressure): string {
  const pct = (x: number): string => `${Math.round(x * 100)}%`
  return `io full ${pct(p.ioFull)}, cpu some ${pct(p.cpuSome)}`
}

const CAUSE = { disk: 'the disk stalled', cpu: 'the CPUs were saturated', none: 'no host stall' }

/** How a gap is described: which shared resource the host was stalled on during it. */
export function describePressure (p: Pressure | undefined): string {
  if (p === undefined) return 'host pressure not sampled'
  return `${CAUSE[stallOf(p)]} (PSI ${formatPressure(p)})`
}
