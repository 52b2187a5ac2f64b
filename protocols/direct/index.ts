export { DirectMessaging, directMessaging, DIRECT_PROTOCOL, type DirectInit, type SendOptions, type LinkStatus, type SendResult, type RequestHandler } from './service.js'
export { MessagingError, TimeoutError, UnreachableError, RejectedError, CircuitOpenError } from './errors.js'
export { CircuitBreaker, backoffDelay, type BreakerState } from './breaker.js'
export { FrameDecoder, FrameError, encodeFrames } from './frames.js'
