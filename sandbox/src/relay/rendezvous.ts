import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** A sender whose upgrade is held until a listener opens the accept address (or the window closes). */
export interface PendingRendezvous {
  /** Unguessable key carried in the accept address; the address is a one-time capability. */
  readonly key: string;
  /** The connection id (the sender's `sb-hc-id`, or one the relay made up). */
  readonly id: string;
  readonly hcName: string;
  readonly senderReq: IncomingMessage;
  readonly senderSocket: Duplex;
  /** Stops watching the held socket and returns the bytes to hand to the WebSocket (head plus any early data). */
  readonly releaseSender: () => Buffer;
  readonly listenerId: string;
  /** Cancels the accept-window timer. */
  readonly cancelTimer: () => void;
}

/** Pending rendezvous by key; `take` makes each address usable once. */
export class RendezvousTable {
  private readonly pending = new Map<string, PendingRendezvous>();

  /** Registers a pending rendezvous. */
  add(rendezvous: PendingRendezvous): void {
    this.pending.set(rendezvous.key, rendezvous);
  }

  /** Looks a rendezvous up without consuming it. */
  get(key: string): PendingRendezvous | undefined {
    return this.pending.get(key);
  }

  /** Removes and returns a rendezvous, cancelling its timer: after this, its address is no longer valid. */
  take(key: string): PendingRendezvous | undefined {
    const found = this.pending.get(key);
    if (!found) return undefined;
    this.pending.delete(key);
    found.cancelTimer();
    return found;
  }

  /** Every pending rendezvous. */
  list(): PendingRendezvous[] {
    return [...this.pending.values()];
  }

  /** Number pending. */
  get size(): number {
    return this.pending.size;
  }
}
