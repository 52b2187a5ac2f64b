import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface CrdtDelta {
  doc: string
  update: Uint8Array<ArrayBuffer>
  stateVector: Uint8Array<ArrayBuffer>
  hash: Uint8Array<ArrayBuffer>
}

export namespace CrdtDelta {
  let _codec: Codec<CrdtDelta>

  export const codec = (): Codec<CrdtDelta> => {
    if (_codec == null) {
      _codec = message<CrdtDelta>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.doc != null && obj.doc !== '')) {
          w.uint32(10)
          w.string(obj.doc)
        }

        if ((obj.update != null && obj.update.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.update)
        }

        if ((obj.stateVector != null && obj.stateVector.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.stateVector)
        }

        if ((obj.hash != null && obj.hash.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.hash)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          doc: '',
          update: uint8ArrayAlloc(0),
          stateVector: uint8ArrayAlloc(0),
          hash: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.doc = reader.string()
              break
            }
            case 2: {
              obj.update = reader.bytes()
              break
            }
            case 3: {
              obj.stateVector = reader.bytes()
              break
            }
            case 4: {
              obj.hash = reader.bytes()
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
                field: `${prefix}.doc`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.update`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.stateVector`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.hash`,
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

  export interface CrdtDeltaDocFieldEvent {
    field: '$.doc'
    value: string
  }

  export interface CrdtDeltaUpdateFieldEvent {
    field: '$.update'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CrdtDeltaStateVectorFieldEvent {
    field: '$.stateVector'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CrdtDeltaHashFieldEvent {
    field: '$.hash'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<CrdtDelta>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CrdtDelta.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CrdtDelta>): CrdtDelta {
    return decodeMessage(buf, CrdtDelta.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CrdtDelta>): Generator<CrdtDeltaDocFieldEvent | CrdtDeltaUpdateFieldEvent | CrdtDeltaStateVectorFieldEvent | CrdtDeltaHashFieldEvent> {
    return streamMessage(buf, CrdtDelta.codec(), opts)
  }
}

export interface DocDigest {
  doc: string
  stateVector: Uint8Array<ArrayBuffer>
  hash: Uint8Array<ArrayBuffer>
}

export namespace DocDigest {
  let _codec: Codec<DocDigest>

  export const codec = (): Codec<DocDigest> => {
    if (_codec == null) {
      _codec = message<DocDigest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.doc != null && obj.doc !== '')) {
          w.uint32(10)
          w.string(obj.doc)
        }

        if ((obj.stateVector != null && obj.stateVector.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.stateVector)
        }

        if ((obj.hash != null && obj.hash.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.hash)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          doc: '',
          stateVector: uint8ArrayAlloc(0),
          hash: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.doc = reader.string()
              break
            }
            case 2: {
              obj.stateVector = reader.bytes()
              break
            }
            case 3: {
              obj.hash = reader.bytes()
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
                field: `${prefix}.doc`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.stateVector`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.hash`,
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

  export interface DocDigestDocFieldEvent {
    field: '$.doc'
    value: string
  }

  export interface DocDigestStateVectorFieldEvent {
    field: '$.stateVector'
    value: Uint8Array<ArrayBuffer>
  }

  export interface DocDigestHashFieldEvent {
    field: '$.hash'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<DocDigest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, DocDigest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DocDigest>): DocDigest {
    return decodeMessage(buf, DocDigest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DocDigest>): Generator<DocDigestDocFieldEvent | DocDigestStateVectorFieldEvent | DocDigestHashFieldEvent> {
    return streamMessage(buf, DocDigest.codec(), opts)
  }
}

export interface SyncFrame {
  kind: SyncFrame.Kind
  digests: DocDigest[]
  doc: string
  update: Uint8Array<ArrayBuffer>
}

export namespace SyncFrame {
  export enum Kind {
    HELLO = 'HELLO',
    UPDATE = 'UPDATE',
    DONE = 'DONE'
  }

  enum __KindValues {
    HELLO = 0,
    UPDATE = 1,
    DONE = 2
  }

  export namespace Kind {
    export const codec = (): Codec<Kind> => {
      return enumeration<Kind>(__KindValues)
    }
  }

  let _codec: Codec<SyncFrame>

  export const codec = (): Codec<SyncFrame> => {
    if (_codec == null) {
      _codec = message<SyncFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.kind != null && __KindValues[obj.kind] !== 0) {
          w.uint32(8)
          SyncFrame.Kind.codec().encode(obj.kind, w)
        }

        if (obj.digests != null && obj.digests.length > 0) {
          for (const value of obj.digests) {
            w.uint32(18)
            DocDigest.codec().encode(value, w)
          }
        }

        if ((obj.doc != null && obj.doc !== '')) {
          w.uint32(26)
          w.string(obj.doc)
        }

        if ((obj.update != null && obj.update.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.update)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: Kind.HELLO,
          digests: [],
          doc: '',
          update: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = SyncFrame.Kind.codec().decode(reader)
              break
            }
            case 2: {
              if (opts.limits?.digests != null && obj.digests.length === opts.limits.digests) {
                throw new MaxLengthError('Decode error - repeated field "digests" had too many elements')
              }

              obj.digests.push(DocDigest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.digests$
              }))
              break
            }
            case 3: {
              obj.doc = reader.string()
              break
            }
            case 4: {
              obj.update = reader.bytes()
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
          digests: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.kind`,
                value: SyncFrame.Kind.codec().decode(reader)
              }
              break
            }
            case 2: {
              if (opts.limits?.digests != null && obj.digests === opts.limits.digests) {
                throw new MaxLengthError('Streaming decode error - repeated field "digests" had too many elements')
              }

              for (const evt of DocDigest.codec().stream(reader, reader.uint32(), `${prefix}.digests[]`, {
                limits: opts.limits?.digests$
              })) {
                yield {
                  ...evt,
                  index: obj.digests
                }
              }

              obj.digests++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.doc`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.update`,
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

  export interface SyncFrameKindFieldEvent {
    field: '$.kind'
    value: SyncFrame.Kind
  }

  export interface SyncFrameDigestsDocFieldEvent {
    field: '$.digests[].doc'
    value: string
    index: number
  }

  export interface SyncFrameDigestsStateVectorFieldEvent {
    field: '$.digests[].stateVector'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SyncFrameDigestsHashFieldEvent {
    field: '$.digests[].hash'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SyncFrameDocFieldEvent {
    field: '$.doc'
    value: string
  }

  export interface SyncFrameUpdateFieldEvent {
    field: '$.update'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SyncFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SyncFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncFrame>): SyncFrame {
    return decodeMessage(buf, SyncFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncFrame>): Generator<SyncFrameKindFieldEvent | SyncFrameDigestsDocFieldEvent | SyncFrameDigestsStateVectorFieldEvent | SyncFrameDigestsHashFieldEvent | SyncFrameDocFieldEvent | SyncFrameUpdateFieldEvent> {
    return streamMessage(buf, SyncFrame.codec(), opts)
  }
}
