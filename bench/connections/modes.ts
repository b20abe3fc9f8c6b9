/**
 * How the gateway carries client connections over the relay, for the connection workloads. Each mode is the
 * configuration that differs between them; everything else (limits, listeners, log level) is the same, so a mode
 * is added with one entry in {@link connectionModes}, and every workload, table row and goal check covers it.
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

/** The shipped default of a route's multiplexed relay connections (relay-gateway schema `muxConnections`). */
export const DEFAULT_MUX_CONNECTIONS = 4;

/** The modes the bench knows, in report order. */
export function connectionModes(
  warmConnections: number,
  muxConnections = DEFAULT_MUX_CONNECTIONS,
): Readonly<Record<string, ConnectionMode>> {
  return {
    // Multiplexing is on by default: the classic modes switch it off to measure one relay connection per client.
    cold: {
      description: 'one relay connection opened per client (warmConnections: 0, multiplex: false)',
      route: { warmConnections: 0, multiplex: false },
      idleRelayConnectionsPerRoute: 0,
    },
    warm: {
      description: `one relay connection per client, up to ${warmConnections} opened ahead (warmConnections: ${warmConnections}, multiplex: false)`,
      route: { warmConnections, multiplex: false },
      idleRelayConnectionsPerRoute: warmConnections,
    },
    mux: {
      description: `streams over at most ${muxConnections} relay connections per route (multiplex: true, warmConnections: 0)`,
      route: { multiplex: true, warmConnections: 0, muxConnections },
      idleRelayConnectionsPerRoute: muxConnections,
    },
  };
}

/** Names of {@link connectionModes}, in report order. */
export const MODE_NAMES: readonly string[] = Object.keys(connectionModes(DEFAULT_WARM_CONNECTIONS));
