/** The swarmnet library: embed a node in a TypeScript program. */
export { createSwarmNode, SwarmNode, DHT_PROTOCOL } from './swarm-node.js'
export type { SwarmNodeOptions, NodeStatus, PeerStatus, BaseServices, ServiceFactory } from './swarm-node.js'
export { resolveConfig, type NodeConfig } from './config.js'
export { SwarmError, ConfigError, KeyFileError, ListenError } from './errors.js'
export { newSwarmKey } from './swarm-key.js'
export { generateIdentity, readKeyFile, writeKeyFile, loadOrCreateIdentity } from './identity.js'
