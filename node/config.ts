/**
 * Node configuration: one schema, four layers. A value set by a flag beats the environment
 * (`SWARMNET_*`), which beats the JSON config file, which beats the defaults. Every value is
 * validated after merging, and a bad one raises a ConfigError naming the field.
 */
import { readFileSync, existsSync } from 'node:fs'
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { ConfigError } from './errors.js'

export interface ApiAddress { host: string, port: number }

export interface NodeConfig {
  /** Human-readable agent name; defaults to `agent-` and the end of the peer id. */
  name?: string
  dataDir: string
  /** Identity key file; defaults to `<dataDir>/identity.key`. */
  keyFile?: string
  listen: string[]
  announce: string[]
  bootstrap: string[]
  capabilities: string[]
  /** File holding the private swarm key (pnet format). */
  swarmKeyFile?: string
  /** Peer ids allowed to connect, in both directions. Undefined: any holder of the swarm key. */
  allowPeers?: string[]
  /** Null turns the HTTP API off. */
  api: ApiAddress | null
  apiToken?: string
  logLevel: LogLevel
  mdns: boolean
  /** Swarm name: scopes broadcast topics. */
  swarm: string
  /** Largest message sent or accepted. */
  maxMessageBytes: number
  /** Accepted clock difference for message timestamps, and the replay window. */
  replayWindowMs: number
  /** Raft voters: the first this many members that find each other form the cluster. */
  voters: number
  /** Take a Raft snapshot and compact the log every this many applied entries. */
  snapshotEntries: number
  /** The Raft leader replaces a voter silent this long by a healthy learner (0: never). */
  replaceDeadVoterMs: number
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

export const DEFAULTS = {
  dataDir: './.swarmnet',
  listen: ['/ip4/0.0.0.0/tcp/4001'],
  announce: [] as string[],
  bootstrap: [] as string[],
  capabilities: [] as string[],
  api: '127.0.0.1:7400',
  logLevel: 'info',
  mdns: false,
  swarm: 'default',
  maxMessageBytes: 1024 * 1024,
  replayWindowMs: 5 * 60_000,
  voters: 3,
  snapshotEntries: 10_000,
  replaceDeadVoterMs: 30_000
}

/** Each field, its kind, and the environment variable that sets it. */
const FIELDS = {
  name: { kind: 'string', env: 'SWARMNET_NAME' },
  dataDir: { kind: 'string', env: 'SWARMNET_DATA_DIR' },
  keyFile: { kind: 'string', env: 'SWARMNET_KEY_FILE' },
  listen: { kind: 'list', env: 'SWARMNET_LISTEN' },
  announce: { kind: 'list', env: 'SWARMNET_ANNOUNCE' },
  bootstrap: { kind: 'list', env: 'SWARMNET_BOOTSTRAP' },
  capabilities: { kind: 'list', env: 'SWARMNET_CAPABILITIES' },
  swarmKey: { kind: 'string', env: 'SWARMNET_SWARM_KEY' },
  allowPeers: { kind: 'list', env: 'SWARMNET_ALLOW_PEERS' },
  api: { kind: 'string|false', env: 'SWARMNET_API' },
  apiToken: { kind: 'string', env: 'SWARMNET_API_TOKEN' },
  logLevel: { kind: 'string', env: 'SWARMNET_LOG_LEVEL' },
  mdns: { kind: 'boolean', env: 'SWARMNET_MDNS' },
  swarm: { kind: 'string', env: 'SWARMNET_SWARM' },
  maxMessageBytes: { kind: 'integer', env: 'SWARMNET_MAX_MESSAGE_BYTES' },
  replayWindowMs: { kind: 'integer', env: 'SWARMNET_REPLAY_WINDOW_MS' },
  voters: { kind: 'integer', env: 'SWARMNET_VOTERS' },
  snapshotEntries: { kind: 'integer', env: 'SWARMNET_SNAPSHOT_ENTRIES' },
  replaceDeadVoterMs: { kind: 'integer', env: 'SWARMNET_REPLACE_DEAD_VOTER_MS' }
} as const

export type FieldName = keyof typeof FIELDS
export type RawValue = string | string[] | boolean | number
export type RawLayer = Partial<Record<FieldName, RawValue>>

export interface ConfigSources {
  flags?: RawLayer
  env?: Record<string, string | undefined>
  /** Path of a JSON config file. */
  configFile?: string
}

/** Reads a JSON config file into a raw layer; unknown keys are errors so typos surface. */
export function readConfigFile (file: string): RawLayer {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError('config', `cannot read ${file}: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new ConfigError('config', `${file} is not valid JSON: ${(err as Error).message}`)
  }
  if (parsed == null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('config', `${file} must hold a JSON object`)
  }
  const layer: RawLayer = {}
  for (const [key, value] of Object.entries(parsed)) {
    if (!(key in FIELDS)) throw new ConfigError(key, `unknown field in ${file}`)
    const field = key as FieldName
    const ok = typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number' ||
      (Array.isArray(value) && value.every(v => typeof v === 'string'))
    if (!ok) throw new ConfigError(field, 'must be a string, a number, a boolean or a list of strings')
    // Paths in a config file are relative to the file, not to wherever the node is started.
    layer[field] = PATH_FIELDS.has(field) && typeof value === 'string' && !isAbsolute(value)
      ? resolvePath(dirname(file), value)
      : value as RawValue
  }
  return layer
}

const PATH_FIELDS = new Set<FieldName>(['dataDir', 'keyFile', 'swarmKey'])

/** Reads the `SWARMNET_*` variables into a raw layer. */
export function envLayer (env: Record<string, string | undefined>): RawLayer {
  const layer: RawLayer = {}
  for (const [field, spec] of Object.entries(FIELDS) as Array<[FieldName, typeof FIELDS[FieldName]]>) {
    const value = env[spec.env]
    if (value !== undefined && value !== '') layer[field] = value
  }
  return layer
}

/** Merges the layers (flags > env > file > defaults) and validates the result. */
export function resolveConfig (sources: ConfigSources): NodeConfig {
  const file = sources.configFile != null ? readConfigFile(sources.configFile) : {}
  const env = envLayer(sources.env ?? {})
  const flags = sources.flags ?? {}
  const merged: RawLayer = { ...DEFAULTS, ...strip(file), ...strip(env), ...strip(flags) }
  return validate(merged)
}

function strip (layer: RawLayer): RawLayer {
  return Object.fromEntries(Object.entries(layer).filter(([, v]) => v !== undefined)) as RawLayer
}

function toList (field: FieldName, value: RawValue | undefined): string[] {
  if (value === undefined) return []
  if (typeof value === 'boolean' || typeof value === 'number') throw new ConfigError(field, 'must be a list')
  const items = Array.isArray(value) ? value : value.split(',')
  return items.map(s => s.trim()).filter(s => s !== '')
}

function toString (field: FieldName, value: RawValue | undefined): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new ConfigError(field, 'must be a string')
  return value
}

function toInteger (field: FieldName, value: RawValue | undefined, min: number, max: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(field, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  return n
}

function toBoolean (field: FieldName, value: RawValue | undefined): boolean {
  if (typeof value === 'boolean') return value
  if (value === 'true' || value === '1' || value === 'yes') return true
  if (value === 'false' || value === '0' || value === 'no') return false
  throw new ConfigError(field, `must be true or false, got ${JSON.stringify(value)}`)
}

export function parseMultiaddr (field: string, value: string): Multiaddr {
  try {
    return multiaddr(value)
  } catch (err) {
    throw new ConfigError(field, `${JSON.stringify(value)} is not a valid multiaddr (${(err as Error).message})`)
  }
}

/** Parses `host:port` (`[v6]:port` for IPv6); port 0 picks a free port. */
export function parseApiAddress (field: string, value: string): ApiAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim())
  if (m == null) throw new ConfigError(field, `${JSON.stringify(value)} must be HOST:PORT`)
  const host = (m[1] ?? m[2]) as string
  const port = Number(m[3])
  if (port > 65535) throw new ConfigError(field, `port ${port} is out of range 0-65535`)
  return { host, port }
}

function parseAllowPeers (value: RawValue | undefined): string[] | undefined {
  if (value === undefined) return undefined
  let items = toList('allowPeers', value)
  // A single item that names an existing file is a list of ids, one per line.
  if (items.length === 1 && existsSync(items[0] as string)) {
    const file = items[0] as string
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      throw new ConfigError('allowPeers', `cannot read ${file}: ${(err as Error).message}`)
    }
    items = text.split(/\r?\n/).map(l => l.replace(/#.*/, '').trim()).filter(l => l !== '')
  }
  items.forEach((id, i) => {
    try {
      peerIdFromString(id)
    } catch {
      throw new ConfigError(`allowPeers[${i}]`, `${JSON.stringify(id)} is not a peer id`)
    }
  })
  return items
}

function validate (raw: RawLayer): NodeConfig {
  const listen = toList('listen', raw.listen)
  if (listen.length === 0) throw new ConfigError('listen', 'at least one address is needed')
  listen.forEach((a, i) => parseMultiaddr(`listen[${i}]`, a))
  const announce = toList('announce', raw.announce)
  announce.forEach((a, i) => parseMultiaddr(`announce[${i}]`, a))
  const bootstrap = toList('bootstrap', raw.bootstrap)
  bootstrap.forEach((a, i) => {
    const ma = parseMultiaddr(`bootstrap[${i}]`, a)
    if (ma.getComponents().find(c => c.name === 'p2p') == null) {
      throw new ConfigError(`bootstrap[${i}]`, `${JSON.stringify(a)} must end with /p2p/<peer id>`)
    }
  })

  const capabilities = toList('capabilities', raw.capabilities)
  capabilities.forEach((c, i) => {
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(c)) {
      throw new ConfigError(`capabilities[${i}]`, `${JSON.stringify(c)} must be 1-64 letters, digits or _.:-`)
    }
  })

  const name = toString('name', raw.name)
  if (name !== undefined && (name.length < 1 || name.length > 64 || /[\s]/.test(name))) {
    throw new ConfigError('name', 'must be 1-64 characters without spaces')
  }

  const dataDir = toString('dataDir', raw.dataDir) ?? DEFAULTS.dataDir
  if (dataDir === '') throw new ConfigError('dataDir', 'must not be empty')

  let api: ApiAddress | null
  if (raw.api === false || raw.api === 'false' || raw.api === 'off') api = null
  else api = parseApiAddress('api', toString('api', raw.api) ?? DEFAULTS.api)

  const apiToken = toString('apiToken', raw.apiToken)
  if (apiToken !== undefined && apiToken.length < 16) {
    throw new ConfigError('apiToken', 'must be at least 16 characters')
  }
  if (api != null && !isLoopback(api.host) && apiToken === undefined) {
    throw new ConfigError('api', `${api.host} is not a loopback address: set apiToken (--api-token) to expose the API`)
  }

  const logLevel = toString('logLevel', raw.logLevel) ?? DEFAULTS.logLevel
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('logLevel', `must be one of ${LOG_LEVELS.join(', ')}`)
  }

  return {
    name,
    dataDir,
    keyFile: toString('keyFile', raw.keyFile),
    listen,
    announce,
    bootstrap,
    capabilities,
    swarmKeyFile: toString('swarmKey', raw.swarmKey),
    allowPeers: parseAllowPeers(raw.allowPeers),
    api,
    apiToken,
    logLevel: logLevel as LogLevel,
    mdns: toBoolean('mdns', raw.mdns ?? false),
    swarm: parseSwarmName(toString('swarm', raw.swarm) ?? DEFAULTS.swarm),
    maxMessageBytes: toInteger('maxMessageBytes', raw.maxMessageBytes ?? DEFAULTS.maxMessageBytes, 1024, 64 * 1024 * 1024),
    replayWindowMs: toInteger('replayWindowMs', raw.replayWindowMs ?? DEFAULTS.replayWindowMs, 1000, 24 * 3600 * 1000),
    voters: toInteger('voters', raw.voters ?? DEFAULTS.voters, 1, 99),
    snapshotEntries: toInteger('snapshotEntries', raw.snapshotEntries ?? DEFAULTS.snapshotEntries, 100, 100_000_000),
    replaceDeadVoterMs: toInteger('replaceDeadVoterMs', raw.replaceDeadVoterMs ?? DEFAULTS.replaceDeadVoterMs, 0, 24 * 3600 * 1000)
  }
}

function parseSwarmName (name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new ConfigError('swarm', 'must be 1-64 letters, digits or _.-')
  return name
}

export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
