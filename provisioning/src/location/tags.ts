import { LOCATION_ID, SERVICE_NAME } from '../../../cloud/src/model/names';
import { DNS_LABEL } from '../../../cloud/src/model/sni-names';
import { parseTarget } from '../../../modules/common/src/net/target';
import type { JsonObject } from '../../../modules/common/src/twin/json';
import { ProvisioningError } from '../errors';

/** The device twin tag the fleet controller reads (`tags.relay`): the same model as `cloud/src/model/location.ts`. */
export { RELAY_TAG } from '../../../cloud/src/model/location';

/** One on-prem service a location exposes: a name (the port name in the relay preamble) and its `host:port`. */
export interface ServiceDeclaration {
  readonly name: string;
  readonly target: string;
  /** `name` or `both`: reached as `{service}.{location}.{zone}` on the pool's SNI port; absent: by port. */
  readonly expose?: 'name' | 'both';
}

/** What `provision location` declares about a device. */
export interface LocationDeclaration {
  readonly role: 'location';
  /** Location id (lower case, 1-40 letters, digits, inner hyphens); names the hybrid connection. */
  readonly location: string;
  /** Gateway pool; the controller's default pool when absent. */
  readonly pool?: string;
  readonly services: readonly ServiceDeclaration[];
}

/** What `provision gateway` declares about a device. */
export interface GatewayDeclaration {
  readonly role: 'gateway';
  readonly pool?: string;
}

/** A device's role in the fleet, as its tags will say. */
export type RelayDeclaration = LocationDeclaration | GatewayDeclaration;

const POOL = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * Parses `name=host:port[,expose=name|both]` (a `--service` flag); throws PROVISION_BAD_INPUT naming what is
 * wrong. A service reached by name must have a DNS label for a name, as the controller requires.
 */
export function parseServiceFlag(text: string): ServiceDeclaration {
  const cut = text.indexOf('=');
  if (cut <= 0) throw bad(`--service "${text}" must be name=host:port[,expose=name|both]`);
  const name = text.slice(0, cut);
  const [target = '', ...options] = text.slice(cut + 1).split(',');
  const expose = parseExposeOption(name, options);
  if (!SERVICE_NAME.test(name))
    throw bad(
      `service name "${name}" must be 1-64 letters, digits, - or _ (starting with a letter or digit)`,
    );
  try {
    const parsed = parseTarget(target);
    // The controller accepts unix: targets too; a new location is declared with TCP ones, the usual case.
    if (parsed.kind !== 'tcp') throw new Error('a TCP host:port is expected');
  } catch (err) {
    throw bad(`service "${name}": target "${target}" is not host:port (${(err as Error).message})`);
  }
  return { name, target, ...(expose !== undefined && { expose }) };
}

// The options after the target: only `expose=name` or `expose=both` (`port` is the default, so not written).
function parseExposeOption(name: string, options: readonly string[]): 'name' | 'both' | undefined {
  if (options.length === 0) return undefined;
  const [option] = options;
  const value = option?.startsWith('expose=') ? option.slice('expose='.length) : undefined;
  if (options.length > 1 || (value !== 'name' && value !== 'both' && value !== 'port'))
    throw bad(
      `service "${name}": after the target only ",expose=name", ",expose=both" or ",expose=port" may follow`,
    );
  if (value === 'port') return undefined;
  if (!DNS_LABEL.test(name))
    throw bad(
      `service "${name}" is reached by name, so its name must be a DNS label (1-63 lower-case letters, digits, inner hyphens)`,
    );
  return value;
}

/**
 * Builds a location declaration from the CLI's inputs: the location id defaults to the registration id in
 * lower case (the controller's own default), services must be unique and at least one.
 */
export function locationDeclaration(input: {
  readonly registrationId: string;
  readonly location?: string;
  readonly pool?: string;
  readonly services: readonly ServiceDeclaration[];
}): LocationDeclaration {
  const location = input.location ?? input.registrationId.toLowerCase();
  if (!LOCATION_ID.test(location)) {
    throw bad(
      `location id "${location}" must be 1-40 lower-case letters, digits or inner hyphens` +
        (input.location === undefined ? ' (pass --location when the registration id does not qualify)' : ''),
    );
  }
  if (input.services.length === 0) throw bad('a location needs at least one --service name=host:port');
  const seen = new Set<string>();
  for (const s of input.services) {
    if (seen.has(s.name)) throw bad(`service "${s.name}" is given twice`);
    seen.add(s.name);
  }
  checkPool(input.pool);
  return {
    role: 'location',
    location,
    ...(input.pool !== undefined && { pool: input.pool }),
    services: [...input.services].sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** Builds a gateway declaration (pool checked like the controller's pool names). */
export function gatewayDeclaration(pool?: string): GatewayDeclaration {
  checkPool(pool);
  return { role: 'gateway', ...(pool !== undefined && { pool }) };
}

/**
 * The value of `tags.relay` for a declaration: `{ role: 'location', location, pool?, services: { name: { target } } }`
 * or `{ role: 'gateway', pool? }` — exactly what the fleet controller parses.
 */
export function relayTagValue(declaration: RelayDeclaration): JsonObject {
  if (declaration.role === 'gateway')
    return { role: 'gateway', ...(declaration.pool !== undefined && { pool: declaration.pool }) };
  const services: JsonObject = {};
  for (const s of declaration.services)
    services[s.name] = { target: s.target, ...(s.expose !== undefined && { expose: s.expose }) };
  return {
    role: 'location',
    location: declaration.location,
    ...(declaration.pool !== undefined && { pool: declaration.pool }),
    services,
  };
}

function checkPool(pool: string | undefined): void {
  if (pool !== undefined && !POOL.test(pool))
    throw bad(`pool "${pool}" must be 1-64 letters, digits, - or _`);
}

function bad(message: string): ProvisioningError {
  return new ProvisioningError('PROVISION_BAD_INPUT', message, false);
}
