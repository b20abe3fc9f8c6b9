import { IotHubError } from './errors';
import {
  assertValidId,
  identityEtag,
  IdentityRecord,
  identityKey,
  keysFromBody,
  newIdentity,
} from './identity';
import { isJsonObject, JsonObject } from './json';
import {
  DesiredChange,
  patchDesired,
  patchReported,
  patchTags,
  replaceDesired,
  replaceTags,
  twinEtag,
} from './twin';

/** What changed in the registry; persistence, the MQTT front and configurations listen to these. */
export type RegistryEvent =
  | { type: 'identityCreated'; identity: IdentityRecord }
  | { type: 'identityUpdated'; identity: IdentityRecord }
  | { type: 'identityDeleted'; deviceId: string; moduleId?: string }
  | { type: 'desired'; identity: IdentityRecord; change: DesiredChange }
  | { type: 'reported'; identity: IdentityRecord; patch: JsonObject; version: number }
  | { type: 'tags'; identity: IdentityRecord };

/** A device identity with its modules. */
export interface DeviceEntry {
  device: IdentityRecord;
  modules: Map<string, IdentityRecord>;
}

/** Module identities IoT Hub creates by itself for an IoT Edge device. */
export const EDGE_SYSTEM_MODULES = ['$edgeAgent', '$edgeHub'] as const;

/** Throws PreconditionFailed when `ifMatch` is set, not `*`, and differs from `etag`. */
export function checkIfMatch(ifMatch: string | undefined, etag: string): void {
  if (ifMatch === undefined) return;
  const given = ifMatch
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
  if (given === '*' || given === etag) return;
  throw new IotHubError('PreconditionFailed', `etag '${given}' does not match the current etag '${etag}'`);
}

/** The identity registry: devices, modules and their twins, with IoT Hub's create/update/delete rules. */
export class Registry {
  private readonly devices = new Map<string, DeviceEntry>();
  private readonly listeners = new Set<(event: RegistryEvent) => void>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Subscribes to registry changes; returns the unsubscribe function. */
  on(listener: (event: RegistryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: RegistryEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  private nowIso(): string {
    return this.now().toISOString();
  }

  /** Creates a device (no If-Match) or updates it (If-Match `*` or its etag), like `PUT /devices/{id}`. */
  putDevice(
    deviceId: string,
    body: JsonObject,
    ifMatch?: string,
  ): { record: IdentityRecord; created: boolean } {
    assertValidId('deviceId', deviceId);
    if (body.deviceId !== undefined && body.deviceId !== deviceId) {
      throw new IotHubError('ArgumentInvalid', 'deviceId in the body does not match the path');
    }
    const entry = this.devices.get(deviceId);
    if (!entry) {
      if (ifMatch !== undefined && ifMatch.replace(/"/g, '') !== '*') {
        throw new IotHubError('DeviceNotFound', `Device ${deviceId} not found`);
      }
      const record = newIdentity(deviceId, undefined, body, this.nowIso());
      const created: DeviceEntry = { device: record, modules: new Map() };
      this.devices.set(deviceId, created);
      this.emit({ type: 'identityCreated', identity: record });
      if (record.iotEdge) {
        for (const moduleId of EDGE_SYSTEM_MODULES)
          this.createModule(created, moduleId, { managedBy: 'iotEdge' });
      }
      return { record, created: true };
    }
    if (ifMatch === undefined) {
      throw new IotHubError('DeviceAlreadyExists', `A device with ID '${deviceId}' is already registered`);
    }
    checkIfMatch(ifMatch, identityEtag(entry.device));
    this.updateIdentity(entry.device, body);
    return { record: entry.device, created: false };
  }

  private updateIdentity(record: IdentityRecord, body: JsonObject): void {
    if (record.authType === 'sas') record.keys = keysFromBody(body, record.keys);
    if (body.status === 'enabled' || body.status === 'disabled') {
      if (record.status !== body.status) record.statusUpdatedTime = this.nowIso();
      record.status = body.status;
    }
    if (typeof body.statusReason === 'string') record.statusReason = body.statusReason;
    if (
      !record.moduleId &&
      isJsonObject(body.capabilities) &&
      typeof body.capabilities.iotEdge === 'boolean'
    ) {
      record.iotEdge = body.capabilities.iotEdge;
    }
    record.etagCounter += 1;
    this.emit({ type: 'identityUpdated', identity: record });
  }

  /** The device entry, or DeviceNotFound. */
  getDeviceEntry(deviceId: string): DeviceEntry {
    const entry = this.devices.get(deviceId);
    if (!entry) throw new IotHubError('DeviceNotFound', `Device ${deviceId} not found`);
    return entry;
  }

  /** All devices in id order. */
  listDevices(): IdentityRecord[] {
    return [...this.devices.values()]
      .map((e) => e.device)
      .sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  }

  /** Deletes a device and its modules (`DELETE /devices/{id}`, If-Match `*` or etag). */
  deleteDevice(deviceId: string, ifMatch?: string): void {
    const entry = this.getDeviceEntry(deviceId);
    checkIfMatch(ifMatch, identityEtag(entry.device));
    this.devices.delete(deviceId);
    for (const moduleId of entry.modules.keys()) this.emit({ type: 'identityDeleted', deviceId, moduleId });
    this.emit({ type: 'identityDeleted', deviceId });
  }

  /** Creates or updates a module, like `PUT /devices/{d}/modules/{m}`. */
  putModule(
    deviceId: string,
    moduleId: string,
    body: JsonObject,
    ifMatch?: string,
  ): { record: IdentityRecord; created: boolean } {
    assertValidId('moduleId', moduleId);
    if (body.moduleId !== undefined && body.moduleId !== moduleId) {
      throw new IotHubError('ArgumentInvalid', 'moduleId in the body does not match the path');
    }
    const entry = this.getDeviceEntry(deviceId);
    const existing = entry.modules.get(moduleId);
    if (!existing) {
      if (ifMatch !== undefined && ifMatch.replace(/"/g, '') !== '*') {
        throw new IotHubError('ModuleNotFound', `Module ${moduleId} on device ${deviceId} not found`);
      }
      return { record: this.createModule(entry, moduleId, body), created: true };
    }
    if (ifMatch === undefined) {
      throw new IotHubError(
        'ModuleAlreadyExistsOnDevice',
        `A module with ID '${moduleId}' is already registered on device '${deviceId}'`,
      );
    }
    checkIfMatch(ifMatch, identityEtag(existing));
    this.updateIdentity(existing, body);
    return { record: existing, created: false };
  }

  private createModule(entry: DeviceEntry, moduleId: string, body: JsonObject): IdentityRecord {
    const record = newIdentity(entry.device.deviceId, moduleId, body, this.nowIso());
    entry.modules.set(moduleId, record);
    this.emit({ type: 'identityCreated', identity: record });
    return record;
  }

  /** The module identity, or DeviceNotFound / ModuleNotFound. */
  getModule(deviceId: string, moduleId: string): IdentityRecord {
    const record = this.getDeviceEntry(deviceId).modules.get(moduleId);
    if (!record)
      throw new IotHubError('ModuleNotFound', `Module ${moduleId} on device ${deviceId} not found`);
    return record;
  }

  /** Modules of one device in id order. */
  listModules(deviceId: string): IdentityRecord[] {
    return [...this.getDeviceEntry(deviceId).modules.values()].sort((a, b) =>
      (a.moduleId ?? '').localeCompare(b.moduleId ?? ''),
    );
  }

  /** Deletes a module (`DELETE /devices/{d}/modules/{m}`). */
  deleteModule(deviceId: string, moduleId: string, ifMatch?: string): void {
    const record = this.getModule(deviceId, moduleId);
    checkIfMatch(ifMatch, identityEtag(record));
    this.getDeviceEntry(deviceId).modules.delete(moduleId);
    this.emit({ type: 'identityDeleted', deviceId, moduleId });
  }

  /** The identity for a device or module, or undefined. */
  findIdentity(deviceId: string, moduleId?: string): IdentityRecord | undefined {
    const entry = this.devices.get(deviceId);
    if (!entry) return undefined;
    return moduleId === undefined ? entry.device : entry.modules.get(moduleId);
  }

  /** The identity for a device or module, or the matching NotFound error. */
  getIdentity(deviceId: string, moduleId?: string): IdentityRecord {
    return moduleId === undefined ? this.getDeviceEntry(deviceId).device : this.getModule(deviceId, moduleId);
  }

  /** Every identity with its device, devices first then their modules, in id order. */
  *identities(): Generator<{ record: IdentityRecord; device: IdentityRecord }> {
    for (const device of this.listDevices()) {
      yield { record: device, device };
      for (const module of this.listModules(device.deviceId)) yield { record: module, device };
    }
  }

  /** Service-side twin PATCH: tags and desired merge, reported refused, If-Match checked against the twin etag. */
  patchTwin(
    deviceId: string,
    moduleId: string | undefined,
    body: JsonObject,
    ifMatch?: string,
  ): IdentityRecord {
    const record = this.getIdentity(deviceId, moduleId);
    checkIfMatch(ifMatch, twinEtag(record.twin));
    const { tags, desired } = splitTwinBody(body);
    return this.changeTwin(record, () => ({
      tagsChanged: tags ? patchTags(record.twin, tags) : false,
      change: desired ? patchDesired(record.twin, desired, this.nowIso()) : undefined,
    }));
  }

  /** Service-side twin PUT: tags and desired replaced wholesale. */
  replaceTwin(
    deviceId: string,
    moduleId: string | undefined,
    body: JsonObject,
    ifMatch?: string,
  ): IdentityRecord {
    const record = this.getIdentity(deviceId, moduleId);
    checkIfMatch(ifMatch, twinEtag(record.twin));
    // A replaced twin is usually a whole twin read earlier, so its reported section is ignored, not refused.
    const { tags, desired } = splitTwinBody(body, true);
    return this.changeTwin(record, () => ({
      tagsChanged: replaceTags(record.twin, tags ?? {}),
      change: replaceDesired(record.twin, desired ?? {}, this.nowIso()),
    }));
  }

  /** Writes desired properties computed by configurations (automatic deployments). */
  setDesiredFromConfigurations(record: IdentityRecord, desired: JsonObject): void {
    this.changeTwin(record, () => ({
      tagsChanged: false,
      change: replaceDesired(record.twin, desired, this.nowIso()),
    }));
  }

  // Validation happens on copies inside the twin functions, so a refused patch leaves the twin untouched;
  // the snapshot restores tags when desired validation fails after tags were applied.
  private changeTwin(
    record: IdentityRecord,
    apply: () => { tagsChanged: boolean; change: DesiredChange | undefined },
  ): IdentityRecord {
    const before = structuredClone(record.twin);
    let result: { tagsChanged: boolean; change: DesiredChange | undefined };
    try {
      result = apply();
    } catch (err) {
      record.twin = before;
      throw err;
    }
    if (result.tagsChanged) this.emit({ type: 'tags', identity: record });
    if (result.change) this.emit({ type: 'desired', identity: record, change: result.change });
    return record;
  }

  /** Device-side reported patch; returns the new reported `$version`. */
  reportFromDevice(deviceId: string, moduleId: string | undefined, patch: JsonObject): number {
    const record = this.getIdentity(deviceId, moduleId);
    const version = patchReported(record.twin, patch, this.nowIso());
    this.emit({ type: 'reported', identity: record, patch, version });
    return version;
  }

  /** Records a connect or disconnect of the identity's MQTT client (not persisted state). */
  setConnectionState(deviceId: string, moduleId: string | undefined, connected: boolean): void {
    const record = this.findIdentity(deviceId, moduleId);
    if (!record) return;
    const nowIso = this.nowIso();
    record.connectionState = connected ? 'Connected' : 'Disconnected';
    record.connectionStateUpdatedTime = nowIso;
    record.lastActivityTime = nowIso;
  }

  /** Marks activity (telemetry, twin traffic) on an identity. */
  touch(deviceId: string, moduleId?: string): void {
    const record = this.findIdentity(deviceId, moduleId);
    if (record) record.lastActivityTime = this.nowIso();
  }

  /** Plain data for persistence. */
  snapshot(): { device: IdentityRecord; modules: IdentityRecord[] }[] {
    return [...this.devices.values()].map((e) => ({
      device: structuredClone(e.device),
      modules: [...e.modules.values()].map((m) => structuredClone(m)),
    }));
  }

  /** Replaces the whole registry with persisted data; everyone starts disconnected. */
  restore(data: readonly { device: IdentityRecord; modules: IdentityRecord[] }[]): void {
    this.devices.clear();
    for (const item of data) {
      const modules = new Map<string, IdentityRecord>();
      for (const m of item.modules) modules.set(m.moduleId ?? '', { ...m, connectionState: 'Disconnected' });
      this.devices.set(item.device.deviceId, {
        device: { ...item.device, connectionState: 'Disconnected' },
        modules,
      });
    }
  }

  /** Number of identities, for logs. */
  get size(): number {
    let n = 0;
    for (const e of this.devices.values()) n += 1 + e.modules.size;
    return n;
  }

  /** `device` or `device/module` for log lines. */
  static keyOf(record: IdentityRecord): string {
    return identityKey(record.deviceId, record.moduleId);
  }
}

function splitTwinBody(
  body: JsonObject,
  ignoreReported = false,
): { tags?: JsonObject; desired?: JsonObject } {
  const out: { tags?: JsonObject; desired?: JsonObject } = {};
  if (body.tags !== undefined && body.tags !== null) {
    if (!isJsonObject(body.tags)) throw new IotHubError('ArgumentInvalid', 'tags must be an object');
    out.tags = body.tags;
  }
  const props = body.properties;
  if (props !== undefined && props !== null) {
    if (!isJsonObject(props)) throw new IotHubError('ArgumentInvalid', 'properties must be an object');
    if (props.reported !== undefined && !ignoreReported) {
      throw new IotHubError('ArgumentInvalid', 'reported properties can only be written by the device');
    }
    if (props.desired !== undefined && props.desired !== null) {
      if (!isJsonObject(props.desired))
        throw new IotHubError('ArgumentInvalid', 'properties.desired must be an object');
      out.desired = props.desired;
    }
  }
  return out;
}
