import {
  parseDeviceRole,
  readPreviousStatus,
  type LocationSpec,
  type PreviousStatus,
} from '../model/location';
import { isGatewayModuleId } from '../model/gateway-modules';
import { hybridConnectionName } from '../model/names';
import type { Observed, ObservedDevice, ObservedHybridConnection, ObservedModule } from '../model/observed';
import type { LocationProblem } from '../model/status';
import type { ControllerSettings } from '../settings';
import { placeNamespaces, type NamespacePlacement } from './namespace-placement';

/** The fleet as the observed twins and hybrid connections describe it, before any decision. */
export interface FleetView {
  readonly devices: ReadonlyMap<string, ObservedDevice>;
  /** Valid locations by location id (one device each), sorted by id. */
  readonly locations: ReadonlyMap<string, LocationSpec>;
  /** The same locations by pool, each list sorted by id (so a pool's decision does not scan the whole fleet). */
  readonly locationsByPool: ReadonlyMap<string, readonly LocationSpec[]>;
  /** Location id by device id: the devices in `locations` and their replicas. */
  readonly locationOfDevice: ReadonlyMap<string, string>;
  /** Replica device ids by location id, sorted: more forwarders serving the same location (active/active). */
  readonly replicas: ReadonlyMap<string, readonly string[]>;
  /** Devices that declare a relay role but cannot take part, with the reason. */
  readonly refused: ReadonlyMap<string, LocationProblem>;
  /** Gateway device ids by pool (role `gateway`), sorted. */
  readonly gatewaysByPool: ReadonlyMap<string, readonly string[]>;
  readonly poolOfGateway: ReadonlyMap<string, string>;
  readonly forwarders: ReadonlyMap<string, ObservedModule>;
  /** The first relay-gateway instance (`relay-gateway`) of each gateway device, by device id. */
  readonly gatewayModules: ReadonlyMap<string, ObservedModule>;
  /** Every relay-gateway instance (`relay-gateway`, `relay-gateway-2`, …) by device id, then module id. */
  readonly gatewayInstances: ReadonlyMap<string, ReadonlyMap<string, ObservedModule>>;
  readonly previous: ReadonlyMap<string, PreviousStatus>;
  /** Hybrid connections this controller owns, by hcKey(namespace, name). */
  readonly owned: ReadonlyMap<string, ObservedHybridConnection>;
  /** Location hybrid connections that exist in the location's namespace without the ownership mark: never touched. */
  readonly foreign: ReadonlySet<string>;
  /** The namespace of each location's hybrid connection, and each namespace's use. */
  readonly placement: NamespacePlacement;
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
  const replicas = new Map<string, string[]>();
  const maxForwarders = Math.floor(MAX_LISTENERS_PER_HC / (settings.forwarderListeners ?? DEFAULT_LISTENERS));
  for (const id of [...claimants.keys()].sort()) {
    const specs = claimants.get(id)!;
    // The device already recorded as this location (as primary, else as a replica) keeps it, so a newcomer cannot
    // take over a live location; a replica becomes primary when the primary goes, keeping the recorded ports.
    const recorded = (s: LocationSpec) => previous.get(s.deviceId)?.locationId === id;
    const winner =
      specs.find((s) => recorded(s) && previous.get(s.deviceId)?.replicaOf === undefined) ??
      specs.find(recorded) ??
      specs[0]!;
    locations.set(id, winner);
    locationOfDevice.set(winner.deviceId, id);
    const mine: string[] = [];
    for (const other of specs) {
      if (other === winner) continue;
      // Another device of the same location id is a replica when it serves the same services (or declares none
      // and takes the location's); one with different services is a mistake, refused as before.
      const problem = !sameServices(other, winner)
        ? `location id "${id}" is already used by device "${winner.deviceId}" with other services ` +
          '(a replica must declare the same services, or none)'
        : 1 + mine.length >= maxForwarders
          ? `location "${id}" already has ${maxForwarders} forwarders: a hybrid connection takes at most ` +
            `${MAX_LISTENERS_PER_HC} listeners`
          : undefined;
      if (problem === undefined) {
        mine.push(other.deviceId);
        locationOfDevice.set(other.deviceId, id);
      } else {
        refused.set(other.deviceId, { code: 'DUPLICATE_LOCATION', message: problem, severity: 'error' });
      }
    }
    if (mine.length > 0) replicas.set(id, mine);
  }
  const forwarders = new Map<string, ObservedModule>();
  const gatewayModules = new Map<string, ObservedModule>();
  const gatewayInstances = new Map<string, Map<string, ObservedModule>>();
  for (const m of observed.modules) {
    if (m.moduleId === settings.forwarderModuleId) forwarders.set(m.deviceId, m);
    else if (isGatewayModuleId(settings, m.moduleId)) {
      if (m.moduleId === settings.gatewayModuleId) gatewayModules.set(m.deviceId, m);
      let instances = gatewayInstances.get(m.deviceId);
      if (!instances) gatewayInstances.set(m.deviceId, (instances = new Map()));
      instances.set(m.moduleId, m);
    }
  }
  const locationsByPool = new Map<string, LocationSpec[]>();
  for (const l of locations.values()) {
    const list = locationsByPool.get(l.pool);
    if (list) list.push(l);
    else locationsByPool.set(l.pool, [l]);
  }
  const placement = placeNamespaces({ locations, replicas, previous, forwarders }, observed, settings);
  return {
    devices,
    locations,
    locationsByPool,
    locationOfDevice,
    replicas,
    refused,
    gatewaysByPool,
    poolOfGateway,
    forwarders,
    gatewayModules,
    gatewayInstances,
    previous,
    owned: placement.owned,
    foreign: placement.foreign,
    placement,
  };
}

/** Azure Relay's limit of listeners on one hybrid connection. */
export const MAX_LISTENERS_PER_HC = 25;
/** Control channels a forwarder holds per hybrid connection when the controller sets none (the module's default). */
const DEFAULT_LISTENERS = 2;

function sameServices(replica: LocationSpec, primary: LocationSpec): boolean {
  if (replica.services.length === 0 && replica.invalidServices.size === 0) return true;
  return (
    JSON.stringify(replica.services) === JSON.stringify(primary.services) &&
    JSON.stringify([...replica.invalidServices]) === JSON.stringify([...primary.invalidServices])
  );
}

/** The hybrid connection of each location in the view. */
export function wantedHybridConnections(view: FleetView, settings: ControllerSettings): Map<string, string> {
  const wanted = new Map<string, string>();
  for (const id of view.locations.keys()) wanted.set(hybridConnectionName(settings, id), id);
  return wanted;
}
