import { strict as assert } from 'node:assert'
import fc from 'fast-check'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { sodiumNoiseCrypto } from '../../node/noise-crypto.js'

/** A plain Uint8Array copy (Buffers and lists compare unequal to it under deepStrictEqual). */
const bytes = (r: Uint8Array | { subarray: () => Uint8Array }): Uint8Array => Uint8Array.from(r instanceof Uint8Array ? r : r.subarray())

describe('Noise ChaCha20-Poly1305 through libsodium', () => {
  it('interoperates with the library\'s own cipher both ways, any size, whole or in pieces (property)', () => {
    fc.assert(fc.property(
      fc.uint8Array({ maxLength: 70_000 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(100),
      (m, nonce, ad, k, cut) => {
        const ours = bytes(sodiumNoiseCrypto.chaCha20Poly1305Encrypt(m, nonce, ad, k))
        const theirs = bytes(defaultCrypto.chaCha20Poly1305Encrypt(m, nonce, ad, k))
        assert.deepEqual(ours, theirs)
        const at = Math.min(cut, m.length)
        // Noise's own copy of uint8arraylist may differ from ours in type only.
        const pieces = new Uint8ArrayList(m.subarray(0, at), m.subarray(at)) as unknown as Uint8Array
        assert.deepEqual(bytes(sodiumNoiseCrypto.chaCha20Poly1305Encrypt(pieces, nonce, ad, k)), theirs)
        assert.deepEqual(bytes(sodiumNoiseCrypto.chaCha20Poly1305Decrypt(theirs, nonce, ad, k)), m)
        assert.deepEqual(bytes(defaultCrypto.chaCha20Poly1305Decrypt(ours, nonce, ad, k)), m)
      }), { numRuns: 100 })
  })

  it('decrypts in place into the ciphertext\'s own memory, and refuses a tampered message', () => {
    const k = new Uint8Array(32).fill(7)
    const nonce = new Uint8Array(12).fill(1)
    const ad = new Uint8Array(0)
    const m = new TextEncoder().encode('an append of a few entries '.repeat(100))
    const c = new Uint8Array(bytes(sodiumNoiseCrypto.chaCha20Poly1305Encrypt(m, nonce, ad, k)))
    const dst = c.subarray(0, c.length - 16)
    const out = sodiumNoiseCrypto.chaCha20Poly1305Decrypt(c, nonce, ad, k, dst)
    assert.equal(out, dst)
    assert.deepEqual(bytes(dst), m)
    const again = new Uint8Array(bytes(sodiumNoiseCrypto.chaCha20Poly1305Encrypt(m, nonce, ad, k)))
    again[5]! ^= 1
    assert.throws(() => sodiumNoiseCrypto.chaCha20Poly1305Decrypt(again, nonce, ad, k))
    assert.throws(() => sodiumNoiseCrypto.chaCha20Poly1305Decrypt(new Uint8Array(15), nonce, ad, k), /shorter than its tag/)
  })
})
