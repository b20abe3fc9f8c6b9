import type WebSocket from 'ws';
import type { AcceptDecision, AcceptRequest } from './accept-message';
import type { BackoffPolicy } from './backoff';
import type { RelayError } from './errors';
import type { RelayLogger } from './logger';

/** Decides whether to take a connection; a throw rejects it with 500. */
export type AcceptHandler = (request: AcceptRequest) => AcceptDecision | Promise<AcceptDecision>;

/** Where the listener is in its life. */
export type ListenerState = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'closed';

/** Running totals since start(). */
export interface ListenerStats {
  /** Control channel handshakes started. */
  readonly connectAttempts: number;
  /** Reconnections scheduled after a failed handshake or a lost channel. */
  readonly reconnects: number;
  readonly accepted: number;
  readonly rejected: number;
  /** Accepts or rejects that could not be completed (address expired, network). */
  readonly acceptFailures: number;
  readonly tokenRenewals: number;
  /** Control channels given up because a ping went unanswered. */
  readonly pingTimeouts: number;
}

/** Options for HybridConnectionListener; every duration is in milliseconds. */
export interface HybridConnectionListenerOptions {
  /** Called for each sender; without it every connection is accepted. */
  readonly acceptHandler?: AcceptHandler;
  /** Sent as `sb-hc-id` for end-to-end tracing; a random UUID by default. */
  readonly id?: string;
  /** How often to ping the control channel (default 30 s; the service and NATs drop idle channels). */
  readonly pingIntervalMs?: number;
  /** How long a pong may take before the channel counts as dead (default: pingIntervalMs). */
  readonly pongTimeoutMs?: number;
  /** Renew at least this long before expiry (default 5 min) … */
  readonly renewBeforeExpiryMs?: number;
  /** … or at this fraction of the token's lifetime, whichever is earlier (default 0.8). */
  readonly renewAtLifetimeRatio?: number;
  /** Bound on one control channel handshake (default 30 s). */
  readonly handshakeTimeoutMs?: number;
  /** How long an accept address stays usable after it arrived (default 30 s, as the service documents). */
  readonly acceptTimeoutMs?: number;
  /** Reconnect schedule (default DEFAULT_BACKOFF_POLICY). */
  readonly backoff?: BackoffPolicy;
  /** A channel online this long resets the backoff schedule (default 60 s). */
  readonly healthyAfterMs?: number;
  readonly logger?: RelayLogger;
  /** Random source for jitter (tests). */
  readonly random?: () => number;
}

/** What 'reconnecting' reports. */
export interface ReconnectInfo {
  /** 1-based attempt number since the schedule was last reset. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: RelayError;
}

/** Events of HybridConnectionListener. */
export interface HybridConnectionListenerEvents {
  online: [];
  offline: [error: RelayError];
  reconnecting: [info: ReconnectInfo];
  /** Typed errors that do not stop the listener; emitted only when someone listens for 'error'. */
  error: [error: RelayError];
  connection: [ws: WebSocket, request: AcceptRequest];
  rejected: [request: AcceptRequest, decision: AcceptDecision];
  tokenRenewed: [info: { readonly expiresAtMs: number }];
  /** The token provider failed during a renewal (retried before the old token expires). */
  tokenRenewalFailed: [error: RelayError];
  close: [];
}

/** Options for close(). */
export interface ListenerCloseOptions {
  /** 'close' (default) also closes the connections this listener accepted; 'keep' leaves them running. */
  readonly connections?: 'close' | 'keep';
}
