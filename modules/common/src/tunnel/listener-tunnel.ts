import WebSocket from 'ws';
import { TunnelCloseCode, tunnelErrorForCode } from './close-codes';
import { isTunnelError, TunnelError } from './errors';
import { type ConnectHeaders, HALF_CLOSE_ACCEPT_FRAME, offersHalfClose } from './half-close';
import { HandshakeGuard } from './handshake-guard';
import { DATAGRAM_BATCH_ACCEPT_FRAME, offersDatagramBatch } from './datagram-batch';
import {
  encodePreambleReply,
  type Preamble,
  type PreambleModeValue,
  PreambleDecoder,
  PreambleMode,
} from './preamble';
import { RelayDuplex } from './relay-duplex';
import { closeCodeForTargetError } from './target-errors';
import { decodeWarmMeta } from './warm-meta';

/** Options for {@link acceptListenerTunnel}. */
export interface ListenerTunnelOptions {
  /** Agree to half-close when the sender offers it (default true). */
  readonly supportHalfClose?: boolean;
  /** How long the sender may take to send its preamble, default 10 s (then close 4408). */
  readonly preambleTimeoutMs?: number;
  /** Aborts the wait for the preamble (the WebSocket is closed with 1001). */
  readonly signal?: AbortSignal;
  /** Read one optional `hrf:meta` text frame before the preamble (warm connections whose sender was told so). */
  readonly acceptMetadata?: boolean;
  /** Accept datagram (UDP) preambles too; the caller checks the mode against its service. Default false (4400). */
  readonly acceptDatagram?: boolean;
  /** Passed to {@link RelayDuplex}. */
  readonly readableHighWaterMark?: number;
  /** Passed to {@link RelayDuplex}. */
  readonly writableHighWaterMark?: number;
}

/** A sender's request, read from its preamble; answer it with exactly one of `confirm()` or `fail()`. */
export interface ListenerTunnelRequest {
  /** The service the sender asked for. */
  readonly portName: string;
  /** Stream mode, or datagram mode when `acceptDatagram` was set (otherwise datagram preambles are refused with 4400). */
  readonly mode: PreambleModeValue;
  /** Whether half-close will be carried once confirmed (the sender offered it and this end supports it). */
  readonly halfClose: boolean;
  /** Datagram mode: whether several datagrams may share a message (the sender offered it; agreed on confirm). */
  readonly datagramBatch: boolean;
  /**
   * Payload bytes that arrived in the preamble's frame. They are already queued at the head of the duplex;
   * exposed for logging or protocol sniffing only — do not write them to the target yourself.
   */
  readonly initialBytes: Buffer;
  /** Per-client headers from the sender's `hrf:meta` frame (only with `acceptMetadata`, when one was sent). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Aborted when the sender goes away before an answer, so a dial in progress can be cancelled. */
  readonly signal: AbortSignal;
  /** Sends the reply (after the half-close accept frame when agreed) and returns the byte stream; throws if the sender left. */
  confirm(): RelayDuplex;
  /**
   * Closes the WebSocket with the failure code for `cause` instead of replying: a TunnelError keeps its close code,
   * a target dial error maps to 4502/4503/4504/4500, a number is taken as the close code. `reason` overrides the
   * default reason text (keep it short and free of internal addresses).
   */
  fail(cause: unknown, reason?: string): void;
}

/** Default time a sender has to send its preamble. */
export const DEFAULT_PREAMBLE_TIMEOUT_MS = 10_000;

/**
 * Listener side of a tunnel: reads the azbridge preamble from an accepted WebSocket (any frame split, payload may
 * follow in the same frame) and returns the request so the caller can dial the target before answering. Bytes the
 * sender sends meanwhile are buffered (the WebSocket is paused past the duplex's high-water mark). A malformed or
 * datagram preamble is refused with close code 4400 and the promise rejects with `TUNNEL_BAD_PREAMBLE`.
 */
export function acceptListenerTunnel(
  ws: WebSocket,
  connectHeaders: ConnectHeaders,
  options: ListenerTunnelOptions = {},
): Promise<ListenerTunnelRequest> {
  return new Promise<ListenerTunnelRequest>((resolve, reject) => {
    const decoder = new PreambleDecoder();
    const guard = new HandshakeGuard(ws, reject, {
      signal: options.signal,
      timeoutMs: options.preambleTimeoutMs ?? DEFAULT_PREAMBLE_TIMEOUT_MS,
      aborted: { message: 'aborted while waiting for the preamble', reason: 'going away' },
      timedOut: { message: 'no preamble from the sender in time', reason: 'preamble timeout' },
    });
    const refuse = (err: TunnelError): void => guard.fail(err, TunnelCloseCode.BAD_PREAMBLE, err.message);
    if (!guard.ready()) return;
    let metadata: Record<string, string> | undefined;
    let preambleStarted = false;
    guard.listen((data, isBinary) => {
      if (!isBinary) {
        // At most one metadata frame, and only before the first preamble byte; anything else is a protocol error.
        const decodedMeta =
          options.acceptMetadata && !metadata && !preambleStarted
            ? decodeWarmMeta(data as Buffer)
            : undefined;
        if (!decodedMeta || 'problem' in decodedMeta) {
          const problem = decodedMeta?.problem ?? 'text frame before the preamble';
          refuse(tunnelErrorForCode(TunnelCloseCode.BAD_PREAMBLE, problem));
          return;
        }
        metadata = decodedMeta.headers;
        return;
      }
      preambleStarted = true;
      let decoded;
      try {
        decoded = decoder.push(data as Buffer);
      } catch (err) {
        refuse(err as TunnelError);
        return;
      }
      if (!decoded) return;
      if (decoded.value.mode !== PreambleMode.STREAM && !options.acceptDatagram) {
        refuse(tunnelErrorForCode(TunnelCloseCode.BAD_PREAMBLE, 'datagram mode is not supported'));
        return;
      }
      guard.done();
      const request = createRequest(ws, decoded.value, decoded.rest, connectHeaders, options);
      resolve(metadata ? { ...request, metadata } : request);
    });
  });
}

function createRequest(
  ws: WebSocket,
  { portName, mode }: Preamble,
  initialBytes: Buffer,
  connectHeaders: ConnectHeaders,
  options: ListenerTunnelOptions,
): ListenerTunnelRequest {
  // Half-close is a stream notion: a datagram tunnel ends as a whole.
  const halfClose =
    mode === PreambleMode.STREAM && (options.supportHalfClose ?? true) && offersHalfClose(connectHeaders);
  const datagramBatch = mode === PreambleMode.DATAGRAM && offersDatagramBatch(connectHeaders);
  // The duplex takes the WebSocket now so frames sent during the dial are buffered in order, not lost.
  const duplex = new RelayDuplex(ws, {
    halfClose,
    initialBytes,
    readableHighWaterMark: options.readableHighWaterMark,
    writableHighWaterMark: options.writableHighWaterMark,
  });
  const gone = new AbortController();
  let earlyError: Error | undefined;
  let settled = false;
  const onEarlyError = (err: Error): void => {
    earlyError ??= err;
  };
  const onEarlyClose = (): void => gone.abort();
  duplex.on('error', onEarlyError);
  ws.once('close', onEarlyClose);

  const settle = (): void => {
    if (settled) throw new Error('tunnel request already answered');
    settled = true;
    ws.off('close', onEarlyClose);
  };

  return {
    portName,
    mode,
    halfClose,
    datagramBatch,
    initialBytes,
    signal: gone.signal,
    confirm(): RelayDuplex {
      settle();
      if (ws.readyState !== WebSocket.OPEN || duplex.destroyed) {
        duplex.destroy();
        throw isTunnelError(earlyError)
          ? earlyError
          : new TunnelError('TUNNEL_CLOSED_EARLY', 'sender left before the reply', false);
      }
      duplex.off('error', onEarlyError);
      if (halfClose) ws.send(HALF_CLOSE_ACCEPT_FRAME);
      if (datagramBatch) ws.send(DATAGRAM_BATCH_ACCEPT_FRAME);
      ws.send(encodePreambleReply(mode));
      return duplex;
    },
    fail(cause: unknown, reason?: string): void {
      settle();
      const code = typeof cause === 'number' ? cause : closeCodeForTargetError(cause);
      // The early error listener stays: the duplex reports this very error as it closes.
      // Our own TunnelErrors carry reasons we wrote (no internal addresses); other errors get the default text.
      duplex.destroy(tunnelErrorForCode(code, reason ?? (isTunnelError(cause) ? cause.message : undefined)));
    },
  };
}
