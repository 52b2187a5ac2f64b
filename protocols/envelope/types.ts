/** The user-facing shape of a swarm message, and the names that map onto the wire enums. */
import { Priority as PbPriority, Routing as PbRouting, StandardType } from './envelope.pb.js'

/** The seed's message types, plus announcement and event (broadcast channel and event bus). */
export const STANDARD_TYPES = [
  'task_assignment', 'task_completion', 'task_failure',
  'data_request', 'data_response', 'data_update',
  'heartbeat', 'status_update', 'configuration_change',
  'market_signal', 'trade_execution', 'risk_alert',
  'proposal', 'vote', 'decision',
  'announcement', 'event'
] as const
export type StandardMessageType = typeof STANDARD_TYPES[number]
/** A standard type, or an application-defined name (letters, digits, `_.:/-`, 1-64 chars). */
export type MessageType = StandardMessageType | (string & {})

export const PRIORITIES = ['low', 'normal', 'high', 'critical'] as const
export type Priority = typeof PRIORITIES[number]
export const ROUTINGS = ['direct', 'broadcast', 'multicast'] as const
export type Routing = typeof ROUTINGS[number]

export const CUSTOM_TYPE_PATTERN = /^[A-Za-z0-9_.:/-]{1,64}$/
export const DEFAULT_CONTENT_TYPE = 'application/json'

export interface SwarmMessage {
  /** UUIDv7: unique, and sorts by creation time. */
  messageId: string
  /** Sender's clock, ms since the epoch. */
  timestamp: number
  version: number
  /** Sender's peer id. */
  sourceAgent: string
  targetAgents: string[]
  routing: Routing
  type: MessageType
  priority: Priority
  /** The payload as sent (already decompressed). */
  payload: Uint8Array
  contentType: string
  correlationId?: string
  requiresResponse: boolean
  timeoutMs: number
  maxRetries: number
  /** Broadcast topic (without the swarm prefix). */
  topic?: string
}

const STANDARD_NAMES = new Set<string>(STANDARD_TYPES)

export function typeToWire (type: string): { type: StandardType, customType: string } {
  return STANDARD_NAMES.has(type)
    ? { type: type.toUpperCase() as StandardType, customType: '' }
    : { type: StandardType.CUSTOM, customType: type }
}

/** Undefined when the wire value is not a known standard type. */
export function typeFromWire (type: unknown, customType: string): string | undefined {
  if (type === StandardType.CUSTOM) return customType
  if (typeof type !== 'string') return undefined
  const name = type.toLowerCase()
  return STANDARD_NAMES.has(name) ? name : undefined
}

export const PRIORITY_TO_PB: Record<Priority, PbPriority> = {
  low: PbPriority.LOW, normal: PbPriority.NORMAL, high: PbPriority.HIGH, critical: PbPriority.CRITICAL
}
export const ROUTING_TO_PB: Record<Routing, PbRouting> = {
  direct: PbRouting.DIRECT, broadcast: PbRouting.BROADCAST, multicast: PbRouting.MULTICAST
}

/** Numeric rank used for queue ordering: higher goes first. */
export const PRIORITY_RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, critical: 3 }
