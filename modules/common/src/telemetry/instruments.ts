/**
 * The one table of every metric instrument the fleet emits: name, kind, unit, meaning and attribute keys.
 * Modules never spell these names; they call the facade in metrics.ts. docs/observability.md mirrors this table
 * (a unit test keeps the two in step).
 */

/** Attribute keys, spelled once. Snake case so they read the same in Azure Monitor and Prometheus. */
export const ATTR = {
  module: 'module',
  route: 'route',
  hybridConnection: 'hybrid_connection',
  location: 'location',
  service: 'service',
  reason: 'reason',
  direction: 'direction',
  outcome: 'outcome',
  action: 'action',
  namespace: 'namespace',
} as const;

/** Why a connection did not become a tunnel. */
export const REFUSAL_REASONS = [
  'allow_list',
  'limit',
  'no_listener',
  'target_refused',
  'target_timeout',
  'target_dns',
  'unknown_service',
  'auth',
  'message_too_big',
  'other',
] as const;

/** One of REFUSAL_REASONS. */
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Byte directions: toward the on-prem target, or back toward the public client. */
export const DIRECTIONS = ['to_target', 'to_client'] as const;

/** One of DIRECTIONS. */
export type Direction = (typeof DIRECTIONS)[number];

/** How the SDK instrument is created. */
export type InstrumentKind =
  'counter' | 'updowncounter' | 'histogram' | 'observable_counter' | 'observable_gauge';

/** Everything needed to create (and document) one instrument. */
export interface InstrumentSpec {
  readonly name: string;
  readonly kind: InstrumentKind;
  /** UCUM unit as OpenTelemetry expects it (`By`, `ms`, `s`, `{connection}`). */
  readonly unit: string;
  readonly description: string;
  readonly attributes: readonly string[];
}

const TUNNEL = [ATTR.module, ATTR.route, ATTR.hybridConnection, ATTR.location, ATTR.service] as const;
const LISTENER = [ATTR.module, ATTR.hybridConnection, ATTR.location] as const;

/** Bucket bounds (ms) for latency histograms: from a loopback hop to a slow cross-region relay round trip. */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
];

/** Every instrument, keyed by the facade's name for it. */
export const INSTRUMENTS = {
  tunnelsActive: {
    name: 'relay.tunnels.active',
    kind: 'updowncounter',
    unit: '{connection}',
    description: 'Tunneled connections open now.',
    attributes: TUNNEL,
  },
  connectionsAccepted: {
    name: 'relay.connections.accepted',
    kind: 'counter',
    unit: '{connection}',
    description: 'Connections that became a tunnel (client accepted, relay and target reached).',
    attributes: TUNNEL,
  },
  connectionsRefused: {
    name: 'relay.connections.refused',
    kind: 'counter',
    unit: '{connection}',
    description: 'Connections that did not become a tunnel, by reason.',
    attributes: [...TUNNEL, ATTR.reason],
  },
  tunnelBytes: {
    name: 'relay.tunnel.bytes',
    kind: 'observable_counter',
    unit: 'By',
    description: 'Payload bytes carried through tunnels, by direction.',
    attributes: [...TUNNEL, ATTR.direction],
  },
  connectDuration: {
    name: 'relay.connect.duration',
    kind: 'histogram',
    unit: 'ms',
    description: 'Time from accepting a connection to the tunnel being ready to carry bytes.',
    attributes: TUNNEL,
  },
  listenersOnline: {
    name: 'relay.listeners.online',
    kind: 'observable_gauge',
    unit: '{listener}',
    description: 'Relay listener control channels currently connected.',
    attributes: LISTENER,
  },
  listenerReconnects: {
    name: 'relay.listener.reconnects',
    kind: 'counter',
    unit: '{reconnect}',
    description: 'Times a relay listener control channel was re-established after a drop.',
    attributes: LISTENER,
  },
  tokenRenewals: {
    name: 'relay.token.renewals',
    kind: 'counter',
    unit: '{renewal}',
    description: 'Relay SAS token renewals, by outcome (success, failure).',
    attributes: [...LISTENER, ATTR.outcome],
  },
  tokenExpiry: {
    name: 'relay.token.expiry',
    kind: 'observable_gauge',
    unit: 's',
    description: 'Seconds until the relay token in use expires (negative once expired).',
    attributes: LISTENER,
  },
  configVersions: {
    name: 'relay.config.versions',
    kind: 'counter',
    unit: '{version}',
    description: 'Configuration versions received from the twin, by outcome (applied, refused).',
    attributes: [ATTR.module, ATTR.outcome],
  },
  reconcileDuration: {
    name: 'controller.reconcile.duration',
    kind: 'histogram',
    unit: 'ms',
    description: 'Duration of one fleet-controller reconcile pass, by outcome (success, failure).',
    attributes: [ATTR.module, ATTR.outcome],
  },
  reconcileActions: {
    name: 'controller.reconcile.actions',
    kind: 'counter',
    unit: '{action}',
    description: 'Changes the fleet controller made, by action (e.g. create_hybrid_connection, write_twin).',
    attributes: [ATTR.module, ATTR.action, ATTR.location],
  },
  iothubCalls: {
    name: 'controller.iothub.calls',
    kind: 'counter',
    unit: '{call}',
    description:
      'IoT Hub calls made under the budget, by throttle class (action) and outcome (sent, or throttled: a 429).',
    attributes: [ATTR.module, ATTR.action, ATTR.outcome],
  },
  udpFlowsActive: {
    name: 'relay.udp.flows.active',
    kind: 'observable_gauge',
    unit: '{flow}',
    description: 'UDP flows (client address:port pairs, each one relay connection) open or opening now.',
    attributes: TUNNEL,
  },
  udpDatagrams: {
    name: 'relay.udp.datagrams',
    kind: 'observable_counter',
    unit: '{datagram}',
    description: 'Datagrams carried through UDP flows, by direction.',
    attributes: [...TUNNEL, ATTR.direction],
  },
  udpDropped: {
    name: 'relay.udp.dropped',
    kind: 'observable_counter',
    unit: '{datagram}',
    description: "Datagrams a UDP route dropped, by reason (the route counters' drop reasons).",
    attributes: [...TUNNEL, ATTR.reason],
  },
  muxConnections: {
    name: 'relay.mux.connections',
    kind: 'observable_gauge',
    unit: '{connection}',
    description: 'Multiplexed relay connections open now, each carrying many tunnels as streams.',
    attributes: LISTENER,
  },
  muxStreams: {
    name: 'relay.mux.streams',
    kind: 'observable_gauge',
    unit: '{stream}',
    description: 'Streams open now on multiplexed relay connections (tunnels, and dials in progress).',
    attributes: LISTENER,
  },
  namespaceHybridConnections: {
    name: 'controller.namespace.hybrid_connections',
    kind: 'observable_gauge',
    unit: '{hybrid_connection}',
    description: "Hybrid connections in each Relay namespace (anyone's) after the last reconcile.",
    attributes: [ATTR.module, ATTR.namespace],
  },
  namespaceConnectionBudget: {
    name: 'controller.namespace.connection_budget',
    kind: 'observable_gauge',
    unit: '{connection}',
    description:
      "Connections the locations placed in each Relay namespace may draw (listeners plus each route's budget).",
    attributes: [ATTR.module, ATTR.namespace],
  },
} as const satisfies Record<string, InstrumentSpec>;

/** The facade's key for an instrument. */
export type InstrumentKey = keyof typeof INSTRUMENTS;
