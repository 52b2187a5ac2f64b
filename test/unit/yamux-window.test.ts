import { strict as assert } from 'node:assert'
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import { canDeferWindowUpdate, lazyYamuxWindowUpdates } from '../../node/yamux-window.js'

/** A stream that has received `received` bytes since its last update, and the frames it sends. */
function fakeStream (state: StreamState, received: number): { s: Record<string, unknown>, frames: Array<{ type: number, flag: number, length: number }> } {
  const frames: Array<{ type: number, flag: number, length: number }> = []
  // The real methods (getSendFlags, ...) over just the fields sendWindowUpdate reads.
  const s = Object.assign(Object.create(YamuxStream.prototype) as Record<string, unknown>, {
    state,
    streamId: 1,
    recvWindow: 256 * 1024,
    recvWindowCapacity: 256 * 1024 - received,
    maxStreamWindowSize: 16 * 1024 * 1024,
    epochStart: Date.now(),
    getRTT: () => -1,
    sendFrame: (h: { type: number, flag: number, length: number }) => { frames.push(h); return true },
    log: Object.assign(() => {}, { trace: () => {}, error: () => {} })
  })
  return { s, frames }
}

describe('yamux window updates at half the window', () => {
  it('defers a plain update until half the window was received; opening and pausing behave as before', () => {
    lazyYamuxWindowUpdates()
    lazyYamuxWindowUpdates() // idempotent
    const send = YamuxStream.prototype.sendWindowUpdate
    const little = fakeStream(StreamState.Established, 1000)
    send.call(little.s as unknown as YamuxStream)
    assert.deepEqual(little.frames, [], 'a few received bytes: no update yet')
    const half = fakeStream(StreamState.Established, 128 * 1024)
    send.call(half.s as unknown as YamuxStream)
    assert.equal(half.frames.length, 1)
    assert.equal(half.frames[0]!.length, 128 * 1024, 'grants what was received')
    assert.equal(half.s.recvWindowCapacity, 256 * 1024)
    // An inbound stream's first update carries the ACK flag: it goes at once, with nothing received.
    const opening = fakeStream(StreamState.SYNReceived, 0)
    send.call(opening.s as unknown as YamuxStream)
    assert.equal(opening.frames.length, 1)
    assert.notEqual(opening.frames[0]!.flag, 0)
    const paused = fakeStream(StreamState.Paused, 200 * 1024)
    send.call(paused.s as unknown as YamuxStream)
    assert.deepEqual(paused.frames, [], 'a paused stream grants nothing')
    assert.equal(canDeferWindowUpdate({ state: StreamState.Established, recvWindow: 'odd', recvWindowCapacity: 1 }), false, 'unknown internals: the library decides')
  })
})
