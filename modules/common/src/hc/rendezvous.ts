import type WebSocket from 'ws';
import type { AcceptDecision, AcceptRequest } from './accept-message';
import { acceptUrl, rejectUrl, type RelayTlsOptions } from './endpoint';
import { isRelayError } from './errors';
import { openRelaySocket } from './open-socket';

/** Options shared by the two rendezvous handshakes. */
export interface RendezvousOptions {
  readonly tls?: RelayTlsOptions;
  /** What is left of the accept window. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Takes a connection: opens the accept address as is. The socket has no 'error' listener of ours. */
export function openRendezvous(request: AcceptRequest, options: RendezvousOptions): Promise<WebSocket> {
  return openRelaySocket({ action: 'accept', url: acceptUrl(request.address), ...options });
}

/**
 * Refuses a connection: opens the accept address with `sb-hc-statusCode`/`sb-hc-statusDescription`, which
 * the service answers with 410 after passing the status on to the sender. Resolves on that 410.
 */
export async function rejectRendezvous(
  request: AcceptRequest,
  decision: Extract<AcceptDecision, { accept: false }>,
  options: RendezvousOptions,
): Promise<void> {
  try {
    const url = rejectUrl(request.address, decision.statusCode, decision.statusDescription);
    const ws = await openRelaySocket({ action: 'reject', url, ...options });
    // The service should refuse this handshake; if it opened anyway, do not leave it dangling.
    ws.on('error', () => undefined);
    ws.terminate();
  } catch (err) {
    // 410 Gone is how the service confirms a rejection: the expected outcome, not a failure.
    if (isRelayError(err) && err.status === 410) return;
    throw err;
  }
}
