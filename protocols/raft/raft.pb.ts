import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface RaftFrame {
  msg?: RaftMessage
  hello?: Hello
  join?: JoinRequest
  joined?: JoinResponse
  keepalive?: KeepAlive
  snapChunk?: SnapshotChunk
  snapAck?: SnapshotAck
  transfer?: TransferRequest
  member?: MemberRequest
}

export namespace RaftFrame {
  let _codec: Codec<RaftFrame>

  export const codec = (): Codec<RaftFrame> => {
    if (_codec == null) {
      _codec = message<RaftFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.msg != null) {
          w.uint32(10)
          RaftMessage.codec().encode(obj.msg, w)
        }

        if (obj.hello != null) {
          w.uint32(18)
          Hello.codec().encode(obj.hello, w)
        }

        if (obj.join != null) {
          w.uint32(26)
          JoinRequest.codec().encode(obj.join, w)
        }

        if (obj.joined != null) {
          w.uint32(34)
          JoinResponse.codec().encode(obj.joined, w)
        }

        if (obj.keepalive != null) {
          w.uint32(42)
          KeepAlive.codec().encode(obj.keepalive, w)
        }

        if (obj.snapChunk != null) {
          w.uint32(50)
          SnapshotChunk.codec().encode(obj.snapChunk, w)
        }

        if (obj.snapAck != null) {
          w.uint32(58)
          SnapshotAck.codec().encode(obj.snapAck, w)
        }

        if (obj.transfer != null) {
          w.uint32(66)
          TransferRequest.codec().encode(obj.transfer, w)
        }

        if (obj.member != null) {
          w.uint32(74)
          MemberRequest.codec().encode(obj.member, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.msg = RaftMessage.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.msg
              })
              break
            }
            case 2: {
              obj.hello = Hello.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.hello
              })
              break
            }
            case 3: {
              obj.join = JoinRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.join
              })
              break
            }
            case 4: {
              obj.joined = JoinResponse.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.joined
              })
              break
            }
            case 5: {
              obj.keepalive = KeepAlive.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.keepalive
              })
              break
            }
            case 6: {
              obj.snapChunk = SnapshotChunk.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.snapChunk
              })
              break
            }
            case 7: {
              obj.snapAck = SnapshotAck.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.snapAck
              })
              break
            }
            case 8: {
              obj.transfer = TransferRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.transfer
              })
              break
            }
            case 9: {
              obj.member = MemberRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.member
              })
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
              yield * RaftMessage.codec().stream(reader, reader.uint32(), `${prefix}.msg`, {
                limits: opts.limits?.msg
              })

              break
            }
            case 2: {
              yield * Hello.codec().stream(reader, reader.uint32(), `${prefix}.hello`, {
                limits: opts.limits?.hello
              })

              break
            }
            case 3: {
              yield * JoinRequest.codec().stream(reader, reader.uint32(), `${prefix}.join`, {
                limits: opts.limits?.join
              })

              break
            }
            case 4: {
              yield * JoinResponse.codec().stream(reader, reader.uint32(), `${prefix}.joined`, {
                limits: opts.limits?.joined
              })

              break
            }
            case 5: {
              yield * KeepAlive.codec().stream(reader, reader.uint32(), `${prefix}.keepalive`, {
                limits: opts.limits?.keepalive
              })

              break
            }
            case 6: {
              yield * SnapshotChunk.codec().stream(reader, reader.uint32(), `${prefix}.snapChunk`, {
                limits: opts.limits?.snapChunk
              })

              break
            }
            case 7: {
              yield * SnapshotAck.codec().stream(reader, reader.uint32(), `${prefix}.snapAck`, {
                limits: opts.limits?.snapAck
              })

              break
            }
            case 8: {
              yield * TransferRequest.codec().stream(reader, reader.uint32(), `${prefix}.transfer`, {
                limits: opts.limits?.transfer
              })

              break
            }
            case 9: {
              yield * MemberRequest.codec().stream(reader, reader.uint32(), `${prefix}.member`, {
                limits: opts.limits?.member
              })

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

  export interface RaftFrameMsgTypeFieldEvent {
    field: '$.msg.type'
    value: RaftMessage.Type
  }

  export interface RaftFrameMsgTermFieldEvent {
    field: '$.msg.term'
    value: number
  }

  export interface RaftFrameMsgIndexFieldEvent {
    field: '$.msg.index'
    value: number
  }

  export interface RaftFrameMsgLogTermFieldEvent {
    field: '$.msg.logTerm'
    value: number
  }

  export interface RaftFrameMsgEntriesTermFieldEvent {
    field: '$.msg.entries[].term'
    value: number
    index: number
  }

  export interface RaftFrameMsgEntriesIndexFieldEvent {
    field: '$.msg.entries[].index'
    value: number
    index: number
  }

  export interface RaftFrameMsgEntriesTypeFieldEvent {
    field: '$.msg.entries[].type'
    value: Entry.Type
    index: number
  }

  export interface RaftFrameMsgEntriesDataFieldEvent {
    field: '$.msg.entries[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface RaftFrameMsgCommitFieldEvent {
    field: '$.msg.commit'
    value: number
  }

  export interface RaftFrameMsgRejectFieldEvent {
    field: '$.msg.reject'
    value: boolean
  }

  export interface RaftFrameMsgRejectHintFieldEvent {
    field: '$.msg.rejectHint'
    value: number
  }

  export interface RaftFrameMsgContextFieldEvent {
    field: '$.msg.context'
    value: string
  }

  export interface RaftFrameMsgTransferFieldEvent {
    field: '$.msg.transfer'
    value: boolean
  }

  export interface RaftFrameMsgSnapshotIndexFieldEvent {
    field: '$.msg.snapshot.index'
    value: number
  }

  export interface RaftFrameMsgSnapshotTermFieldEvent {
    field: '$.msg.snapshot.term'
    value: number
  }

  export interface RaftFrameMsgSnapshotVotersFieldEvent {
    field: '$.msg.snapshot.voters[]'
    index: number
    value: string
  }

  export interface RaftFrameMsgSnapshotLearnersFieldEvent {
    field: '$.msg.snapshot.learners[]'
    index: number
    value: string
  }

  export interface RaftFrameHelloStateFieldEvent {
    field: '$.hello.state'
    value: Hello.State
  }

  export interface RaftFrameHelloExpectFieldEvent {
    field: '$.hello.expect'
    value: number
  }

  export interface RaftFrameHelloProposalFieldEvent {
    field: '$.hello.proposal[]'
    index: number
    value: string
  }

  export interface RaftFrameHelloVotersFieldEvent {
    field: '$.hello.voters[]'
    index: number
    value: string
  }

  export interface RaftFrameHelloLearnersFieldEvent {
    field: '$.hello.learners[]'
    index: number
    value: string
  }

  export interface RaftFrameHelloClusterFieldEvent {
    field: '$.hello.cluster'
    value: string
  }

  export interface RaftFrameHelloLeaderFieldEvent {
    field: '$.hello.leader'
    value: string
  }

  export interface RaftFrameJoinExpectFieldEvent {
    field: '$.join.expect'
    value: number
  }

  export interface RaftFrameJoinedOkFieldEvent {
    field: '$.joined.ok'
    value: boolean
  }

  export interface RaftFrameJoinedReasonFieldEvent {
    field: '$.joined.reason'
    value: string
  }

  export interface RaftFrameJoinedClusterFieldEvent {
    field: '$.joined.cluster'
    value: string
  }

  export interface RaftFrameJoinedVotersFieldEvent {
    field: '$.joined.voters[]'
    index: number
    value: string
  }

  export interface RaftFrameJoinedLearnersFieldEvent {
    field: '$.joined.learners[]'
    index: number
    value: string
  }

  export interface RaftFrameJoinedLeaderFieldEvent {
    field: '$.joined.leader'
    value: string
  }

  export interface RaftFrameKeepaliveLeasesFieldEvent {
    field: '$.keepalive.leases[]'
    index: number
    value: string
  }

  export interface RaftFrameSnapChunkIndexFieldEvent {
    field: '$.snapChunk.index'
    value: number
  }

  export interface RaftFrameSnapChunkTermFieldEvent {
    field: '$.snapChunk.term'
    value: number
  }

  export interface RaftFrameSnapChunkOffsetFieldEvent {
    field: '$.snapChunk.offset'
    value: number
  }

  export interface RaftFrameSnapChunkTotalFieldEvent {
    field: '$.snapChunk.total'
    value: number
  }

  export interface RaftFrameSnapChunkDataFieldEvent {
    field: '$.snapChunk.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RaftFrameSnapChunkMetaFieldEvent {
    field: '$.snapChunk.meta'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RaftFrameSnapAckIndexFieldEvent {
    field: '$.snapAck.index'
    value: number
  }

  export interface RaftFrameSnapAckOffsetFieldEvent {
    field: '$.snapAck.offset'
    value: number
  }

  export interface RaftFrameSnapAckDoneFieldEvent {
    field: '$.snapAck.done'
    value: boolean
  }

  export interface RaftFrameSnapAckErrorFieldEvent {
    field: '$.snapAck.error'
    value: string
  }

  export interface RaftFrameTransferToFieldEvent {
    field: '$.transfer.to'
    value: string
  }

  export interface RaftFrameMemberOpFieldEvent {
    field: '$.member.op'
    value: string
  }

  export interface RaftFrameMemberIdFieldEvent {
    field: '$.member.id'
    value: string
  }

  export function encode (obj: Partial<RaftFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RaftFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RaftFrame>): RaftFrame {
    return decodeMessage(buf, RaftFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RaftFrame>): Generator<RaftFrameMsgTypeFieldEvent | RaftFrameMsgTermFieldEvent | RaftFrameMsgIndexFieldEvent | RaftFrameMsgLogTermFieldEvent | RaftFrameMsgEntriesTermFieldEvent | RaftFrameMsgEntriesIndexFieldEvent | RaftFrameMsgEntriesTypeFieldEvent | RaftFrameMsgEntriesDataFieldEvent | RaftFrameMsgCommitFieldEvent | RaftFrameMsgRejectFieldEvent | RaftFrameMsgRejectHintFieldEvent | RaftFrameMsgContextFieldEvent | RaftFrameMsgTransferFieldEvent | RaftFrameMsgSnapshotIndexFieldEvent | RaftFrameMsgSnapshotTermFieldEvent | RaftFrameMsgSnapshotVotersFieldEvent | RaftFrameMsgSnapshotLearnersFieldEvent | RaftFrameHelloStateFieldEvent | RaftFrameHelloExpectFieldEvent | RaftFrameHelloProposalFieldEvent | RaftFrameHelloVotersFieldEvent | RaftFrameHelloLearnersFieldEvent | RaftFrameHelloClusterFieldEvent | RaftFrameHelloLeaderFieldEvent | RaftFrameJoinExpectFieldEvent | RaftFrameJoinedOkFieldEvent | RaftFrameJoinedReasonFieldEvent | RaftFrameJoinedClusterFieldEvent | RaftFrameJoinedVotersFieldEvent | RaftFrameJoinedLearnersFieldEvent | RaftFrameJoinedLeaderFieldEvent | RaftFrameKeepaliveLeasesFieldEvent | RaftFrameSnapChunkIndexFieldEvent | RaftFrameSnapChunkTermFieldEvent | RaftFrameSnapChunkOffsetFieldEvent | RaftFrameSnapChunkTotalFieldEvent | RaftFrameSnapChunkDataFieldEvent | RaftFrameSnapChunkMetaFieldEvent | RaftFrameSnapAckIndexFieldEvent | RaftFrameSnapAckOffsetFieldEvent | RaftFrameSnapAckDoneFieldEvent | RaftFrameSnapAckErrorFieldEvent | RaftFrameTransferToFieldEvent | RaftFrameMemberOpFieldEvent | RaftFrameMemberIdFieldEvent> {
    return streamMessage(buf, RaftFrame.codec(), opts)
  }
}

export interface MemberRequest {
  op: string
  id: string
}

export namespace MemberRequest {
  let _codec: Codec<MemberRequest>

  export const codec = (): Codec<MemberRequest> => {
    if (_codec == null) {
      _codec = message<MemberRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.op != null && obj.op !== '')) {
          w.uint32(10)
          w.string(obj.op)
        }

        if ((obj.id != null && obj.id !== '')) {
          w.uint32(18)
          w.string(obj.id)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          op: '',
          id: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.op = reader.string()
              break
            }
            case 2: {
              obj.id = reader.string()
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
                field: `${prefix}.op`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.id`,
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

  export interface MemberRequestOpFieldEvent {
    field: '$.op'
    value: string
  }

  export interface MemberRequestIdFieldEvent {
    field: '$.id'
    value: string
  }

  export function encode (obj: Partial<MemberRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, MemberRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MemberRequest>): MemberRequest {
    return decodeMessage(buf, MemberRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MemberRequest>): Generator<MemberRequestOpFieldEvent | MemberRequestIdFieldEvent> {
    return streamMessage(buf, MemberRequest.codec(), opts)
  }
}

export interface SnapshotChunk {
  index: number
  term: number
  offset: number
  total: number
  data: Uint8Array<ArrayBuffer>
  meta: Uint8Array<ArrayBuffer>
}

export namespace SnapshotChunk {
  let _codec: Codec<SnapshotChunk>

  export const codec = (): Codec<SnapshotChunk> => {
    if (_codec == null) {
      _codec = message<SnapshotChunk>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.index)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.term)
        }

        if ((obj.offset != null && obj.offset !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.offset)
        }

        if ((obj.total != null && obj.total !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.total)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.data)
        }

        if ((obj.meta != null && obj.meta.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.meta)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          term: 0,
          offset: 0,
          total: 0,
          data: uint8ArrayAlloc(0),
          meta: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint64Number()
              break
            }
            case 2: {
              obj.term = reader.uint64Number()
              break
            }
            case 3: {
              obj.offset = reader.uint64Number()
              break
            }
            case 4: {
              obj.total = reader.uint64Number()
              break
            }
            case 5: {
              obj.data = reader.bytes()
              break
            }
            case 6: {
              obj.meta = reader.bytes()
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
                field: `${prefix}.index`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.offset`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.total`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.meta`,
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

  export interface SnapshotChunkIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface SnapshotChunkTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface SnapshotChunkOffsetFieldEvent {
    field: '$.offset'
    value: number
  }

  export interface SnapshotChunkTotalFieldEvent {
    field: '$.total'
    value: number
  }

  export interface SnapshotChunkDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SnapshotChunkMetaFieldEvent {
    field: '$.meta'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SnapshotChunk>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SnapshotChunk.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotChunk>): SnapshotChunk {
    return decodeMessage(buf, SnapshotChunk.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotChunk>): Generator<SnapshotChunkIndexFieldEvent | SnapshotChunkTermFieldEvent | SnapshotChunkOffsetFieldEvent | SnapshotChunkTotalFieldEvent | SnapshotChunkDataFieldEvent | SnapshotChunkMetaFieldEvent> {
    return streamMessage(buf, SnapshotChunk.codec(), opts)
  }
}

export interface SnapshotAck {
  index: number
  offset: number
  done: boolean
  error: string
}

export namespace SnapshotAck {
  let _codec: Codec<SnapshotAck>

  export const codec = (): Codec<SnapshotAck> => {
    if (_codec == null) {
      _codec = message<SnapshotAck>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.index)
        }

        if ((obj.offset != null && obj.offset !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.offset)
        }

        if ((obj.done != null && obj.done !== false)) {
          w.uint32(24)
          w.bool(obj.done)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(34)
          w.string(obj.error)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          offset: 0,
          done: false,
          error: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint64Number()
              break
            }
            case 2: {
              obj.offset = reader.uint64Number()
              break
            }
            case 3: {
              obj.done = reader.bool()
              break
            }
            case 4: {
              obj.error = reader.string()
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
                field: `${prefix}.index`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.offset`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.done`,
                value: reader.bool()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.error`,
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

  export interface SnapshotAckIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface SnapshotAckOffsetFieldEvent {
    field: '$.offset'
    value: number
  }

  export interface SnapshotAckDoneFieldEvent {
    field: '$.done'
    value: boolean
  }

  export interface SnapshotAckErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export function encode (obj: Partial<SnapshotAck>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SnapshotAck.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotAck>): SnapshotAck {
    return decodeMessage(buf, SnapshotAck.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotAck>): Generator<SnapshotAckIndexFieldEvent | SnapshotAckOffsetFieldEvent | SnapshotAckDoneFieldEvent | SnapshotAckErrorFieldEvent> {
    return streamMessage(buf, SnapshotAck.codec(), opts)
  }
}

export interface TransferRequest {
  to: string
}

export namespace TransferRequest {
  let _codec: Codec<TransferRequest>

  export const codec = (): Codec<TransferRequest> => {
    if (_codec == null) {
      _codec = message<TransferRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.to != null && obj.to !== '')) {
          w.uint32(10)
          w.string(obj.to)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          to: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.to = reader.string()
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
                field: `${prefix}.to`,
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

  export interface TransferRequestToFieldEvent {
    field: '$.to'
    value: string
  }

  export function encode (obj: Partial<TransferRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TransferRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TransferRequest>): TransferRequest {
    return decodeMessage(buf, TransferRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TransferRequest>): Generator<TransferRequestToFieldEvent> {
    return streamMessage(buf, TransferRequest.codec(), opts)
  }
}

export interface SnapshotMeta {
  index: number
  term: number
  voters: string[]
  learners: string[]
}

export namespace SnapshotMeta {
  let _codec: Codec<SnapshotMeta>

  export const codec = (): Codec<SnapshotMeta> => {
    if (_codec == null) {
      _codec = message<SnapshotMeta>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.index)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.term)
        }

        if (obj.voters != null && obj.voters.length > 0) {
          for (const value of obj.voters) {
            w.uint32(26)
            w.string(value)
          }
        }

        if (obj.learners != null && obj.learners.length > 0) {
          for (const value of obj.learners) {
            w.uint32(34)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          term: 0,
          voters: [],
          learners: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint64Number()
              break
            }
            case 2: {
              obj.term = reader.uint64Number()
              break
            }
            case 3: {
              if (opts.limits?.voters != null && obj.voters.length === opts.limits.voters) {
                throw new MaxLengthError('Decode error - repeated field "voters" had too many elements')
              }

              obj.voters.push(reader.string())
              break
            }
            case 4: {
              if (opts.limits?.learners != null && obj.learners.length === opts.limits.learners) {
                throw new MaxLengthError('Decode error - repeated field "learners" had too many elements')
              }

              obj.learners.push(reader.string())
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
          voters: 0,
          learners: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              if (opts.limits?.voters != null && obj.voters === opts.limits.voters) {
                throw new MaxLengthError('Streaming decode error - repeated field "voters" had too many elements')
              }

              yield {
                field: `${prefix}.voters[]`,
                index: obj.voters,
                value: reader.string()
              }

              obj.voters++

              break
            }
            case 4: {
              if (opts.limits?.learners != null && obj.learners === opts.limits.learners) {
                throw new MaxLengthError('Streaming decode error - repeated field "learners" had too many elements')
              }

              yield {
                field: `${prefix}.learners[]`,
                index: obj.learners,
                value: reader.string()
              }

              obj.learners++

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

  export interface SnapshotMetaIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface SnapshotMetaTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface SnapshotMetaVotersFieldEvent {
    field: '$.voters[]'
    index: number
    value: string
  }

  export interface SnapshotMetaLearnersFieldEvent {
    field: '$.learners[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<SnapshotMeta>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SnapshotMeta.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotMeta>): SnapshotMeta {
    return decodeMessage(buf, SnapshotMeta.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotMeta>): Generator<SnapshotMetaIndexFieldEvent | SnapshotMetaTermFieldEvent | SnapshotMetaVotersFieldEvent | SnapshotMetaLearnersFieldEvent> {
    return streamMessage(buf, SnapshotMeta.codec(), opts)
  }
}

export interface KeepAlive {
  leases: string[]
}

export namespace KeepAlive {
  let _codec: Codec<KeepAlive>

  export const codec = (): Codec<KeepAlive> => {
    if (_codec == null) {
      _codec = message<KeepAlive>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.leases != null && obj.leases.length > 0) {
          for (const value of obj.leases) {
            w.uint32(10)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          leases: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.leases != null && obj.leases.length === opts.limits.leases) {
                throw new MaxLengthError('Decode error - repeated field "leases" had too many elements')
              }

              obj.leases.push(reader.string())
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
          leases: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.leases != null && obj.leases === opts.limits.leases) {
                throw new MaxLengthError('Streaming decode error - repeated field "leases" had too many elements')
              }

              yield {
                field: `${prefix}.leases[]`,
                index: obj.leases,
                value: reader.string()
              }

              obj.leases++

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

  export interface KeepAliveLeasesFieldEvent {
    field: '$.leases[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<KeepAlive>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, KeepAlive.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<KeepAlive>): KeepAlive {
    return decodeMessage(buf, KeepAlive.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<KeepAlive>): Generator<KeepAliveLeasesFieldEvent> {
    return streamMessage(buf, KeepAlive.codec(), opts)
  }
}

export interface Entry {
  term: number
  index: number
  type: Entry.Type
  data: Uint8Array<ArrayBuffer>
}

export namespace Entry {
  export enum Type {
    NORMAL = 'NORMAL',
    NOOP = 'NOOP',
    CONFIG = 'CONFIG'
  }

  enum __TypeValues {
    NORMAL = 0,
    NOOP = 1,
    CONFIG = 2
  }

  export namespace Type {
    export const codec = (): Codec<Type> => {
      return enumeration<Type>(__TypeValues)
    }
  }

  let _codec: Codec<Entry>

  export const codec = (): Codec<Entry> => {
    if (_codec == null) {
      _codec = message<Entry>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.term)
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.index)
        }

        if (obj.type != null && __TypeValues[obj.type] !== 0) {
          w.uint32(24)
          Entry.Type.codec().encode(obj.type, w)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          term: 0,
          index: 0,
          type: Type.NORMAL,
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.term = reader.uint64Number()
              break
            }
            case 2: {
              obj.index = reader.uint64Number()
              break
            }
            case 3: {
              obj.type = Entry.Type.codec().decode(reader)
              break
            }
            case 4: {
              obj.data = reader.bytes()
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
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.type`,
                value: Entry.Type.codec().decode(reader)
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.data`,
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

  export interface EntryTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface EntryIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface EntryTypeFieldEvent {
    field: '$.type'
    value: Entry.Type
  }

  export interface EntryDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Entry>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Entry.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Entry>): Entry {
    return decodeMessage(buf, Entry.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Entry>): Generator<EntryTermFieldEvent | EntryIndexFieldEvent | EntryTypeFieldEvent | EntryDataFieldEvent> {
    return streamMessage(buf, Entry.codec(), opts)
  }
}

export interface RaftMessage {
  type: RaftMessage.Type
  term: number
  index: number
  logTerm: number
  entries: Entry[]
  commit: number
  reject: boolean
  rejectHint: number
  context: string
  transfer: boolean
  snapshot?: SnapshotMeta
}

export namespace RaftMessage {
  export enum Type {
    PROP = 'PROP',
    APP = 'APP',
    APP_RESP = 'APP_RESP',
    VOTE = 'VOTE',
    VOTE_RESP = 'VOTE_RESP',
    PRE_VOTE = 'PRE_VOTE',
    PRE_VOTE_RESP = 'PRE_VOTE_RESP',
    HEARTBEAT = 'HEARTBEAT',
    HEARTBEAT_RESP = 'HEARTBEAT_RESP',
    READ_INDEX = 'READ_INDEX',
    READ_INDEX_RESP = 'READ_INDEX_RESP',
    TIMEOUT_NOW = 'TIMEOUT_NOW',
    SNAP = 'SNAP'
  }

  enum __TypeValues {
    PROP = 0,
    APP = 1,
    APP_RESP = 2,
    VOTE = 3,
    VOTE_RESP = 4,
    PRE_VOTE = 5,
    PRE_VOTE_RESP = 6,
    HEARTBEAT = 7,
    HEARTBEAT_RESP = 8,
    READ_INDEX = 9,
    READ_INDEX_RESP = 10,
    TIMEOUT_NOW = 11,
    SNAP = 12
  }

  export namespace Type {
    export const codec = (): Codec<Type> => {
      return enumeration<Type>(__TypeValues)
    }
  }

  let _codec: Codec<RaftMessage>

  export const codec = (): Codec<RaftMessage> => {
    if (_codec == null) {
      _codec = message<RaftMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.type != null && __TypeValues[obj.type] !== 0) {
          w.uint32(8)
          RaftMessage.Type.codec().encode(obj.type, w)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.term)
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.index)
        }

        if ((obj.logTerm != null && obj.logTerm !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.logTerm)
        }

        if (obj.entries != null && obj.entries.length > 0) {
          for (const value of obj.entries) {
            w.uint32(42)
            Entry.codec().encode(value, w)
          }
        }

        if ((obj.commit != null && obj.commit !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.commit)
        }

        if ((obj.reject != null && obj.reject !== false)) {
          w.uint32(56)
          w.bool(obj.reject)
        }

        if ((obj.rejectHint != null && obj.rejectHint !== 0)) {
          w.uint32(64)
          w.uint64Number(obj.rejectHint)
        }

        if ((obj.context != null && obj.context !== '')) {
          w.uint32(74)
          w.string(obj.context)
        }

        if ((obj.transfer != null && obj.transfer !== false)) {
          w.uint32(80)
          w.bool(obj.transfer)
        }

        if (obj.snapshot != null) {
          w.uint32(90)
          SnapshotMeta.codec().encode(obj.snapshot, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: Type.PROP,
          term: 0,
          index: 0,
          logTerm: 0,
          entries: [],
          commit: 0,
          reject: false,
          rejectHint: 0,
          context: '',
          transfer: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.type = RaftMessage.Type.codec().decode(reader)
              break
            }
            case 2: {
              obj.term = reader.uint64Number()
              break
            }
            case 3: {
              obj.index = reader.uint64Number()
              break
            }
            case 4: {
              obj.logTerm = reader.uint64Number()
              break
            }
            case 5: {
              if (opts.limits?.entries != null && obj.entries.length === opts.limits.entries) {
                throw new MaxLengthError('Decode error - repeated field "entries" had too many elements')
              }

              obj.entries.push(Entry.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.entries$
              }))
              break
            }
            case 6: {
              obj.commit = reader.uint64Number()
              break
            }
            case 7: {
              obj.reject = reader.bool()
              break
            }
            case 8: {
              obj.rejectHint = reader.uint64Number()
              break
            }
            case 9: {
              obj.context = reader.string()
              break
            }
            case 10: {
              obj.transfer = reader.bool()
              break
            }
            case 11: {
              obj.snapshot = SnapshotMeta.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.snapshot
              })
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
          entries: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.type`,
                value: RaftMessage.Type.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.logTerm`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              if (opts.limits?.entries != null && obj.entries === opts.limits.entries) {
                throw new MaxLengthError('Streaming decode error - repeated field "entries" had too many elements')
              }

              for (const evt of Entry.codec().stream(reader, reader.uint32(), `${prefix}.entries[]`, {
                limits: opts.limits?.entries$
              })) {
                yield {
                  ...evt,
                  index: obj.entries
                }
              }

              obj.entries++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.commit`,
                value: reader.uint64Number()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.reject`,
                value: reader.bool()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.rejectHint`,
                value: reader.uint64Number()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.context`,
                value: reader.string()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.transfer`,
                value: reader.bool()
              }
              break
            }
            case 11: {
              yield * SnapshotMeta.codec().stream(reader, reader.uint32(), `${prefix}.snapshot`, {
                limits: opts.limits?.snapshot
              })

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

  export interface RaftMessageTypeFieldEvent {
    field: '$.type'
    value: RaftMessage.Type
  }

  export interface RaftMessageTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface RaftMessageIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface RaftMessageLogTermFieldEvent {
    field: '$.logTerm'
    value: number
  }

  export interface RaftMessageEntriesTermFieldEvent {
    field: '$.entries[].term'
    value: number
    index: number
  }

  export interface RaftMessageEntriesIndexFieldEvent {
    field: '$.entries[].index'
    value: number
    index: number
  }

  export interface RaftMessageEntriesTypeFieldEvent {
    field: '$.entries[].type'
    value: Entry.Type
    index: number
  }

  export interface RaftMessageEntriesDataFieldEvent {
    field: '$.entries[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface RaftMessageCommitFieldEvent {
    field: '$.commit'
    value: number
  }

  export interface RaftMessageRejectFieldEvent {
    field: '$.reject'
    value: boolean
  }

  export interface RaftMessageRejectHintFieldEvent {
    field: '$.rejectHint'
    value: number
  }

  export interface RaftMessageContextFieldEvent {
    field: '$.context'
    value: string
  }

  export interface RaftMessageTransferFieldEvent {
    field: '$.transfer'
    value: boolean
  }

  export interface RaftMessageSnapshotIndexFieldEvent {
    field: '$.snapshot.index'
    value: number
  }

  export interface RaftMessageSnapshotTermFieldEvent {
    field: '$.snapshot.term'
    value: number
  }

  export interface RaftMessageSnapshotVotersFieldEvent {
    field: '$.snapshot.voters[]'
    index: number
    value: string
  }

  export interface RaftMessageSnapshotLearnersFieldEvent {
    field: '$.snapshot.learners[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<RaftMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RaftMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RaftMessage>): RaftMessage {
    return decodeMessage(buf, RaftMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RaftMessage>): Generator<RaftMessageTypeFieldEvent | RaftMessageTermFieldEvent | RaftMessageIndexFieldEvent | RaftMessageLogTermFieldEvent | RaftMessageEntriesTermFieldEvent | RaftMessageEntriesIndexFieldEvent | RaftMessageEntriesTypeFieldEvent | RaftMessageEntriesDataFieldEvent | RaftMessageCommitFieldEvent | RaftMessageRejectFieldEvent | RaftMessageRejectHintFieldEvent | RaftMessageContextFieldEvent | RaftMessageTransferFieldEvent | RaftMessageSnapshotIndexFieldEvent | RaftMessageSnapshotTermFieldEvent | RaftMessageSnapshotVotersFieldEvent | RaftMessageSnapshotLearnersFieldEvent> {
    return streamMessage(buf, RaftMessage.codec(), opts)
  }
}

export interface Hello {
  state: Hello.State
  expect: number
  proposal: string[]
  voters: string[]
  learners: string[]
  cluster: string
  leader: string
}

export namespace Hello {
  export enum State {
    FORMING = 'FORMING',
    LOCKED = 'LOCKED',
    MEMBER = 'MEMBER'
  }

  enum __StateValues {
    FORMING = 0,
    LOCKED = 1,
    MEMBER = 2
  }

  export namespace State {
    export const codec = (): Codec<State> => {
      return enumeration<State>(__StateValues)
    }
  }

  let _codec: Codec<Hello>

  export const codec = (): Codec<Hello> => {
    if (_codec == null) {
      _codec = message<Hello>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.state != null && __StateValues[obj.state] !== 0) {
          w.uint32(8)
          Hello.State.codec().encode(obj.state, w)
        }

        if ((obj.expect != null && obj.expect !== 0)) {
          w.uint32(16)
          w.uint32(obj.expect)
        }

        if (obj.proposal != null && obj.proposal.length > 0) {
          for (const value of obj.proposal) {
            w.uint32(26)
            w.string(value)
          }
        }

        if (obj.voters != null && obj.voters.length > 0) {
          for (const value of obj.voters) {
            w.uint32(34)
            w.string(value)
          }
        }

        if (obj.learners != null && obj.learners.length > 0) {
          for (const value of obj.learners) {
            w.uint32(42)
            w.string(value)
          }
        }

        if ((obj.cluster != null && obj.cluster !== '')) {
          w.uint32(50)
          w.string(obj.cluster)
        }

        if ((obj.leader != null && obj.leader !== '')) {
          w.uint32(58)
          w.string(obj.leader)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          state: State.FORMING,
          expect: 0,
          proposal: [],
          voters: [],
          learners: [],
          cluster: '',
          leader: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.state = Hello.State.codec().decode(reader)
              break
            }
            case 2: {
              obj.expect = reader.uint32()
              break
            }
            case 3: {
              if (opts.limits?.proposal != null && obj.proposal.length === opts.limits.proposal) {
                throw new MaxLengthError('Decode error - repeated field "proposal" had too many elements')
              }

              obj.proposal.push(reader.string())
              break
            }
            case 4: {
              if (opts.limits?.voters != null && obj.voters.length === opts.limits.voters) {
                throw new MaxLengthError('Decode error - repeated field "voters" had too many elements')
              }

              obj.voters.push(reader.string())
              break
            }
            case 5: {
              if (opts.limits?.learners != null && obj.learners.length === opts.limits.learners) {
                throw new MaxLengthError('Decode error - repeated field "learners" had too many elements')
              }

              obj.learners.push(reader.string())
              break
            }
            case 6: {
              obj.cluster = reader.string()
              break
            }
            case 7: {
              obj.leader = reader.string()
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
          proposal: 0,
          voters: 0,
          learners: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.state`,
                value: Hello.State.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.expect`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              if (opts.limits?.proposal != null && obj.proposal === opts.limits.proposal) {
                throw new MaxLengthError('Streaming decode error - repeated field "proposal" had too many elements')
              }

              yield {
                field: `${prefix}.proposal[]`,
                index: obj.proposal,
                value: reader.string()
              }

              obj.proposal++

              break
            }
            case 4: {
              if (opts.limits?.voters != null && obj.voters === opts.limits.voters) {
                throw new MaxLengthError('Streaming decode error - repeated field "voters" had too many elements')
              }

              yield {
                field: `${prefix}.voters[]`,
                index: obj.voters,
                value: reader.string()
              }

              obj.voters++

              break
            }
            case 5: {
              if (opts.limits?.learners != null && obj.learners === opts.limits.learners) {
                throw new MaxLengthError('Streaming decode error - repeated field "learners" had too many elements')
              }

              yield {
                field: `${prefix}.learners[]`,
                index: obj.learners,
                value: reader.string()
              }

              obj.learners++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.cluster`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.leader`,
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

  export interface HelloStateFieldEvent {
    field: '$.state'
    value: Hello.State
  }

  export interface HelloExpectFieldEvent {
    field: '$.expect'
    value: number
  }

  export interface HelloProposalFieldEvent {
    field: '$.proposal[]'
    index: number
    value: string
  }

  export interface HelloVotersFieldEvent {
    field: '$.voters[]'
    index: number
    value: string
  }

  export interface HelloLearnersFieldEvent {
    field: '$.learners[]'
    index: number
    value: string
  }

  export interface HelloClusterFieldEvent {
    field: '$.cluster'
    value: string
  }

  export interface HelloLeaderFieldEvent {
    field: '$.leader'
    value: string
  }

  export function encode (obj: Partial<Hello>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Hello.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hello>): Hello {
    return decodeMessage(buf, Hello.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hello>): Generator<HelloStateFieldEvent | HelloExpectFieldEvent | HelloProposalFieldEvent | HelloVotersFieldEvent | HelloLearnersFieldEvent | HelloClusterFieldEvent | HelloLeaderFieldEvent> {
    return streamMessage(buf, Hello.codec(), opts)
  }
}

export interface JoinRequest {
  expect: number
}

export namespace JoinRequest {
  let _codec: Codec<JoinRequest>

  export const codec = (): Codec<JoinRequest> => {
    if (_codec == null) {
      _codec = message<JoinRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.expect != null && obj.expect !== 0)) {
          w.uint32(8)
          w.uint32(obj.expect)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          expect: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.expect = reader.uint32()
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
                field: `${prefix}.expect`,
                value: reader.uint32()
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

  export interface JoinRequestExpectFieldEvent {
    field: '$.expect'
    value: number
  }

  export function encode (obj: Partial<JoinRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JoinRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JoinRequest>): JoinRequest {
    return decodeMessage(buf, JoinRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JoinRequest>): Generator<JoinRequestExpectFieldEvent> {
    return streamMessage(buf, JoinRequest.codec(), opts)
  }
}

export interface JoinResponse {
  ok: boolean
  reason: string
  cluster: string
  voters: string[]
  learners: string[]
  leader: string
}

export namespace JoinResponse {
  let _codec: Codec<JoinResponse>

  export const codec = (): Codec<JoinResponse> => {
    if (_codec == null) {
      _codec = message<JoinResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.ok != null && obj.ok !== false)) {
          w.uint32(8)
          w.bool(obj.ok)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(18)
          w.string(obj.reason)
        }

        if ((obj.cluster != null && obj.cluster !== '')) {
          w.uint32(26)
          w.string(obj.cluster)
        }

        if (obj.voters != null && obj.voters.length > 0) {
          for (const value of obj.voters) {
            w.uint32(34)
            w.string(value)
          }
        }

        if (obj.learners != null && obj.learners.length > 0) {
          for (const value of obj.learners) {
            w.uint32(42)
            w.string(value)
          }
        }

        if ((obj.leader != null && obj.leader !== '')) {
          w.uint32(50)
          w.string(obj.leader)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          ok: false,
          reason: '',
          cluster: '',
          voters: [],
          learners: [],
          leader: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.ok = reader.bool()
              break
            }
            case 2: {
              obj.reason = reader.string()
              break
            }
            case 3: {
              obj.cluster = reader.string()
              break
            }
            case 4: {
              if (opts.limits?.voters != null && obj.voters.length === opts.limits.voters) {
                throw new MaxLengthError('Decode error - repeated field "voters" had too many elements')
              }

              obj.voters.push(reader.string())
              break
            }
            case 5: {
              if (opts.limits?.learners != null && obj.learners.length === opts.limits.learners) {
                throw new MaxLengthError('Decode error - repeated field "learners" had too many elements')
              }

              obj.learners.push(reader.string())
              break
            }
            case 6: {
              obj.leader = reader.string()
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
          voters: 0,
          learners: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.ok`,
                value: reader.bool()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.cluster`,
                value: reader.string()
              }
              break
            }
            case 4: {
              if (opts.limits?.voters != null && obj.voters === opts.limits.voters) {
                throw new MaxLengthError('Streaming decode error - repeated field "voters" had too many elements')
              }

              yield {
                field: `${prefix}.voters[]`,
                index: obj.voters,
                value: reader.string()
              }

              obj.voters++

              break
            }
            case 5: {
              if (opts.limits?.learners != null && obj.learners === opts.limits.learners) {
                throw new MaxLengthError('Streaming decode error - repeated field "learners" had too many elements')
              }

              yield {
                field: `${prefix}.learners[]`,
                index: obj.learners,
                value: reader.string()
              }

              obj.learners++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.leader`,
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

  export interface JoinResponseOkFieldEvent {
    field: '$.ok'
    value: boolean
  }

  export interface JoinResponseReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface JoinResponseClusterFieldEvent {
    field: '$.cluster'
    value: string
  }

  export interface JoinResponseVotersFieldEvent {
    field: '$.voters[]'
    index: number
    value: string
  }

  export interface JoinResponseLearnersFieldEvent {
    field: '$.learners[]'
    index: number
    value: string
  }

  export interface JoinResponseLeaderFieldEvent {
    field: '$.leader'
    value: string
  }

  export function encode (obj: Partial<JoinResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, JoinResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JoinResponse>): JoinResponse {
    return decodeMessage(buf, JoinResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JoinResponse>): Generator<JoinResponseOkFieldEvent | JoinResponseReasonFieldEvent | JoinResponseClusterFieldEvent | JoinResponseVotersFieldEvent | JoinResponseLearnersFieldEvent | JoinResponseLeaderFieldEvent> {
    return streamMessage(buf, JoinResponse.codec(), opts)
  }
}
