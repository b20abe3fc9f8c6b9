import { WebSocket, type RawData } from 'ws';
import { truncateCloseReason } from './http-response';

/** Default bound on bytes queued toward one side of a tunnel (real Azure pushes back at roughly 14-16 MiB). */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 16 * 1024 * 1024;

/** Observations the pump reports, per direction. */
export interface PumpObserver {
  /** A frame of `bytes` was forwarded; `bufferedBytes` is the destination's bufferedAmount right after. */
  onForwarded?(bytes: number, bufferedBytes: number): void;
  /** Reading from the source stopped because the destination is backed up. */
  onPaused?(): void;
}

/** Options for pumpDirection. */
export interface PumpDirectionOptions extends PumpObserver {
  /** Pause the source once the destination's bufferedAmount exceeds this. */
  readonly maxInFlightBytes: number;
}

/**
 * Forwards every message from `source` to `destination`, text as text and binary as binary, and applies
 * backpressure: when the destination's bufferedAmount (bytes queued but not yet handed to the kernel)
 * exceeds the bound, stop reading the source; read again once it has drained to half. Memory per
 * direction stays near the bound plus one message, whatever the speeds of the two ends.
 */
export function pumpDirection(
  source: WebSocket,
  destination: WebSocket,
  options: PumpDirectionOptions,
): void {
  const lowWaterBytes = Math.floor(options.maxInFlightBytes / 2);
  let paused = false;

  const maybeResume = (): void => {
    if (paused && destination.bufferedAmount <= lowWaterBytes) {
      paused = false;
      source.resume();
    }
  };

  source.on('message', (data: RawData, isBinary: boolean) => {
    if (destination.readyState !== WebSocket.OPEN) return;
    const payload = toBuffer(data);
    destination.send(payload, { binary: isBinary }, maybeResume);
    const buffered = destination.bufferedAmount;
    options.onForwarded?.(payload.length, buffered);
    if (!paused && buffered > options.maxInFlightBytes) {
      paused = true;
      source.pause();
      options.onPaused?.();
    }
  });

  // A source that stopped reading must not stay paused when the destination is gone.
  destination.once('close', () => {
    if (paused) {
      paused = false;
      source.resume();
    }
  });

  source.once('close', (code: number, reason: Buffer) => forwardClose(destination, code, reason.toString()));
}

/**
 * Closes `destination` the way `source` was closed: the same code and reason. Codes that cannot be
 * sent on the wire are mapped: 1005 (no code) becomes a close frame without a code, 1006 (connection
 * lost without a close frame) becomes 1001 ("the sender client shuts down the connection").
 */
export function forwardClose(destination: WebSocket, code: number, reason: string): void {
  if (destination.readyState !== WebSocket.OPEN) return;
  if (code === 1005) {
    destination.close();
  } else if (isSendableCloseCode(code)) {
    destination.close(code, truncateCloseReason(reason));
  } else {
    destination.close(1001, 'peer connection lost');
  }
}

/** True for close codes an endpoint may put in a close frame (RFC 6455 section 7.4). */
export function isSendableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
