import type { Registry } from 'azure-iothub';
import type { Module } from 'azure-iothub/dist/module';

/** The status code an azure-iothub error carries. */
function statusOf(err: unknown): number | undefined {
  const status = (err as { response?: { statusCode?: unknown } } | undefined)?.response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The module identity's primary key, creating the identity first when it does not exist (`managedBy: IotEdge`,
 * as the edge agent marks the modules it creates). The real agent does this with the device's own credentials
 * through IoT Hub's device-scoped identity API, which the sandbox hub does not serve; the stand-in uses a service
 * Registry instead.
 */
export async function ensureModuleIdentity(
  registry: Registry,
  deviceId: string,
  moduleId: string,
): Promise<string> {
  const read = async (): Promise<string | undefined> => {
    try {
      const module = (await registry.getModule(deviceId, moduleId)).responseBody;
      return module.authentication?.symmetricKey?.primaryKey ?? undefined;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  };
  const existing = await read();
  if (existing) return existing;
  try {
    await registry.addModule({ deviceId, moduleId, managedBy: 'IotEdge' } as Module);
  } catch (err) {
    // Created meanwhile (a restart racing a reconcile): read it below.
    if (statusOf(err) !== 409) throw err;
  }
  const created = await read();
  if (!created) throw new Error(`module identity ${deviceId}/${moduleId} has no symmetric key`);
  return created;
}

/** `HostName=…;DeviceId=…;ModuleId=…;SharedAccessKey=…` — what `ModuleClient.fromConnectionString` takes. */
export function moduleConnectionString(
  hubHostName: string,
  deviceId: string,
  moduleId: string,
  key: string,
): string {
  return `HostName=${hubHostName};DeviceId=${deviceId};ModuleId=${moduleId};SharedAccessKey=${key}`;
}
