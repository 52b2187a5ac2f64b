/** Why an incoming message was refused. Each code has its own counter. */
export type EnvelopeErrorCode =
  | 'too_large' // over the size limit, checked before anything is decoded
  | 'malformed' // not a valid protobuf frame
  | 'invalid_field' // decoded, but a field is out of range or the wrong shape
  | 'bad_signature' // the signature does not verify against source_agent's key
  | 'not_member' // the sender is not a member of this swarm
  | 'replayed' // a messageId already seen
  | 'stale' // timestamp outside the accepted window
  | 'wrong_sender' // source_agent differs from the authenticated peer that delivered it

export class EnvelopeError extends Error {
  readonly code: EnvelopeErrorCode
  constructor (code: EnvelopeErrorCode, message: string) {
    super(message)
    this.name = 'EnvelopeError'
    this.code = code
  }
}
