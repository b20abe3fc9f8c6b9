import type { JsonObject } from './json';

/** `error`: a person must act; `pending`: waiting on something that should arrive (a module, a gateway). */
export type ProblemSeverity = 'error' | 'pending';

/** Something wrong with one location, shown in its status tag and logged. */
export interface LocationProblem {
  readonly code: string;
  readonly message: string;
  readonly severity: ProblemSeverity;
}

/** What the controller concluded about one location device in this reconcile. */
export interface LocationOutcome {
  readonly deviceId: string;
  readonly locationId?: string;
  readonly pool?: string;
  readonly hybridConnection?: string;
  /** The Relay namespace holding the hybrid connection (recorded when the controller has a namespace list). */
  readonly namespace?: string;
  /** Public port per service (services that hold one). */
  readonly ports: ReadonlyMap<string, number>;
  readonly publicHost?: string;
  /** Server name per service reached by name (`{service}.{location}.{zone}`), on `sniPort`. */
  readonly names?: ReadonlyMap<string, string>;
  /** The port clients dial for the names (the pool's public SNI port), present with `names`. */
  readonly sniPort?: number;
  readonly problems: readonly LocationProblem[];
  /** On the primary device of a location: the replica devices that serve it too. */
  readonly replicas?: readonly string[];
  /** On a replica device: the location's primary device. */
  readonly replicaOf?: string;
}

/** Overall state shown in the status tag. */
export type LocationState = 'ok' | 'pending' | 'error';

const MAX_MESSAGE_CHARS = 300;

/** The state a set of problems adds up to. */
export function locationState(problems: readonly LocationProblem[]): LocationState {
  if (problems.some((p) => p.severity === 'error')) return 'error';
  return problems.length > 0 ? 'pending' : 'ok';
}

/**
 * The `tags.relayStatus` object of a location: its hybrid connection, ports (also the allocation record that
 * keeps ports stable across restarts), state and problems by code. No timestamps, so an unchanged location
 * is never rewritten.
 */
export function renderStatusTag(outcome: LocationOutcome): JsonObject {
  const ports: JsonObject = {};
  for (const [service, port] of [...outcome.ports].sort(([a], [b]) => (a < b ? -1 : 1)))
    ports[service] = port;
  const names: JsonObject = {};
  for (const [service, name] of [...(outcome.names ?? [])].sort(([a], [b]) => (a < b ? -1 : 1)))
    names[service] = name;
  const problems: JsonObject = {};
  for (const p of outcome.problems) {
    const previous = problems[p.code];
    const message = typeof previous === 'string' ? `${previous}; ${p.message}` : p.message;
    problems[p.code] =
      message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : message;
  }
  return {
    ...(outcome.locationId !== undefined && { location: outcome.locationId }),
    ...(outcome.pool !== undefined && { pool: outcome.pool }),
    ...(outcome.hybridConnection !== undefined && { hybridConnection: outcome.hybridConnection }),
    ...(outcome.namespace !== undefined && { namespace: outcome.namespace }),
    ...(outcome.publicHost !== undefined && { publicHost: outcome.publicHost }),
    ...(outcome.replicas !== undefined && outcome.replicas.length > 0 && { replicas: [...outcome.replicas] }),
    ...(outcome.replicaOf !== undefined && { replicaOf: outcome.replicaOf }),
    ports,
    ...(Object.keys(names).length > 0 && {
      names,
      ...(outcome.sniPort !== undefined && { sniPort: outcome.sniPort }),
    }),
    state: locationState(outcome.problems),
    ...(Object.keys(problems).length > 0 && { problems }),
  };
}
