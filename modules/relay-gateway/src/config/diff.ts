import { sameRelayCredential } from '../../../common/src/config/credentials';
import { diffMaps } from '../../../common/src/config/map-diff';
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
  | 'enabled'
  | 'warmConnections'
  | 'warmMaxIdleMs'
  | 'multiplex'
  | 'muxConnections'
  | 'acceptProxyProtocol'
  | 'sni'
  | 'mtls';

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
  'warmConnections',
  'warmMaxIdleMs',
  'multiplex',
  'muxConnections',
  'acceptProxyProtocol',
  'sni',
  'mtls',
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
  const differing = (old: GatewayRoute, route: GatewayRoute): RouteField[] =>
    ROUTE_FIELDS.filter((field) => !sameField(old, route, field));
  const routes = diffMaps(previous.routes, next.routes, (old, route) => differing(old, route).length === 0);
  const routesAdded = [...routes.added];
  const routesRemoved = [...routes.removed];
  const routesUnchanged = [...routes.unchanged];
  const routesChanged = routes.changed.map((id): RouteChange => {
    const fields = differing(previous.routes.get(id) as GatewayRoute, next.routes.get(id) as GatewayRoute);
    return { id, fields, rebind: fields.includes('port') || fields.includes('bindAddress') };
  });
  const hybridConnections = diffMaps(previous.hybridConnections, next.hybridConnections, sameHybridConnection);
  const hybridConnectionsAdded = [...hybridConnections.added];
  const hybridConnectionsRemoved = [...hybridConnections.removed];
  const credentialsChanged = [...hybridConnections.changed];

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
  if (field === 'acceptProxyProtocol') {
    const [x, y] = [a.acceptProxyProtocol, b.acceptProxyProtocol];
    if (!x || !y) return x === y;
    return x.headerTimeoutMs === y.headerTimeoutMs && x.trustedSources.join() === y.trustedSources.join();
  }
  if (field === 'sni') return a.sni?.text === b.sni?.text;
  if (field === 'mtls') return a.mtls?.fingerprint === b.mtls?.fingerprint;
  return a[field] === b[field];
}

function sameHybridConnection(a: GatewayHybridConnection, b: GatewayHybridConnection): boolean {
  return a.namespace === b.namespace && a.path === b.path && sameRelayCredential(a.credential, b.credential);
}
