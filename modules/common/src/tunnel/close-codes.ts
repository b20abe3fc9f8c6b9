import { TunnelError, type TunnelErrorCode } from './errors';

/**
 * WebSocket close codes a tunnel end uses to say why it gave up. The 44xx/45xx values mirror HTTP status codes so
 * they read naturally in logs; all sit in the 4000–4999 range RFC 6455 leaves to applications.
 */
export const TunnelCloseCode = {
  /** Normal end of a tunnel (both directions done). */
  NORMAL: 1000,
  /** This end is shutting down (route removed, process stopping). */
  GOING_AWAY: 1001,
  /** The peer broke the tunnel protocol (unexpected frame after fin, bad reply). */
  PROTOCOL_ERROR: 1002,
  /** A message was above the receiver's size bound (RFC 6455 "message too big"; ws sends it on its own). */
  MESSAGE_TOO_BIG: 1009,
  /** An unexpected failure inside this end. */
  INTERNAL_ERROR: 1011,
  /** The preamble was malformed, of an unsupported version, or asked for datagram mode. */
  BAD_PREAMBLE: 4400,
  /** The service is configured but switched off (`enabled: false` on the forwarder). */
  SERVICE_DISABLED: 4403,
  /** The port name in the preamble names no service on this listener. */
  UNKNOWN_SERVICE: 4404,
  /** No bytes moved in either direction for the configured idle time (or the preamble never came). */
  IDLE_TIMEOUT: 4408,
  /** The TCP connection on this end was reset or failed; the peer should abort its TCP connection too. */
  TCP_RESET: 4410,
  /** The service is at its concurrent connection limit. */
  SERVICE_BUSY: 4429,
  /** Dialing the target failed for another reason. */
  TARGET_ERROR: 4500,
  /** The target actively refused the connection (ECONNREFUSED). */
  TARGET_REFUSED: 4502,
  /** The target's host name did not resolve (ENOTFOUND, EAI_AGAIN). */
  TARGET_UNRESOLVED: 4503,
  /** Dialing the target did not complete within the connect timeout. */
  TARGET_TIMEOUT: 4504,
} as const;

/** One of the close codes in {@link TunnelCloseCode}. */
export type TunnelCloseCodeValue = (typeof TunnelCloseCode)[keyof typeof TunnelCloseCode];

/** What a failure close code means to the side that receives it. */
export interface CloseCodeMeaning {
  readonly errorCode: TunnelErrorCode;
  readonly retryable: boolean;
  /** The reason text sent when the caller gives none (short, never an internal address). */
  readonly defaultReason: string;
}

/** The failure close codes of the tunnel protocol and their meaning; docs/tunnel-protocol.md has the same table. */
export const FAILURE_CLOSE_CODES: ReadonlyMap<number, CloseCodeMeaning> = new Map<number, CloseCodeMeaning>([
  [1009, { errorCode: 'TUNNEL_MESSAGE_TOO_BIG', retryable: false, defaultReason: 'message too big' }],
  [4400, { errorCode: 'TUNNEL_BAD_PREAMBLE', retryable: false, defaultReason: 'bad preamble' }],
  [4403, { errorCode: 'TUNNEL_SERVICE_DISABLED', retryable: false, defaultReason: 'service disabled' }],
  [4404, { errorCode: 'TUNNEL_UNKNOWN_SERVICE', retryable: false, defaultReason: 'unknown service' }],
  [4408, { errorCode: 'TUNNEL_IDLE_TIMEOUT', retryable: false, defaultReason: 'idle timeout' }],
  [4410, { errorCode: 'TUNNEL_PEER_RESET', retryable: false, defaultReason: 'tcp connection reset' }],
  [
    4429,
    { errorCode: 'TUNNEL_SERVICE_BUSY', retryable: true, defaultReason: 'service at its connection limit' },
  ],
  [4500, { errorCode: 'TUNNEL_TARGET_ERROR', retryable: true, defaultReason: 'target error' }],
  [
    4502,
    { errorCode: 'TUNNEL_TARGET_REFUSED', retryable: true, defaultReason: 'target refused the connection' },
  ],
  [
    4503,
    { errorCode: 'TUNNEL_TARGET_UNRESOLVED', retryable: true, defaultReason: 'target name not resolved' },
  ],
  [4504, { errorCode: 'TUNNEL_TARGET_TIMEOUT', retryable: true, defaultReason: 'target connect timed out' }],
]);

/** RFC 6455 allows at most 123 bytes of reason in a close frame (125 minus the 2-byte code). */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Cuts `text` to at most 123 UTF-8 bytes without splitting a character, so `ws.close()` never throws on it. */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return text;
  let end = MAX_CLOSE_REASON_BYTES;
  // Step back over UTF-8 continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** True for the close codes that end a tunnel cleanly (1000, or 1005 when the peer sent no code). */
export function isCleanClose(code: number): boolean {
  return code === 1000 || code === 1005;
}

/** ws's error codes for a message above `maxPayload` (it then closes with 1009 on its own). */
const MESSAGE_TOO_BIG_WS_CODES = new Set([
  'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
  'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
]);

/** True when `err` is ws refusing an incoming message for its size. */
export function isMessageTooBigError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && MESSAGE_TOO_BIG_WS_CODES.has(code);
}

/**
 * Turns a close code and reason received from the peer into a TunnelError a caller can branch on. `cause` is the
 * WebSocket's own error, if any: when it is ws refusing an oversized message, this end closed (1009) and the
 * close code seen locally is only 1006, so the cause decides.
 */
export function tunnelErrorFromClose(code: number, reason: string, cause?: unknown): TunnelError {
  const said = reason ? `: ${reason}` : '';
  const options = cause === undefined ? undefined : { cause };
  if (isMessageTooBigError(cause)) {
    const message = 'peer sent a message above our size bound; closed with 1009';
    return new TunnelError(
      'TUNNEL_MESSAGE_TOO_BIG',
      message,
      false,
      TunnelCloseCode.MESSAGE_TOO_BIG,
      options,
    );
  }
  const known = FAILURE_CLOSE_CODES.get(code);
  if (known) {
    return new TunnelError(
      known.errorCode,
      `peer closed the tunnel (${code})${said}`,
      known.retryable,
      code,
      options,
    );
  }
  if (isCleanClose(code)) {
    const message = `peer closed the tunnel before the preamble exchange completed${said}`;
    return new TunnelError('TUNNEL_CLOSED_EARLY', message, false, code, options);
  }
  if (code === 1006) {
    return new TunnelError(
      'TUNNEL_RELAY_LOST',
      'relay connection lost without a close frame',
      true,
      code,
      options,
    );
  }
  if (code === 1002 || code === 1003 || code === 1007) {
    const message = `peer reported a protocol error (${code})${said}`;
    return new TunnelError('TUNNEL_PROTOCOL', message, false, code, options);
  }
  return new TunnelError(
    'TUNNEL_REMOTE_ERROR',
    `peer closed the tunnel (${code})${said}`,
    true,
    code,
    options,
  );
}

/** True when ws may send `code` in a close frame (RFC 6455 §7.4: 1000–1003, 1007–1014, 3000–4999). */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** Builds the error for a failure close code this end is about to send, with the default reason when none is given. */
export function tunnelErrorForCode(code: number, reason?: string): TunnelError {
  const known = FAILURE_CLOSE_CODES.get(code);
  const text = closeReason(reason ?? known?.defaultReason ?? 'tunnel failed');
  return new TunnelError(known?.errorCode ?? 'TUNNEL_REMOTE_ERROR', text, known?.retryable ?? true, code);
}
