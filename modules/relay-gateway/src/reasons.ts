import { isRelayError } from '../../common/src/hc/errors';
import { isTunnelError } from '../../common/src/tunnel/errors';
import type { MtlsRefusal } from './mtls/mtls-handshake';

/**
 * Why a client was refused before any relay work: allow-list, a connection limit, `client-aborted` (it reset
 * before the gateway got to it, so the socket has no address left to judge), or a PROXY protocol header from a
 * source not trusted to send one (`proxy-untrusted`) or one that is invalid, cut short or late (`proxy-malformed`),
 * or on an SNI route a ClientHello that is not one, cut short or late (`sni-malformed`) or names no configured
 * server (`sni-unknown`), or on an mTLS route a failed handshake, a missing, untrusted or revoked client
 * certificate (`mtls-…`).
 */
export type RefusalReason =
  | 'not-allowed'
  | 'route-limit'
  | 'global-limit'
  | 'client-aborted'
  | 'proxy-untrusted'
  | 'proxy-malformed'
  | 'sni-malformed'
  | 'sni-unknown'
  | MtlsRefusal;

/** Why a tunnel could not be opened for an admitted client; the client is closed at once. */
export type TunnelFailureReason =
  | 'no-listener'
  | 'unauthorized'
  | 'forbidden'
  | 'relay-not-found'
  | 'relay-rejected'
  | 'relay-unavailable'
  | 'unknown-service'
  | 'service-busy'
  | 'service-disabled'
  | 'target-refused'
  | 'target-timeout'
  | 'target-unresolved'
  | 'target-error'
  | 'connect-timeout'
  | 'relay-timeout'
  | 'client-closed'
  | 'stopped'
  | 'protocol-error'
  | 'message-too-big'
  | 'internal-error';

/** What ended an established tunnel other than a clean close of both directions. */
export type TunnelEndReason =
  | 'client-reset'
  | 'relay-lost'
  | 'peer-reset'
  | 'idle-timeout'
  | 'not-allowed'
  | 'drain-timeout'
  | 'stopped'
  | 'protocol-error'
  | 'message-too-big'
  | 'remote-error';

const TUNNEL_CODES: Readonly<Record<string, TunnelFailureReason>> = {
  TUNNEL_UNKNOWN_SERVICE: 'unknown-service',
  TUNNEL_SERVICE_BUSY: 'service-busy',
  TUNNEL_SERVICE_DISABLED: 'service-disabled',
  TUNNEL_TARGET_REFUSED: 'target-refused',
  TUNNEL_TARGET_TIMEOUT: 'target-timeout',
  TUNNEL_TARGET_UNRESOLVED: 'target-unresolved',
  TUNNEL_TARGET_ERROR: 'target-error',
  TUNNEL_HANDSHAKE_TIMEOUT: 'connect-timeout',
  TUNNEL_BAD_PREAMBLE: 'protocol-error',
  TUNNEL_PROTOCOL: 'protocol-error',
  TUNNEL_MESSAGE_TOO_BIG: 'message-too-big',
  TUNNEL_CLOSED_EARLY: 'relay-unavailable',
  TUNNEL_RELAY_LOST: 'relay-unavailable',
  TUNNEL_REMOTE_ERROR: 'relay-unavailable',
};

const RELAY_CODES: Readonly<Record<string, TunnelFailureReason>> = {
  RELAY_NO_LISTENER: 'no-listener',
  RELAY_UNAUTHORIZED: 'unauthorized',
  RELAY_TOKEN_EXPIRED: 'unauthorized',
  RELAY_BAD_TOKEN: 'unauthorized',
  RELAY_FORBIDDEN: 'forbidden',
  RELAY_NOT_FOUND: 'relay-not-found',
  RELAY_REJECTED: 'relay-rejected',
  RELAY_GONE: 'relay-rejected',
  RELAY_TIMEOUT: 'relay-timeout',
  RELAY_SERVER_ERROR: 'relay-unavailable',
  RELAY_NETWORK: 'relay-unavailable',
  RELAY_PROTOCOL: 'protocol-error',
};

/**
 * Maps an error from opening a tunnel (relay handshake, then the forwarder's preamble answer) to a reason.
 * `abortReason` is what aborted the attempt, if anything: an abort says nothing about the relay, the cause does.
 */
export function classifyTunnelFailure(err: unknown, abortReason?: TunnelFailureReason): TunnelFailureReason {
  if (abortReason !== undefined) return abortReason;
  if (isTunnelError(err)) return TUNNEL_CODES[err.code] ?? 'internal-error';
  if (isRelayError(err)) return RELAY_CODES[err.code] ?? 'internal-error';
  return 'internal-error';
}

/** Maps how a pumped tunnel ended (its first error) to a reason; `abortReason` wins when we ended it. */
export function classifyTunnelEnd(err: unknown, abortReason?: TunnelEndReason): TunnelEndReason {
  if (abortReason !== undefined) return abortReason;
  if (!isTunnelError(err)) return 'remote-error';
  switch (err.code) {
    case 'TUNNEL_TCP_RESET':
      return 'client-reset';
    case 'TUNNEL_PEER_RESET':
      return 'peer-reset';
    case 'TUNNEL_IDLE_TIMEOUT':
      return 'idle-timeout';
    case 'TUNNEL_RELAY_LOST':
      return 'relay-lost';
    case 'TUNNEL_PROTOCOL':
    case 'TUNNEL_BAD_PREAMBLE':
      return 'protocol-error';
    case 'TUNNEL_MESSAGE_TOO_BIG':
      return 'message-too-big';
    default:
      return 'remote-error';
  }
}
