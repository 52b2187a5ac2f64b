/**
 * UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids sort by creation time,
 * which keeps replay caches and logs in time order. Time and randomness are passed in.
 */
export function uuidv7Bytes (nowMs: number, random: Uint8Array): Uint8Array {
  if (random.length < 10) throw new RangeError('uuidv7 needs 10 random bytes')
  const b = new Uint8Array(16)
  let ms = Math.max(0, Math.floor(nowMs))
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256
    ms = Math.floor(ms / 256)
  }
  b.set(random.subarray(0, 10), 6)
  b[6] = (b[6]! & 0x0f) | 0x70 // version 7
  b[8] = (b[8]! & 0x3f) | 0x80 // RFC 4122 variant
  return b
}

export function isUuidv7 (b: Uint8Array): boolean {
  return b.length === 16 && (b[6]! >> 4) === 7 && (b[8]! >> 6) === 2
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

export function uuidToString (b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < 16; i++) {
    s += HEX[b[i]!]
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-'
  }
  return s
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function uuidFromString (s: string): Uint8Array | undefined {
  if (!UUID_RE.test(s)) return undefined
  const hex = s.replace(/-/g, '')
  const b = new Uint8Array(16)
  for (let i = 0; i < 16; i++) b[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return b
}

/** The creation time a UUIDv7 carries. */
export function uuidv7Time (b: Uint8Array): number {
  let ms = 0
  for (let i = 0; i < 6; i++) ms = ms * 256 + b[i]!
  return ms
}
