import type { DatagramChannel } from '../../../common/src/tunnel/datagram-channel';

/** Datagrams a flow holds while its relay connection opens (more are dropped as `queue-full`). */
export const MAX_QUEUED_DATAGRAMS = 64;
/** The same bound in bytes. */
export const MAX_QUEUED_BYTES = 256 * 1024;

/**
 * One client address:port of a UDP route: the datagrams waiting while its relay connection opens, then the
 * open channel, and when it last carried a datagram either way (for the idle timeout).
 */
export class UdpFlow {
  /** The channel once the tunnel is open. */
  channel: DatagramChannel | undefined;
  /** Set when the flow has ended (or failed to open): later datagrams of this client start a new flow. */
  closed = false;
  lastActivityMs = Date.now();
  readonly openedAtMs = Date.now();
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  /** Aborts the open in progress (route removed, gateway stopped). */
  readonly opening = new AbortController();
  /** Why we ended it (idle, route stopped, source no longer allowed); unset when the peer or the relay ended it. */
  endReason: 'idle' | 'stopped' | 'not-allowed' | undefined;
  /** Releases the route's and the gateway's slots; idempotent. */
  release: () => void = () => undefined;

  constructor(
    /** `address:port` (`[v6]:port`) of the client. */
    readonly key: string,
    readonly address: string,
    readonly port: number,
    /** `sb-hc-id` of its relay connection (logs on both ends). */
    readonly connectionId: string,
  ) {}

  /** Holds a datagram until the channel opens; false when the queue is full (the datagram is dropped). */
  enqueue(payload: Buffer): boolean {
    if (this.queue.length >= MAX_QUEUED_DATAGRAMS || this.queuedBytes + payload.length > MAX_QUEUED_BYTES)
      return false;
    // dgram hands each message its own buffer, so holding it costs no copy.
    this.queue.push(payload);
    this.queuedBytes += payload.length;
    return true;
  }

  /** Takes the queued datagrams (once, when the channel opens or the open failed). */
  drainQueue(): Buffer[] {
    const queued = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    return queued;
  }
}
