import type { JsonObject } from '../../../common/src/twin/json';
import type { ReportDetail } from '../../../common/src/twin/scrub';
import type { UdpRouteState } from './udp-route';

/**
 * The UDP routes' part of the reported properties (pure): per route its status, bound port, target and, at full
 * detail, its counters (empty maps left out); `compact` keeps the live flows; `summary` only routes not listening.
 */
export function udpRoutesReport(
  routes: Readonly<Record<string, UdpRouteState>> | undefined,
  detail: ReportDetail,
): JsonObject {
  if (!routes) return {};
  const out: JsonObject = {};
  for (const [id, route] of Object.entries(routes)) {
    if (detail === 'summary' && route.status === 'listening') continue;
    const c = route.counters;
    const entry: JsonObject = {
      status: route.status,
      ...(route.port !== undefined && { port: route.port }),
      bindAddress: route.bindAddress,
      hybridConnection: route.hybridConnection,
      service: route.service,
      ...(route.error !== undefined && { reason: route.error }),
    };
    if (detail === 'full')
      entry.counters = {
        flowsOpened: c.flowsOpened,
        activeFlows: c.activeFlows,
        ...nonEmpty('flowsFailed', c.flowsFailed),
        ...nonEmpty('flowsEnded', c.flowsEnded),
        datagramsFromClients: c.datagramsFromClients,
        datagramsToClients: c.datagramsToClients,
        bytesFromClients: c.bytesFromClients,
        bytesToClients: c.bytesToClients,
        ...nonEmpty('dropped', c.dropped),
      };
    else entry.activeFlows = c.activeFlows;
    out[id] = entry;
  }
  return { udpRoutes: out };
}

// Empty maps are left out: IoT Hub does not keep an empty object, so it would be re-sent after every re-read.
function nonEmpty(name: string, counts: Readonly<Partial<Record<string, number>>>): JsonObject {
  const out: JsonObject = {};
  for (const [key, n] of Object.entries(counts)) if (n) out[key] = n;
  return Object.keys(out).length > 0 ? { [name]: out } : {};
}
