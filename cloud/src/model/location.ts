import { parseCidr } from '../../../modules/common/src/net/cidr';
import { parseTarget } from '../../../modules/common/src/net/target';
import type { ControllerSettings } from '../settings';
import { isJsonObject, type JsonObject } from './json';
import { LOCATION_ID, SERVICE_NAME } from './names';
import type { ObservedDevice } from './observed';
import { parseExposure } from './sni-names';

/** Tag that declares a device's role (written by provisioning or a person). */
export const RELAY_TAG = 'relay';
/** Tag the controller writes on a location: its hybrid connection, ports and problems. */
export const STATUS_TAG = 'relayStatus';

/** One on-prem service a location exposes. */
export interface ServiceSpec {
  readonly name: string;
  /** `host:port`, `[ipv6]:port` or `unix:/path`, dialled by the forwarder. */
  readonly target: string;
  /** Overrides the pool's allow-list for this service's public port. */
  readonly allow?: readonly string[];
  /** `name` or `both`: reached as `{service}.{location}.{zone}` on the pool's SNI port; absent: by port only. */
  readonly expose?: 'name' | 'both';
}

/** A location as its tags declare it. */
export interface LocationSpec {
  readonly deviceId: string;
  readonly locationId: string;
  readonly pool: string;
  /** Valid services, sorted by name. */
  readonly services: readonly ServiceSpec[];
  /** Services declared but refused, with the reason; their ports stay reserved until fixed or removed. */
  readonly invalidServices: ReadonlyMap<string, string>;
}

/** What a device's tags make of it. */
export type DeviceRole =
  | { readonly kind: 'location'; readonly spec: LocationSpec }
  | { readonly kind: 'gateway'; readonly deviceId: string; readonly pool: string }
  | { readonly kind: 'invalid'; readonly deviceId: string; readonly code: string; readonly message: string }
  | { readonly kind: 'none'; readonly deviceId: string };

/**
 * Reads `tags.relay` of a device twin: `{ role: 'location', location?, pool?, services: { name: { target,
 * allow? } } }` or `{ role: 'gateway', pool? }`. The location id defaults to the device id in lower case.
 */
export function parseDeviceRole(device: ObservedDevice, settings: ControllerSettings): DeviceRole {
  const tag = device.tags[RELAY_TAG];
  const deviceId = device.deviceId;
  if (tag === undefined || tag === null) return { kind: 'none', deviceId };
  const bad = (code: string, message: string): DeviceRole => ({ kind: 'invalid', deviceId, code, message });
  if (!isJsonObject(tag)) return bad('INVALID_RELAY_TAGS', 'tags.relay must be an object');
  const pool = tag.pool ?? settings.defaultPool;
  if (typeof pool !== 'string' || pool === '')
    return bad('INVALID_RELAY_TAGS', 'tags.relay.pool must be a string');
  if (tag.role === 'gateway') return { kind: 'gateway', deviceId, pool };
  if (tag.role !== 'location')
    return bad(
      'INVALID_RELAY_TAGS',
      `tags.relay.role must be "location" or "gateway", not ${JSON.stringify(tag.role)}`,
    );
  const locationId = tag.location ?? deviceId.toLowerCase();
  if (typeof locationId !== 'string' || !LOCATION_ID.test(locationId)) {
    return bad(
      'INVALID_LOCATION_ID',
      `location id ${JSON.stringify(locationId)} must be 1-40 lower-case letters, digits or inner hyphens` +
        (tag.location === undefined ? ' (set tags.relay.location when the device id does not qualify)' : ''),
    );
  }
  if (!settings.pools.has(pool))
    return bad('UNKNOWN_POOL', `pool "${pool}" is not configured on the controller`);
  const declared = tag.services ?? {};
  if (!isJsonObject(declared)) return bad('INVALID_RELAY_TAGS', 'tags.relay.services must be an object');
  const services: ServiceSpec[] = [];
  const invalidServices = new Map<string, string>();
  for (const name of Object.keys(declared).sort()) {
    const result = parseService(name, declared[name]);
    if (typeof result === 'string') invalidServices.set(name, result);
    else services.push(result);
  }
  return { kind: 'location', spec: { deviceId, locationId, pool, services, invalidServices } };
}

function parseService(name: string, raw: unknown): ServiceSpec | string {
  if (!SERVICE_NAME.test(name)) return 'service names are 1-64 letters, digits, - or _';
  if (!isJsonObject(raw)) return 'a service must be an object { target, allow?, expose? }';
  const unknown = Object.keys(raw).filter((k) => k !== 'target' && k !== 'allow' && k !== 'expose');
  if (unknown.length > 0) return `unknown propert${unknown.length > 1 ? 'ies' : 'y'} ${unknown.join(', ')}`;
  if (typeof raw.target !== 'string') return 'target must be a string (host:port)';
  try {
    parseTarget(raw.target);
  } catch (err) {
    return (err as Error).message;
  }
  const exposure = parseExposure(raw.expose);
  if (!exposure.ok) return exposure.message;
  const expose = exposure.exposure === 'port' ? {} : { expose: exposure.exposure };
  if (raw.allow === undefined) return { name, target: raw.target, ...expose };
  const allow = raw.allow;
  if (!Array.isArray(allow) || allow.length === 0 || !allow.every((a) => typeof a === 'string'))
    return 'allow must be a non-empty list of CIDR blocks';
  for (const block of allow as string[]) {
    const parsed = parseCidr(block);
    if (!parsed.ok) return parsed.message;
  }
  return { name, target: raw.target, allow: allow as string[], ...expose };
}

/** What the controller last wrote in a location's status tag, as far as allocation cares. */
export interface PreviousStatus {
  readonly locationId?: string;
  readonly pool?: string;
  /** The Relay namespace the location's hybrid connection was placed in (several namespaces configured). */
  readonly namespace?: string;
  readonly ports: ReadonlyMap<string, number>;
  /** Set when the device served as a replica of this location's primary device. */
  readonly replicaOf?: string;
}

/** Reads the controller's own status tag; anything malformed counts as absent. */
export function readPreviousStatus(tags: JsonObject): PreviousStatus | undefined {
  const status = tags[STATUS_TAG];
  if (!isJsonObject(status)) return undefined;
  const ports = new Map<string, number>();
  if (isJsonObject(status.ports)) {
    for (const [service, port] of Object.entries(status.ports)) {
      if (typeof port === 'number' && Number.isInteger(port)) ports.set(service, port);
    }
  }
  return {
    ...(typeof status.location === 'string' && { locationId: status.location }),
    ...(typeof status.pool === 'string' && { pool: status.pool }),
    ...(typeof status.namespace === 'string' && { namespace: status.namespace }),
    ports,
    ...(typeof status.replicaOf === 'string' && { replicaOf: status.replicaOf }),
  };
}
