import {
  parseDeviceRole,
  readPreviousStatus,
  type LocationSpec,
  type PreviousStatus,
} from '../model/location';
import { hybridConnectionName, isManagedName, isOwnedHybridConnection } from '../model/names';
import type { Observed, ObservedDevice, ObservedHybridConnection, ObservedModule } from '../model/observed';
import type { LocationProblem } from '../model/status';
import type { ControllerSettings } from '../settings';

/** The fleet as the observed twins and hybrid connections describe it, before any decision. */
export interface FleetView {
  readonly devices: ReadonlyMap<string, ObservedDevice>;
  /** Valid locations by location id (one device each), sorted by id. */
  readonly locations: ReadonlyMap<string, LocationSpec>;
  /** Location id by device id, for the devices in `locations`. */
  readonly locationOfDevice: ReadonlyMap<string, string>;
  /** Devices that declare a relay role but cannot take part, with the reason. */
  readonly refused: ReadonlyMap<string, LocationProblem>;
  /** Gateway device ids by pool (role `gateway`), sorted. */
  readonly gatewaysByPool: ReadonlyMap<string, readonly string[]>;
  readonly poolOfGateway: ReadonlyMap<string, string>;
  readonly forwarders: ReadonlyMap<string, ObservedModule>;
  readonly gatewayModules: ReadonlyMap<string, ObservedModule>;
  readonly previous: ReadonlyMap<string, PreviousStatus>;
  /** Hybrid connections this controller owns, by name. */
  readonly owned: ReadonlyMap<string, ObservedHybridConnection>;
  /** Names with the controller's prefix that exist but carry no ownership mark: never touched. */
  readonly foreign: ReadonlySet<string>;
}

/** Sorts devices into locations and gateways, settles duplicate location ids, and indexes twins and entities. */
export function buildFleetView(observed: Observed, settings: ControllerSettings): FleetView {
  const devices = new Map(observed.devices.map((d) => [d.deviceId, d]));
  const previous = new Map<string, PreviousStatus>();
  for (const d of observed.devices) {
    const status = readPreviousStatus(d.tags);
    if (status) previous.set(d.deviceId, status);
  }
  const refused = new Map<string, LocationProblem>();
  const claimants = new Map<string, LocationSpec[]>();
  const gatewaysByPool = new Map<string, string[]>();
  const poolOfGateway = new Map<string, string>();
  for (const device of [...observed.devices].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1))) {
    const role = parseDeviceRole(device, settings);
    if (role.kind === 'invalid') {
      refused.set(device.deviceId, { code: role.code, message: role.message, severity: 'error' });
    } else if (role.kind === 'gateway') {
      poolOfGateway.set(device.deviceId, role.pool);
      gatewaysByPool.set(role.pool, [...(gatewaysByPool.get(role.pool) ?? []), device.deviceId]);
    } else if (role.kind === 'location') {
      claimants.set(role.spec.locationId, [...(claimants.get(role.spec.locationId) ?? []), role.spec]);
    }
  }
  const locations = new Map<string, LocationSpec>();
  const locationOfDevice = new Map<string, string>();
  for (const id of [...claimants.keys()].sort()) {
    const specs = claimants.get(id)!;
    // The device already recorded as this location keeps it, so a newcomer cannot take over a live location.
    const winner = specs.find((s) => previous.get(s.deviceId)?.locationId === id) ?? specs[0]!;
    locations.set(id, winner);
    locationOfDevice.set(winner.deviceId, id);
    for (const loser of specs) {
      if (loser === winner) continue;
      refused.set(loser.deviceId, {
        code: 'DUPLICATE_LOCATION',
        message: `location id "${id}" is already used by device "${winner.deviceId}"`,
        severity: 'error',
      });
    }
  }
  const forwarders = new Map<string, ObservedModule>();
  const gatewayModules = new Map<string, ObservedModule>();
  for (const m of observed.modules) {
    if (m.moduleId === settings.forwarderModuleId) forwarders.set(m.deviceId, m);
    else if (m.moduleId === settings.gatewayModuleId) gatewayModules.set(m.deviceId, m);
  }
  const owned = new Map<string, ObservedHybridConnection>();
  const foreign = new Set<string>();
  for (const hc of observed.hybridConnections) {
    if (isOwnedHybridConnection(settings, hc.name, hc.userMetadata)) owned.set(hc.name, hc);
    else if (isManagedName(settings, hc.name)) foreign.add(hc.name);
  }
  return {
    devices,
    locations,
    locationOfDevice,
    refused,
    gatewaysByPool,
    poolOfGateway,
    forwarders,
    gatewayModules,
    previous,
    owned,
    foreign,
  };
}

/** The hybrid connection of each location in the view. */
export function wantedHybridConnections(view: FleetView, settings: ControllerSettings): Map<string, string> {
  const wanted = new Map<string, string>();
  for (const id of view.locations.keys()) wanted.set(hybridConnectionName(settings, id), id);
  return wanted;
}
