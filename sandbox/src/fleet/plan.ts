// What the sandbox fleet runs: its locations, the two sample services each exposes, and the names it uses (pure).
import { LOCATION_ID } from '../../../cloud/src/model/names';
import type { SampleServiceKind } from '../demo/services';

/** One sample on-prem service of a location. */
export interface FleetServicePlan {
  readonly name: string;
  readonly kind: SampleServiceKind;
}

/** The locations `npm start` boots. */
export const DEFAULT_FLEET_LOCATIONS: readonly string[] = ['berlin', 'oslo', 'lyon'];

/** The location `--check` adds while the fleet runs (through the add-location path). */
export const CHECK_ADDED_LOCATION = 'paris';

/** Every location exposes these two services: the demo's HTTP page and TCP echo. */
export const LOCATION_SERVICES: readonly FleetServicePlan[] = [
  { name: 'web', kind: 'http' },
  { name: 'echo', kind: 'echo' },
];

/** The gateway device's registration id, and the pool every device of the sandbox fleet belongs to. */
export const GATEWAY_DEVICE_ID = 'gateway-1';
export const FLEET_POOL = 'default';

/** Public ports of the pool: room for this many services (the range is found free on loopback at start). */
export const POOL_PORT_COUNT = 40;

/**
 * Why `name` cannot be a location of the sandbox fleet, or undefined when it can. The name is the registration
 * id, the device id and the location id at once, so it follows the controller's location id rule.
 */
export function locationNameProblem(name: string): string | undefined {
  if (!LOCATION_ID.test(name))
    return `location name "${name}" must be 1-40 lower-case letters, digits or inner hyphens`;
  if (name === GATEWAY_DEVICE_ID) return `"${name}" is the gateway's device id`;
  return undefined;
}
