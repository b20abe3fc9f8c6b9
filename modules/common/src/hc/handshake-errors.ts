import { RelayError } from './errors';

/** The four WebSocket handshakes the protocol defines; a status means different things in each. */
export type RelayHandshakeAction = 'listen' | 'connect' | 'accept' | 'reject';

/**
 * Maps a failed handshake's HTTP status to a RelayError, following the status tables of the Hybrid
 * Connections protocol. `description` is the service's (or, for a reject, the listener's) status text.
 */
export function errorForHandshakeStatus(
  action: RelayHandshakeAction,
  status: number,
  description?: string,
): RelayError {
  const text = description ? `: ${description}` : '';
  const fail = (code: RelayError['code'], what: string, retryable: boolean): RelayError =>
    new RelayError(code, `${action} handshake failed with ${status} (${what})${text}`, retryable, status);

  if (status === 401) return fail('RELAY_UNAUTHORIZED', 'token missing, malformed or invalid', false);
  if (action === 'accept' || action === 'reject') {
    // The accept address is single-use and short-lived: 403/404/410 all mean it can no longer be used.
    if (status === 403 || status === 404 || status === 410)
      return fail('RELAY_GONE', 'accept address expired or already used', false);
  }
  if (status === 403) return fail('RELAY_FORBIDDEN', 'token does not grant this action on this path', false);
  if (status === 404) {
    return action === 'connect'
      ? fail('RELAY_NO_LISTENER', 'no listener, or no such hybrid connection', true)
      : fail('RELAY_NOT_FOUND', 'no such hybrid connection', false);
  }
  if (status === 408 || status === 504) return fail('RELAY_TIMEOUT', 'timed out', true);
  if (status === 429) return fail('RELAY_SERVER_ERROR', 'throttled', true);
  if (status >= 500 && status <= 599) return fail('RELAY_SERVER_ERROR', 'service error', true);
  // A sender sees the listener's reject code passed through: 410 by default, or whatever 4xx it chose.
  if (action === 'connect' && status >= 400 && status <= 499)
    return fail('RELAY_REJECTED', 'rejected by the listener', false);
  return fail('RELAY_PROTOCOL', 'unexpected status', false);
}

/** Maps the close code of a control channel the service shut down to a RelayError (all retryable: listeners reconnect). */
export function errorForControlClose(code: number, reason: string): RelayError {
  const text = reason ? `: ${reason}` : '';
  const fail = (errorCode: RelayError['code'], what: string): RelayError =>
    new RelayError(errorCode, `control channel closed with ${code} (${what})${text}`, true);
  switch (code) {
    case 1001:
      return fail('RELAY_NOT_FOUND', 'hybrid connection deleted or disabled, or service shutting down');
    case 1008:
      return fail('RELAY_TOKEN_EXPIRED', 'token expired or renewal refused');
    case 1011:
      return fail('RELAY_SERVER_ERROR', 'service error');
    case 1000:
    case 1005:
    case 1006:
      return fail('RELAY_NETWORK', code === 1006 ? 'connection lost' : 'closed by the service');
    default:
      return fail('RELAY_PROTOCOL', 'unexpected close code');
  }
}

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Maps a socket-level failure during a handshake to RELAY_NETWORK; an untrusted certificate is not worth retrying. */
export function errorForNetworkFailure(action: RelayHandshakeAction, cause?: unknown): RelayError {
  const code = (cause as { code?: unknown } | undefined)?.code;
  const detail = cause instanceof Error ? cause.message : 'connection closed';
  if (typeof code === 'string' && TLS_TRUST_CODES.has(code))
    return new RelayError(
      'RELAY_NETWORK',
      `${action} handshake: TLS certificate not trusted (${code})`,
      false,
      undefined,
      {
        cause,
      },
    );
  return new RelayError('RELAY_NETWORK', `${action} handshake failed: ${detail}`, true, undefined, { cause });
}

/** Wraps anything thrown into a RelayError (RelayErrors pass through unchanged). */
export function toRelayError(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RelayError('RELAY_PROTOCOL', message, false, undefined, { cause: error });
}
