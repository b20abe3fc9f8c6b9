import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import { ATTR, Direction, INSTRUMENTS, LATENCY_BUCKETS_MS, RefusalReason } from './instruments';

/** Who a tunneled connection belongs to. `route` is the gateway route or forwarder service entry it came through. */
export interface TunnelAttributes {
  readonly route: string;
  readonly hybridConnection: string;
  readonly location?: string;
  readonly service?: string;
}

/** Who a relay listener (or the token it holds) belongs to. */
export interface ListenerAttributes {
  readonly hybridConnection: string;
  readonly location?: string;
}

/** Per-tunnel metering handle, returned by `tunnelOpened`; cheap enough to call on every chunk. */
export interface TunnelMeter {
  /** Counts bytes written toward the target (gateway: client → relay; forwarder: relay → target). */
  toTarget(bytes: number): void;
  /** Counts bytes written back toward the public client. */
  toClient(bytes: number): void;
  /** Bytes this tunnel carried so far, for span attributes and the closing log line. */
  bytes(): { readonly toTarget: number; readonly toClient: number };
  /** Marks the tunnel closed; idempotent, so every close path may call it. */
  close(): void;
}

/** Outcome of a renewal or reconcile pass. */
export type Outcome = 'success' | 'failure';

/** The typed metrics facade every module uses; the instrument names live only in instruments.ts. */
export interface RelayMetrics {
  /** A connection became a tunnel: counts it accepted and active, records its connect latency. */
  tunnelOpened(attrs: TunnelAttributes, connectLatencyMs: number): TunnelMeter;
  /** A connection did not become a tunnel. */
  connectionRefused(attrs: TunnelAttributes, reason: RefusalReason): void;
  /** Sets how many listener control channels are connected for one hybrid connection. */
  setListenersOnline(attrs: ListenerAttributes, online: number): void;
  /** A listener control channel came back after a drop. */
  listenerReconnected(attrs: ListenerAttributes): void;
  /** A token renewal was attempted. */
  tokenRenewed(attrs: ListenerAttributes, outcome: Outcome): void;
  /** Records when the token in use expires; the gauge reports seconds remaining at each collection. */
  setTokenExpiry(attrs: ListenerAttributes, expiresAtMs: number): void;
  /** Stops reporting listener and token gauges for a hybrid connection that was removed. */
  forgetListener(attrs: ListenerAttributes): void;
  /** A configuration version from the twin was applied or refused. */
  configVersion(outcome: 'applied' | 'refused'): void;
  /** One controller reconcile pass finished. */
  reconcileCompleted(durationMs: number, outcome: Outcome): void;
  /** The controller made one change (create_hybrid_connection, allocate_port, write_twin, …). */
  reconcileAction(action: string, location?: string): void;
  /** One IoT Hub call under the budget (`kind`: query, twinRead, …): sent, or answered 429. */
  iothubCall?(kind: string, outcome: 'sent' | 'throttled'): void;
  /** Each Relay namespace's use after a reconcile; a namespace left out stops being reported. */
  setNamespaceUse?(
    use: readonly {
      readonly name: string;
      readonly hybridConnections: number;
      readonly connectionBudget: number;
    }[],
  ): void;
  /**
   * Reports UDP routes from `source`, read at each collection (flows, datagrams by direction, drops by reason);
   * returns the function that stops it.
   */
  observeUdpRoutes?(source: () => readonly UdpRouteObservation[]): () => void;
  /** Reads multiplexed connections from `source` at each collection; returns the function that stops it. */
  observeMux?(source: () => readonly MuxObservation[]): () => void;
}

/** One hybrid connection's multiplexed relay connections at a collection. */
export interface MuxObservation {
  readonly attrs: ListenerAttributes;
  /** Multiplexed relay connections open now. */
  readonly connections: number;
  /** Streams open now on them. */
  readonly streams: number;
}

/** One UDP route's totals at a collection. */
export interface UdpRouteObservation {
  readonly attrs: TunnelAttributes;
  readonly activeFlows: number;
  readonly datagramsToTarget: number;
  readonly datagramsToClient: number;
  /** Drop reason → datagrams dropped (monotonic). */
  readonly dropped: Readonly<Partial<Record<string, number>>>;
}

/** Options for createRelayMetrics. */
export interface RelayMetricsOptions {
  /** Value of the `module` attribute on every data point (relay-gateway, relay-forwarder, fleet-controller, …). */
  readonly module: string;
  /** Clock for the token-expiry gauge; injectable for tests. */
  readonly nowMs?: () => number;
}

interface ByteTotals {
  readonly toTargetAttrs: Attributes;
  readonly toClientAttrs: Attributes;
  toTarget: number;
  toClient: number;
}

interface ListenerState {
  readonly attrs: Attributes;
  online?: number;
  expiresAtMs?: number;
}

/** Creates every instrument on `meter` (any SDK MeterProvider, or the API no-op) and returns the facade. */
export function createRelayMetrics(meter: Meter, options: RelayMetricsOptions): RelayMetrics {
  const moduleName = options.module;
  const nowMs = options.nowMs ?? Date.now;
  const I = INSTRUMENTS;
  const spec = (s: { description: string; unit: string }) => ({ description: s.description, unit: s.unit });

  const active = meter.createUpDownCounter(I.tunnelsActive.name, spec(I.tunnelsActive));
  const accepted = meter.createCounter(I.connectionsAccepted.name, spec(I.connectionsAccepted));
  const refused = meter.createCounter(I.connectionsRefused.name, spec(I.connectionsRefused));
  const latency = meter.createHistogram(I.connectDuration.name, {
    ...spec(I.connectDuration),
    advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS_MS] },
  });
  const reconnects = meter.createCounter(I.listenerReconnects.name, spec(I.listenerReconnects));
  const renewals = meter.createCounter(I.tokenRenewals.name, spec(I.tokenRenewals));
  const configVersions = meter.createCounter(I.configVersions.name, spec(I.configVersions));
  const reconcileDuration = meter.createHistogram(I.reconcileDuration.name, {
    ...spec(I.reconcileDuration),
    advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS_MS] },
  });
  const reconcileActions = meter.createCounter(I.reconcileActions.name, spec(I.reconcileActions));
  const iothubCalls = meter.createCounter(I.iothubCalls.name, spec(I.iothubCalls));
  let namespaceUse: readonly { name: string; hybridConnections: number; connectionBudget: number }[] = [];
  meter
    .createObservableGauge(I.namespaceHybridConnections.name, spec(I.namespaceHybridConnections))
    .addCallback((result) => {
      for (const n of namespaceUse)
        result.observe(n.hybridConnections, { [ATTR.module]: moduleName, [ATTR.namespace]: n.name });
    });
  meter
    .createObservableGauge(I.namespaceConnectionBudget.name, spec(I.namespaceConnectionBudget))
    .addCallback((result) => {
      for (const n of namespaceUse)
        result.observe(n.connectionBudget, { [ATTR.module]: moduleName, [ATTR.namespace]: n.name });
    });

  // Bytes are an observable counter fed from plain numbers: the hot path is one addition per chunk,
  // with no attribute hashing, and the total is read only when a reader collects.
  const byteTotals = new Map<string, ByteTotals>();
  meter.createObservableCounter(I.tunnelBytes.name, spec(I.tunnelBytes)).addCallback((result) => {
    for (const t of byteTotals.values()) {
      result.observe(t.toTarget, t.toTargetAttrs);
      result.observe(t.toClient, t.toClientAttrs);
    }
  });

  // UDP routes are read from their owner at collection time: the datagram path does no metric work at all.
  const udpSources = new Set<() => readonly UdpRouteObservation[]>();
  const observeUdp = (each: (o: UdpRouteObservation, attrs: Attributes) => void): void => {
    for (const source of udpSources) for (const o of source()) each(o, tunnelAttrs(o.attrs));
  };
  meter
    .createObservableGauge(I.udpFlowsActive.name, spec(I.udpFlowsActive))
    .addCallback((result) => observeUdp((o, attrs) => result.observe(o.activeFlows, attrs)));
  meter.createObservableCounter(I.udpDatagrams.name, spec(I.udpDatagrams)).addCallback((result) =>
    observeUdp((o, attrs) => {
      result.observe(o.datagramsToTarget, { ...attrs, [ATTR.direction]: 'to_target' satisfies Direction });
      result.observe(o.datagramsToClient, { ...attrs, [ATTR.direction]: 'to_client' satisfies Direction });
    }),
  );
  meter.createObservableCounter(I.udpDropped.name, spec(I.udpDropped)).addCallback((result) =>
    observeUdp((o, attrs) => {
      for (const [reason, n] of Object.entries(o.dropped))
        if (n) result.observe(n, { ...attrs, [ATTR.reason]: reason });
    }),
  );

  // Multiplexed connections are read from their owner at collection time, like UDP routes.
  const muxSources = new Set<() => readonly MuxObservation[]>();
  const observeMux = (result: ObservableResult, pick: (o: MuxObservation) => number): void => {
    for (const source of muxSources)
      for (const o of source()) result.observe(pick(o), listenerAttrs(o.attrs));
  };
  meter
    .createObservableGauge(I.muxConnections.name, spec(I.muxConnections))
    .addCallback((result) => observeMux(result, (o) => o.connections));
  meter
    .createObservableGauge(I.muxStreams.name, spec(I.muxStreams))
    .addCallback((result) => observeMux(result, (o) => o.streams));

  const listeners = new Map<string, ListenerState>();
  const observeListeners = (result: ObservableResult, pick: (s: ListenerState) => number | undefined) => {
    for (const s of listeners.values()) {
      const value = pick(s);
      if (value !== undefined) result.observe(value, s.attrs);
    }
  };
  meter
    .createObservableGauge(I.listenersOnline.name, spec(I.listenersOnline))
    .addCallback((result) => observeListeners(result, (s) => s.online));
  meter
    .createObservableGauge(I.tokenExpiry.name, spec(I.tokenExpiry))
    .addCallback((result) =>
      observeListeners(result, (s) =>
        s.expiresAtMs === undefined ? undefined : (s.expiresAtMs - nowMs()) / 1000,
      ),
    );

  const tunnelAttrs = (a: TunnelAttributes): Attributes =>
    withOptional(
      { [ATTR.module]: moduleName, [ATTR.route]: a.route, [ATTR.hybridConnection]: a.hybridConnection },
      a.location,
      a.service,
    );
  const listenerAttrs = (a: ListenerAttributes): Attributes =>
    withOptional(
      { [ATTR.module]: moduleName, [ATTR.hybridConnection]: a.hybridConnection },
      a.location,
      undefined,
    );
  const listenerState = (a: ListenerAttributes): ListenerState => {
    const key = JSON.stringify([a.hybridConnection, a.location ?? null]);
    let state = listeners.get(key);
    if (!state) {
      state = { attrs: listenerAttrs(a) };
      listeners.set(key, state);
    }
    return state;
  };
  const totalsFor = (a: TunnelAttributes, attrs: Attributes): ByteTotals => {
    const key = JSON.stringify([a.route, a.hybridConnection, a.location ?? null, a.service ?? null]);
    let totals = byteTotals.get(key);
    if (!totals) {
      totals = {
        toTargetAttrs: { ...attrs, [ATTR.direction]: 'to_target' satisfies Direction },
        toClientAttrs: { ...attrs, [ATTR.direction]: 'to_client' satisfies Direction },
        toTarget: 0,
        toClient: 0,
      };
      byteTotals.set(key, totals);
    }
    return totals;
  };

  return {
    tunnelOpened(a, connectLatencyMs) {
      const attrs = tunnelAttrs(a);
      accepted.add(1, attrs);
      active.add(1, attrs);
      if (Number.isFinite(connectLatencyMs) && connectLatencyMs >= 0) latency.record(connectLatencyMs, attrs);
      const totals = totalsFor(a, attrs);
      let toTarget = 0;
      let toClient = 0;
      let open = true;
      return {
        toTarget(bytes) {
          if (bytes > 0) {
            totals.toTarget += bytes;
            toTarget += bytes;
          }
        },
        toClient(bytes) {
          if (bytes > 0) {
            totals.toClient += bytes;
            toClient += bytes;
          }
        },
        bytes: () => ({ toTarget, toClient }),
        close() {
          if (!open) return;
          open = false;
          active.add(-1, attrs);
        },
      };
    },
    connectionRefused(a, reason) {
      refused.add(1, { ...tunnelAttrs(a), [ATTR.reason]: reason });
    },
    setListenersOnline(a, online) {
      listenerState(a).online = online;
    },
    listenerReconnected(a) {
      reconnects.add(1, listenerAttrs(a));
    },
    tokenRenewed(a, outcome) {
      renewals.add(1, { ...listenerAttrs(a), [ATTR.outcome]: outcome });
    },
    setTokenExpiry(a, expiresAtMs) {
      listenerState(a).expiresAtMs = expiresAtMs;
    },
    forgetListener(a) {
      listeners.delete(JSON.stringify([a.hybridConnection, a.location ?? null]));
    },
    configVersion(outcome) {
      configVersions.add(1, { [ATTR.module]: moduleName, [ATTR.outcome]: outcome });
    },
    reconcileCompleted(durationMs, outcome) {
      reconcileDuration.record(durationMs, { [ATTR.module]: moduleName, [ATTR.outcome]: outcome });
    },
    reconcileAction(action, location) {
      reconcileActions.add(
        1,
        withOptional({ [ATTR.module]: moduleName, [ATTR.action]: action }, location, undefined),
      );
    },
    iothubCall(kind, outcome) {
      iothubCalls.add(1, { [ATTR.module]: moduleName, [ATTR.action]: kind, [ATTR.outcome]: outcome });
    },
    observeUdpRoutes(source) {
      udpSources.add(source);
      return () => udpSources.delete(source);
    },
    observeMux(source) {
      muxSources.add(source);
      return () => muxSources.delete(source);
    },
    setNamespaceUse(use) {
      namespaceUse = use.map((n) => ({ ...n }));
    },
  };
}

// Absent dimensions are left out rather than sent as empty strings, so they do not form their own series.
function withOptional(
  base: Attributes,
  location: string | undefined,
  service: string | undefined,
): Attributes {
  if (location !== undefined) base[ATTR.location] = location;
  if (service !== undefined) base[ATTR.service] = service;
  return base;
}
