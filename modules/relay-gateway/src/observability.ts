// Turns the gateway's events into metrics and spans. The gateway itself knows nothing about telemetry: this file
// listens to its events, and gives it the W3C trace context to put on each relay connect request.
import type { Span, Tracer } from '@opentelemetry/api';
import { sameRelayCredential } from '../../common/src/config/credentials';
import type { RefusalReason as MetricRefusalReason } from '../../common/src/telemetry/instruments';
import type {
  RelayMetrics,
  TunnelAttributes,
  TunnelMeter,
  UdpRouteObservation,
} from '../../common/src/telemetry/metrics';
import {
  endTunnelSpan,
  setTrackingId,
  startTunnelSpan,
  traceHeaders,
} from '../../common/src/telemetry/tracing';
import type { GatewayConfig } from './config/types';
import type { Gateway } from './gateway';
import type { RefusalReason, TunnelFailureReason } from './reasons';
import type { LiveBytes } from './stats';

/** The module attribute and span module of everything recorded here. */
export const GATEWAY_MODULE = 'relay-gateway';

/** What attachGatewayTelemetry records into (a started Telemetry fits, as do the test helpers). */
export interface GatewayTelemetrySinks {
  readonly metrics: RelayMetrics;
  readonly tracer: Tracer;
}

/** Options for attachGatewayTelemetry. */
export interface GatewayTelemetryOptions {
  /** The location a hybrid connection serves, for the `location` attribute (omitted when undefined). */
  readonly locationOf?: (hybridConnection: string) => string | undefined;
  /**
   * How often bytes of tunnels still open are added to the byte counter (default 10 s; 0: only when a tunnel
   * closes). Without it a long transfer would show no bytes until it ends.
   */
  readonly liveBytesIntervalMs?: number;
}

/** A running binding; `detach` stops listening (spans of open tunnels end, their bytes so far are counted). */
export interface GatewayTelemetryBinding {
  /** Adds the bytes of open tunnels to the byte counter now. */
  flushBytes(): void;
  detach(): void;
}

/** Default period of the live byte flush. */
export const DEFAULT_LIVE_BYTES_INTERVAL_MS = 10_000;

/** Refusal reason attribute for a client refused at admission. */
export function refusalMetricReason(reason: RefusalReason): MetricRefusalReason {
  if (reason === 'not-allowed') return 'allow_list';
  return reason === 'route-limit' || reason === 'global-limit' ? 'limit' : 'other';
}

const FAILURE_REASONS: Readonly<Partial<Record<TunnelFailureReason, MetricRefusalReason>>> = {
  'no-listener': 'no_listener',
  unauthorized: 'auth',
  forbidden: 'auth',
  'unknown-service': 'unknown_service',
  'service-busy': 'limit',
  'target-refused': 'target_refused',
  'target-timeout': 'target_timeout',
  'target-unresolved': 'target_dns',
  // A peer's message above the relay-socket bound (1009): its own label, since it points at a misbehaving or
  // hostile peer rather than at the relay or the target.
  'message-too-big': 'message_too_big',
};

/** Refusal reason attribute for an admitted client whose tunnel could not be opened (`other` when none fits). */
export function failureMetricReason(reason: TunnelFailureReason): MetricRefusalReason {
  return FAILURE_REASONS[reason] ?? 'other';
}

interface Tracked {
  readonly attrs: TunnelAttributes;
  readonly startedAt: number;
  readonly span: Span;
  meter?: TunnelMeter;
  live?: LiveBytes;
  /** Bytes already handed to the meter. */
  countedToTarget: number;
  countedToClient: number;
}

/**
 * Records the gateway's connections as metrics (accepted, refused by reason, active, bytes, connect latency from
 * client accept to tunnel ready, config versions, credential renewals and pre-issued token expiry) and one span
 * per admitted client, whose trace context goes on the relay connect request so the forwarder's span joins it.
 * The span's `relay.tracking_id` is the connection id, which is also the `sb-hc-id` the relay hands the forwarder.
 */
export function attachGatewayTelemetry(
  gateway: Gateway,
  sinks: GatewayTelemetrySinks,
  options: GatewayTelemetryOptions = {},
): GatewayTelemetryBinding {
  const { metrics, tracer } = sinks;
  const locationOf = options.locationOf ?? (() => undefined);
  const tracked = new Map<string, Tracked>();

  const attrsFor = (routeId: string): TunnelAttributes => {
    const route = gateway.currentConfig.routes.get(routeId);
    // A route is in the configuration when its events fire; the fallback only guards a removal race.
    const hybridConnection = route?.hybridConnection ?? '';
    const location = locationOf(hybridConnection);
    return {
      route: routeId,
      hybridConnection,
      ...(route && { service: route.service }),
      ...(location !== undefined && { location }),
    };
  };

  const count = (t: Tracked, toTarget: number, toClient: number): void => {
    if (!t.meter) return;
    t.meter.toTarget(toTarget - t.countedToTarget);
    t.meter.toClient(toClient - t.countedToClient);
    t.countedToTarget = Math.max(t.countedToTarget, toTarget);
    t.countedToClient = Math.max(t.countedToClient, toClient);
  };
  const flushBytes = (): void => {
    for (const t of tracked.values()) if (t.live) count(t, t.live.bytesFromClient, t.live.bytesToClient);
  };

  const onConnection = (event: { routeId: string; connectionId: string }): void => {
    const attrs = attrsFor(event.routeId);
    const span = startTunnelSpan(tracer, { module: GATEWAY_MODULE, attrs, trackingId: event.connectionId });
    tracked.set(event.connectionId, {
      attrs,
      startedAt: performance.now(),
      span,
      countedToTarget: 0,
      countedToClient: 0,
    });
  };
  const onTunnelOpen = (event: {
    connectionId: string;
    bytes: LiveBytes;
    relayConnectionId: string;
  }): void => {
    const t = tracked.get(event.connectionId);
    if (!t) return;
    // A warm connection carries the client under its own tracking id: the forwarder's span names that one.
    if (event.relayConnectionId !== event.connectionId) setTrackingId(t.span, event.relayConnectionId);
    t.meter = metrics.tunnelOpened(t.attrs, performance.now() - t.startedAt);
    t.live = event.bytes;
  };
  const onTunnelFailed = (event: {
    connectionId: string;
    reason: TunnelFailureReason;
    error: unknown;
    relayConnectionId?: string;
  }): void => {
    const t = tracked.get(event.connectionId);
    if (!t) return;
    tracked.delete(event.connectionId);
    // A stream refused by the forwarder: its span there names the stream's tracking id.
    if (event.relayConnectionId !== undefined) setTrackingId(t.span, event.relayConnectionId);
    metrics.connectionRefused(t.attrs, failureMetricReason(event.reason));
    const message = event.error instanceof Error ? event.error.message : undefined;
    endTunnelSpan(t.span, { error: { code: event.reason, ...(message !== undefined && { message }) } });
  };
  const onClosed = (event: {
    connectionId: string;
    bytesFromClient: number;
    bytesToClient: number;
    reason?: string;
  }): void => {
    const t = tracked.get(event.connectionId);
    if (!t) return;
    tracked.delete(event.connectionId);
    count(t, event.bytesFromClient, event.bytesToClient);
    t.meter?.close();
    endTunnelSpan(t.span, {
      bytes: { toTarget: event.bytesFromClient, toClient: event.bytesToClient },
      ...(event.reason !== undefined && { error: { code: event.reason } }),
    });
  };
  const onRefused = (event: { routeId: string; reason: RefusalReason }): void => {
    metrics.connectionRefused(attrsFor(event.routeId), refusalMetricReason(event.reason));
  };

  // Credentials: a new credential for a hybrid connection already in use counts as a renewal; pre-issued tokens
  // feed the expiry gauge (minted tokens live per connection and have nothing to watch).
  let previous: GatewayConfig | undefined;
  const trackCredentials = (config: GatewayConfig): void => {
    for (const [name, hc] of config.hybridConnections) {
      const attrs = { hybridConnection: name, ...withLocation(locationOf(name)) };
      const before = previous?.hybridConnections.get(name);
      if (before && !sameRelayCredential(before.credential, hc.credential))
        metrics.tokenRenewed(attrs, 'success');
      if (hc.credential.kind === 'token') metrics.setTokenExpiry(attrs, hc.credential.expiresAtMs);
      else metrics.forgetListener(attrs);
    }
    for (const name of previous?.hybridConnections.keys() ?? []) {
      if (!config.hybridConnections.has(name))
        metrics.forgetListener({ hybridConnection: name, ...withLocation(locationOf(name)) });
    }
    previous = config;
  };
  const onApplied = (): void => {
    metrics.configVersion('applied');
    trackCredentials(gateway.currentConfig);
  };
  const onRejected = (): void => metrics.configVersion('refused');

  // Attached after the first apply (file mode starts extensions then): that configuration counts as applied.
  if (gateway.state().configured) onApplied();

  gateway.on('connection', onConnection);
  gateway.on('tunnel-open', onTunnelOpen);
  gateway.on('tunnel-failed', onTunnelFailed);
  gateway.on('connection-closed', onClosed);
  gateway.on('refused', onRefused);
  gateway.on('applied', onApplied);
  gateway.on('rejected', onRejected);
  gateway.setConnectHeaderSource((connectionId) => {
    const t = tracked.get(connectionId);
    if (!t) return undefined;
    const headers = traceHeaders(t.span);
    return Object.keys(headers).length > 0 ? headers : undefined;
  });

  const intervalMs = options.liveBytesIntervalMs ?? DEFAULT_LIVE_BYTES_INTERVAL_MS;
  const timer = intervalMs > 0 ? setInterval(flushBytes, intervalMs) : undefined;
  timer?.unref();

  const stopUdp = metrics.observeUdpRoutes?.(() => udpObservations(gateway, locationOf));
  // The mux pools' connections and streams, per hybrid connection, read at collection time.
  const stopMux = metrics.observeMux?.(() =>
    Object.entries(gateway.state().mux ?? {}).map(([name, pool]) => ({
      attrs: { hybridConnection: name, ...withLocation(locationOf(name)) },
      connections: pool.connections,
      streams: pool.streams,
    })),
  );
  return {
    flushBytes,
    detach() {
      stopUdp?.();
      stopMux?.();
      clearInterval(timer);
      gateway.off('connection', onConnection);
      gateway.off('tunnel-open', onTunnelOpen);
      gateway.off('tunnel-failed', onTunnelFailed);
      gateway.off('connection-closed', onClosed);
      gateway.off('refused', onRefused);
      gateway.off('applied', onApplied);
      gateway.off('rejected', onRejected);
      gateway.setConnectHeaderSource(undefined);
      flushBytes();
      for (const t of tracked.values()) {
        t.meter?.close();
        endTunnelSpan(t.span, { error: { code: 'telemetry-detached' } });
      }
      tracked.clear();
    },
  };
}

/** The UDP routes' counters as metric observations, read at collection time only. */
function udpObservations(
  gateway: Gateway,
  locationOf: (hybridConnection: string) => string | undefined,
): UdpRouteObservation[] {
  return Object.values(gateway.state().udpRoutes ?? {}).map((route) => {
    const location = locationOf(route.hybridConnection);
    const c = route.counters;
    return {
      attrs: {
        route: route.id,
        hybridConnection: route.hybridConnection,
        service: route.service,
        ...(location !== undefined && { location }),
      },
      activeFlows: c.activeFlows,
      datagramsToTarget: c.datagramsFromClients,
      datagramsToClient: c.datagramsToClients,
      dropped: c.dropped,
    };
  });
}

function withLocation(location: string | undefined): { location?: string } {
  return location === undefined ? {} : { location };
}
