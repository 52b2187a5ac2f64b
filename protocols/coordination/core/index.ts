/** The pure coordination state machine: leases, locks, barriers and elections (see state.ts). */
export * from './types.js'
export * from './codec.js'
export { CoordinationState } from './state.js'
export { findDeadlock } from './deadlock.js'
export type { WaitGraph } from './deadlock.js'
