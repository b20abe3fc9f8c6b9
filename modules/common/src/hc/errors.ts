/** Stable error codes for everything that can go wrong talking to a Hybrid Connection. */
export type RelayErrorCode =
  | 'RELAY_BAD_CONNECTION_STRING'
  | 'RELAY_BAD_TOKEN'
  | 'RELAY_UNAUTHORIZED'
  | 'RELAY_FORBIDDEN'
  | 'RELAY_NOT_FOUND'
  | 'RELAY_NO_LISTENER'
  | 'RELAY_REJECTED'
  | 'RELAY_GONE'
  | 'RELAY_SERVER_ERROR'
  | 'RELAY_TIMEOUT'
  | 'RELAY_NETWORK'
  | 'RELAY_PROTOCOL'
  | 'RELAY_ABORTED'
  | 'RELAY_TOKEN_EXPIRED';

/** One error class for relay failures: a stable `code`, an HTTP `status` when the service gave one, and whether a retry may help. */
export class RelayError extends Error {
  override readonly name = 'RelayError';

  constructor(
    readonly code: RelayErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `err` is a RelayError, optionally with the given code. */
export function isRelayError(err: unknown, code?: RelayErrorCode): err is RelayError {
  return err instanceof RelayError && (code === undefined || err.code === code);
}
