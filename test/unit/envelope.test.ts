import { strict as assert } from 'node:assert'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { seal, open, payloadJson, type MessageInit } from '../../protocols/envelope/envelope.js'
import { Signer, PeerKeyCache } from '../../protocols/envelope/keys.js'
import { EnvelopeError } from '../../protocols/envelope/errors.js'
import { STANDARD_TYPES, PRIORITIES } from '../../protocols/envelope/types.js'
import { SignedEnvelope, SwarmMessage as PbMessage } from '../../protocols/envelope/envelope.pb.js'
import { ReplayGuard } from '../../protocols/envelope/replay.js'
import { uuidv7Bytes, uuidToString, uuidFromString, uuidv7Time, isUuidv7 } from '../../protocols/envelope/uuid.js'

async function signer (): Promise<Signer> {
  const key = await generateKeyPair('Ed25519')
  return new Signer(key, peerIdFromPrivateKey(key))
}

function code (fn: () => unknown, expected: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EnvelopeError, `expected EnvelopeError, got ${String(err)}`)
    assert.equal(err.code, expected, err.message)
    return true
  })
}

describe('envelope', () => {
  let alice: Signer
  let bob: Signer
  const keys = new PeerKeyCache()
  const now = 1_800_000_000_000
  const ctx = (s: Signer): { signer: Signer, now: number, random: Uint8Array } => ({ signer: s, now, random: randomBytes(10) })
  before(async () => { alice = await signer(); bob = await signer() })

  it('round-trips every standard type and custom types with every field', () => {
    for (const type of [...STANDARD_TYPES, 'my-app.order:v2', 'X']) {
      for (const priority of PRIORITIES) {
        const init: MessageInit = {
          type, priority, payload: { type, n: 1 }, routing: 'multicast', targetAgents: [bob.peerId],
          correlationId: 'c-1', requiresResponse: true, timeoutMs: 1234, maxRetries: 7, topic: 'signals'
        }
        const { message, bytes } = seal(init, ctx(alice))
        const back = open(bytes, { keys })
        assert.deepEqual(back, message)
        assert.equal(back.type, type)
        assert.equal(back.sourceAgent, alice.peerId)
        assert.deepEqual(back.targetAgents, [bob.peerId])
        assert.deepEqual(payloadJson(back), { type, n: 1 })
      }
    }
  })

  it('uses time-ordered UUIDv7 message ids', () => {
    const a = seal({ type: 'heartbeat' }, { ...ctx(alice), now: now })
    const b = seal({ type: 'heartbeat' }, { ...ctx(alice), now: now + 1 })
    assert.ok(a.message.messageId < b.message.messageId)
    const bytes = uuidFromString(a.message.messageId)!
    assert.ok(isUuidv7(bytes))
    assert.equal(uuidv7Time(bytes), now)
    assert.equal(uuidToString(uuidv7Bytes(now, new Uint8Array(10))).slice(14, 15), '7')
  })

  it('compresses large payloads and says so, and restores them', () => {
    const big = 'a'.repeat(100_000)
    const { bytes } = seal({ type: 'data_update', payload: big }, ctx(alice))
    assert.ok(bytes.length < 10_000, `compressed to ${bytes.length}`)
    assert.ok(PbMessage.decode(SignedEnvelope.decode(bytes).message).compressed)
    assert.equal(payloadJson(open(bytes, { keys })), big)
  })

  it('rejects a forged signature, a changed field and a wrong sender', () => {
    const { bytes } = seal({ type: 'trade_execution', payload: { qty: 1 } }, ctx(alice))
    const env = SignedEnvelope.decode(bytes)
    const sig = env.signature.slice(); sig[0]! ^= 1
    code(() => open(SignedEnvelope.encode({ message: env.message, signature: sig }), { keys }), 'bad_signature')
    const pb = PbMessage.decode(env.message)
    const tampered = PbMessage.encode({ ...pb, payload: new TextEncoder().encode('{"qty":1000}') })
    code(() => open(SignedEnvelope.encode({ message: tampered, signature: env.signature }), { keys }), 'bad_signature')
    // Bob re-signing Alice's message under Alice's name does not verify either.
    code(() => open(SignedEnvelope.encode({ message: env.message, signature: bob.sign(env.message) as Uint8Array<ArrayBuffer> }), { keys }), 'bad_signature')
    code(() => open(bytes, { keys, expectedSender: bob.peerId }), 'wrong_sender')
  })

  it('rejects non-members, oversized and invalid messages', () => {
    const { bytes } = seal({ type: 'vote', payload: 1 }, ctx(alice))
    code(() => open(bytes, { keys, isMember: p => p === bob.peerId }), 'not_member')
    code(() => open(bytes, { keys, maxMessageBytes: 10 }), 'too_large')
    code(() => seal({ type: 'vote', payload: 'x'.repeat(2000) }, { ...ctx(alice), maxMessageBytes: 1000 }), 'too_large')
    code(() => seal({ type: 'bad type!' }, ctx(alice)), 'invalid_field')
    code(() => seal({ type: 'vote', timeoutMs: -1 }, ctx(alice)), 'invalid_field')
    code(() => seal({ type: 'vote', targetAgents: ['nope'] }, ctx(alice)), 'invalid_field')
    code(() => seal({ type: 'vote', payload: () => 1 }, ctx(alice)), 'invalid_field')
  })

  it('decodes garbage, truncations and mutations to EnvelopeError only (fuzz, 10,000 cases)', () => {
    const { bytes, message } = seal({ type: 'market_signal', payload: { s: 'BTC', v: 1 }, topic: 't', targetAgents: [bob.peerId] }, ctx(alice))
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 400 }),
        fc.nat(bytes.length - 1).map(n => bytes.slice(0, n)),
        fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => { const c = bytes.slice(); c[i]! ^= x; return c })
      ),
      (input) => {
        let opened
        try {
          opened = open(input, { keys, maxMessageBytes: 4096 })
        } catch (err) {
          assert.ok(err instanceof EnvelopeError, `unexpected ${String(err)}`)
          return
        }
        // Whatever still opens must be the authentic message, unchanged in meaning.
        assert.deepEqual(opened, message)
      }
    ), { numRuns: 10_000 })
  })
})

describe('replay guard', () => {
  it('accepts once, flags duplicates, refuses stale and future timestamps', () => {
    const g = new ReplayGuard<number>({ windowMs: 1000, maxEntries: 100 })
    assert.equal(g.check('a', 5000, 5000).kind, 'fresh')
    g.remember('a', 5000, 1, 5000)
    assert.deepEqual(g.check('a', 5000, 5001), { kind: 'duplicate', value: 1 })
    assert.equal(g.check('b', 3999, 5000).kind, 'stale')
    assert.equal(g.check('b', 6001, 5000).kind, 'stale')
  })

  it('never accepts a replay, even when full (the watermark rises)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(50), fc.nat(2000)), { maxLength: 300 }), (ops) => {
      const g = new ReplayGuard({ windowMs: 500, maxEntries: 20 })
      const accepted = new Set<string>()
      let now = 10_000
      for (const [id, dt] of ops) {
        now += dt % 7
        const ts = now - (dt % 600)
        const key = `m${id}-${ts}`
        const v = g.check(key, ts, now)
        if (v.kind === 'fresh') {
          assert.ok(!accepted.has(key), `replay of ${key} accepted`)
          accepted.add(key)
          g.remember(key, ts, true, now)
        }
      }
      assert.ok(g.size <= 20)
    }), { numRuns: 500 })
  })
})
