import type WebSocket from 'ws';
import { TunnelCloseCode } from './close-codes';
import { TunnelError } from './errors';
import { DATAGRAM_BATCH_ACCEPT_FRAME } from './datagram-batch';
import { HALF_CLOSE_ACCEPT_FRAME } from './half-close';
import { HandshakeGuard } from './handshake-guard';
import { WARM_META_ANNOUNCE_FRAME } from './warm-meta';
import {
  describeReply,
  encodePreamble,
  PreambleMode,
  PreambleReplyDecoder,
  type PreambleModeValue,
} from './preamble';
import { RelayDuplex } from './relay-duplex';

/** Options for {@link openSenderTunnel}. */
export interface SenderTunnelOptions {
  /** The service to reach on the listener (azbridge's port name), 1–255 UTF-8 bytes. */
  readonly portName: string;
  /** Preamble mode: stream (TCP, the default) or datagram (UDP, framed by the caller; see datagram-framing.ts). */
  readonly mode?: PreambleModeValue;
  /** How long to wait for the listener's reply (it dials the target first), default 30 s. */
  readonly replyTimeoutMs?: number;
  /** Aborts the wait for the reply (the WebSocket is closed with 1001). */
  readonly signal?: AbortSignal;
  /** Passed to {@link RelayDuplex}. */
  readonly readableHighWaterMark?: number;
  /** Passed to {@link RelayDuplex}. */
  readonly writableHighWaterMark?: number;
}

/** A tunnel the listener accepted. */
export interface SenderTunnel {
  /** The byte stream to the listener's target. */
  readonly duplex: RelayDuplex;
  /** Whether the listener agreed to carry half-close (it sent `hrf:half-close:1` before its reply). */
  readonly halfClose: boolean;
  /** Datagram mode: whether the listener agreed to batched datagrams (it sent `hrf:datagram-batch:1`). */
  readonly datagramBatch: boolean;
}

/** Default time to wait for the listener's preamble reply. */
export const DEFAULT_REPLY_TIMEOUT_MS = 30_000;

/**
 * Sender side of a tunnel: sends the azbridge preamble for `portName` on an open WebSocket, waits for the
 * listener's reply or its failure close code, and returns the byte stream. Offer half-close by setting the
 * `x-hrf-half-close: 1` header on the connect request (see `halfCloseOfferHeaders()`); the result says whether the
 * listener agreed. Rejects with a {@link TunnelError} (e.g. `TUNNEL_TARGET_REFUSED` for close code 4502); on
 * failure the WebSocket is closed.
 */
export function openSenderTunnel(ws: WebSocket, options: SenderTunnelOptions): Promise<SenderTunnel> {
  return new Promise<SenderTunnel>((resolve, reject) => {
    const decoder = new PreambleReplyDecoder();
    const mode = options.mode ?? PreambleMode.STREAM;
    let halfClose = false;
    let datagramBatch = false;
    const guard = new HandshakeGuard(ws, reject, {
      signal: options.signal,
      timeoutMs: options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS,
      aborted: { message: 'aborted while waiting for the preamble reply', reason: 'aborted' },
      timedOut: { message: 'no preamble reply from the listener in time', reason: 'preamble reply timeout' },
    });
    if (!guard.ready()) return;
    let preamble: Buffer;
    try {
      preamble = encodePreamble(options.portName, mode);
    } catch (err) {
      guard.fail(err as TunnelError, TunnelCloseCode.NORMAL);
      return;
    }
    guard.listen((data, isBinary) => {
      const chunk = data as Buffer;
      if (!isBinary) {
        const text = chunk.toString('utf8');
        if (text === HALF_CLOSE_ACCEPT_FRAME) {
          halfClose = true;
          return;
        }
        if (text === DATAGRAM_BATCH_ACCEPT_FRAME && mode === PreambleMode.DATAGRAM) {
          datagramBatch = true;
          return;
        }
        // A warm connection's listener announcing metadata support after the gateway already took it: harmless.
        if (text === WARM_META_ANNOUNCE_FRAME) return;
        const err = new TunnelError(
          'TUNNEL_PROTOCOL',
          'unexpected text frame before the preamble reply',
          false,
        );
        guard.fail(err, TunnelCloseCode.PROTOCOL_ERROR, 'unexpected text frame');
        return;
      }
      const decoded = decoder.push(chunk);
      if (!decoded) return;
      const problem = describeReply(decoded.value, mode);
      if (problem) {
        guard.fail(new TunnelError('TUNNEL_BAD_PREAMBLE', problem, false), TunnelCloseCode.NORMAL);
        return;
      }
      // Hand the WebSocket to the duplex within this event so no later frame can slip past.
      guard.done();
      const duplex = new RelayDuplex(ws, {
        halfClose,
        initialBytes: decoded.rest,
        readableHighWaterMark: options.readableHighWaterMark,
        writableHighWaterMark: options.writableHighWaterMark,
      });
      resolve({ duplex, halfClose, datagramBatch });
    });
    ws.send(preamble);
  });
}
