import { strict as assert } from 'node:assert'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveConfig, parseApiAddress, DEFAULTS } from '../../node/config.js'
import { ConfigError } from '../../node/errors.js'

const PEER = '12D3KooWP8tYAiUATw5QzjazyvEcmFvVsqHa4Lm7g9KNMzU7uBjC'
const dir = mkdtempSync(join(tmpdir(), 'swarmnet-config-'))
function file (name: string, content: unknown): string {
  const f = join(dir, name)
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content))
  return f
}

function configError (fn: () => unknown, field: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`)
    assert.equal(err.field, field)
    assert.ok(!err.message.includes('\n'), 'one line')
    assert.equal(err.exitCode, 2)
    return true
  })
}

describe('config', () => {
  it('uses the defaults when nothing is set', () => {
    const c = resolveConfig({})
    assert.deepEqual(c.listen, DEFAULTS.listen)
    assert.deepEqual(c.api, { host: '127.0.0.1', port: 7400 })
    assert.equal(c.dataDir, './.swarmnet')
    assert.equal(c.logLevel, 'info')
    assert.equal(c.mdns, false)
    assert.equal(c.allowPeers, undefined)
    assert.equal(c.maxMessageBytes, 1024 * 1024)
    assert.equal(c.swarm, 'default')
    assert.equal(resolveConfig({ configFile: file('num.json', { maxMessageBytes: 4096 }) }).maxMessageBytes, 4096)
  })

  it('takes flags over environment over file over defaults, field by field', () => {
    const configFile = file('layers.json', { name: 'from-file', dataDir: '/file', logLevel: 'debug', capabilities: ['a'] })
    const env = { SWARMNET_NAME: 'from-env', SWARMNET_DATA_DIR: '/env' }
    const c = resolveConfig({ configFile, env, flags: { name: 'from-flag' } })
    assert.equal(c.name, 'from-flag') // flag beats env and file
    assert.equal(c.dataDir, '/env') // env beats file
    assert.equal(c.logLevel, 'debug') // file beats default
    assert.deepEqual(c.capabilities, ['a'])
    assert.deepEqual(c.listen, DEFAULTS.listen) // default
  })

  it('resolves paths in a config file relative to the file', () => {
    const c = resolveConfig({ configFile: file('paths.json', { dataDir: 'data', swarmKey: '../k/swarm.key' }) })
    assert.equal(c.dataDir, join(dir, 'data'))
    assert.equal(c.swarmKeyFile, join(dir, '..', 'k', 'swarm.key'))
  })

  it('splits comma-separated lists from the environment', () => {
    const c = resolveConfig({ env: { SWARMNET_LISTEN: '/ip4/127.0.0.1/tcp/1, /ip4/127.0.0.1/tcp/2', SWARMNET_CAPABILITIES: 'news,risk' } })
    assert.deepEqual(c.listen, ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'])
    assert.deepEqual(c.capabilities, ['news', 'risk'])
  })

  it('turns the API off with false or off', () => {
    assert.equal(resolveConfig({ flags: { api: false } }).api, null)
    assert.equal(resolveConfig({ env: { SWARMNET_API: 'off' } }).api, null)
  })

  it('names the field of an invalid value', () => {
    configError(() => resolveConfig({ flags: { listen: ['/ip4/not-an-ip/tcp/1'] } }), 'listen[0]')
    configError(() => resolveConfig({ flags: { bootstrap: ['/ip4/127.0.0.1/tcp/1'] } }), 'bootstrap[0]')
    configError(() => resolveConfig({ flags: { api: 'localhost' } }), 'api')
    configError(() => resolveConfig({ flags: { api: '127.0.0.1:70000' } }), 'api')
    configError(() => resolveConfig({ env: { SWARMNET_LOG_LEVEL: 'loud' } }), 'logLevel')
    configError(() => resolveConfig({ env: { SWARMNET_MDNS: 'maybe' } }), 'mdns')
    configError(() => resolveConfig({ flags: { allowPeers: 'not-a-peer-id' } }), 'allowPeers[0]')
    configError(() => resolveConfig({ flags: { capabilities: 'ok,not ok' } }), 'capabilities[1]')
    configError(() => resolveConfig({ flags: { apiToken: 'short' } }), 'apiToken')
    configError(() => resolveConfig({ env: { SWARMNET_MAX_MESSAGE_BYTES: '1e9' } }), 'maxMessageBytes')
    configError(() => resolveConfig({ flags: { replayWindowMs: '10' } }), 'replayWindowMs')
    configError(() => resolveConfig({ flags: { swarm: 'has space' } }), 'swarm')
  })

  it('rejects unknown fields, bad JSON and wrong types in the config file', () => {
    configError(() => resolveConfig({ configFile: file('typo.json', { listn: ['/ip4/127.0.0.1/tcp/1'] }) }), 'listn')
    configError(() => resolveConfig({ configFile: file('bad.json', '{ not json') }), 'config')
    configError(() => resolveConfig({ configFile: file('array.json', '[]') }), 'config')
    configError(() => resolveConfig({ configFile: file('listen-num.json', { listen: 5 }) }), 'listen')
    configError(() => resolveConfig({ configFile: join(dir, 'missing.json') }), 'config')
  })

  it('refuses a non-loopback API without a token, and accepts it with one', () => {
    configError(() => resolveConfig({ flags: { api: '0.0.0.0:7400' } }), 'api')
    const c = resolveConfig({ flags: { api: '0.0.0.0:7400', apiToken: 'a-long-enough-token' } })
    assert.deepEqual(c.api, { host: '0.0.0.0', port: 7400 })
  })

  it('reads the allowlist from a list or a file', () => {
    assert.deepEqual(resolveConfig({ flags: { allowPeers: PEER } }).allowPeers, [PEER])
    const f = file('allow.txt', `# members\n${PEER}\n\n`)
    assert.deepEqual(resolveConfig({ flags: { allowPeers: f } }).allowPeers, [PEER])
  })

  it('parses API addresses including IPv6', () => {
    assert.deepEqual(parseApiAddress('api', '[::1]:0'), { host: '::1', port: 0 })
    assert.deepEqual(parseApiAddress('api', 'localhost:8080'), { host: 'localhost', port: 8080 })
  })
})
