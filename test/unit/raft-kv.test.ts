import { strict as assert } from 'node:assert'
import fc from 'fast-check'
import { KvInputError, KvState, decodeCommand, decodeRecord, encodeCommand, type Command, type KvCommand } from '../../protocols/raft/kv.js'

const enc = new TextEncoder()

describe('raft key-value state machine', () => {
  it('puts, gets and deletes; a version is the index of the last write', () => {
    const kv = new KvState()
    assert.deepEqual(kv.apply(3, { rid: 'r', op: 'get', key: 'a' }), { ok: false, error: 'not_found', key: 'a' })
    assert.deepEqual(kv.apply(4, { rid: 'r', op: 'put', key: 'a', value: { px: 101.5 } }), { ok: true, op: 'put', key: 'a', version: 4 })
    assert.deepEqual(kv.get('a'), { value: { px: 101.5 }, version: 4 })
    assert.deepEqual(kv.apply(5, { rid: 'r', op: 'get', key: 'a' }), { ok: true, op: 'get', key: 'a', value: { px: 101.5 }, version: 4 })
    assert.deepEqual(kv.apply(9, { rid: 'r', op: 'put', key: 'a', value: null }), { ok: true, op: 'put', key: 'a', version: 9 })
    assert.deepEqual(kv.apply(10, { rid: 'r', op: 'del', key: 'a' }), { ok: true, op: 'del', key: 'a', deleted: true, version: 9 })
    assert.deepEqual(kv.apply(11, { rid: 'r', op: 'del', key: 'a' }), { ok: true, op: 'del', key: 'a', deleted: false, version: 0 })
    assert.equal(kv.size, 0)
  })

  it('compare-and-set on prevVersion; 0 means absent; a recreated key never reuses a version', () => {
    const kv = new KvState()
    assert.equal(kv.apply(1, { rid: 'r', op: 'put', key: 'lock', value: 'a', prevVersion: 0 }).ok, true)
    assert.deepEqual(kv.apply(2, { rid: 'r', op: 'put', key: 'lock', value: 'b', prevVersion: 0 }), { ok: false, error: 'conflict', key: 'lock', version: 1 })
    assert.equal(kv.apply(3, { rid: 'r', op: 'put', key: 'lock', value: 'b', prevVersion: 1 }).ok, true)
    assert.deepEqual(kv.apply(4, { rid: 'r', op: 'del', key: 'lock', prevVersion: 1 }), { ok: false, error: 'conflict', key: 'lock', version: 3 })
    assert.equal(kv.apply(5, { rid: 'r', op: 'del', key: 'lock', prevVersion: 3 }).ok, true)
    // Deleted and written again: the old version 1 must not match (no ABA).
    kv.apply(6, { rid: 'r', op: 'put', key: 'lock', value: 'c' })
    assert.equal(kv.apply(7, { rid: 'r', op: 'put', key: 'lock', value: 'd', prevVersion: 1 }).ok, false)
    assert.equal(kv.get('lock')?.value, 'c')
  })

  it('encodes and decodes commands; anything else in an entry is not a command', () => {
    const cmds: Command[] = [
      { rid: 'a1', op: 'put', key: 'k', value: [1, 'two', { three: 3 }] },
      { rid: 'a2', op: 'put', key: 'k/with/slashes', value: null, prevVersion: 7 },
      { rid: 'a3', op: 'del', key: 'k', prevVersion: 0 },
      { rid: 'a4', op: 'get', key: 'ключ' },
      { rid: 'a5', op: 'learners', ids: ['12D3KooWA', '12D3KooWB'] }
    ]
    for (const c of cmds) assert.deepEqual(decodeCommand(encodeCommand(c)), c)
    for (const bad of ['', 'null', '[]', '{"op":"put","key":"k","value":1}', '{"rid":"r","op":"put","key":"","value":1}',
      '{"rid":"r","op":"put","key":"k"}', '{"rid":"r","op":"drop","key":"k"}', '{"rid":"r","op":"put","key":"k","value":1,"prevVersion":-1}',
      '{"rid":"r","op":"learners","ids":[]}', '{"rid":"r","op":"get","key":"a\\u0000b"}', 'not json at all']) {
      assert.equal(decodeCommand(enc.encode(bad)), undefined, bad)
    }
    assert.throws(() => encodeCommand({ rid: 'r', op: 'put', key: 'k', value: 'x'.repeat(300_000) }), KvInputError)
  })

  it('is deterministic: replicas applying the same log agree, and a reload from its snapshot records matches', () => {
    const key = fc.constantFrom('a', 'b', 'c')
    const command: fc.Arbitrary<KvCommand> = fc.oneof(
      fc.record({ rid: fc.constant('r'), op: fc.constant('put' as const), key, value: fc.jsonValue(), prevVersion: fc.option(fc.nat(20), { nil: undefined }) }),
      fc.record({ rid: fc.constant('r'), op: fc.constant('del' as const), key, prevVersion: fc.option(fc.nat(20), { nil: undefined }) }),
      fc.record({ rid: fc.constant('r'), op: fc.constant('get' as const), key })
    )
    fc.assert(fc.property(fc.array(command, { maxLength: 40 }), (log) => {
      const a = new KvState()
      const b = new KvState()
      log.forEach((cmd, i) => {
        // The log carries encoded commands: go through the encoding as replicas do.
        const decoded = decodeCommand(encodeCommand(cmd)) as KvCommand
        assert.deepEqual(a.apply(i + 1, decoded), b.apply(i + 1, decoded))
      })
      const records = [...a.encodedCopy()]
      const c = new KvState()
      c.load(records)
      for (const k of ['a', 'b', 'c']) assert.deepEqual(c.get(k), a.get(k))
      for (const [k, rec] of records) assert.deepEqual(decodeRecord(rec), a.get(k))
      assert.equal(c.size, a.size)
    }), { numRuns: 300 })
  })
})
