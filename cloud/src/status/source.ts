import type { JsonObject } from '../model/json';

/** A device twin as the status view reads it: only its id and tags (`tags.relay`, `tags.relayStatus`). */
export interface DeviceRow {
  readonly deviceId: string;
  readonly tags: JsonObject;
}

/** A relay module twin as the status view reads it: identity, IoT Hub connection state and reported properties. */
export interface ModuleRow {
  readonly deviceId: string;
  readonly moduleId: string;
  /** `Connected` / `Disconnected` as IoT Hub keeps it (under IoT Edge, edgeHub's view of the module). */
  readonly connectionState?: string;
  /** Reported properties without `$version` / `$metadata`. Desired properties are never read. */
  readonly reported: JsonObject;
}

/** One read of the fleet: every relay device and every relay module twin. */
export interface FleetReading {
  readonly devices: readonly DeviceRow[];
  readonly modules: readonly ModuleRow[];
}

/** Where the status view gets its data from: IoT Hub in production, literal readings in tests. */
export interface FleetSource {
  read(): Promise<FleetReading>;
}
