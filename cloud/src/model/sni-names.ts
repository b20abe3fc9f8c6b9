import type { PoolSettings, PoolSniSettings } from '../settings';
import type { JsonObject } from './json';
import type { ServiceSpec } from './location';
import { routeName } from './names';

/**
 * A DNS label as a server name needs it: lower-case letters, digits and inner hyphens, 1-63 characters (RFC 1035
 * §2.3.1 with RFC 1123's leading digit). Lower case because names are compared without case and one spelling
 * keeps the status tag, the twin and the certificate in step.
 */
export const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Longest DNS name in text form without the trailing dot (RFC 1035: 255 octets on the wire). */
export const DNS_NAME_MAX_CHARS = 253;

/** How a service is reached from the public side: its own port, a name on the pool's SNI port, or both. */
export type ServiceExposure = 'port' | 'name' | 'both';

const EXPOSURES: readonly ServiceExposure[] = ['port', 'name', 'both'];

/** Reads a service's `expose` tag (absent: `port`), or says why it is refused. */
export function parseExposure(
  raw: unknown,
):
  | { readonly ok: true; readonly exposure: ServiceExposure }
  | { readonly ok: false; readonly message: string } {
  if (raw === undefined) return { ok: true, exposure: 'port' };
  const known = EXPOSURES.find((e) => e === raw);
  return known !== undefined
    ? { ok: true, exposure: known }
    : { ok: false, message: `expose must be "port", "name" or "both", not ${JSON.stringify(raw)}` };
}

/** True when the service gets a public port of its own. */
export function exposesPort(service: ServiceSpec): boolean {
  return (service.expose ?? 'port') !== 'name';
}

/** True when the service wants a name on the pool's shared SNI port. */
export function exposesName(service: ServiceSpec): boolean {
  return service.expose === 'name' || service.expose === 'both';
}

/** The server name of a location's service: `{service}.{location}.{zone}`. */
export function sniName(service: string, locationId: string, zone: string): string {
  return `${service}.${locationId}.${zone}`;
}

/**
 * Why a service cannot have a name, or undefined. Location ids are always DNS labels (1-40 lower-case letters,
 * digits, inner hyphens), so only the service name and the total length can fail.
 */
export function sniNameProblem(service: string, locationId: string, zone: string): string | undefined {
  if (!DNS_LABEL.test(service))
    return (
      `service name "${service}" is not a DNS label (1-63 lower-case letters, digits or inner hyphens), ` +
      'so it cannot be a server name; rename the service or expose it by port'
    );
  const name = sniName(service, locationId, zone);
  if (name.length > DNS_NAME_MAX_CHARS)
    return `its name {service}.{location}.{zone} would be ${name.length} characters, more than a DNS name may have (${DNS_NAME_MAX_CHARS})`;
  return undefined;
}

/** Problems with a pool's `sni` setting (none when absent). */
export function poolSniProblems(pool: PoolSettings): string[] {
  const sni = pool.sni;
  if (sni === undefined) return [];
  const problems: string[] = [];
  if (!(Number.isInteger(sni.port) && sni.port >= 1 && sni.port <= 65535))
    problems.push('sni.port must be an integer 1-65535');
  else if (sni.port >= pool.firstPort && sni.port <= pool.lastPort)
    problems.push(
      `sni.port ${sni.port} lies in the pool's port range ${pool.firstPort}-${pool.lastPort}; ` +
        'the shared port must be outside it',
    );
  if (
    sni.publicPort !== undefined &&
    !(Number.isInteger(sni.publicPort) && sni.publicPort >= 1 && sni.publicPort <= 65535)
  )
    problems.push('sni.publicPort must be an integer 1-65535');
  const zone = typeof sni.zone === 'string' ? sni.zone : '';
  const labels = zone.split('.');
  if (zone.endsWith('.')) problems.push('sni.zone is written without the trailing dot');
  else if (zone === '' || !labels.every((l) => DNS_LABEL.test(l)))
    problems.push(
      `sni.zone ${JSON.stringify(sni.zone)} must be a DNS name of lower-case labels (letters, digits, ` +
        'inner hyphens, 1-63 each), such as "relay.contoso.com"',
    );
  // The shortest name is `a.b.{zone}`; longer service and location names are checked per name.
  else if (zone.length + 4 > DNS_NAME_MAX_CHARS)
    problems.push(`sni.zone is too long to hold any {service}.{location} below it`);
  return problems;
}

/**
 * Zones two pools share or nest: a wildcard record `*.{zone}` also answers for every name below a nested zone
 * that has no record of its own, so names could resolve to the wrong pool's load balancer.
 */
export function sniZoneOverlaps(pools: readonly PoolSettings[]): string[] {
  const problems: string[] = [];
  const withZone = pools.filter((p) => typeof p.sni?.zone === 'string');
  for (let i = 0; i < withZone.length; i++) {
    for (let j = i + 1; j < withZone.length; j++) {
      const [a, b] = [withZone[i]!, withZone[j]!];
      const [za, zb] = [a.sni!.zone, b.sni!.zone];
      if (za === zb || za.endsWith(`.${zb}`) || zb.endsWith(`.${za}`))
        problems.push(
          `pools "${a.name}" and "${b.name}" have overlapping SNI zones ("${za}", "${zb}"); give each pool its own`,
        );
    }
  }
  return problems;
}

/** Key of the controller's SNI route in every gateway document of a pool (a route name no location can make). */
export const SNI_ROUTE_NAME = 'hrf-sni';

/** The gateway's default `maxConnections` per route: what each service exposed by port gets. */
export const ROUTE_MAX_CONNECTIONS = 1000;
/** The most the gateway's schema takes for one route's `maxConnections`. */
const ROUTE_MAX_CONNECTIONS_LIMIT = 100_000;

/** What one server name leads to: a location's hybrid connection and service. */
export interface SniNameTarget {
  readonly locationId: string;
  readonly hybridConnection: string;
  readonly service: string;
}

/**
 * The pool's SNI route: the shared port, the pool's allow-list, every assigned name, and unknown names refused.
 * Its connection limit is what the names would have had as ports (the gateway's per-route default each), since
 * one route now carries them all.
 * Names go in the gateway's `sni.hosts` form, keyed `{location}_{service}` with the name as a value, because IoT
 * Hub refuses `.` in twin keys. The route's own target (required by the gateway's schema) is the first entry's,
 * never used with `refuse`.
 */
export function sniRoute(
  pool: PoolSettings,
  names: ReadonlyMap<string, SniNameTarget>,
): JsonObject | undefined {
  const keyed = [...names].map(([name, t]) => [routeName(t.locationId, t.service), name, t] as const);
  const sorted = keyed.sort(([a], [b]) => (a < b ? -1 : 1));
  if (pool.sni === undefined || sorted.length === 0) return undefined;
  const hosts: JsonObject = {};
  for (const [key, name, target] of sorted)
    hosts[key] = { name, hybridConnection: target.hybridConnection, service: target.service };
  const first = sorted[0]![2];
  return {
    port: pool.sni.port,
    ...(pool.bindAddress !== undefined && { bindAddress: pool.bindAddress }),
    hybridConnection: first.hybridConnection,
    service: first.service,
    allow: [...pool.allow],
    maxConnections: Math.min(ROUTE_MAX_CONNECTIONS_LIMIT, ROUTE_MAX_CONNECTIONS * sorted.length),
    sni: { hosts, unknownName: 'refuse' },
  };
}

const member = (name: string, value: unknown): number =>
  Buffer.byteLength(JSON.stringify(name)) + 2 + Buffer.byteLength(JSON.stringify(value));

/** Upper bound of the SNI route without names (admission's base size for a pool with `sni`). */
export function sniRouteBaseBytes(pool: PoolSettings): number {
  if (pool.sni === undefined) return 0;
  // The widest default target: a 60-character hybrid connection name and a 64-character service name.
  const widest = { locationId: 'x', hybridConnection: 'x'.repeat(60), service: 'x'.repeat(64) };
  const route = sniRoute(pool, new Map([['x', widest]]))!;
  return member(SNI_ROUTE_NAME, {
    ...route,
    maxConnections: ROUTE_MAX_CONNECTIONS_LIMIT,
    sni: { hosts: {}, unknownName: 'refuse' },
  });
}

/** Bytes a location's names add to the SNI route's `hosts` (every service that asks, valid or not: a bound). */
export function sniNamesBytes(
  pool: PoolSettings,
  locationId: string,
  hybridConnection: string,
  services: readonly ServiceSpec[],
): number {
  if (pool.sni === undefined) return 0;
  let bytes = 0;
  for (const s of services.filter(exposesName))
    bytes += member(routeName(locationId, s.name), {
      name: sniName(s.name, locationId, pool.sni.zone),
      hybridConnection,
      service: s.name,
    });
  return bytes;
}

/**
 * Reads a pool's `sni` as given in `--pools` JSON (`{"port": 443, "zone": "relay.contoso.com"}`): the setting, or
 * nothing with a problem pushed when it is not that shape (values are checked by resolveSettings).
 */
export function readPoolSni(raw: unknown, where: string, problems: string[]): { sni?: PoolSniSettings } {
  if (raw === undefined) return {};
  const sni = raw as { port?: unknown; publicPort?: unknown; zone?: unknown } | null;
  const keys = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? Object.keys(raw) : [];
  if (
    typeof sni?.port !== 'number' ||
    typeof sni.zone !== 'string' ||
    (sni.publicPort !== undefined && typeof sni.publicPort !== 'number') ||
    keys.some((k) => k !== 'port' && k !== 'publicPort' && k !== 'zone')
  ) {
    problems.push(
      `${where}.sni must be {"port": 1-65535, "publicPort"?: 1-65535, "zone": "relay.example.com"} and nothing else`,
    );
    return {};
  }
  const publicPort = sni.publicPort;
  return { sni: { port: sni.port, ...(publicPort !== undefined && { publicPort }), zone: sni.zone } };
}
