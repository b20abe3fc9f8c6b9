import type { ControllerSettings } from '../settings';

/**
 * Location ids: lower-case letters, digits and inner hyphens, 1-40 characters. Lower case because hybrid
 * connection names are case-insensitive in Azure; no `_` so that a route name `{location}_{service}` splits
 * back unambiguously; 40 so `{prefix}{location}` stays within the modules' 64-character key rule.
 */
export const LOCATION_ID = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

/** Service names: the port name in the preamble and a key in both module documents. */
export const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Authorization rules the controller puts on every hybrid connection it owns. */
export const RULES = {
  listen: { name: 'listen', rights: ['Listen'] },
  send: { name: 'send', rights: ['Send'] },
} as const;

/** `listen` (the forwarder's) or `send` (the gateways'). */
export type RuleName = keyof typeof RULES;

/** Marker in a hybrid connection's userMetadata that says this controller created it and may delete it. */
export const MANAGED_BY = 'hybrid-relay-fleet/fleet-controller';

/** The hybrid connection of a location: `{prefix}{locationId}`. */
export function hybridConnectionName(settings: ControllerSettings, locationId: string): string {
  return `${settings.hybridConnectionPrefix}${locationId}`;
}

/** The gateway route of a location's service: `{locationId}_{service}`. */
export function routeName(locationId: string, service: string): string {
  return `${locationId}_${service}`;
}

/** Splits a route name made by routeName; undefined for names the controller does not make. */
export function parseRouteName(name: string): { locationId: string; service: string } | undefined {
  const cut = name.indexOf('_');
  if (cut <= 0) return undefined;
  const locationId = name.slice(0, cut);
  const service = name.slice(cut + 1);
  return LOCATION_ID.test(locationId) && SERVICE_NAME.test(service) ? { locationId, service } : undefined;
}

/** True for a key in a module document's `hybridConnections` that the controller manages (its prefix). */
export function isManagedName(settings: ControllerSettings, name: string): boolean {
  return name.startsWith(settings.hybridConnectionPrefix);
}

/** The userMetadata written on a hybrid connection the controller creates. */
export function ownerMetadata(settings: ControllerSettings, locationId: string, deviceId: string): string {
  return JSON.stringify({
    managedBy: MANAGED_BY,
    controller: settings.controllerId,
    location: locationId,
    deviceId,
  });
}

/** True when a hybrid connection's name and userMetadata say this controller created it. */
export function isOwnedHybridConnection(
  settings: ControllerSettings,
  name: string,
  userMetadata: string | undefined,
): boolean {
  if (!isManagedName(settings, name) || !userMetadata) return false;
  try {
    const meta = JSON.parse(userMetadata) as { managedBy?: unknown; controller?: unknown };
    return meta.managedBy === MANAGED_BY && meta.controller === settings.controllerId;
  } catch {
    return false;
  }
}
