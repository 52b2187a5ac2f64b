import { strict as assert } from 'node:assert'
import { SeenPeers } from '../../node/peer-dialer.js'

describe('peer dialer', () => {
  it('takes only a never-seen peer as news (a restarted member reconnecting is not)', () => {
    const seen = new SeenPeers(3)
    assert.equal(seen.firstSight('a'), true)
    assert.equal(seen.firstSight('a'), false, 'a reconnect')
    assert.equal(seen.firstSight('b'), true)
    assert.equal(seen.firstSight('c'), true)
    assert.equal(seen.firstSight('d'), true, 'past capacity the oldest is forgotten')
    assert.equal(seen.firstSight('b'), false)
    assert.equal(seen.firstSight('a'), true, 'forgotten, so news again')
  })
})
