/**
 * Yamux window updates at half the window, as go-yamux and rust-yamux send them. The js
 * implementation answers every data frame it receives with a window-update frame, which costs the
 * receiver a socket write (a syscall) per frame received: in a Raft round on loopback that was 4
 * of about 10 writes, and batching them away gave about 10% more writes/s at 32 in flight
 * (bench/raft, 10 interleaved runs each way). A stream's sender may have a whole window (256 KiB
 * at first) in flight; the receiver now grants more once half of it has arrived, so a sender
 * never stalls on an update it needs.
 *
 * Stream opening (SYN/ACK flags) and a paused stream are left to the library's own logic.
 */
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

interface ReceiveWindow { state: StreamState, recvWindow: unknown, recvWindowCapacity: unknown }

let installed = false

/** True when a plain window update can wait: less than half the window was received since the last. */
export function canDeferWindowUpdate (s: ReceiveWindow): boolean {
  if (s.state !== StreamState.Established || typeof s.recvWindow !== 'number' || typeof s.recvWindowCapacity !== 'number') return false
  return s.recvWindow - s.recvWindowCapacity < s.recvWindow / 2
}

/** Installs the rule on every yamux stream of this process (idempotent). */
export function lazyYamuxWindowUpdates (): void {
  if (installed) return
  installed = true
  const proto = YamuxStream.prototype as unknown as { sendWindowUpdate?: () => void }
  const send = proto.sendWindowUpdate
  if (typeof send !== 'function') return
  proto.sendWindowUpdate = function (this: YamuxStream) {
    if (canDeferWindowUpdate(this as unknown as ReceiveWindow)) return
    send.call(this)
  }
}
