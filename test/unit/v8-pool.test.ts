import { strict as assert } from 'node:assert'
import { isDaemon, v8PoolSize, V8PoolSizeError } from '../../node/v8-pool.js'

describe('V8 worker pool of a daemon', () => {
  it('only commands that run a node count as daemons', () => {
    for (const args of [['start'], ['start', '--config', 'x.json'], ['bootstrap', '--listen', 'a'], ['local', '--nodes', '5']]) assert.equal(isDaemon(args), true, args.join(' '))
    for (const args of [[], ['--version'], ['--help', 'start'], ['kv', 'get', 'start'], ['members'], ['keygen']]) assert.equal(isDaemon(args), false, args.join(' '))
  })

  it('one fewer than the cores, Node\'s 4 (left alone) from 5 cores up', () => {
    const size = (cores: number): number | undefined => v8PoolSize({ cores, env: {}, execArgv: [] })
    assert.deepEqual([1, 2, 3, 4, 5, 8, 64].map(size), [1, 1, 2, 3, undefined, undefined, undefined])
  })

  it('keeps a size already chosen, and takes SWARMNET_V8_POOL_SIZE (0: Node\'s default; anything else outside 0-64 is an error)', () => {
    assert.equal(v8PoolSize({ cores: 2, env: {}, execArgv: ['--v8-pool-size=3'] }), undefined)
    assert.equal(v8PoolSize({ cores: 2, env: { NODE_OPTIONS: '--max-old-space-size=512 --v8-pool-size 2' }, execArgv: [] }), undefined)
    assert.equal(v8PoolSize({ cores: 2, env: { NODE_OPTIONS: '--max-old-space-size=512' }, execArgv: [] }), 1)
    assert.equal(v8PoolSize({ cores: 2, env: { SWARMNET_V8_POOL_SIZE: '3' }, execArgv: [] }), 3)
    assert.equal(v8PoolSize({ cores: 32, env: { SWARMNET_V8_POOL_SIZE: '2' }, execArgv: [] }), 2)
    assert.equal(v8PoolSize({ cores: 2, env: { SWARMNET_V8_POOL_SIZE: '0' }, execArgv: [] }), undefined)
    for (const bad of ['default', '-1', '1.5', '65', '1e1', 'x']) {
      assert.throws(() => v8PoolSize({ cores: 2, env: { SWARMNET_V8_POOL_SIZE: bad }, execArgv: [] }), V8PoolSizeError, bad)
    }
  })
})
