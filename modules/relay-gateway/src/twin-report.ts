import type { JsonObject } from '../../common/src/twin/json';
import type { ReportDetail } from '../../common/src/twin/scrub';
import type { GatewayState } from './gateway';
import type { RouteState } from './route';
import { udpRoutesReport } from './udp/udp-report';

/** A route's status as reported: the gateway's own, or `draining`/`drained` while an operator drain holds it. */
export type ReportedRouteStatus = RouteState['status'] | 'drained';

/** The reported status of one route, given whether an operator drained it. */
export function reportedRouteStatus(route: RouteState, drained: boolean): ReportedRouteStatus {
  if (!drained) return route.status;
  return route.counters.active > 0 ? 'draining' : 'drained';
}

/**
 * The gateway's part of the reported properties (pure): per route its status, port, hybrid connection and service,
 * the reason when its port was refused, and — at full detail — its counters. `compact` keeps only live
 * connections per route; `summary` lists only the routes that are not listening or have a relay fault, with counts by status.
 */
export function gatewayReport(
  state: GatewayState,
  drained: ReadonlySet<string>,
  detail: ReportDetail,
): JsonObject {
  const routes: JsonObject = {};
  const byStatus: Record<string, number> = {};
  for (const [id, route] of Object.entries(state.routes)) {
    const status = reportedRouteStatus(route, drained.has(id));
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    if (detail === 'summary' && status === 'listening' && !route.relayFault) continue;
    routes[id] = routeEntry(route, status, detail);
  }
  // Removed routes still finishing their connections, unless the id is in use again.
  for (const route of state.draining) {
    if (routes[route.id] !== undefined || state.routes[route.id] !== undefined) continue;
    routes[route.id] = { status: 'draining', active: route.counters.active };
  }
  return {
    routes,
    connections: { active: state.activeConnections, max: state.maxConnections },
    ...(detail === 'summary' && { routeCounts: byStatus }),
    ...udpRoutesReport(state.udpRoutes, detail),
  };
}

function routeEntry(route: RouteState, status: ReportedRouteStatus, detail: ReportDetail): JsonObject {
  const c = route.counters;
  const entry: JsonObject = {
    status,
    port: route.port,
    ...(route.boundPort !== undefined && route.boundPort !== route.port && { boundPort: route.boundPort }),
    bindAddress: route.bindAddress,
    hybridConnection: route.hybridConnection,
    service: route.service,
    ...(route.error && { reason: { code: route.error.code, message: route.error.message } }),
    // No time stamp: it would change with every failing client and re-send the patch each time.
    ...(route.relayFault && {
      relayFault: {
        reason: route.relayFault.reason,
        ...(route.relayFault.code !== undefined && { code: route.relayFault.code }),
      },
    }),
  };
  if (detail === 'full') {
    entry.counters = {
      accepted: c.accepted,
      tunneled: c.tunneled,
      active: c.active,
      ...nonEmpty('refused', c.refused),
      ...nonEmpty('failed', c.failed),
      ...nonEmpty('broken', c.broken),
      ...(c.startup !== undefined && { startup: c.startup }),
      bytesFromClients: c.bytesFromClients,
      bytesToClients: c.bytesToClients,
    };
  } else {
    entry.active = c.active;
  }
  return entry;
}

/** One stats entry per route, with route, hybrid connection, location and service identifiers (pure). */
export function gatewayStats(
  state: GatewayState,
  drained: ReadonlySet<string>,
  locationOf: (hybridConnection: string) => string | undefined,
): JsonObject[] {
  return Object.entries(state.routes).map(([id, route]) => {
    const c = route.counters;
    const location = locationOf(route.hybridConnection);
    return {
      route: id,
      hybridConnection: route.hybridConnection,
      ...(location !== undefined && { location }),
      service: route.service,
      port: route.boundPort ?? route.port,
      status: reportedRouteStatus(route, drained.has(id)),
      active: c.active,
      accepted: c.accepted,
      tunneled: c.tunneled,
      refused: sum(c.refused),
      failed: sum(c.failed),
      broken: sum(c.broken),
      bytesFromClients: c.bytesFromClients,
      bytesToClients: c.bytesToClients,
    };
  });
}

function sum(counts: Readonly<Partial<Record<string, number>>>): number {
  return Object.values(counts).reduce<number>((total, n) => total + (n ?? 0), 0);
}

// Empty maps are left out: IoT Hub does not keep an empty object, so it would be re-sent after every re-read.
function nonEmpty(name: string, counts: Readonly<Partial<Record<string, number>>>): JsonObject {
  const out: JsonObject = {};
  for (const [key, n] of Object.entries(counts)) if (n) out[key] = n;
  return Object.keys(out).length > 0 ? { [name]: out } : {};
}
