import { strict as assert } from 'node:assert'
import fc from 'fast-check'
import { CircuitBreaker, backoffDelay } from '../../protocols/direct/breaker.js'
import { FrameDecoder, FrameError, encodeFrames, decodeFrame } from '../../protocols/direct/frames.js'
import { PriorityQueue } from '../../protocols/direct/queue.js'

describe('direct: frames', () => {
  it('splits a byte stream cut anywhere back into the frames', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
      const bytes = encodeFrames(frames)
      const points = [...new Set(cuts.map(c => c % (bytes.length + 1)))].sort((a, b) => a - b)
      const d = new FrameDecoder(1000)
      const out: Uint8Array[] = []
      let prev = 0
      for (const p of [...points, bytes.length]) {
        out.push(...d.push(bytes.subarray(prev, p)))
        prev = p
      }
      assert.deepEqual(out.map(f => Buffer.from(f).toString('hex')), frames.map(f => Buffer.from(f).toString('hex')))
      assert.equal(d.buffered, 0)
    }), { numRuns: 1000 })
  })

  it('refuses a frame over the limit before buffering it', () => {
    const d = new FrameDecoder(100)
    assert.throws(() => d.push(new Uint8Array([0xff, 0xff, 0x03])), (e: unknown) => e instanceof FrameError && e.code === 'too_large')
    assert.throws(() => new FrameDecoder(100).push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), (e: unknown) => e instanceof FrameError && e.code === 'malformed')
  })

  it('decodes garbage to FrameError or a frame, never anything else (fuzz, 10,000 cases)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const d = new FrameDecoder(64)
      try {
        for (const f of d.push(bytes)) {
          try { decodeFrame(f) } catch (err) { assert.ok(err instanceof FrameError, String(err)) }
        }
      } catch (err) {
        assert.ok(err instanceof FrameError, String(err))
      }
    }), { numRuns: 10_000 })
  })
})

describe('direct: circuit breaker', () => {
  it('opens after N consecutive failures, half-opens after the wait, admits one probe', () => {
    const b = new CircuitBreaker({ failureThreshold: 3, openMs: 100, maxOpenMs: 1000 })
    for (let i = 0; i < 2; i++) { assert.ok(b.allow(0).ok); b.failure(0, false) }
    assert.equal(b.status(0).state, 'closed')
    b.success() // a success resets the count
    for (let i = 0; i < 3; i++) b.failure(0, false)
    assert.equal(b.status(0).state, 'open')
    assert.deepEqual(b.allow(50), { ok: false, retryAfterMs: 50 })
    assert.equal(b.status(100).state, 'half-open')
    const probe = b.allow(100)
    assert.deepEqual(probe, { ok: true, probe: true })
    assert.equal(b.allow(100).ok, false, 'only one probe at a time')
    b.failure(100, true) // failed probe: open again, twice as long
    assert.equal(b.status(299).state, 'open')
    assert.equal(b.status(300).state, 'half-open')
    assert.deepEqual(b.allow(300), { ok: true, probe: true })
    b.success()
    assert.equal(b.status(300).state, 'closed')
    assert.deepEqual(b.allow(300), { ok: true, probe: false })
  })

  it('backs off exponentially with jitter, capped', () => {
    assert.equal(backoffDelay(0, () => 0, 20, 1000), 10)
    assert.equal(backoffDelay(0, () => 1, 20, 1000), 20)
    assert.equal(backoffDelay(3, () => 1, 20, 1000), 160)
    assert.equal(backoffDelay(20, () => 1, 20, 1000), 1000)
  })
})

describe('direct: priority queue', () => {
  it('serves higher priorities first and FIFO within a level', () => {
    const q = new PriorityQueue<string>()
    q.push('low-1', 0); q.push('normal-1', 1); q.push('low-2', 0); q.push('critical', 3); q.push('normal-2', 1)
    assert.ok(q.remove('low-2'))
    assert.deepEqual(q.drain(), ['critical', 'normal-1', 'normal-2', 'low-1'])
    assert.equal(q.size, 0)
  })
})
