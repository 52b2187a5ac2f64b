export { Broadcast, broadcast, BroadcastError, TOPIC_PATTERN, type BroadcastInit, type BroadcastResult, type MulticastResult } from './service.js'
