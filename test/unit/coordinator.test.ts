import { strict as assert } from 'node:assert'
import { Coordinator, type CoordRaft } from '../../protocols/coordination/coordinator.js'
import { CoordinationState, type CoordCommand, type CoordEvent } from '../../protocols/coordination/core/index.js'
import { CoordinationError } from '../../protocols/coordination/errors.js'

/** The coordinator over an in-memory log: every command applies at once, in call order. */
function fakeRaft (before?: (req: { op: string }) => void): { raft: CoordRaft, state: CoordinationState, apply: (cmd: Record<string, unknown>) => void } {
  const state = new CoordinationState()
  const listeners = new Set<(events: CoordEvent[], index: number) => void>()
  let index = 0
  const apply = (cmd: Record<string, unknown>): { result: ReturnType<CoordinationState['apply']>['result'], index: number } => {
    const { result, events } = state.apply(++index, { ...cmd, rid: `r${index}` } as CoordCommand)
    for (const l of listeners) l(events, index)
    return { result, index }
  }
  const raft: CoordRaft = {
    coordinate: async (req) => { before?.(req); return apply(req as Record<string, unknown>) },
    onCoordEvents: (l) => { listeners.add(l); return () => { listeners.delete(l) } },
    keepAlive: () => {},
    coordination: state
  }
  return { raft, state, apply }
}

describe('coordinator', () => {
  it('a wait that times out fails even when the grant lands just before its cancel (the cancel releases it)', async () => {
    const holder: { current?: { lease: string, token: number } } = {}
    // Just before B's cancel applies, A releases: B is granted, then B's own cancel releases it.
    const { raft, state, apply } = fakeRaft(req => {
      const h = holder.current
      if (req.op === 'lock_cancel' && h !== undefined) apply({ op: 'lock_release', resource: 'r', lease: h.lease, fencingToken: h.token })
    })
    const a = new Coordinator(raft, { owner: 'A' })
    const b = new Coordinator(raft, { owner: 'B' })
    const ha = await a.acquire('r')
    holder.current = { lease: ha.leaseId, token: ha.fencingToken }
    await assert.rejects(b.acquire('r', { timeoutMs: 30 }), (err: unknown) => err instanceof CoordinationError && err.code === 'timeout')
    assert.deepEqual(state.lockInfo('r'), { holders: [], queue: [] })
    a.close()
    b.close()
  })

  it('release() of a lock whose lease expired reports the loss', async () => {
    const { raft, apply } = fakeRaft()
    const c = new Coordinator(raft, { owner: 'A' })
    const h = await c.acquire('r')
    apply({ op: 'lease_revoke', leaseId: h.leaseId, reason: 'expired' })
    await assert.rejects(h.release(), (err: unknown) => err instanceof CoordinationError && err.code === 'lease_expired')
    c.close()
  })
})
