import WebSocket from 'ws';
import { TunnelError } from '../tunnel/errors';
import { tunnelErrorFromClose } from '../tunnel/close-codes';
import { formatMuxAccept, MUX_ACCEPT_TIMEOUT_MS, parseMuxAccept } from './negotiate';
import { MuxSession } from './session';

/** Options for {@link startMuxOpener}. */
export interface MuxOpenerOptions {
  /** How long the listener has to send its accept frame (default 5 s). */
  readonly acceptTimeoutMs?: number;
  /** The gateway's own bound of streams per connection (the listener's announced bound may lower it). */
  readonly maxStreams: number;
  /** `PING` interval on the connection. */
  readonly pingIntervalMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Gateway side: waits on a relay connection opened with `x-hrf-mux: 1` for the listener's accept frame and returns
 * the session. Rejects with `TUNNEL_HANDSHAKE_TIMEOUT` when the listener stays silent (a listener without mux,
 * which waits for a preamble) or sends anything else first, and with the close's error when the connection ends;
 * the WebSocket is closed then.
 */
export function startMuxOpener(ws: WebSocket, options: MuxOpenerOptions): Promise<MuxSession> {
  return new Promise<MuxSession>((resolve, reject) => {
    let wsError: Error | undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      ws.off('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: TunnelError): void => {
      cleanup();
      // Any other frame first means the listener took this for a classic connection: no use for a mux.
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      else ws.terminate();
      reject(err);
    };
    const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
      const accept = isBinary ? undefined : parseMuxAccept((data as Buffer).toString('utf8'));
      if (!accept) {
        fail(new TunnelError('TUNNEL_HANDSHAKE_TIMEOUT', 'listener did not accept multiplexing', false));
        return;
      }
      cleanup();
      const maxStreams = Math.min(options.maxStreams, accept.maxStreams);
      resolve(
        new MuxSession(ws, {
          role: 'opener',
          maxStreams,
          ...(options.pingIntervalMs !== undefined && { pingIntervalMs: options.pingIntervalMs }),
        }),
      );
    };
    const onClose = (code: number, reason: Buffer): void => {
      cleanup();
      reject(tunnelErrorFromClose(code, reason.toString('utf8'), wsError));
    };
    const onError = (err: Error): void => {
      wsError ??= err;
    };
    const onAbort = (): void => fail(new TunnelError('TUNNEL_ABORTED', 'mux handshake aborted', false));
    const timer = setTimeout(
      () =>
        fail(new TunnelError('TUNNEL_HANDSHAKE_TIMEOUT', 'no mux accept from the listener in time', false)),
      options.acceptTimeoutMs ?? MUX_ACCEPT_TIMEOUT_MS,
    );
    ws.binaryType = 'nodebuffer';
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.on('error', onError);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    // A socket still connecting is fine: its first frame can only come after 'open'.
    else if (ws.readyState !== WebSocket.OPEN && ws.readyState !== WebSocket.CONNECTING)
      fail(new TunnelError('TUNNEL_RELAY_LOST', 'WebSocket is not open', true));
  });
}

/** Forwarder side: accepts multiplexing on a relay connection whose sender offered it and returns the session. */
export function startMuxAcceptor(ws: WebSocket, maxStreams: number): MuxSession {
  const session = new MuxSession(ws, { role: 'acceptor', maxStreams });
  if (ws.readyState === WebSocket.OPEN) ws.send(formatMuxAccept(maxStreams));
  return session;
}
