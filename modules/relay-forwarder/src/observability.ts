// Turns the forwarder's events into metrics and spans. The forwarder itself knows nothing about telemetry: this
// file listens to its events and to the control channels of each hybrid connection.
import type { Span, Tracer } from '@opentelemetry/api';
import type { HybridConnectionListener } from '../../common/src/hc/listener';
import type { RefusalReason as MetricRefusalReason } from '../../common/src/telemetry/instruments';
import type {
  ListenerAttributes,
  RelayMetrics,
  TunnelAttributes,
  TunnelMeter,
} from '../../common/src/telemetry/metrics';
import { endTunnelSpan, startTunnelSpan } from '../../common/src/telemetry/tracing';
import type { ConfigAppliedEvent, Forwarder } from './forwarder';
import type { ListenerStateEvent } from './runtime/hybrid-connection-runtime';
import type { ConnectionRefusalReason, ServiceRefusalReason } from './runtime/stats';
import type { TunnelClosedEvent, TunnelOpenedEvent, TunnelRefusedEvent } from './runtime/tunnel-events';

/** The module attribute and span module of everything recorded here. */
export const FORWARDER_MODULE = 'relay-forwarder';

/** Route attribute of a refusal that named no configured service (unknown port name, unreadable preamble). */
export const NO_SERVICE_ROUTE = '(none)';

/** What attachForwarderTelemetry records into (a started Telemetry fits, as do the test helpers). */
export interface ForwarderTelemetrySinks {
  readonly metrics: RelayMetrics;
  readonly tracer: Tracer;
}

/** Options for attachForwarderTelemetry. */
export interface ForwarderTelemetryOptions {
  /** The location this forwarder serves (LOCATION, else the device id), for the `location` attribute. */
  readonly location?: string;
  /** How often bytes of tunnels still open are added to the byte counter (default 10 s; 0: only at close). */
  readonly liveBytesIntervalMs?: number;
}

/** A running binding; `detach` stops listening (spans of open tunnels end, their bytes so far are counted). */
export interface ForwarderTelemetryBinding {
  /** Adds the bytes of open tunnels to the byte counter now. */
  flushBytes(): void;
  detach(): void;
}

const REFUSAL_REASONS: Readonly<
  Partial<Record<ServiceRefusalReason | ConnectionRefusalReason, MetricRefusalReason>>
> = {
  'unknown-service': 'unknown_service',
  busy: 'limit',
  refused: 'target_refused',
  timeout: 'target_timeout',
  dns: 'target_dns',
};

/** Refusal reason attribute for a relay connection the forwarder refused (`other` when none fits). */
export function forwarderMetricReason(
  reason: ServiceRefusalReason | ConnectionRefusalReason,
): MetricRefusalReason {
  return REFUSAL_REASONS[reason] ?? 'other';
}

interface Tracked {
  readonly span: Span;
  readonly meter: TunnelMeter;
  readonly live: TunnelOpenedEvent['live'];
  countedToTarget: number;
  countedToClient: number;
}

interface ListenerTrack {
  onlineCount: number;
  detach(): void;
}

/**
 * Records the forwarder as metrics — tunnels accepted, refused by reason, active, bytes, connect latency from the
 * relay's accept to the target being connected, listeners online, reconnects, token renewals and expiry, config
 * versions — and one span per relay connection (refusals included), a child of the gateway's span when the sender
 * sent W3C trace context, carrying the relay tracking id. `route` and `service` are the service name.
 */
export function attachForwarderTelemetry(
  forwarder: Forwarder,
  sinks: ForwarderTelemetrySinks,
  options: ForwarderTelemetryOptions = {},
): ForwarderTelemetryBinding {
  const { metrics, tracer } = sinks;
  const location = options.location;
  const tracked = new Map<string, Tracked>();
  const listeners = new Map<HybridConnectionListener, ListenerTrack>();
  const known = new Set<string>();

  const tunnelAttrs = (hybridConnection: string, service: string | undefined): TunnelAttributes => ({
    route: service ?? NO_SERVICE_ROUTE,
    hybridConnection,
    ...(service !== undefined && { service }),
    ...(location !== undefined && { location }),
  });
  const listenerAttrs = (hybridConnection: string): ListenerAttributes => ({
    hybridConnection,
    ...(location !== undefined && { location }),
  });

  const count = (t: Tracked, toTarget: number, toClient: number): void => {
    t.meter.toTarget(toTarget - t.countedToTarget);
    t.meter.toClient(toClient - t.countedToClient);
    t.countedToTarget = Math.max(t.countedToTarget, toTarget);
    t.countedToClient = Math.max(t.countedToClient, toClient);
  };
  const flushBytes = (): void => {
    for (const t of tracked.values()) count(t, t.live.bytesToTarget, t.live.bytesFromTarget);
  };

  const onOpened = (event: TunnelOpenedEvent): void => {
    const attrs = tunnelAttrs(event.hybridConnection, event.service);
    const span = startTunnelSpan(tracer, {
      module: FORWARDER_MODULE,
      attrs,
      trackingId: event.tunnelId,
      startTimeMs: event.acceptedAtMs,
      ...(event.traceHeaders && { parentHeaders: event.traceHeaders }),
    });
    const meter = metrics.tunnelOpened(attrs, Math.max(0, Date.now() - event.acceptedAtMs));
    tracked.set(event.tunnelId, { span, meter, live: event.live, countedToTarget: 0, countedToClient: 0 });
  };
  const onClosed = (event: TunnelClosedEvent): void => {
    const t = tracked.get(event.tunnelId);
    if (!t) return;
    tracked.delete(event.tunnelId);
    count(t, event.bytesToTarget, event.bytesFromTarget);
    t.meter.close();
    endTunnelSpan(t.span, {
      bytes: { toTarget: event.bytesToTarget, toClient: event.bytesFromTarget },
      ...(!event.ok && { error: { code: event.errorCode ?? 'TUNNEL_FAILED' } }),
    });
  };
  const onRefused = (event: TunnelRefusedEvent): void => {
    const attrs = tunnelAttrs(event.hybridConnection, event.service);
    metrics.connectionRefused(attrs, forwarderMetricReason(event.reason));
    const span = startTunnelSpan(tracer, {
      module: FORWARDER_MODULE,
      attrs,
      trackingId: event.tunnelId,
      startTimeMs: event.acceptedAtMs,
      ...(event.traceHeaders && { parentHeaders: event.traceHeaders }),
    });
    endTunnelSpan(span, {
      error: { code: event.reason, message: `refused with close code ${event.closeCode}` },
    });
  };

  // Control channels come and go with the configuration: pick up new ones whenever a hybrid connection's
  // listener state changes (a new channel always causes one), drop closed ones.
  const updateTokenExpiry = (hybridConnection: string): void => {
    const expiries = (forwarder.runtime(hybridConnection)?.controlChannels ?? [])
      .map((listener) => listener.tokenExpiresAtMs)
      .filter((at): at is number => at !== undefined);
    if (expiries.length > 0) metrics.setTokenExpiry(listenerAttrs(hybridConnection), Math.min(...expiries));
  };
  const follow = (hybridConnection: string, listener: HybridConnectionListener): void => {
    const attrs = listenerAttrs(hybridConnection);
    const track: ListenerTrack = {
      onlineCount: listener.state === 'online' ? 1 : 0,
      detach: () => undefined,
    };
    const onOnline = (): void => {
      track.onlineCount += 1;
      if (track.onlineCount > 1) metrics.listenerReconnected(attrs);
      updateTokenExpiry(hybridConnection);
    };
    const onRenewed = (): void => {
      metrics.tokenRenewed(attrs, 'success');
      updateTokenExpiry(hybridConnection);
    };
    const onRenewFailed = (): void => metrics.tokenRenewed(attrs, 'failure');
    const onClose = (): void => {
      track.detach();
      listeners.delete(listener);
    };
    listener.on('online', onOnline);
    listener.on('tokenRenewed', onRenewed);
    listener.on('tokenRenewalFailed', onRenewFailed);
    listener.once('close', onClose);
    track.detach = () => {
      listener.off('online', onOnline);
      listener.off('tokenRenewed', onRenewed);
      listener.off('tokenRenewalFailed', onRenewFailed);
      listener.off('close', onClose);
    };
    listeners.set(listener, track);
  };
  const onListenerState = (event: ListenerStateEvent): void => {
    const runtime = forwarder.runtime(event.hybridConnection);
    // A removed hybrid connection reports its last state after removal: forgotten already, stay forgotten.
    if (!runtime || !known.has(event.hybridConnection)) return;
    for (const listener of runtime.controlChannels)
      if (!listeners.has(listener)) follow(event.hybridConnection, listener);
    metrics.setListenersOnline(listenerAttrs(event.hybridConnection), event.online);
    updateTokenExpiry(event.hybridConnection);
  };

  const syncHybridConnections = (): void => {
    const current = new Set(Object.keys(forwarder.state().hybridConnections));
    for (const name of known) {
      if (!current.has(name)) {
        known.delete(name);
        metrics.forgetListener(listenerAttrs(name));
      }
    }
    for (const name of current) {
      if (known.has(name)) continue;
      known.add(name);
      const runtime = forwarder.runtime(name);
      const online = runtime?.controlChannels.filter((l) => l.state === 'online').length ?? 0;
      onListenerState({ hybridConnection: name, online, configured: runtime?.current.listeners ?? 0 });
    }
  };
  const onApplied = (_event: ConfigAppliedEvent): void => {
    metrics.configVersion('applied');
    syncHybridConnections();
  };
  const onRejected = (): void => metrics.configVersion('refused');

  forwarder.on('tunnelOpened', onOpened);
  forwarder.on('tunnelClosed', onClosed);
  forwarder.on('tunnelRefused', onRefused);
  forwarder.on('listenerState', onListenerState);
  forwarder.on('configApplied', onApplied);
  forwarder.on('configRejected', onRejected);
  // Attached after the first apply (file mode): that configuration counts as applied.
  if (forwarder.config) onApplied({ added: [], removed: [], changed: [], unchanged: [] });

  const intervalMs = options.liveBytesIntervalMs ?? 10_000;
  const timer = intervalMs > 0 ? setInterval(flushBytes, intervalMs) : undefined;
  timer?.unref();

  // Hybrid connections that took a multiplexed connection since start, read at each collection.
  const stopMux = metrics.observeMux?.(() =>
    Object.values(forwarder.state().hybridConnections).flatMap((hc) =>
      hc.mux
        ? [{ attrs: listenerAttrs(hc.name), connections: hc.mux.connections, streams: hc.mux.streams }]
        : [],
    ),
  );

  return {
    flushBytes,
    detach() {
      stopMux?.();
      clearInterval(timer);
      forwarder.off('tunnelOpened', onOpened);
      forwarder.off('tunnelClosed', onClosed);
      forwarder.off('tunnelRefused', onRefused);
      forwarder.off('listenerState', onListenerState);
      forwarder.off('configApplied', onApplied);
      forwarder.off('configRejected', onRejected);
      for (const track of listeners.values()) track.detach();
      listeners.clear();
      flushBytes();
      for (const t of tracked.values()) {
        t.meter.close();
        endTunnelSpan(t.span, { error: { code: 'telemetry-detached' } });
      }
      tracked.clear();
    },
  };
}
