import { strict as assert } from 'node:assert'
import { mkdtempSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { decodeKeyFile, generateIdentity, loadOrCreateIdentity, peerIdOf, readKeyFile, writeKeyFile } from '../../node/identity.js'
import { KeyFileError } from '../../node/errors.js'

describe('identity', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swarmnet-id-'))

  it('creates a key file with mode 0600 and loads the same key again', async () => {
    const file = join(dir, 'a', 'identity.key')
    const first = await loadOrCreateIdentity(file)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const second = await loadOrCreateIdentity(file)
    assert.equal(peerIdOf(second), peerIdOf(first))
    assert.equal(first.type, 'Ed25519')
  })

  it('refuses to overwrite a key file unless forced', async () => {
    const file = join(dir, 'b.key')
    writeKeyFile(file, await generateIdentity())
    await assert.rejects(async () => { writeKeyFile(file, await generateIdentity()) }, KeyFileError)
    const key = await generateIdentity()
    writeKeyFile(file, key, true)
    assert.equal(peerIdOf(readKeyFile(file)), peerIdOf(key))
  })

  it('reports corrupt, oversized and unreadable key files with KeyFileError', () => {
    const corrupt = join(dir, 'corrupt.key')
    writeFileSync(corrupt, 'this is not a key')
    assert.throws(() => readKeyFile(corrupt), /corrupt/)
    const huge = join(dir, 'huge.key')
    writeFileSync(huge, Buffer.alloc(100_000))
    assert.throws(() => readKeyFile(huge), /too large/)
    const isDir = join(dir, 'dir.key')
    mkdirSync(isDir)
    assert.throws(() => readKeyFile(isDir), KeyFileError)
    assert.throws(() => readKeyFile(join(dir, 'missing.key')), /no such file/)
  })

  it('decodes arbitrary bytes to a key or a KeyFileError, never anything else (fuzz)', async () => {
    const valid = privateKeyToProtobuf(await generateIdentity())
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        // Mutations of a valid key reach deeper into the decoder than random bytes.
        fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => { const c = valid.slice(); c[i] = b; return c }),
        fc.nat(valid.length).map(n => valid.slice(0, n))
      ),
      (bytes) => {
        try {
          decodeKeyFile(bytes, 'fuzz')
        } catch (err) {
          assert.ok(err instanceof KeyFileError, `unexpected ${String(err)}`)
        }
      }
    ), { numRuns: 10_000 })
  })
})
