import { strict as assert } from 'node:assert'
import { HostPressure, describePressure, psiTotal, type PressureTotals } from '../../bench/pressure.js'

// What a 5.x kernel writes to /proc/pressure/io.
const IO = 'some avg10=0.00 avg60=1.58 avg300=3.66 total=1336566704\nfull avg10=0.00 avg60=0.37 avg300=1.20 total=607955682\n'

describe('bench: host pressure (Linux PSI)', () => {
  it('reads the total of the asked line, and nothing from text without one', () => {
    assert.equal(psiTotal(IO, 'some'), 1336566704)
    assert.equal(psiTotal(IO, 'full'), 607955682)
    assert.equal(psiTotal('some avg10=0.00\n', 'some'), undefined)
    assert.equal(psiTotal('', 'full'), undefined)
  })

  it('gives the share of an interval stalled, interpolated between samples', () => {
    let now = 0
    let totals: PressureTotals = { ioFull: 0, cpuSome: 0 }
    const p = new HostPressure(() => totals, () => now)
    p.sample()
    // 100 ms in which the disk stalled everything for 80 ms and a task waited 20 ms for a CPU.
    now = 100
    totals = { ioFull: 80_000, cpuSome: 20_000 }
    p.sample()
    now = 200
    p.sample()
    assert.deepEqual(p.over(0, 100), { ioFull: 0.8, cpuSome: 0.2 })
    // Half of the stalled interval and half of the quiet one.
    assert.deepEqual(p.over(50, 150), { ioFull: 0.4, cpuSome: 0.1 })
    assert.deepEqual(p.over(100, 200), { ioFull: 0, cpuSome: 0 })
  })

  it('says nothing of an interval its samples do not cover', () => {
    let now = 10
    const p = new HostPressure(() => ({ ioFull: 0, cpuSome: 0 }), () => now)
    assert.equal(p.over(0, 5), undefined)
    p.sample()
    now = 20
    p.sample()
    assert.equal(p.over(0, 15), undefined)
    assert.equal(p.over(15, 25), undefined)
    assert.equal(p.over(15, 15), undefined)
    assert.notEqual(p.over(12, 18), undefined)
  })

  it('names the resource the host was stalled on', () => {
    assert.match(describePressure({ ioFull: 0.78, cpuSome: 0.08 }), /^the disk stalled \(PSI io full 78%, cpu some 8%\)$/)
    assert.match(describePressure({ ioFull: 0.1, cpuSome: 0.9 }), /^the CPUs were saturated/)
    assert.match(describePressure({ ioFull: 0, cpuSome: 0.2 }), /^no host stall/)
    assert.equal(describePressure(undefined), 'host pressure not sampled')
  })
})
