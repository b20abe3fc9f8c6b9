import { admitLocations, locationGatewayBytes, type AdmissionCandidate } from '../model/admission';
import { allocatePorts, type PortClaim } from '../model/allocation';
import { documentBytes, isManagedRoute, renderGatewayDocument } from '../model/documents';
import { isJsonObject, objectAt } from '../model/json';
import { hybridConnectionName, parseRouteName, routeName } from '../model/names';
import type { LocationProblem } from '../model/status';
import type { ControllerSettings, PoolSettings } from '../settings';
import type { FleetView } from './view';

/** Ports and problems decided for the locations of one pool. */
export interface PoolDecision {
  readonly pool: PoolSettings;
  /** Gateway devices of the pool that have a relay-gateway module twin. */
  readonly gateways: readonly string[];
  /** Locations whose routes fit in the gateway documents. */
  readonly admitted: ReadonlySet<string>;
  readonly ports: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly problems: ReadonlyMap<string, readonly LocationProblem[]>;
}

const EMPTY = new Map<string, never>();

/**
 * Decides one pool: which locations fit in its gateway documents (admission), then one port per service
 * (allocation), from what is already written — the locations' status tags first, the gateways' routes second —
 * so nothing moves unless it must.
 */
export function decidePool(
  view: FleetView,
  settings: ControllerSettings,
  pool: PoolSettings,
  namespaceHost: string,
): PoolDecision {
  const gateways = (view.gatewaysByPool.get(pool.name) ?? []).filter((d) => view.gatewayModules.has(d));
  // A location no namespace had room for (NAMESPACE_CAPACITY) takes no port until it is placed.
  const locations = [...view.locations.values()].filter(
    (l) => l.pool === pool.name && view.placement.places.has(l.locationId),
  );
  const claims: PortClaim[] = [];
  const blocked = new Set<number>();
  for (const l of locations) {
    const prev = view.previous.get(l.deviceId);
    if (prev?.locationId !== l.locationId || prev.pool !== pool.name) continue;
    for (const [service, port] of prev.ports)
      claims.push({ locationId: l.locationId, service, port, source: 'status' });
  }
  let baseBytes = documentBytes(renderGatewayDocument(settings, {}, EMPTY, EMPTY));
  for (const deviceId of gateways) {
    const desired = view.gatewayModules.get(deviceId)!.desired;
    baseBytes = Math.max(baseBytes, documentBytes(renderGatewayDocument(settings, desired, EMPTY, EMPTY)));
    for (const [name, route] of Object.entries(objectAt(desired, 'routes'))) {
      if (!isJsonObject(route) || typeof route.port !== 'number') continue;
      if (!isManagedRoute(settings, route)) {
        blocked.add(route.port);
        continue;
      }
      const parsed = parseRouteName(name);
      if (parsed && route.hybridConnection === hybridConnectionName(settings, parsed.locationId))
        claims.push({ ...parsed, port: route.port, source: 'route' });
    }
  }
  const holders = new Set(claims.map((c) => c.locationId));
  const candidates: AdmissionCandidate[] = locations.map((l) => {
    const hc = hybridConnectionName(settings, l.locationId);
    const routes = l.services.map((service) => ({ name: routeName(l.locationId, service.name), service }));
    return {
      locationId: l.locationId,
      established: holders.has(l.locationId),
      bytes: locationGatewayBytes(pool, namespaceHost, hc, routes),
    };
  });
  const { admitted, refused } = admitLocations(settings.gatewayTwinMaxBytes, baseBytes, candidates);
  const allocation = allocatePorts({
    firstPort: pool.firstPort,
    lastPort: pool.lastPort,
    requests: locations
      .filter((l) => admitted.has(l.locationId))
      .map((l) => ({
        locationId: l.locationId,
        services: l.services.map((s) => s.name),
        holdOnly: [...l.invalidServices.keys()],
      })),
    claims,
    blocked,
  });
  const problems = new Map<string, LocationProblem[]>();
  const add = (id: string, p: LocationProblem) => problems.set(id, [...(problems.get(id) ?? []), p]);
  for (const id of refused) {
    add(id, {
      code: 'GATEWAY_TWIN_FULL',
      message: `pool "${pool.name}" has no room left in its gateways' twins (${settings.gatewayTwinMaxBytes} bytes); add a pool`,
      severity: 'error',
    });
  }
  for (const [id, services] of allocation.exhausted) {
    add(id, {
      code: 'PORT_RANGE_EXHAUSTED',
      message: `no free port in ${pool.firstPort}-${pool.lastPort} of pool "${pool.name}" for ${services.join(', ')}`,
      severity: 'error',
    });
  }
  if (gateways.length === 0) {
    for (const l of locations) {
      add(l.locationId, {
        code: 'NO_GATEWAY',
        message: `pool "${pool.name}" has no device with a ${settings.gatewayModuleId} module yet`,
        severity: 'pending',
      });
    }
  }
  return { pool, gateways, admitted, ports: allocation.ports, problems };
}
