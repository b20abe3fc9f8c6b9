import type { LocationSpec } from '../model/location';
import { exposesName, sniName, sniNameProblem } from '../model/sni-names';
import type { LocationProblem } from '../model/status';
import type { PoolSettings } from '../settings';

/** Server names decided for the locations of one pool, and why some services got none. */
export interface SniNameDecision {
  /** Name per service, per location id (admitted locations only). */
  readonly names: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly problems: ReadonlyMap<string, readonly LocationProblem[]>;
}

/**
 * Gives every service exposed by name `{service}.{location}.{zone}` on the pool's SNI port. Names cannot collide:
 * location ids are unique in the fleet, a service name is unique in its location, and neither holds a dot. A
 * service is refused its name (its port, if it has one, is untouched) when the pool has no `sni`, the name is
 * not a DNS name, or it brings its own allow-list, which the shared port cannot enforce (the gateway checks the
 * allow-list before it has read the name).
 */
export function decideSniNames(
  pool: PoolSettings,
  locations: readonly LocationSpec[],
  admitted: ReadonlySet<string>,
  handMadePorts: ReadonlySet<number>,
): SniNameDecision {
  const names = new Map<string, Map<string, string>>();
  const problems = new Map<string, LocationProblem[]>();
  const add = (id: string, code: string, message: string) =>
    problems.set(id, [...(problems.get(id) ?? []), { code, message, severity: 'error' }]);
  for (const location of locations) {
    const wanted = location.services.filter(exposesName);
    if (wanted.length === 0 || !admitted.has(location.locationId)) continue;
    const id = location.locationId;
    if (pool.sni === undefined) {
      add(
        id,
        'SNI_NOT_CONFIGURED',
        `pool "${pool.name}" has no sni setting (port and zone), so ${list(wanted)} cannot be reached by name`,
      );
      continue;
    }
    if (handMadePorts.has(pool.sni.port)) {
      add(
        id,
        'SNI_PORT_TAKEN',
        `a route the controller does not manage uses the SNI port ${pool.sni.port} on a gateway of pool ` +
          `"${pool.name}"; no names are assigned until it is moved`,
      );
      continue;
    }
    const mine = new Map<string, string>();
    for (const service of wanted) {
      const problem = sniNameProblem(service.name, id, pool.sni.zone);
      if (problem !== undefined) {
        add(id, 'INVALID_SNI_NAME', `${service.name}: ${problem}`);
      } else if (service.allow !== undefined) {
        add(
          id,
          'SNI_ALLOW_CONFLICT',
          `${service.name}: a service reached by name shares the pool's allow-list on port ${pool.sni.port}; ` +
            'remove its own allow or expose it by port only',
        );
      } else {
        mine.set(service.name, sniName(service.name, id, pool.sni.zone));
      }
    }
    if (mine.size > 0) names.set(id, mine);
  }
  return { names, problems };
}

const list = (services: readonly { name: string }[]): string => services.map((s) => s.name).join(', ');
