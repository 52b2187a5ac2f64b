/** The ways a direct send fails; each is a subclass so callers can `instanceof` them. */
export class MessagingError extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.name = 'MessagingError'
    this.code = code
  }
}

/** No ack within timeoutMs (after every retry). */
export class TimeoutError extends MessagingError {
  constructor (message: string) { super('timeout', message); this.name = 'TimeoutError' }
}

/** The peer could not be reached: no address, dial failed, or streams kept failing. */
export class UnreachableError extends MessagingError {
  constructor (message: string) { super('unreachable', message); this.name = 'UnreachableError' }
}

/** The receiver refused the message; `reason` says why (bad envelope, no handler, handler error). */
export class RejectedError extends MessagingError {
  readonly reason: string
  constructor (reason: string) { super('rejected', `rejected: ${reason}`); this.name = 'RejectedError'; this.reason = reason }
}

/** The peer's circuit breaker is open after repeated failures; try again after it half-opens. */
export class CircuitOpenError extends MessagingError {
  readonly retryAfterMs: number
  constructor (peer: string, retryAfterMs: number) {
    super('circuit_open', `circuit to ${peer} is open; next probe in ${retryAfterMs} ms`)
    this.name = 'CircuitOpenError'
    this.retryAfterMs = retryAfterMs
  }
}
