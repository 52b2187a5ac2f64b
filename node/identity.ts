/**
 * The node's identity: an Ed25519 key kept in a file (mode 0600) so the peer id survives
 * restarts. The file holds libp2p's protobuf encoding of the private key.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync, renameSync, openSync, fsyncSync, closeSync } from 'node:fs'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { KeyFileError, describeSystemError } from './errors.js'

const MAX_KEY_FILE_BYTES = 8192

/** Reads a key file; throws KeyFileError when it is unreadable or not a valid key. */
export function readKeyFile (file: string): PrivateKey {
  let bytes: Buffer
  try {
    // Refuse a huge file before reading it into memory.
    const size = statSync(file).size
    if (size > MAX_KEY_FILE_BYTES) throw new KeyFileError(file, `corrupt: ${size} bytes is too large for a key`)
    bytes = readFileSync(file)
  } catch (err) {
    if (err instanceof KeyFileError) throw err
    throw new KeyFileError(file, `cannot read: ${describeSystemError(err)}`)
  }
  return decodeKeyFile(bytes, file)
}

/** Decodes key file bytes; the size is checked before anything is parsed. */
export function decodeKeyFile (bytes: Uint8Array, file: string): PrivateKey {
  if (bytes.length === 0 || bytes.length > MAX_KEY_FILE_BYTES) {
    throw new KeyFileError(file, `corrupt: ${bytes.length} bytes is not a key`)
  }
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new KeyFileError(file, `corrupt: not a libp2p private key (${(err as Error).message})`)
  }
}

/** Writes a key file atomically with mode 0600; refuses to overwrite unless asked. */
export function writeKeyFile (file: string, key: PrivateKey, overwrite = false): void {
  if (!overwrite && existsSync(file)) throw new KeyFileError(file, 'already exists (use --force to replace it)')
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
    const tmp = `${file}.tmp-${process.pid}`
    writeFileSync(tmp, privateKeyToProtobuf(key), { mode: 0o600 })
    const fd = openSync(tmp, 'r')
    try { fsyncSync(fd) } finally { closeSync(fd) }
    renameSync(tmp, file)
  } catch (err) {
    throw new KeyFileError(file, `cannot write: ${describeSystemError(err)}`)
  }
}

export async function generateIdentity (): Promise<PrivateKey> {
  return generateKeyPair('Ed25519')
}

/** Loads the key at `file`, creating a new one there on first start. */
export async function loadOrCreateIdentity (file: string): Promise<PrivateKey> {
  if (existsSync(file)) return readKeyFile(file)
  const key = await generateIdentity()
  writeKeyFile(file, key)
  return key
}

export function peerIdOf (key: PrivateKey): string {
  return peerIdFromPrivateKey(key).toString()
}
