/**
 * The optional peer allowlist, enforced by libp2p's connection gater in both directions: we
 * never dial a peer that is not listed, and an inbound connection is dropped as soon as the
 * encryption handshake reveals the remote peer id.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface'

export interface AllowlistInit {
  /** Allowed peer ids; undefined allows every peer (the swarm key still applies). */
  allow?: string[]
  onDeny: (peer: string, direction: 'inbound' | 'outbound') => void
}

export function allowlistGater (init: AllowlistInit): ConnectionGater {
  if (init.allow == null) return {}
  const allowed = new Set(init.allow)
  const deny = (peer: PeerId, direction: 'inbound' | 'outbound'): boolean => {
    const id = peer.toString()
    if (allowed.has(id)) return false
    init.onDeny(id, direction)
    return true
  }
  return {
    denyDialPeer: (peer) => deny(peer, 'outbound'),
    denyInboundEncryptedConnection: (peer) => deny(peer, 'inbound'),
    denyOutboundEncryptedConnection: (peer) => deny(peer, 'outbound')
  }
}
