import type { GatewayConfig, GatewayHybridConnection, GatewayRoute } from './types';

/** The route fields a diff compares (the compiled allow-list is compared through its text). */
export type RouteField =
  | 'port'
  | 'bindAddress'
  | 'hybridConnection'
  | 'service'
  | 'allow'
  | 'maxConnections'
  | 'connectTimeoutMs'
  | 'idleTimeoutMs'
  | 'enabled';

const ROUTE_FIELDS: readonly RouteField[] = [
  'port',
  'bindAddress',
  'hybridConnection',
  'service',
  'allow',
  'maxConnections',
  'connectTimeoutMs',
  'idleTimeoutMs',
  'enabled',
];

/** A route present in both configurations whose own fields differ. */
export interface RouteChange {
  readonly id: string;
  /** Which fields differ, in a fixed order. */
  readonly fields: readonly RouteField[];
  /** True when the listening socket must be replaced (port or bind address changed). */
  readonly rebind: boolean;
}

/** What applying `next` over `previous` changes. Ids are sorted. */
export interface GatewayConfigDiff {
  readonly routesAdded: readonly string[];
  readonly routesRemoved: readonly string[];
  readonly routesChanged: readonly RouteChange[];
  /** Routes whose own fields are equal (their hybrid connection's credentials may still have changed). */
  readonly routesUnchanged: readonly string[];
  readonly hybridConnectionsAdded: readonly string[];
  readonly hybridConnectionsRemoved: readonly string[];
  /** Hybrid connections whose namespace, path or credential changed: new tunnels use the new values. */
  readonly credentialsChanged: readonly string[];
  readonly drainTimeoutChanged: boolean;
  readonly maxConnectionsChanged: boolean;
  readonly logLevelChanged: boolean;
}

/** An empty configuration: what a gateway runs before its first good document. */
export const EMPTY_GATEWAY_CONFIG: GatewayConfig = Object.freeze({
  drainTimeoutMs: 0,
  maxConnections: 0,
  hybridConnections: new Map<string, GatewayHybridConnection>(),
  routes: new Map<string, GatewayRoute>(),
});

/** Compares two configurations. Pure. */
export function diffGatewayConfig(previous: GatewayConfig, next: GatewayConfig): GatewayConfigDiff {
  const routesAdded: string[] = [];
  const routesChanged: RouteChange[] = [];
  const routesUnchanged: string[] = [];
  for (const [id, route] of next.routes) {
    const old = previous.routes.get(id);
    if (!old) {
      routesAdded.push(id);
      continue;
    }
    const fields = ROUTE_FIELDS.filter((field) => !sameField(old, route, field));
    if (fields.length === 0) routesUnchanged.push(id);
    else routesChanged.push({ id, fields, rebind: fields.includes('port') || fields.includes('bindAddress') });
  }
  const routesRemoved = [...previous.routes.keys()].filter((id) => !next.routes.has(id));

  const hybridConnectionsAdded: string[] = [];
  const credentialsChanged: string[] = [];
  for (const [name, hc] of next.hybridConnections) {
    const old = previous.hybridConnections.get(name);
    if (!old) hybridConnectionsAdded.push(name);
    else if (!sameHybridConnection(old, hc)) credentialsChanged.push(name);
  }
  const hybridConnectionsRemoved = [...previous.hybridConnections.keys()].filter(
    (name) => !next.hybridConnections.has(name),
  );

  return {
    routesAdded: routesAdded.sort(),
    routesRemoved: routesRemoved.sort(),
    routesChanged: routesChanged.sort((a, b) => (a.id < b.id ? -1 : 1)),
    routesUnchanged: routesUnchanged.sort(),
    hybridConnectionsAdded: hybridConnectionsAdded.sort(),
    hybridConnectionsRemoved: hybridConnectionsRemoved.sort(),
    credentialsChanged: credentialsChanged.sort(),
    drainTimeoutChanged: previous.drainTimeoutMs !== next.drainTimeoutMs,
    maxConnectionsChanged: previous.maxConnections !== next.maxConnections,
    logLevelChanged: previous.logLevel !== next.logLevel,
  };
}

/** True when applying the diff would change nothing at all. */
export function isEmptyDiff(diff: GatewayConfigDiff): boolean {
  return (
    diff.routesAdded.length === 0 &&
    diff.routesRemoved.length === 0 &&
    diff.routesChanged.length === 0 &&
    diff.hybridConnectionsAdded.length === 0 &&
    diff.hybridConnectionsRemoved.length === 0 &&
    diff.credentialsChanged.length === 0 &&
    !diff.drainTimeoutChanged &&
    !diff.maxConnectionsChanged &&
    !diff.logLevelChanged
  );
}

function sameField(a: GatewayRoute, b: GatewayRoute, field: RouteField): boolean {
  if (field === 'allow') return a.allow.length === b.allow.length && a.allow.every((entry, i) => entry === b.allow[i]);
  return a[field] === b[field];
}

function sameHybridConnection(a: GatewayHybridConnection, b: GatewayHybridConnection): boolean {
  if (a.namespace !== b.namespace || a.path !== b.path || a.credential.kind !== b.credential.kind) return false;
  if (a.credential.kind === 'key' && b.credential.kind === 'key')
    return a.credential.keyName === b.credential.keyName && a.credential.key === b.credential.key;
  return a.credential.kind === 'token' && b.credential.kind === 'token' && a.credential.token === b.credential.token;
}
