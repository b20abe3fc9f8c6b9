import type { GatewayConfigDiff } from './config/diff';
import type { RefusalReason, TunnelEndReason, TunnelFailureReason } from './reasons';
import type { RouteState } from './route';
import type { LiveBytes } from './stats';
import type { ConfigProblem } from '../../common/src/config/schema-validator';

/** Identifies one client connection in every connection event. */
export interface ConnectionEventBase {
  readonly routeId: string;
  /** Also the relay `sb-hc-id`, i.e. the tracking id in relay and forwarder logs. */
  readonly connectionId: string;
  readonly remoteAddress: string | undefined;
}

/** A tunnel became ready to carry bytes. */
export interface TunnelOpenEvent extends ConnectionEventBase {
  /** Live byte counts of this connection (read them while it is open, e.g. for metrics of long transfers). */
  readonly bytes: LiveBytes;
  /** The relay tracking id the forwarder sees: the connection id, or a warm connection's own id. */
  readonly relayConnectionId: string;
}

/** A client refused before any relay work (allow-list or limits). */
export interface RefusedEvent {
  readonly routeId: string;
  readonly remoteAddress: string | undefined;
  readonly reason: RefusalReason;
}

/** An admitted client whose tunnel could not be opened (it was closed at once). */
export interface TunnelFailedEvent extends ConnectionEventBase {
  readonly reason: TunnelFailureReason;
  readonly error: unknown;
  /** The relay tracking id the forwarder saw, when not `connectionId` (a multiplexed stream's). */
  readonly relayConnectionId?: string;
}

/** A tunneled connection that ended; `reason` is set when it ended abnormally. */
export interface ConnectionClosedEvent extends ConnectionEventBase {
  readonly bytesFromClient: number;
  readonly bytesToClient: number;
  readonly durationMs: number;
  readonly reason?: TunnelEndReason;
}

/** Events a Gateway emits, for twin reporting, metrics and tests. */
export interface GatewayEvents {
  /** A client passed admission; its tunnel is being opened. */
  connection: [ConnectionEventBase];
  refused: [RefusedEvent];
  /** The relay accepted the client's connect request (the forwarder's dial and reply are still to come). */
  'relay-connected': [ConnectionEventBase];
  'tunnel-open': [TunnelOpenEvent];
  'tunnel-failed': [TunnelFailedEvent];
  'connection-closed': [ConnectionClosedEvent];
  /** A route changed status (listening, refused, disabled, draining, stopped). */
  'route-state': [RouteState];
  /** A configuration was applied (possibly with some routes refused). */
  applied: [{ readonly diff: GatewayConfigDiff; readonly refusedRoutes: readonly string[] }];
  /** A document was refused; the previous configuration keeps running. */
  rejected: [{ readonly problems: readonly ConfigProblem[] }];
}
