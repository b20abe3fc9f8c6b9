import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import type { createConnection } from 'node:net';
import { abortedError } from './backoff';
import type { RelayTlsOptions } from './endpoint';
import { RelayError } from './errors';
import { relayTlsSessions, type TlsSessionCache } from './tls-sessions';
import {
  errorForHandshakeStatus,
  errorForNetworkFailure,
  type RelayHandshakeAction,
} from './handshake-errors';

/**
 * Largest WebSocket message a relay socket of ours accepts (ws's own default is 100 MiB). Tunnel peers write one
 * frame per socket read: ours and azbridge at most 64 KiB, a .NET `Stream.CopyToAsync` 80 KiB; control-channel
 * messages are small JSON. A bigger message is refused at its header, before its payload is read: ws closes with
 * 1009, so one peer can make us hold at most this much per socket (docs/tunnel-protocol.md, "Message size").
 */
export const MAX_RELAY_MESSAGE_BYTES = 256 * 1024;

/**
 * How long a close handshake on a relay socket may take before ws drops the connection (ws's default is 30 s). The
 * relay answers a close frame as soon as it reads it; when it cannot (our close frame waits behind data the relay
 * no longer reads, or the peer is gone), 30 s would pin the socket, the tunnel's target connection and the route's
 * budget. Tunnels close only after their last bytes reached the socket, so a cut-short handshake loses nothing.
 */
export const RELAY_CLOSE_TIMEOUT_MS = 500;

/** Options for openRelaySocket. */
export interface OpenRelaySocketOptions {
  readonly action: RelayHandshakeAction;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly tls?: RelayTlsOptions;
  /** The whole handshake (TCP, TLS, HTTP upgrade, and for a sender the listener's accept) must finish within this. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Largest message accepted (default {@link MAX_RELAY_MESSAGE_BYTES}). */
  readonly maxPayloadBytes?: number;
  /** Where TLS sessions are kept for resumption (the process-wide cache by default); false: always full handshakes. */
  readonly tlsSessions?: TlsSessionCache | false;
  /** Called in the 'open' event, before any message can be delivered: the place to attach 'message' listeners. */
  readonly onOpen?: (ws: WebSocket) => void;
}

/**
 * Opens one relay WebSocket and settles once: the open socket, or a RelayError classified from the HTTP
 * status, the timeout, the abort or the socket error. Never retries; policy wraps this, it does not live here.
 * The returned socket has no 'error' listener of ours: the caller must attach one.
 */
export function openRelaySocket(options: OpenRelaySocketOptions): Promise<WebSocket> {
  const { action, signal } = options;
  return new Promise<WebSocket>((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError(signal));
    // Only wss:// URLs go through TLS; ws's own connect handles plain sockets.
    const sessions =
      options.url.startsWith('wss:') && options.tlsSessions !== false
        ? (options.tlsSessions ?? relayTlsSessions)
        : undefined;
    let ws: WebSocket;
    // `closeTimeout` is ws 8.23's (package.json asks for ^8.23); @types/ws does not list it yet.
    const wsOptions: WebSocket.ClientOptions & { closeTimeout: number } = {
      headers: { ...options.headers },
      // The relay forwards frames as is; compression would only cost CPU on already opaque tunnel bytes.
      perMessageDeflate: false,
      followRedirects: false,
      maxPayload: options.maxPayloadBytes ?? MAX_RELAY_MESSAGE_BYTES,
      closeTimeout: RELAY_CLOSE_TIMEOUT_MS,
      ...(options.tls?.ca !== undefined && { ca: options.tls.ca }),
      // ws always calls createConnection with one options object; its type lists net's other overloads too.
      ...(sessions && { createConnection: sessions.connect as unknown as typeof createConnection }),
    };
    try {
      ws = new WebSocket(options.url, wsOptions);
    } catch (error) {
      return reject(
        new RelayError('RELAY_PROTOCOL', `${action} handshake could not start: ${String(error)}`, false),
      );
    }

    let failure: RelayError | undefined;
    const fail = (error: RelayError): void => {
      failure ??= error;
      ws.terminate();
    };
    const timer = setTimeout(
      () =>
        fail(
          new RelayError(
            'RELAY_TIMEOUT',
            `${action} handshake timed out after ${options.timeoutMs} ms`,
            true,
          ),
        ),
      options.timeoutMs,
    );
    const onAbort = (): void => fail(abortedError(signal!));
    const onResponse = (_req: unknown, res: IncomingMessage): void => {
      const description = headerText(res.headers['sb-hc-statusdescription']) ?? res.statusMessage;
      res.resume();
      fail(errorForHandshakeStatus(action, res.statusCode ?? 0, description));
    };
    const onError = (error: Error): void => {
      failure ??= errorForNetworkFailure(action, error);
    };
    const onOpen = (): void => {
      cleanup();
      holdMessagesUntilListened(ws);
      options.onOpen?.(ws);
      resolve(ws);
    };
    const onClose = (): void => {
      cleanup();
      reject(failure ?? errorForNetworkFailure(action));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      ws.off('unexpected-response', onResponse);
      ws.off('error', onError);
      ws.off('open', onOpen);
      ws.off('close', onClose);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    ws.on('unexpected-response', onResponse);
    ws.on('error', onError);
    ws.on('open', onOpen);
    ws.on('close', onClose);
  });
}

/** How long a socket stays paused for a 'message' listener before it reads on regardless. */
const FIRST_LISTENER_WAIT_MS = 1_000;

/**
 * A frame that arrived in the same read as the 101 response (a relay front end may coalesce them into one TLS
 * record) is parsed by ws on the next tick, before the continuation of an `await openRelaySocket(...)` can attach
 * its 'message' listener, and would be dropped. The socket is paused until a 'message' listener is added (or, for
 * a caller that never listens, for a second), so such a frame waits for its reader.
 */
function holdMessagesUntilListened(ws: WebSocket): void {
  if (ws.listenerCount('message') > 0) return;
  ws.pause();
  const release = (): void => {
    ws.off('newListener', onNewListener);
    clearTimeout(timer);
    // resume() only schedules the flow, so a listener being added right now is in place before any frame.
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CLOSING) ws.resume();
  };
  const onNewListener = (event: string | symbol): void => {
    if (event === 'message') release();
  };
  const timer = setTimeout(release, FIRST_LISTENER_WAIT_MS);
  timer.unref();
  ws.on('newListener', onNewListener);
}

/** Closes a socket politely and resolves once it is closed; terminates it if the peer does not answer in time. */
export function closeSocket(ws: WebSocket, code: number, reason: string, timeoutMs = 2_000): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => ws.terminate(), timeoutMs);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
    else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
  });
}

function headerText(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
