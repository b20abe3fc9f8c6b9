/**
 * How the gateway carries client connections over the relay, for the connection workloads. Each mode is the
 * configuration that differs between them; everything else (limits, listeners, log level) is the same, so a mode
 * is added with one entry in {@link connectionModes}. The multiplexed mode (issue 13, item 3) goes in as one more
 * entry once its gateway switch exists, e.g.
 * `mux: { description: '…', route: { warmConnections: 0, <switch>: true }, idleRelayConnectionsPerRoute: <held> }`
 * (`<held>`: the relay connections a route keeps with no client, which the bench's settling allows; the relay
 * counts each as a tunnel). Every workload, table row and goal check then covers it.
 */
export interface ConnectionMode {
  /** One line for the report. */
  readonly description: string;
  /** Merged into the gateway configuration document (top level). */
  readonly gateway?: Readonly<Record<string, unknown>>;
  /** Merged into the bench route of the gateway. */
  readonly route?: Readonly<Record<string, unknown>>;
  /** Merged into the forwarder's hybrid-connection entry. */
  readonly forwarder?: Readonly<Record<string, unknown>>;
  /** Relay connections each route holds with no client on them (its warm pool bound), allowed while settling. */
  readonly idleRelayConnectionsPerRoute: number;
}

/** The shipped default of a route's warm pool bound (relay-gateway schema `warmConnections`). */
export const DEFAULT_WARM_CONNECTIONS = 2;

/** The modes the bench knows, in report order. */
export function connectionModes(warmConnections: number): Readonly<Record<string, ConnectionMode>> {
  return {
    cold: {
      description: 'one relay connection opened per client (warmConnections: 0)',
      route: { warmConnections: 0 },
      idleRelayConnectionsPerRoute: 0,
    },
    warm: {
      description: `one relay connection per client, up to ${warmConnections} opened ahead (warmConnections: ${warmConnections})`,
      route: { warmConnections },
      idleRelayConnectionsPerRoute: warmConnections,
    },
  };
}

/** Names of {@link connectionModes}, in report order. */
export const MODE_NAMES: readonly string[] = Object.keys(connectionModes(DEFAULT_WARM_CONNECTIONS));
