/**
 * Private swarms: a pre-shared key (the go-ipfs/libp2p pnet v1 format) encrypts every byte
 * before the Noise handshake, so a node without the key cannot even negotiate.
 */
import { readFileSync } from 'node:fs'
import { generateKey, preSharedKey } from '@libp2p/pnet'
import { byteStream } from '@libp2p/utils'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import type { ConnectionProtector } from '@libp2p/interface'
import { SwarmError, describeSystemError } from './errors.js'

const PSK_HEADER = '/key/swarm/psk/1.0.0/'
const PSK_FILE_BYTES = 95

/** A new swarm key in the pnet text format (three lines). */
export function newSwarmKey (): string {
  const bytes = new Uint8Array(PSK_FILE_BYTES)
  generateKey(bytes)
  return new TextDecoder().decode(bytes) + '\n'
}

/** Parses and validates swarm key bytes; throws SwarmError naming the source. */
export function parseSwarmKey (bytes: Uint8Array, source: string): Uint8Array {
  const text = new TextDecoder().decode(bytes).trim()
  if (!text.startsWith(PSK_HEADER)) {
    throw new SwarmError(`swarm key ${source}: not a swarm key (expected first line ${PSK_HEADER}); create one with 'swarmnet swarm-key'`)
  }
  const psk = new TextEncoder().encode(text)
  try {
    preSharedKey({ psk })()
  } catch {
    throw new SwarmError(`swarm key ${source}: corrupt (expected /base16/ and 64 hex digits after the header)`)
  }
  return psk
}

export function readSwarmKeyFile (file: string): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = readFileSync(file)
  } catch (err) {
    throw new SwarmError(`swarm key ${file}: cannot read: ${describeSystemError(err)}`)
  }
  if (bytes.length > 1024) throw new SwarmError(`swarm key ${file}: too large to be a swarm key`)
  return parseSwarmKey(bytes, file)
}

/** Raised when the remote end of a connection holds a different swarm key. */
export class SwarmKeyMismatchError extends Error {
  constructor () {
    super('the remote peer uses a different swarm key')
    this.name = 'SwarmKeyMismatchError'
  }
}

// Sent through the PSK-encrypted pipe right after the nonce exchange. With different keys each
// side decrypts random bytes, so a mismatch is told apart from other failures at once.
const PROOF = new TextEncoder().encode('/swarmnet/psk/1\n')

export interface SwarmKeyProtectorInit {
  psk: Uint8Array
  /** Deadline for the nonce exchange and proof when the upgrader gives none. */
  timeoutMs?: number
  onMismatch: (remoteAddr: string) => void
}

/**
 * A connection protector: pnet's XSalsa20 pipe, then a 16-byte proof each way so that a peer
 * with another key is refused with a clear reason instead of a garbled handshake.
 */
export function swarmKeyProtector (init: SwarmKeyProtectorInit): () => ConnectionProtector {
  return () => {
    const inner = preSharedKey({ psk: init.psk, timeout: init.timeoutMs ?? 5000 })()
    return {
      async protect (connection, options) {
        const signal = options?.signal ?? AbortSignal.timeout(init.timeoutMs ?? 5000)
        const boxed = await inner.protect(connection, { ...options, signal })
        const bytes = byteStream(boxed)
        const [proof] = await Promise.all([
          bytes.read({ bytes: PROOF.length, signal }),
          bytes.write(PROOF, { signal })
        ])
        if (!uint8ArrayEquals(proof.subarray(), PROOF)) {
          // The host only: every inbound attempt comes from a new source port.
          const remote = ((connection as unknown as { remoteAddr?: { toString: () => string } }).remoteAddr?.toString() ?? 'unknown')
            .replace(/\/(tcp|udp)\/\d+.*$/, '')
          init.onMismatch(remote)
          const err = new SwarmKeyMismatchError()
          boxed.abort(err)
          throw err
        }
        return bytes.unwrap()
      }
    }
  }
}
