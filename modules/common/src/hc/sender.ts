import { randomUUID } from 'node:crypto';
import type WebSocket from 'ws';
import { retry, type BackoffPolicy } from './backoff';
import {
  AUTHORIZATION_HEADER,
  connectUrl,
  endpointResource,
  type HybridConnectionEndpoint,
} from './endpoint';
import { isRelayError } from './errors';
import { silentLogger, withLogFields, type RelayLogger } from './logger';
import { openRelaySocket } from './open-socket';

/** Options for connectHybridConnection; every duration is in milliseconds. */
export interface ConnectHybridConnectionOptions {
  /** Sent as `sb-hc-id`; the listener sees it as the accept's `id` (a random UUID by default). */
  readonly id?: string;
  /** Extra HTTP headers; the relay hands them to the listener as `connectHeaders`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Bound on one handshake, which includes the listener's accept (default 30 s). */
  readonly timeoutMs?: number;
  /** Keep retrying "no listener" (404) for this long, e.g. while a forwarder restarts (default 0: no retry). */
  readonly retryNoListenerForMs?: number;
  /** Schedule for those retries (default: 200 ms doubling to 5 s, jittered). */
  readonly backoff?: BackoffPolicy;
  readonly signal?: AbortSignal;
  readonly logger?: RelayLogger;
  /** Called as the socket opens, before any message is delivered (a frame the listener sends at once is not lost). */
  readonly onOpen?: (ws: WebSocket) => void;
}

/** Default schedule for retrying 404: short, because a listener usually reappears within seconds. */
export const SENDER_NO_LISTENER_BACKOFF: BackoffPolicy = Object.freeze({
  initialDelayMs: 200,
  maxDelayMs: 5_000,
  multiplier: 2,
  jitterRatio: 0.5,
});

/**
 * Opens a sender connection to a hybrid connection and resolves with the WebSocket once a listener accepted it.
 * Fails with a RelayError: RELAY_UNAUTHORIZED, RELAY_FORBIDDEN, RELAY_NO_LISTENER, RELAY_REJECTED (with the
 * listener's status and description), RELAY_SERVER_ERROR, RELAY_TIMEOUT, RELAY_NETWORK or RELAY_ABORTED.
 */
export async function connectHybridConnection(
  endpoint: HybridConnectionEndpoint,
  options: ConnectHybridConnectionOptions = {},
): Promise<WebSocket> {
  const id = options.id ?? randomUUID();
  const log = withLogFields(options.logger ?? silentLogger, { connectionId: id, path: endpoint.path });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    // The token header is ours to set; a caller's copy would be a second, conflicting credential.
    if (name.toLowerCase() !== AUTHORIZATION_HEADER.toLowerCase()) headers[name] = value;
  }
  const resource = endpointResource(endpoint);

  const attempt = async (_attempt: number, signal?: AbortSignal): Promise<WebSocket> => {
    const token = await endpoint.tokenProvider.getToken(resource);
    return openRelaySocket({
      action: 'connect',
      url: connectUrl(endpoint, id),
      headers: { ...headers, [AUTHORIZATION_HEADER]: token.token },
      tls: endpoint.tls,
      timeoutMs: options.timeoutMs ?? 30_000,
      signal,
      ...(options.onOpen && { onOpen: options.onOpen }),
    });
  };

  const windowMs = options.retryNoListenerForMs ?? 0;
  try {
    const ws = await retry(attempt, {
      policy: options.backoff ?? SENDER_NO_LISTENER_BACKOFF,
      signal: options.signal,
      maxElapsedMs: windowMs,
      shouldRetry: (error) => windowMs > 0 && isRelayError(error, 'RELAY_NO_LISTENER'),
      onRetry: ({ attempt: n, delayMs }) => log.debug({ attempt: n, delayMs }, 'no listener yet; retrying'),
    });
    // ws always follows 'error' with 'close'; callers watch 'close', and an unheard 'error' must not crash them.
    ws.on('error', (err) => log.debug({ err: err.message }, 'sender socket error'));
    log.debug({}, 'sender connected');
    return ws;
  } catch (err) {
    const fields = isRelayError(err) ? { code: err.code, status: err.status } : {};
    log.debug({ ...fields, err: String(err) }, 'sender connect failed');
    throw err;
  }
}
