export * from './core/index.js'
export { CrdtService, crdt, StateNotReadyError, CRDT_SYNC_PROTOCOL, AGENTS_DOC, AGENTS_MAP, INDEX_TOPIC, DELTA_TYPE, type CrdtInit, type CrdtComponents, type AgentInit, type AgentEntry, type CrdtStats } from './service.js'
export { DocStore, crdtStore, type KvStore } from './store.js'
