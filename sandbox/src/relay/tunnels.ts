import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { pumpDirection } from './frame-pump';
import type { RelayCounters } from './stats';

/** One established connection: the sender's WebSocket joined to the listener's rendezvous WebSocket. */
export interface Tunnel {
  readonly id: string;
  /** The connection id the listener saw in the accept message. */
  readonly connectionId: string;
  readonly hcName: string;
  readonly sender: WebSocket;
  readonly listener: WebSocket;
  readonly openedAtMs: number;
}

/** Active tunnels; each removes itself when both of its sockets have closed. */
export class TunnelRegistry {
  private readonly tunnels = new Set<Tunnel>();

  constructor(
    private readonly counters: RelayCounters,
    private readonly maxInFlightBytesPerDirection: number,
  ) {}

  /** Joins two open WebSockets and pumps frames both ways with bounded in-flight bytes. */
  open(connectionId: string, hcName: string, sender: WebSocket, listener: WebSocket): Tunnel {
    const tunnel: Tunnel = {
      id: randomUUID(),
      connectionId,
      hcName,
      sender,
      listener,
      openedAtMs: Date.now(),
    };
    this.tunnels.add(tunnel);
    this.counters.tunnelsOpened++;
    const counters = this.counters;
    const observe = (direction: 'bytesSenderToListener' | 'bytesListenerToSender') => ({
      maxInFlightBytes: this.maxInFlightBytesPerDirection,
      onForwarded(bytes: number, bufferedBytes: number) {
        counters[direction] += bytes;
        if (bufferedBytes > counters.maxBufferedBytesObserved)
          counters.maxBufferedBytesObserved = bufferedBytes;
      },
      onPaused() {
        counters.backpressurePauses++;
      },
    });
    pumpDirection(sender, listener, observe('bytesSenderToListener'));
    pumpDirection(listener, sender, observe('bytesListenerToSender'));

    let open = 2;
    const onClose = (): void => {
      if (--open === 0) this.tunnels.delete(tunnel);
    };
    for (const ws of [sender, listener]) {
      ws.once('close', onClose);
      // Errors are followed by 'close'; listening here keeps them from becoming uncaught exceptions.
      ws.on('error', () => undefined);
    }
    return tunnel;
  }

  /** Active tunnels, optionally only those of one hybrid connection (any case). */
  list(hcName?: string): Tunnel[] {
    const all = [...this.tunnels];
    return hcName === undefined ? all : all.filter((t) => t.hcName.toLowerCase() === hcName.toLowerCase());
  }

  /** Number of active tunnels. */
  get size(): number {
    return this.tunnels.size;
  }
}
