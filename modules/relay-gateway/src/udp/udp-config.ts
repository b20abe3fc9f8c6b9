import type { ConfigProblem } from '../../../common/src/config/schema-validator';
import { jsonPointer } from '../../../common/src/config/json-pointer';
import { asRecord, numberOr, type Unchecked } from '../../../common/src/config/unchecked';
import { findPortConflicts, type Binding } from '../config/port-conflicts';
import schema from '../config/schema.json';
import type { GatewayUdpRoute, UdpRouteDocument } from '../config/types';
import { normalizeRouteEndpoint } from '../config/normalize';

// Defaults live in the schema only, so the published schema and the code cannot disagree.
const defaults = schema.$defs.udpRoute.properties;

/**
 * Normalizes the document's `udpRoutes` (schema already checked by the caller): defaults, the hybrid connection
 * reference, the allow-list and the bind address, and two UDP routes that cannot bind together. A UDP port never
 * conflicts with a TCP route's port. Returns undefined when the document has no `udpRoutes`.
 */
export function normalizeUdpRoutes(
  raw: unknown,
  hcEntries: Record<string, unknown>,
  problems: ConfigProblem[],
): Map<string, GatewayUdpRoute> | undefined {
  const entries = asRecord(raw);
  if (!entries) return undefined;
  const routes = new Map<string, GatewayUdpRoute>();
  for (const [id, rawRoute] of Object.entries(entries)) {
    const entry = asRecord(rawRoute) as Unchecked<UdpRouteDocument> | undefined;
    const route = entry && normalizeUdpRoute(id, entry, hcEntries, problems);
    if (route) routes.set(id, route);
  }
  const bindings = new Map<string, Binding>();
  for (const route of routes.values()) if (route.enabled) bindings.set(route.id, route);
  for (const conflict of findPortConflicts(bindings)) {
    const a = bindings.get(conflict.first)!;
    const b = bindings.get(conflict.second)!;
    problems.push({
      path: jsonPointer('udpRoutes', conflict.second, 'port'),
      message:
        `port conflict: UDP routes "${conflict.first}" (${a.bindAddress}:${a.port}) and "${conflict.second}" ` +
        `(${b.bindAddress}:${b.port}) cannot both bind`,
    });
  }
  return routes;
}

function normalizeUdpRoute(
  id: string,
  entry: Unchecked<UdpRouteDocument>,
  hcEntries: Record<string, unknown>,
  problems: ConfigProblem[],
): GatewayUdpRoute | undefined {
  const at = (...rest: Array<string | number>): string => jsonPointer('udpRoutes', id, ...rest);
  const before = problems.length;
  const { port, hybridConnection, service } = entry;
  const { bindAddress, allow, allowList } = normalizeRouteEndpoint(
    entry,
    hcEntries,
    defaults.bindAddress.default,
    at,
    problems,
  );
  if (problems.length > before || typeof port !== 'number' || typeof hybridConnection !== 'string')
    return undefined;
  if (typeof service !== 'string' || !allow || !allowList) return undefined;
  return {
    id,
    port,
    bindAddress,
    hybridConnection,
    service,
    allow,
    allowList,
    maxFlows: numberOr(entry.maxFlows, defaults.maxFlows.default),
    flowIdleTimeoutMs: numberOr(entry.flowIdleTimeoutMs, defaults.flowIdleTimeoutMs.default),
    maxDatagramBytes: numberOr(entry.maxDatagramBytes, defaults.maxDatagramBytes.default),
    connectTimeoutMs: numberOr(entry.connectTimeoutMs, defaults.connectTimeoutMs.default),
    enabled: typeof entry.enabled === 'boolean' ? entry.enabled : defaults.enabled.default,
  };
}

/** True when two UDP routes are configured alike (the diff: an unchanged route keeps its socket and flows). */
export function sameUdpRoute(a: GatewayUdpRoute, b: GatewayUdpRoute): boolean {
  return (
    a.port === b.port &&
    a.bindAddress === b.bindAddress &&
    a.hybridConnection === b.hybridConnection &&
    a.service === b.service &&
    a.allow.join('\n') === b.allow.join('\n') &&
    a.maxFlows === b.maxFlows &&
    a.flowIdleTimeoutMs === b.flowIdleTimeoutMs &&
    a.maxDatagramBytes === b.maxDatagramBytes &&
    a.connectTimeoutMs === b.connectTimeoutMs &&
    a.enabled === b.enabled
  );
}
