import { strict as assert } from 'node:assert'
import { isDaemon, semiSpaceMb, v8Flags, v8PoolSize, V8SettingError } from '../../node/v8-settings.js'

describe('V8 settings of a daemon', () => {
  it('only commands that run a node count as daemons', () => {
    for (const args of [['start'], ['start', '--config', 'x.json'], ['bootstrap', '--listen', 'a'], ['local', '--nodes', '5']]) assert.equal(isDaemon(args), true, args.join(' '))
    for (const args of [[], ['--version'], ['--help', 'start'], ['kv', 'get', 'start'], ['members'], ['keygen']]) assert.equal(isDaemon(args), false, args.join(' '))
  })

  it('worker pool: one fewer than the cores, Node\'s 4 (left alone) from 5 cores up', () => {
    const size = (cores: number): number | undefined => v8PoolSize({ cores, env: {}, execArgv: [] })
    assert.deepEqual([1, 2, 3, 4, 5, 8, 64].map(size), [1, 1, 2, 3, undefined, undefined, undefined])
  })

  it('worker pool: keeps a size already chosen, and takes SWARMNET_V8_POOL_SIZE (0: Node\'s default; anything else outside 0-64 is an error)', () => {
    assert.equal(v8PoolSize({ cores: 2, env: {}, execArgv: ['--v8-pool-size=3'] }), undefined)
    assert.equal(v8PoolSize({ cores: 2, env: { NODE_OPTIONS: '--max-old-space-size=512 --v8-pool-size 2' }, execArgv: [] }), undefined)
    assert.equal(v8PoolSize({ cores: 2, env: { NODE_OPTIONS: '--max-old-space-size=512' }, execArgv: [] }), 1)
    assert.equal(v8PoolSize({ cores: 2, env: { SWARMNET_V8_POOL_SIZE: '3' }, execArgv: [] }), 3)
    assert.equal(v8PoolSize({ cores: 32, env: { SWARMNET_V8_POOL_SIZE: '2' }, execArgv: [] }), 2)
    assert.equal(v8PoolSize({ cores: 2, env: { SWARMNET_V8_POOL_SIZE: '0' }, execArgv: [] }), undefined)
    for (const bad of ['default', '-1', '1.5', '65', '1e1', 'x']) {
      assert.throws(() => v8PoolSize({ cores: 2, env: { SWARMNET_V8_POOL_SIZE: bad }, execArgv: [] }), V8SettingError, bad)
    }
  })

  it('young generation: 2 MiB semi-spaces on any host, unless chosen already or by SWARMNET_V8_SEMI_SPACE_MB (0: V8\'s default; 0-256)', () => {
    for (const cores of [2, 64]) assert.equal(semiSpaceMb({ cores, env: {}, execArgv: [] }), 2)
    assert.equal(semiSpaceMb({ cores: 2, env: {}, execArgv: ['--max-semi-space-size=16'] }), undefined)
    assert.equal(semiSpaceMb({ cores: 2, env: { NODE_OPTIONS: '--max-semi-space-size 8' }, execArgv: [] }), undefined)
    assert.equal(semiSpaceMb({ cores: 2, env: { NODE_OPTIONS: '--max-old-space-size=512' }, execArgv: [] }), 2)
    assert.equal(semiSpaceMb({ cores: 2, env: { SWARMNET_V8_SEMI_SPACE_MB: '8' }, execArgv: [] }), 8)
    assert.equal(semiSpaceMb({ cores: 2, env: { SWARMNET_V8_SEMI_SPACE_MB: '0' }, execArgv: [] }), undefined)
    for (const bad of ['big', '-2', '0.5', '257', '1000']) {
      assert.throws(() => semiSpaceMb({ cores: 2, env: { SWARMNET_V8_SEMI_SPACE_MB: bad }, execArgv: [] }), V8SettingError, bad)
    }
  })

  it('the flags a daemon restarts with: none once they are in its own flags, so it restarts at most once', () => {
    assert.deepEqual(v8Flags({ cores: 2, env: {}, execArgv: [] }), ['--v8-pool-size=1', '--max-semi-space-size=2'])
    assert.deepEqual(v8Flags({ cores: 8, env: {}, execArgv: [] }), ['--max-semi-space-size=2'])
    assert.deepEqual(v8Flags({ cores: 2, env: {}, execArgv: [] }, false), ['--v8-pool-size=1'])
    assert.deepEqual(v8Flags({ cores: 2, env: {}, execArgv: ['--v8-pool-size=1', '--max-semi-space-size=2'] }), [])
    assert.deepEqual(v8Flags({ cores: 8, env: { SWARMNET_V8_SEMI_SPACE_MB: '0' }, execArgv: [] }), [])
  })
})
