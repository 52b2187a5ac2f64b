import { strict as assert } from 'node:assert'
import fc from 'fast-check'
import { newSwarmKey, parseSwarmKey } from '../../node/swarm-key.js'
import { SwarmError } from '../../node/errors.js'

describe('swarm key', () => {
  it('prints keys in the pnet v1 format that parse back', () => {
    const text = newSwarmKey()
    const lines = text.trim().split('\n')
    assert.equal(lines[0], '/key/swarm/psk/1.0.0/')
    assert.equal(lines[1], '/base16/')
    assert.match(lines[2] ?? '', /^[0-9a-f]{64}$/)
    parseSwarmKey(new TextEncoder().encode(text), 'test')
    assert.notEqual(newSwarmKey(), text)
  })

  it('rejects anything else with a SwarmError (fuzz)', () => {
    const good = newSwarmKey()
    fc.assert(fc.property(
      fc.oneof(fc.string({ maxLength: 200 }), fc.nat(good.length - 2).map(n => good.slice(0, n)), fc.string().map(s => good.replace(/[0-9a-f]{64}/, s))),
      (text) => {
        try {
          parseSwarmKey(new TextEncoder().encode(text), 'fuzz')
        } catch (err) {
          assert.ok(err instanceof SwarmError, `unexpected ${String(err)}`)
        }
      }
    ), { numRuns: 10_000 })
  })
})
