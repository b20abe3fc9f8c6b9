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

/** Options for openRelaySocket. */
export interface OpenRelaySocketOptions {
  readonly action: RelayHandshakeAction;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly tls?: RelayTlsOptions;
  /** The whole handshake (TCP, TLS, HTTP upgrade, and for a sender the listener's accept) must finish within this. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Where TLS sessions are kept for resumption (the process-wide cache by default); false: always full handshakes. */
  readonly tlsSessions?: TlsSessionCache | false;
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
    try {
      ws = new WebSocket(options.url, {
        headers: { ...options.headers },
        // The relay forwards frames as is; compression would only cost CPU on already opaque tunnel bytes.
        perMessageDeflate: false,
        followRedirects: false,
        ...(options.tls?.ca !== undefined && { ca: options.tls.ca }),
        // ws always calls createConnection with one options object; its type lists net's other overloads too.
        ...(sessions && { createConnection: sessions.connect as unknown as typeof createConnection }),
      });
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
