import { IotHubError } from './errors';
import { JsonObject } from './json';
import { generateSymmetricKey, isValidSymmetricKey } from './sas';
import { newTwin, serviceProperties, TwinRecord, twinEtag } from './twin';

/** Primary and secondary symmetric keys of a device or module identity. */
export interface SymmetricKeys {
  primaryKey: string;
  secondaryKey: string;
}

/** A device or module identity in the registry, with its twin. */
export interface IdentityRecord {
  deviceId: string;
  moduleId?: string;
  generationId: string;
  /** Grows on every identity update; the identity etag derives from it. */
  etagCounter: number;
  authType: 'sas' | 'none';
  keys: SymmetricKeys;
  status: 'enabled' | 'disabled';
  statusReason?: string;
  statusUpdatedTime: string;
  managedBy?: string;
  /** Devices only: an IoT Edge device gets `$edgeAgent` / `$edgeHub` module identities. */
  iotEdge?: boolean;
  connectionState: 'Connected' | 'Disconnected';
  connectionStateUpdatedTime: string;
  lastActivityTime: string;
  twin: TwinRecord;
}

const ID_PATTERN = /^[A-Za-z0-9\-.%_*?!(),:=@$']{1,128}$/;
/** Placeholder IoT Hub returns for times that never happened. */
export const NEVER = '0001-01-01T00:00:00Z';

/** Throws ArgumentInvalid unless `id` is a legal device or module id (128 chars of IoT Hub's allowed set). */
export function assertValidId(kind: 'deviceId' | 'moduleId', id: string): void {
  if (!ID_PATTERN.test(id)) throw new IotHubError('ArgumentInvalid', `${kind} '${id}' is not a valid id`);
}

/** The identity key used in maps and MQTT client ids: `device` or `device/module`. */
export function identityKey(deviceId: string, moduleId?: string): string {
  return moduleId ? `${deviceId}/${moduleId}` : deviceId;
}

/** Keys from a create/update body: given ones validated, missing or empty ones generated. */
export function keysFromBody(body: JsonObject, current?: SymmetricKeys): SymmetricKeys {
  const auth = body.authentication as JsonObject | undefined;
  const sym = (auth?.symmetricKey ?? undefined) as JsonObject | undefined;
  const pick = (name: 'primaryKey' | 'secondaryKey'): string => {
    const given = sym?.[name];
    if (typeof given === 'string' && given.length > 0) {
      if (!isValidSymmetricKey(given))
        throw new IotHubError('ArgumentInvalid', `${name} is not a valid base64 key`);
      return given;
    }
    return current?.[name] ?? generateSymmetricKey();
  };
  return { primaryKey: pick('primaryKey'), secondaryKey: pick('secondaryKey') };
}

/** A new identity record for a create request. */
export function newIdentity(
  deviceId: string,
  moduleId: string | undefined,
  body: JsonObject,
  nowIso: string,
): IdentityRecord {
  const authType = (body.authentication as JsonObject | undefined)?.type === 'none' ? 'none' : 'sas';
  const record: IdentityRecord = {
    deviceId,
    generationId: String(Date.now() * 1000 + Math.floor(Math.random() * 1000)),
    etagCounter: 1,
    authType,
    keys: authType === 'sas' ? keysFromBody(body) : { primaryKey: '', secondaryKey: '' },
    status: body.status === 'disabled' ? 'disabled' : 'enabled',
    statusUpdatedTime: nowIso,
    connectionState: 'Disconnected',
    connectionStateUpdatedTime: NEVER,
    lastActivityTime: NEVER,
    twin: newTwin(nowIso),
  };
  if (moduleId) record.moduleId = moduleId;
  if (typeof body.managedBy === 'string') record.managedBy = body.managedBy;
  if (!moduleId) record.iotEdge = (body.capabilities as JsonObject | undefined)?.iotEdge === true;
  if (typeof body.statusReason === 'string') record.statusReason = body.statusReason;
  return record;
}

/** Identity etag as IoT Hub shows it (an opaque base64 string). */
export function identityEtag(record: IdentityRecord): string {
  return Buffer.from(`${record.generationId}:${record.etagCounter}`).toString('base64');
}

function authenticationView(record: IdentityRecord): JsonObject {
  return {
    symmetricKey:
      record.authType === 'sas'
        ? { primaryKey: record.keys.primaryKey, secondaryKey: record.keys.secondaryKey }
        : { primaryKey: null, secondaryKey: null },
    x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
    type: record.authType,
  };
}

/** The Device JSON of the registry REST API. */
export function deviceView(record: IdentityRecord): JsonObject {
  return {
    deviceId: record.deviceId,
    generationId: record.generationId,
    etag: identityEtag(record),
    connectionState: record.connectionState,
    status: record.status,
    statusReason: record.statusReason ?? null,
    connectionStateUpdatedTime: record.connectionStateUpdatedTime,
    statusUpdatedTime: record.statusUpdatedTime,
    lastActivityTime: record.lastActivityTime,
    cloudToDeviceMessageCount: 0,
    authentication: authenticationView(record),
    capabilities: { iotEdge: record.iotEdge === true },
  };
}

/** The Module JSON of the registry REST API. */
export function moduleView(record: IdentityRecord): JsonObject {
  return {
    moduleId: record.moduleId ?? '',
    deviceId: record.deviceId,
    managedBy: record.managedBy ?? null,
    generationId: record.generationId,
    etag: identityEtag(record),
    connectionState: record.connectionState,
    connectionStateUpdatedTime: record.connectionStateUpdatedTime,
    lastActivityTime: record.lastActivityTime,
    cloudToDeviceMessageCount: 0,
    authentication: authenticationView(record),
  };
}

/** The Twin JSON of the REST API (and the row shape queries run against). */
export function twinView(record: IdentityRecord, device: IdentityRecord): JsonObject {
  const view: JsonObject = { deviceId: record.deviceId };
  if (record.moduleId) view.moduleId = record.moduleId;
  Object.assign(view, {
    etag: twinEtag(record.twin),
    deviceEtag: identityEtag(device),
    status: record.status,
    statusUpdateTime: record.statusUpdatedTime,
    connectionState: record.connectionState,
    lastActivityTime: record.lastActivityTime,
    cloudToDeviceMessageCount: 0,
    authenticationType: record.authType,
    x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
    modelId: '',
    version: record.twin.version,
    tags: structuredClone(record.twin.tags),
    properties: serviceProperties(record.twin),
  });
  if (!record.moduleId) view.capabilities = { iotEdge: record.iotEdge === true };
  if (Object.keys(record.twin.configurations).length > 0) {
    view.configurations = structuredClone(record.twin.configurations) as unknown as JsonObject;
  }
  return view;
}
