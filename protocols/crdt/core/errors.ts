/** Why the CRDT layer refused something. Remote input is counted by code; local misuse throws. */
export type CrdtErrorCode =
  | 'too_large' // over a size limit, checked before decoding
  | 'malformed' // not a valid frame, delta, state vector or Yjs update
  | 'invalid' // decodes, but breaks a rule (unknown structure kind, nested type, bad name)
  | 'not_member' // sent by a peer that is not a member of the swarm
  | 'too_many_docs' // the document limit is reached
  | 'invalid_operation' // a local operation with a bad path, key or value

export class CrdtError extends Error {
  readonly code: CrdtErrorCode
  constructor (code: CrdtErrorCode, message: string) {
    super(message)
    this.name = 'CrdtError'
    this.code = code
  }
}
