/**
 * Sealing and opening signed envelopes. Pure functions: the clock, randomness and keys are
 * passed in. Opening checks, in order of cost: size (before any allocation), frame shape,
 * fields, membership, then the Ed25519 signature.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { SignedEnvelope, SwarmMessage as PbMessage } from './envelope.pb.js'
import { EnvelopeError } from './errors.js'
import type { Signer, PeerKeyCache } from './keys.js'
import { verifySignature } from './keys.js'
import {
  CUSTOM_TYPE_PATTERN, DEFAULT_CONTENT_TYPE, PRIORITY_TO_PB, ROUTING_TO_PB, PRIORITIES, ROUTINGS,
  typeFromWire, typeToWire, type Priority, type Routing, type SwarmMessage, type MessageType
} from './types.js'
import { isUuidv7, uuidToString, uuidv7Bytes } from './uuid.js'
import { peerIdFromString } from '@libp2p/peer-id'

export const ENVELOPE_VERSION = 1
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
export const DEFAULT_COMPRESS_THRESHOLD = 4096
export const MAX_TARGETS = 1024
export const MAX_TIMEOUT_MS = 24 * 3600 * 1000
export const MAX_RETRIES = 100

export interface MessageInit {
  type: MessageType
  /** Bytes are sent as they are; anything else is JSON-encoded. */
  payload?: unknown
  contentType?: string
  routing?: Routing
  targetAgents?: string[]
  priority?: Priority
  correlationId?: string
  requiresResponse?: boolean
  timeoutMs?: number
  maxRetries?: number
  topic?: string
}

export interface SealContext {
  signer: Signer
  now: number
  /** At least 10 random bytes for the message id. */
  random: Uint8Array
  maxMessageBytes?: number
  compressThreshold?: number
}

export interface Sealed { message: SwarmMessage, bytes: Uint8Array }

const enc = new TextEncoder()
const dec = new TextDecoder('utf-8', { fatal: true })

function invalid (field: string, problem: string): EnvelopeError {
  return new EnvelopeError('invalid_field', `${field}: ${problem}`)
}

function checkString (field: string, v: string, max: number): void {
  if (v.length > max) throw invalid(field, `longer than ${max} characters`)
}

function checkInt (field: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw invalid(field, `must be an integer from 0 to ${max}`)
}

function payloadBytes (init: MessageInit): { bytes: Uint8Array, contentType: string } {
  if (init.payload instanceof Uint8Array) return { bytes: init.payload, contentType: init.contentType ?? 'application/octet-stream' }
  if (init.payload === undefined) return { bytes: new Uint8Array(0), contentType: init.contentType ?? DEFAULT_CONTENT_TYPE }
  let json: string | undefined
  try {
    json = JSON.stringify(init.payload)
  } catch (err) {
    throw invalid('payload', `not JSON-serialisable (${(err as Error).message})`)
  }
  if (json === undefined) throw invalid('payload', 'not JSON-serialisable')
  return { bytes: enc.encode(json), contentType: init.contentType ?? DEFAULT_CONTENT_TYPE }
}

/** Builds, validates and signs a message. Throws EnvelopeError for an invalid field or size. */
export function seal (init: MessageInit, ctx: SealContext): Sealed {
  const maxBytes = ctx.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  const { bytes: raw, contentType } = payloadBytes(init)
  const message: SwarmMessage = {
    messageId: '',
    timestamp: Math.floor(ctx.now),
    version: ENVELOPE_VERSION,
    sourceAgent: ctx.signer.peerId,
    targetAgents: init.targetAgents ?? [],
    routing: init.routing ?? 'direct',
    type: init.type,
    priority: init.priority ?? 'normal',
    payload: raw,
    contentType,
    correlationId: init.correlationId,
    requiresResponse: init.requiresResponse ?? false,
    timeoutMs: init.timeoutMs ?? 5000,
    maxRetries: init.maxRetries ?? 3,
    topic: init.topic
  }
  validateCommon(message)
  if (raw.length > maxBytes) throw new EnvelopeError('too_large', `payload of ${raw.length} bytes exceeds the ${maxBytes}-byte limit`)

  let payload = raw
  let compressed = false
  if (raw.length >= (ctx.compressThreshold ?? DEFAULT_COMPRESS_THRESHOLD)) {
    const z = deflateRawSync(raw)
    if (z.length < raw.length) { payload = z; compressed = true }
  }
  const id = uuidv7Bytes(ctx.now, ctx.random)
  message.messageId = uuidToString(id)
  const { type, customType } = typeToWire(message.type)
  const body = PbMessage.encode({
    messageId: id,
    timestamp: BigInt(message.timestamp),
    version: ENVELOPE_VERSION,
    sourceAgent: ctx.signer.peerIdBytes,
    targetAgents: message.targetAgents.map(t => peerIdBytes(t)),
    routing: ROUTING_TO_PB[message.routing],
    type,
    customType,
    priority: PRIORITY_TO_PB[message.priority],
    payload,
    contentType: contentType === DEFAULT_CONTENT_TYPE ? '' : contentType,
    compressed,
    correlationId: message.correlationId ?? '',
    requiresResponse: message.requiresResponse,
    timeoutMs: message.timeoutMs,
    maxRetries: message.maxRetries,
    topic: message.topic ?? ''
  } as PbMessage)
  const bytes = SignedEnvelope.encode({ message: body, signature: ctx.signer.sign(body) } as SignedEnvelope)
  if (bytes.length > maxBytes) throw new EnvelopeError('too_large', `message of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit`)
  return { message, bytes }
}

// Parsing a base58 peer id costs more than the rest of sealing; targets repeat, so cache them.
const targetCache = new Map<string, Uint8Array>()

/** Target peer ids travel as multihash bytes. */
function peerIdBytes (id: string): Uint8Array {
  const hit = targetCache.get(id)
  if (hit != null) return hit
  let bytes: Uint8Array
  try {
    bytes = peerIdFromString(id).toMultihash().bytes
  } catch {
    throw invalid('targetAgents', `${JSON.stringify(id.slice(0, 80))} is not a peer id`)
  }
  if (targetCache.size >= 4096) targetCache.delete(targetCache.keys().next().value as string)
  targetCache.set(id, bytes)
  return bytes
}

function validateCommon (m: SwarmMessage): void {
  if (!CUSTOM_TYPE_PATTERN.test(m.type)) throw invalid('type', `${JSON.stringify(m.type.slice(0, 80))} must be 1-64 letters, digits or _.:/-`)
  if (!(PRIORITIES as readonly string[]).includes(m.priority)) throw invalid('priority', `must be one of ${PRIORITIES.join(', ')}`)
  if (!(ROUTINGS as readonly string[]).includes(m.routing)) throw invalid('routing', `must be one of ${ROUTINGS.join(', ')}`)
  if (m.targetAgents.length > MAX_TARGETS) throw invalid('targetAgents', `more than ${MAX_TARGETS} targets`)
  checkString('contentType', m.contentType, 128)
  checkString('correlationId', m.correlationId ?? '', 128)
  checkString('topic', m.topic ?? '', 256)
  checkInt('timeoutMs', m.timeoutMs, MAX_TIMEOUT_MS)
  checkInt('maxRetries', m.maxRetries, MAX_RETRIES)
}

// Reverse maps, built once: opening runs for every message received.
const PRIORITY_FROM_PB = new Map<unknown, Priority>(PRIORITIES.map(p => [PRIORITY_TO_PB[p], p]))
const ROUTING_FROM_PB = new Map<unknown, Routing>(ROUTINGS.map(r => [ROUTING_TO_PB[r], r]))

export interface OpenContext {
  keys: PeerKeyCache
  maxMessageBytes?: number
  /** Membership rule: undefined admits every sender (the swarm key already keeps outsiders out). */
  isMember?: (peerId: string) => boolean
  /** The authenticated peer that delivered the bytes, when it must be the author. */
  expectedSender?: string
}

/** Verifies and decodes an envelope. Throws EnvelopeError; never anything else. */
export function open (bytes: Uint8Array, ctx: OpenContext): SwarmMessage {
  const maxBytes = ctx.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  if (bytes.length > maxBytes) throw new EnvelopeError('too_large', `frame of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit`)
  let env: SignedEnvelope
  let pb: PbMessage
  try {
    env = SignedEnvelope.decode(bytes)
    pb = PbMessage.decode(env.message, { limits: { targetAgents: MAX_TARGETS } })
  } catch (err) {
    throw new EnvelopeError('malformed', `not a swarm envelope: ${(err as Error).message}`)
  }

  if (!isUuidv7(pb.messageId)) throw invalid('messageId', 'not a UUIDv7')
  if (pb.version !== ENVELOPE_VERSION) throw invalid('version', `unsupported version ${pb.version}`)
  const type = typeFromWire(pb.type, pb.customType)
  if (type == null) throw invalid('type', 'unknown standard type')
  if (pb.type !== 'CUSTOM' && pb.customType !== '') throw invalid('customType', 'set on a standard type')
  const priority = PRIORITY_FROM_PB.get(pb.priority)
  const routing = ROUTING_FROM_PB.get(pb.routing)
  if (priority == null) throw invalid('priority', 'unknown value')
  if (routing == null) throw invalid('routing', 'unknown value')
  const timestamp = Number(pb.timestamp)
  if (!Number.isSafeInteger(timestamp)) throw invalid('timestamp', 'out of range')

  const source = ctx.keys.resolve(pb.sourceAgent)
  if (source == null) throw invalid('sourceAgent', 'not an Ed25519 peer id')
  if (ctx.expectedSender != null && source.peerId !== ctx.expectedSender) {
    throw new EnvelopeError('wrong_sender', `signed by ${source.peerId} but delivered by ${ctx.expectedSender}`)
  }
  if (ctx.isMember != null && !ctx.isMember(source.peerId)) throw new EnvelopeError('not_member', `${source.peerId} is not a member of this swarm`)
  const targetAgents: string[] = []
  for (const t of pb.targetAgents) {
    const peer = ctx.keys.resolve(t)
    if (peer == null) throw invalid('targetAgents', 'not an Ed25519 peer id')
    targetAgents.push(peer.peerId)
  }

  let payload: Uint8Array = pb.payload
  if (pb.compressed) {
    try {
      payload = inflateRawSync(pb.payload, { maxOutputLength: maxBytes })
    } catch (err) {
      const tooBig = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError
      throw tooBig
        ? new EnvelopeError('too_large', `payload inflates beyond the ${maxBytes}-byte limit`)
        : new EnvelopeError('malformed', 'compressed payload is corrupt')
    }
  }

  const message: SwarmMessage = {
    messageId: uuidToString(pb.messageId),
    timestamp,
    version: pb.version,
    sourceAgent: source.peerId,
    targetAgents,
    routing,
    type,
    priority,
    payload,
    contentType: pb.contentType === '' ? DEFAULT_CONTENT_TYPE : pb.contentType,
    correlationId: pb.correlationId === '' ? undefined : pb.correlationId,
    requiresResponse: pb.requiresResponse,
    timeoutMs: pb.timeoutMs,
    maxRetries: pb.maxRetries,
    topic: pb.topic === '' ? undefined : pb.topic
  }
  validateCommon(message)
  if (!verifySignature(source.publicKey, env.message, env.signature)) {
    throw new EnvelopeError('bad_signature', `signature does not match ${source.peerId}`)
  }
  return message
}

/** Parses a JSON payload; throws EnvelopeError('invalid_field') when it is not JSON. */
export function payloadJson<T = unknown> (m: SwarmMessage): T {
  try {
    return JSON.parse(dec.decode(m.payload)) as T
  } catch {
    throw invalid('payload', `not valid JSON (content type ${m.contentType})`)
  }
}
