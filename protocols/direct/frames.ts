/**
 * Varint length-prefixed frames, decoded incrementally. The length is checked against the limit
 * before a byte of the frame is buffered, so a peer cannot make us allocate more than that.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { DirectFrame } from './direct.pb.js'

export class FrameError extends Error {
  readonly code: 'too_large' | 'malformed'
  constructor (code: 'too_large' | 'malformed', message: string) {
    super(message)
    this.name = 'FrameError'
    this.code = code
  }
}

function varintLength (n: number): number {
  let len = 1
  while (n >= 0x80) { n = Math.floor(n / 0x80); len++ }
  return len
}

function writeVarint (buf: Uint8Array, offset: number, n: number): number {
  while (n >= 0x80) {
    buf[offset++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 0x80)
  }
  buf[offset++] = n
  return offset
}

/** Concatenates frames, each with its length prefix, into one buffer (one write). */
export function encodeFrames (frames: Uint8Array[]): Uint8Array {
  let total = 0
  for (const f of frames) total += varintLength(f.length) + f.length
  const out = new Uint8Array(total)
  let o = 0
  for (const f of frames) {
    o = writeVarint(out, o, f.length)
    out.set(f, o)
    o += f.length
  }
  return out
}

export function encodeFrame (frame: DirectFrame): Uint8Array {
  return DirectFrame.encode(frame)
}

export class FrameDecoder {
  private readonly buf = new Uint8ArrayList()
  constructor (private readonly maxFrameBytes: number) {}

  /**
   * Set when a bad prefix was met after good frames: those frames are returned first, and the
   * caller must check this after handling them (nothing after a bad prefix can be framed).
   */
  failure?: FrameError

  /** Feeds bytes; returns every complete frame body. Throws FrameError on a bad prefix. */
  push (chunk: Uint8Array | Uint8ArrayList): Uint8Array[] {
    if (this.failure != null) throw this.failure
    this.buf.append(chunk)
    const out: Uint8Array[] = []
    try {
      this.decode(out)
    } catch (err) {
      if (out.length === 0) throw err
      this.failure = err as FrameError
    }
    return out
  }

  private decode (out: Uint8Array[]): void {
    for (;;) {
      // Read the varint prefix without consuming it.
      let len = 0
      let shift = 1
      let i = 0
      let complete = false
      while (i < this.buf.length && i < 5) {
        const b = this.buf.get(i++)
        len += (b & 0x7f) * shift
        shift *= 0x80
        if ((b & 0x80) === 0) { complete = true; break }
      }
      if (!complete) {
        if (i >= 5) throw new FrameError('malformed', 'length prefix longer than 5 bytes')
        return
      }
      if (len > this.maxFrameBytes) throw new FrameError('too_large', `frame of ${len} bytes exceeds the ${this.maxFrameBytes}-byte limit`)
      if (this.buf.length < i + len) return
      out.push(this.buf.subarray(i, i + len))
      this.buf.consume(i + len)
    }
  }

  get buffered (): number { return this.buf.length }
}

export function decodeFrame (body: Uint8Array): DirectFrame {
  try {
    return DirectFrame.decode(body)
  } catch (err) {
    throw new FrameError('malformed', `not a direct frame: ${(err as Error).message}`)
  }
}
