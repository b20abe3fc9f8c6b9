import { TunnelCloseCode } from './close-codes';
import { DatagramDecoder, encodeDatagram, MAX_UDP_PAYLOAD_BYTES } from './datagram-framing';
import { isTunnelError, TunnelError } from './errors';
import type { Duplex } from 'node:stream';

/** The tunnel's byte stream: a RelayDuplex (its `relayBufferedBytes` counts ws's queue too) or any Duplex. */
export type DatagramDuplex = Duplex & { readonly relayBufferedBytes?: number };

/**
 * Datagrams that wait while a write is in flight go out together, in messages of at most this many bytes (whole
 * datagrams only, so azbridge's reader, which cannot reassemble a payload split over messages, reads them right).
 */
export const MAX_BATCH_MESSAGE_BYTES = 64 * 1024;

/** Relay-side backlog above which new datagrams are dropped instead of queued (UDP may lose; memory must not grow). */
export const DEFAULT_DATAGRAM_BACKLOG_BYTES = 256 * 1024;

/** Options for {@link DatagramChannel}. */
export interface DatagramChannelOptions {
  /** Datagrams above this size are refused both ways (default 65,507, the IPv4 UDP maximum). */
  readonly maxDatagramBytes?: number;
  /** Bytes queued towards the relay (ours and ws's) above which `send` drops (default 256 KiB). */
  readonly maxBacklogBytes?: number;
  /**
   * Several whole datagrams may share a message (both ends agreed: `x-hrf-datagram-batch`); default false, one
   * datagram per message, as azbridge writes and needs.
   */
  readonly batch?: boolean;
  /** Each datagram that arrived from the relay, in order. */
  readonly onDatagram: (payload: Buffer) => void;
  /** A datagram from the relay above `maxDatagramBytes` was dropped (its bytes were skipped). */
  readonly onOversized?: (bytes: number) => void;
}

/** Why {@link DatagramChannel.send} did not send a datagram. */
export type DatagramDropReason = 'oversized' | 'backlog' | 'closed';

/** How a datagram channel ended: cleanly (either end closed it with 1000) or with a TunnelError. */
export interface DatagramChannelEnd {
  readonly ok: boolean;
  readonly error?: TunnelError;
}

/**
 * One UDP flow over a tunnel's byte stream (a RelayDuplex opened in datagram mode): frames what is sent
 * (azbridge's length prefix), decodes what arrives, and counts both ways. Each datagram is its own WebSocket
 * message, unless both ends agreed to batching: then a datagram goes out at once when no write is in flight, and
 * those that arrive meanwhile are sent together when it completes (no timer, so no added latency when idle, and
 * fewer frames and TLS records when busy). Never blocks: when the
 * relay is behind, datagrams are dropped, as a congested UDP path would.
 */
export class DatagramChannel {
  /** Datagrams and payload bytes sent into the tunnel, and received from it. */
  datagramsSent = 0;
  bytesSent = 0;
  datagramsReceived = 0;
  bytesReceived = 0;
  /** Completes once the tunnel has closed (never rejects). */
  readonly ended: Promise<DatagramChannelEnd>;
  private readonly maxDatagramBytes: number;
  private readonly maxBacklogBytes: number;
  private readonly batching: boolean;
  private closed = false;
  private writesInFlight = 0;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private readonly onWritten = (): void => {
    this.writesInFlight -= 1;
    if (this.writesInFlight === 0) this.flushBatch();
  };

  constructor(
    private readonly duplex: DatagramDuplex,
    options: DatagramChannelOptions,
  ) {
    this.maxDatagramBytes = options.maxDatagramBytes ?? MAX_UDP_PAYLOAD_BYTES;
    this.maxBacklogBytes = options.maxBacklogBytes ?? DEFAULT_DATAGRAM_BACKLOG_BYTES;
    this.batching = options.batch ?? false;
    const decoder = new DatagramDecoder(this.maxDatagramBytes);
    duplex.on('data', (chunk: Buffer) => {
      const { datagrams, oversized } = decoder.push(chunk);
      for (const size of oversized) options.onOversized?.(size);
      for (const payload of datagrams) {
        this.datagramsReceived += 1;
        this.bytesReceived += payload.length;
        options.onDatagram(payload);
      }
    });
    this.ended = new Promise<DatagramChannelEnd>((resolve) => {
      let error: TunnelError | undefined;
      duplex.on('error', (err) => {
        error ??= isTunnelError(err) ? err : new TunnelError('TUNNEL_REMOTE_ERROR', String(err), false);
      });
      // The peer's clean close ends our readable; the flow is over then, so close our side too.
      duplex.on('end', () => this.close());
      duplex.on('close', () => {
        this.closed = true;
        resolve(error ? { ok: false, error } : { ok: true });
      });
    });
  }

  /** Whether the tunnel still carries datagrams. */
  get open(): boolean {
    return !this.closed && !this.duplex.destroyed && !this.duplex.writableEnded;
  }

  /** Sends one datagram, or says why it was dropped. */
  send(payload: Uint8Array): DatagramDropReason | undefined {
    if (!this.open) return 'closed';
    if (payload.length > this.maxDatagramBytes) return 'oversized';
    const queued = this.batchBytes + this.duplex.writableLength + (this.duplex.relayBufferedBytes ?? 0);
    if (queued > this.maxBacklogBytes) return 'backlog';
    const frame = encodeDatagram(payload);
    if (this.writesInFlight === 0 || !this.batching) this.write(frame);
    else {
      if (this.batchBytes + frame.length > MAX_BATCH_MESSAGE_BYTES) this.flushBatch();
      this.batch.push(frame);
      this.batchBytes += frame.length;
    }
    this.datagramsSent += 1;
    this.bytesSent += payload.length;
    return undefined;
  }

  /** Ends the flow cleanly (close 1000) after what is queued: idle expiry, route removed. */
  close(): void {
    if (this.duplex.writableEnded || this.duplex.destroyed) return;
    this.flushBatch();
    this.duplex.end();
  }

  private write(chunk: Buffer): void {
    this.writesInFlight += 1;
    this.duplex.write(chunk, this.onWritten);
  }

  private flushBatch(): void {
    if (this.batch.length === 0 || this.duplex.writableEnded || this.duplex.destroyed) return;
    const frames = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    this.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  }

  /** Ends the flow at once with a close code the peer sees (default 1001 going away). */
  abort(reason = 'flow aborted', closeCode: number = TunnelCloseCode.GOING_AWAY): void {
    if (this.duplex.destroyed) return;
    this.duplex.destroy(new TunnelError('TUNNEL_ABORTED', reason, false, closeCode));
  }
}
