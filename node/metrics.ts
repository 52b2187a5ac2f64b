/**
 * Per-node Prometheus registry. Each node owns its registry (not prom-client's global one) so
 * that many nodes can share one process in tests and in the local harness.
 */
import { Registry, Counter, Gauge, collectDefaultMetrics } from 'prom-client'

export type RefusalReason = 'swarm_key' | 'allowlist'

export class SwarmMetrics {
  readonly registry = new Registry()
  readonly connectionsRefused: Counter<'reason' | 'direction'>
  readonly peers: Gauge

  constructor (opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics === true) collectDefaultMetrics({ register: this.registry })
    this.connectionsRefused = new Counter({
      name: 'swarmnet_connections_refused_total',
      help: 'Connections refused: a different swarm key, or a peer not on the allowlist',
      labelNames: ['reason', 'direction'],
      registers: [this.registry]
    })
    this.peers = new Gauge({
      name: 'swarmnet_connected_peers',
      help: 'Peers with at least one open connection',
      registers: [this.registry]
    })
  }

  /** Current value of a refusal counter, summed over directions (for status and tests). */
  async refusals (reason: RefusalReason): Promise<number> {
    const m = await this.connectionsRefused.get()
    return m.values.filter(v => v.labels.reason === reason).reduce((a, v) => a + v.value, 0)
  }
}
