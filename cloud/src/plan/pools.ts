import { locationGatewayBytes } from '../model/admission';
import { allocatePorts, type PortClaim } from '../model/allocation';
import { hybridConnectionName, routeName } from '../model/names';
import { exposesPort, sniNamesBytes, sniRouteBaseBytes } from '../model/sni-names';
import type { LocationProblem } from '../model/status';
import type { ControllerSettings, PoolSettings } from '../settings';
import { placeOnShards, type ShardCandidate } from './gateway-shards';
import { readPoolInstances } from './pool-instances';
import { decideSniNames } from './sni-names';
import type { FleetView } from './view';

/** Ports and problems decided for the locations of one pool. */
export interface PoolDecision {
  readonly pool: PoolSettings;
  /** Gateway devices of the pool that have at least one of its relay-gateway module twins. */
  readonly gateways: readonly string[];
  /** Locations whose routes fit in the gateway documents. */
  readonly admitted: ReadonlySet<string>;
  /** The relay-gateway instance (module id) that carries each admitted location, by location id. */
  readonly shards: ReadonlyMap<string, string>;
  readonly ports: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Server names on the pool's SNI port: name per service, per location (plan/sni-names.ts). */
  readonly names: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly problems: ReadonlyMap<string, readonly LocationProblem[]>;
}

/**
 * Decides one pool: which of its relay-gateway instances carries each location (placeOnShards: only what fits
 * in the instances' twins is admitted), then one port per service across the whole pool (allocation), from what
 * is already written — the locations' status tags first, the gateways' routes second — so nothing moves unless
 * it must.
 */
export function decidePool(
  view: FleetView,
  settings: ControllerSettings,
  pool: PoolSettings,
  namespaceHost: string,
): PoolDecision {
  const instances = readPoolInstances(view, settings, pool);
  const gateways = instances.devices;
  // A location no namespace had room for (NAMESPACE_CAPACITY) takes no port until it is placed.
  const locations = (view.locationsByPool.get(pool.name) ?? []).filter((l) =>
    view.placement.places.has(l.locationId),
  );
  const claims: PortClaim[] = [];
  for (const l of locations) {
    const prev = view.previous.get(l.deviceId);
    if (prev?.locationId !== l.locationId || prev.pool !== pool.name) continue;
    for (const [service, port] of prev.ports)
      claims.push({ locationId: l.locationId, service, port, source: 'status' });
  }
  const holders = new Set(claims.map((c) => c.locationId));
  claims.push(...instances.routeClaims);
  const candidates: ShardCandidate[] = locations.map((l) => {
    const hc = hybridConnectionName(settings, l.locationId);
    const routes = l.services
      .filter(exposesPort)
      .map((service) => ({ name: routeName(l.locationId, service.name), service }));
    const currentModuleId = instances.current.get(l.locationId);
    return {
      locationId: l.locationId,
      bytes:
        locationGatewayBytes(pool, namespaceHost, hc, routes) +
        sniNamesBytes(pool, l.locationId, hc, l.services),
      ...(currentModuleId !== undefined && { currentModuleId }),
      ...(holders.has(l.locationId) && { holdsPorts: true }),
    };
  });
  const { placement, refused } = placeOnShards({
    // The shared SNI route is written with the instances' documents (sni pools have one instance).
    shards: instances.shards.map((shard) => ({
      ...shard,
      baseBytes: shard.baseBytes + sniRouteBaseBytes(pool),
    })),
    candidates,
    maxBytes: settings.gatewayTwinMaxBytes,
    targetBytes: settings.gatewayTwinTargetBytes,
  });
  const admitted = new Set(placement.keys());
  const allocation = allocatePorts({
    firstPort: pool.firstPort,
    lastPort: pool.lastPort,
    requests: locations
      .filter((l) => admitted.has(l.locationId))
      .map((l) => ({
        locationId: l.locationId,
        services: l.services.filter(exposesPort).map((s) => s.name),
        holdOnly: [...l.invalidServices.keys()],
      })),
    claims,
    blocked: instances.blocked,
  });
  const sni = decideSniNames(pool, locations, admitted, instances.blocked);
  const problems = new Map<string, LocationProblem[]>();
  const add = (id: string, p: LocationProblem) => problems.set(id, [...(problems.get(id) ?? []), p]);
  for (const [id, list] of sni.problems) for (const p of list) add(id, p);
  for (const id of refused) {
    add(id, {
      code: 'GATEWAY_TWIN_FULL',
      message:
        `pool "${pool.name}" has no room left in the twins of its ${instances.shards.length} gateway ` +
        `module${instances.shards.length === 1 ? '' : 's'} (${Math.min(settings.gatewayTwinTargetBytes, settings.gatewayTwinMaxBytes)} bytes each); ` +
        "add gateway modules (the pool's gatewayModules) or a pool",
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
  return {
    pool,
    gateways,
    admitted,
    shards: placement,
    ports: allocation.ports,
    names: sni.names,
    problems,
  };
}
