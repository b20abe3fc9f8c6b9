import { ConnectionString } from 'azure-iothub';
import { diffMergePatch, isJsonObject, type JsonObject } from '../iothub/json';
import {
  createIotHubServiceClients,
  type IotHubServiceClients,
} from '../../../cloud/src/azure/iothub-service-clients';
import type { EnrollmentGroupRecord } from './enrollments';
import type { RegistrationSubstatus } from './registrations';

/**
 * The IoT hub a DPS is linked to. Real DPS links hubs by a connection string with registry write rights; a
 * `SandboxIotHub` fits this shape as it is.
 */
export interface LinkedIotHub {
  /** A service connection string with RegistryWrite (the hub's `iothubowner`). */
  readonly ownerConnectionString: string;
  /** CA of the hub's TLS certificate, when it is not publicly trusted. */
  readonly caPem?: string;
}

/** What assigning a device did. */
export interface Assignment {
  readonly assignedHub: string;
  readonly deviceId: string;
  readonly substatus: RegistrationSubstatus;
}

/**
 * Creates or updates devices in the linked hub over the hub's own service API, with the unmodified
 * `azure-iothub` Registry — the way DPS talks to a linked hub. The device gets the keys derived for it, so it
 * can connect with the same key it registered with, and a new device gets the group's initial twin.
 */
export class HubLink {
  readonly hostName: string;
  private clients: IotHubServiceClients | undefined;

  constructor(private readonly hub: LinkedIotHub) {
    const host = ConnectionString.parse(hub.ownerConnectionString).HostName;
    if (!host) throw new Error('the linked hub connection string has no HostName');
    this.hostName = host;
  }

  /** Creates the device (or updates an existing one's keys and capabilities) and applies the initial twin. */
  async assign(
    deviceId: string,
    keys: { primaryKey: string; secondaryKey: string },
    group: EnrollmentGroupRecord,
  ): Promise<Assignment> {
    const { registry } = this.serviceClients();
    const device = {
      deviceId,
      status: 'enabled' as const,
      authentication: { symmetricKey: { primaryKey: keys.primaryKey, secondaryKey: keys.secondaryKey } },
      capabilities: { iotEdge: group.capabilities.iotEdge },
    };
    let created = true;
    try {
      await registry.create(device);
    } catch (err) {
      if ((err as Error).name !== 'DeviceAlreadyExistsError') throw err;
      created = false;
      // Keep an operator's decision to disable a device; refresh its keys and capabilities.
      const existing = (await registry.get(deviceId)).responseBody;
      await registry.update({ ...device, status: existing.status === 'disabled' ? 'disabled' : 'enabled' });
    }
    const twin = group.initialTwin ?? {};
    let substatus: RegistrationSubstatus = 'initialAssignment';
    if (created) {
      const patch = initialPatch(twin.tags, twin.properties?.desired);
      if (patch) await registry.updateTwin(deviceId, patch, '*');
    } else if (group.reprovisionPolicy.migrateDeviceData) {
      substatus = 'deviceDataMigrated';
    } else {
      substatus = 'deviceDataReset';
      const current = (await registry.getTwin(deviceId)).responseBody as unknown as {
        tags?: JsonObject;
        properties?: { desired?: JsonObject };
      };
      const patch = resetPatch(current, twin.tags ?? {}, twin.properties?.desired ?? {});
      if (patch) await registry.updateTwin(deviceId, patch, '*');
    }
    return { assignedHub: this.hostName, deviceId, substatus };
  }

  /** Closes the keep-alive sockets to the hub. */
  close(): void {
    this.clients?.close();
    this.clients = undefined;
  }

  private serviceClients(): IotHubServiceClients {
    this.clients ??= createIotHubServiceClients(this.hub.ownerConnectionString, {
      ...(this.hub.caPem !== undefined && { ca: this.hub.caPem }),
    });
    return this.clients;
  }
}

/** Tags and desired properties without service metadata (`$version`, `$metadata`, …). */
function withoutMetadata(obj: JsonObject | undefined): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj ?? {})) if (!k.startsWith('$')) out[k] = v;
  return out;
}

function initialPatch(tags: JsonObject | undefined, desired: JsonObject | undefined): JsonObject | undefined {
  const t = withoutMetadata(tags);
  const d = withoutMetadata(desired);
  const patch: JsonObject = {};
  if (Object.keys(t).length > 0) patch.tags = t;
  if (Object.keys(d).length > 0) patch.properties = { desired: d };
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** A merge patch turning the device's tags and desired properties back into the initial twin. */
function resetPatch(
  current: { tags?: JsonObject; properties?: { desired?: JsonObject } },
  tags: JsonObject,
  desired: JsonObject,
): JsonObject | undefined {
  const patch: JsonObject = {};
  const tagsPatch = diffMergePatch(withoutMetadata(current.tags), withoutMetadata(tags));
  if (tagsPatch) patch.tags = tagsPatch;
  const currentDesired = isJsonObject(current.properties?.desired) ? current.properties.desired : {};
  const desiredPatch = diffMergePatch(withoutMetadata(currentDesired), withoutMetadata(desired));
  if (desiredPatch) patch.properties = { desired: desiredPatch };
  return Object.keys(patch).length > 0 ? patch : undefined;
}
