import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface SignedEnvelope {
  message: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedEnvelope {
  let _codec: Codec<SignedEnvelope>

  export const codec = (): Codec<SignedEnvelope> => {
    if (_codec == null) {
      _codec = message<SignedEnvelope>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.message != null && obj.message.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.message)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          message: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.message = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.message`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SignedEnvelopeMessageFieldEvent {
    field: '$.message'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedEnvelopeSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedEnvelope>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedEnvelope.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedEnvelope>): SignedEnvelope {
    return decodeMessage(buf, SignedEnvelope.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedEnvelope>): Generator<SignedEnvelopeMessageFieldEvent | SignedEnvelopeSignatureFieldEvent> {
    return streamMessage(buf, SignedEnvelope.codec(), opts)
  }
}

export enum Routing {
  DIRECT = 'DIRECT',
  BROADCAST = 'BROADCAST',
  MULTICAST = 'MULTICAST'
}

enum __RoutingValues {
  DIRECT = 0,
  BROADCAST = 1,
  MULTICAST = 2
}

export namespace Routing {
  export const codec = (): Codec<Routing> => {
    return enumeration<Routing>(__RoutingValues)
  }
}

export enum Priority {
  NORMAL = 'NORMAL',
  LOW = 'LOW',
  HIGH = 'HIGH',
  CRITICAL = 'CRITICAL'
}

enum __PriorityValues {
  NORMAL = 0,
  LOW = 1,
  HIGH = 2,
  CRITICAL = 3
}

export namespace Priority {
  export const codec = (): Codec<Priority> => {
    return enumeration<Priority>(__PriorityValues)
  }
}

export enum StandardType {
  CUSTOM = 'CUSTOM',
  TASK_ASSIGNMENT = 'TASK_ASSIGNMENT',
  TASK_COMPLETION = 'TASK_COMPLETION',
  TASK_FAILURE = 'TASK_FAILURE',
  DATA_REQUEST = 'DATA_REQUEST',
  DATA_RESPONSE = 'DATA_RESPONSE',
  DATA_UPDATE = 'DATA_UPDATE',
  HEARTBEAT = 'HEARTBEAT',
  STATUS_UPDATE = 'STATUS_UPDATE',
  CONFIGURATION_CHANGE = 'CONFIGURATION_CHANGE',
  MARKET_SIGNAL = 'MARKET_SIGNAL',
  TRADE_EXECUTION = 'TRADE_EXECUTION',
  RISK_ALERT = 'RISK_ALERT',
  PROPOSAL = 'PROPOSAL',
  VOTE = 'VOTE',
  DECISION = 'DECISION',
  ANNOUNCEMENT = 'ANNOUNCEMENT',
  EVENT = 'EVENT'
}

enum __StandardTypeValues {
  CUSTOM = 0,
  TASK_ASSIGNMENT = 1,
  TASK_COMPLETION = 2,
  TASK_FAILURE = 3,
  DATA_REQUEST = 4,
  DATA_RESPONSE = 5,
  DATA_UPDATE = 6,
  HEARTBEAT = 7,
  STATUS_UPDATE = 8,
  CONFIGURATION_CHANGE = 9,
  MARKET_SIGNAL = 10,
  TRADE_EXECUTION = 11,
  RISK_ALERT = 12,
  PROPOSAL = 13,
  VOTE = 14,
  DECISION = 15,
  ANNOUNCEMENT = 16,
  EVENT = 17
}

export namespace StandardType {
  export const codec = (): Codec<StandardType> => {
    return enumeration<StandardType>(__StandardTypeValues)
  }
}

export interface SwarmMessage {
  messageId: Uint8Array<ArrayBuffer>
  timestamp: bigint
  version: number
  sourceAgent: Uint8Array<ArrayBuffer>
  targetAgents: Uint8Array<ArrayBuffer>[]
  routing: Routing
  type: StandardType
  customType: string
  priority: Priority
  payload: Uint8Array<ArrayBuffer>
  contentType: string
  compressed: boolean
  correlationId: string
  requiresResponse: boolean
  timeoutMs: number
  maxRetries: number
  topic: string
}

export namespace SwarmMessage {
  let _codec: Codec<SwarmMessage>

  export const codec = (): Codec<SwarmMessage> => {
    if (_codec == null) {
      _codec = message<SwarmMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.messageId != null && obj.messageId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.messageId)
        }

        if ((obj.timestamp != null && obj.timestamp !== 0n)) {
          w.uint32(16)
          w.uint64(obj.timestamp)
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(24)
          w.uint32(obj.version)
        }

        if ((obj.sourceAgent != null && obj.sourceAgent.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.sourceAgent)
        }

        if (obj.targetAgents != null && obj.targetAgents.length > 0) {
          for (const value of obj.targetAgents) {
            w.uint32(42)
            w.bytes(value)
          }
        }

        if (obj.routing != null && __RoutingValues[obj.routing] !== 0) {
          w.uint32(48)
          Routing.codec().encode(obj.routing, w)
        }

        if (obj.type != null && __StandardTypeValues[obj.type] !== 0) {
          w.uint32(56)
          StandardType.codec().encode(obj.type, w)
        }

        if ((obj.customType != null && obj.customType !== '')) {
          w.uint32(66)
          w.string(obj.customType)
        }

        if (obj.priority != null && __PriorityValues[obj.priority] !== 0) {
          w.uint32(72)
          Priority.codec().encode(obj.priority, w)
        }

        if ((obj.payload != null && obj.payload.byteLength > 0)) {
          w.uint32(82)
          w.bytes(obj.payload)
        }

        if ((obj.contentType != null && obj.contentType !== '')) {
          w.uint32(90)
          w.string(obj.contentType)
        }

        if ((obj.compressed != null && obj.compressed !== false)) {
          w.uint32(96)
          w.bool(obj.compressed)
        }

        if ((obj.correlationId != null && obj.correlationId !== '')) {
          w.uint32(106)
          w.string(obj.correlationId)
        }

        if ((obj.requiresResponse != null && obj.requiresResponse !== false)) {
          w.uint32(112)
          w.bool(obj.requiresResponse)
        }

        if ((obj.timeoutMs != null && obj.timeoutMs !== 0)) {
          w.uint32(120)
          w.uint32(obj.timeoutMs)
        }

        if ((obj.maxRetries != null && obj.maxRetries !== 0)) {
          w.uint32(128)
          w.uint32(obj.maxRetries)
        }

        if ((obj.topic != null && obj.topic !== '')) {
          w.uint32(138)
          w.string(obj.topic)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          messageId: uint8ArrayAlloc(0),
          timestamp: 0n,
          version: 0,
          sourceAgent: uint8ArrayAlloc(0),
          targetAgents: [],
          routing: Routing.DIRECT,
          type: StandardType.CUSTOM,
          customType: '',
          priority: Priority.NORMAL,
          payload: uint8ArrayAlloc(0),
          contentType: '',
          compressed: false,
          correlationId: '',
          requiresResponse: false,
          timeoutMs: 0,
          maxRetries: 0,
          topic: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.messageId = reader.bytes()
              break
            }
            case 2: {
              obj.timestamp = reader.uint64()
              break
            }
            case 3: {
              obj.version = reader.uint32()
              break
            }
            case 4: {
              obj.sourceAgent = reader.bytes()
              break
            }
            case 5: {
              if (opts.limits?.targetAgents != null && obj.targetAgents.length === opts.limits.targetAgents) {
                throw new MaxLengthError('Decode error - repeated field "targetAgents" had too many elements')
              }

              obj.targetAgents.push(reader.bytes())
              break
            }
            case 6: {
              obj.routing = Routing.codec().decode(reader)
              break
            }
            case 7: {
              obj.type = StandardType.codec().decode(reader)
              break
            }
            case 8: {
              obj.customType = reader.string()
              break
            }
            case 9: {
              obj.priority = Priority.codec().decode(reader)
              break
            }
            case 10: {
              obj.payload = reader.bytes()
              break
            }
            case 11: {
              obj.contentType = reader.string()
              break
            }
            case 12: {
              obj.compressed = reader.bool()
              break
            }
            case 13: {
              obj.correlationId = reader.string()
              break
            }
            case 14: {
              obj.requiresResponse = reader.bool()
              break
            }
            case 15: {
              obj.timeoutMs = reader.uint32()
              break
            }
            case 16: {
              obj.maxRetries = reader.uint32()
              break
            }
            case 17: {
              obj.topic = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          targetAgents: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.messageId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.timestamp`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.sourceAgent`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              if (opts.limits?.targetAgents != null && obj.targetAgents === opts.limits.targetAgents) {
                throw new MaxLengthError('Streaming decode error - repeated field "targetAgents" had too many elements')
              }

              yield {
                field: `${prefix}.targetAgents[]`,
                index: obj.targetAgents,
                value: reader.bytes()
              }

              obj.targetAgents++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.routing`,
                value: Routing.codec().decode(reader)
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.type`,
                value: StandardType.codec().decode(reader)
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.customType`,
                value: reader.string()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.priority`,
                value: Priority.codec().decode(reader)
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.payload`,
                value: reader.bytes()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.contentType`,
                value: reader.string()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.compressed`,
                value: reader.bool()
              }
              break
            }
            case 13: {
              yield {
                field: `${prefix}.correlationId`,
                value: reader.string()
              }
              break
            }
            case 14: {
              yield {
                field: `${prefix}.requiresResponse`,
                value: reader.bool()
              }
              break
            }
            case 15: {
              yield {
                field: `${prefix}.timeoutMs`,
                value: reader.uint32()
              }
              break
            }
            case 16: {
              yield {
                field: `${prefix}.maxRetries`,
                value: reader.uint32()
              }
              break
            }
            case 17: {
              yield {
                field: `${prefix}.topic`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SwarmMessageMessageIdFieldEvent {
    field: '$.messageId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SwarmMessageTimestampFieldEvent {
    field: '$.timestamp'
    value: bigint
  }

  export interface SwarmMessageVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface SwarmMessageSourceAgentFieldEvent {
    field: '$.sourceAgent'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SwarmMessageTargetAgentsFieldEvent {
    field: '$.targetAgents[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SwarmMessageRoutingFieldEvent {
    field: '$.routing'
    value: Routing
  }

  export interface SwarmMessageTypeFieldEvent {
    field: '$.type'
    value: StandardType
  }

  export interface SwarmMessageCustomTypeFieldEvent {
    field: '$.customType'
    value: string
  }

  export interface SwarmMessagePriorityFieldEvent {
    field: '$.priority'
    value: Priority
  }

  export interface SwarmMessagePayloadFieldEvent {
    field: '$.payload'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SwarmMessageContentTypeFieldEvent {
    field: '$.contentType'
    value: string
  }

  export interface SwarmMessageCompressedFieldEvent {
    field: '$.compressed'
    value: boolean
  }

  export interface SwarmMessageCorrelationIdFieldEvent {
    field: '$.correlationId'
    value: string
  }

  export interface SwarmMessageRequiresResponseFieldEvent {
    field: '$.requiresResponse'
    value: boolean
  }

  export interface SwarmMessageTimeoutMsFieldEvent {
    field: '$.timeoutMs'
    value: number
  }

  export interface SwarmMessageMaxRetriesFieldEvent {
    field: '$.maxRetries'
    value: number
  }

  export interface SwarmMessageTopicFieldEvent {
    field: '$.topic'
    value: string
  }

  export function encode (obj: Partial<SwarmMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SwarmMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SwarmMessage>): SwarmMessage {
    return decodeMessage(buf, SwarmMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SwarmMessage>): Generator<SwarmMessageMessageIdFieldEvent | SwarmMessageTimestampFieldEvent | SwarmMessageVersionFieldEvent | SwarmMessageSourceAgentFieldEvent | SwarmMessageTargetAgentsFieldEvent | SwarmMessageRoutingFieldEvent | SwarmMessageTypeFieldEvent | SwarmMessageCustomTypeFieldEvent | SwarmMessagePriorityFieldEvent | SwarmMessagePayloadFieldEvent | SwarmMessageContentTypeFieldEvent | SwarmMessageCompressedFieldEvent | SwarmMessageCorrelationIdFieldEvent | SwarmMessageRequiresResponseFieldEvent | SwarmMessageTimeoutMsFieldEvent | SwarmMessageMaxRetriesFieldEvent | SwarmMessageTopicFieldEvent> {
    return streamMessage(buf, SwarmMessage.codec(), opts)
  }
}
