import type { PortClaim } from '../model/allocation';
import { documentBytes, isManagedRoute, renderGatewayDocument } from '../model/documents';
import { gatewayModuleIds } from '../model/gateway-modules';
import { isJsonObject, objectAt } from '../model/json';
import { hybridConnectionName, isManagedName, parseRouteName } from '../model/names';
import type { ControllerSettings, PoolSettings } from '../settings';
import type { GatewayShard } from './gateway-shards';
import type { FleetView } from './view';

/** What a pool's relay-gateway twins say today: their instances, who is placed where, the ports they hold. */
export interface PoolInstances {
  /** Gateway devices of the pool with at least one of the pool's relay-gateway instances. */
  readonly devices: readonly string[];
  readonly shards: readonly GatewayShard[];
  /** The instance whose twin holds each location (the first in shard order when several do), by location id. */
  readonly current: ReadonlyMap<string, string>;
  /** Ports of managed routes, in any instance (the fallback record of the allocation). */
  readonly routeClaims: readonly PortClaim[];
  /** Ports of hand-made routes in any instance: the host has them bound, so never handed out. */
  readonly blocked: ReadonlySet<number>;
}

const EMPTY = new Map<string, never>();

/** Reads one pool's gateway instances from the view (pure). */
export function readPoolInstances(
  view: FleetView,
  settings: ControllerSettings,
  pool: PoolSettings,
): PoolInstances {
  const moduleIds = gatewayModuleIds(settings, pool);
  const devices = (view.gatewaysByPool.get(pool.name) ?? []).filter((d) =>
    moduleIds.some((id) => view.gatewayInstances.get(d)?.has(id)),
  );
  const emptyBytes = documentBytes(renderGatewayDocument(settings, {}, EMPTY, EMPTY));
  const shards: GatewayShard[] = [];
  const current = new Map<string, string>();
  const routeClaims: PortClaim[] = [];
  const blocked = new Set<number>();
  const prefix = settings.hybridConnectionPrefix;
  for (const moduleId of moduleIds) {
    let baseBytes = emptyBytes;
    let everywhere = true;
    for (const deviceId of devices) {
      const module = view.gatewayInstances.get(deviceId)?.get(moduleId);
      if (!module) {
        everywhere = false;
        continue;
      }
      const desired = module.desired;
      baseBytes = Math.max(baseBytes, documentBytes(renderGatewayDocument(settings, desired, EMPTY, EMPTY)));
      const place = (locationId: string) => {
        if (!current.has(locationId)) current.set(locationId, moduleId);
      };
      for (const name of Object.keys(objectAt(desired, 'hybridConnections')))
        if (isManagedName(settings, name)) place(name.slice(prefix.length));
      for (const [name, route] of Object.entries(objectAt(desired, 'routes'))) {
        if (!isJsonObject(route) || typeof route.port !== 'number') continue;
        if (!isManagedRoute(settings, route)) {
          blocked.add(route.port);
          continue;
        }
        const parsed = parseRouteName(name);
        if (parsed && route.hybridConnection === hybridConnectionName(settings, parsed.locationId)) {
          place(parsed.locationId);
          routeClaims.push({ ...parsed, port: route.port, source: 'route' });
        }
      }
    }
    shards.push({ moduleId, baseBytes, acceptsNew: everywhere });
  }
  return { devices, shards, current, routeClaims, blocked };
}
