/** Stable codes for every way a tunnel (preamble exchange or byte pump) can fail. */
export type TunnelErrorCode =
  // The listener closed with one of the fixed failure close codes (see close-codes.ts).
  | 'TUNNEL_BAD_PREAMBLE'
  | 'TUNNEL_SERVICE_DISABLED'
  | 'TUNNEL_UNKNOWN_SERVICE'
  | 'TUNNEL_SERVICE_BUSY'
  | 'TUNNEL_TARGET_ERROR'
  | 'TUNNEL_TARGET_REFUSED'
  | 'TUNNEL_TARGET_UNRESOLVED'
  | 'TUNNEL_TARGET_TIMEOUT'
  // Data-phase failures carried by a close code.
  | 'TUNNEL_IDLE_TIMEOUT'
  | 'TUNNEL_PEER_RESET'
  // A WebSocket message above the receiver's size bound (close code 1009), whichever end refused it.
  | 'TUNNEL_MESSAGE_TOO_BIG'
  // Failures seen locally or not carried by a specific code.
  | 'TUNNEL_TCP_RESET'
  | 'TUNNEL_CLOSED_EARLY'
  | 'TUNNEL_HANDSHAKE_TIMEOUT'
  | 'TUNNEL_PROTOCOL'
  | 'TUNNEL_RELAY_LOST'
  | 'TUNNEL_REMOTE_ERROR'
  | 'TUNNEL_ABORTED';

/** One error class for tunnel failures: a stable `code`, whether a new attempt may help, and the WebSocket close code involved. */
export class TunnelError extends Error {
  override readonly name = 'TunnelError';

  constructor(
    readonly code: TunnelErrorCode,
    message: string,
    readonly retryable: boolean,
    /** The close code sent or received for this failure, when there is one. */
    readonly closeCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `err` is a TunnelError, optionally with the given code. */
export function isTunnelError(err: unknown, code?: TunnelErrorCode): err is TunnelError {
  return err instanceof TunnelError && (code === undefined || err.code === code);
}
