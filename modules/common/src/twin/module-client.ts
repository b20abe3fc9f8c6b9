import { ModuleClient } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';

/** Creates a fresh, unopened ModuleClient (one per IoT Hub session). */
export type ModuleClientFactory = () => Promise<ModuleClient>;

/**
 * A retry policy that never retries. The SDK's default policy retries every operation and every reconnect for up
 * to four minutes inside the client, then gives up; our ModuleConnection retries forever itself (with a
 * backoff it can be tested with), so each SDK operation fails fast and the connection loop takes over.
 */
export const NO_RETRY_POLICY = Object.freeze({
  shouldRetry: (): boolean => false,
  nextRetryTimeout: (): number => 0,
});

/** The environment variables `ModuleClient.fromEnvironment` reads (IoT Edge workload API, or connection string + CA file). */
export const MODULE_ENVIRONMENT_VARIABLES: readonly string[] = [
  'EdgeHubConnectionString',
  'IotHubConnectionString',
  'EdgeModuleCACertificateFile',
  'IOTEDGE_WORKLOADURI',
  'IOTEDGE_DEVICEID',
  'IOTEDGE_MODULEID',
  'IOTEDGE_IOTHUBHOSTNAME',
  'IOTEDGE_AUTHSCHEME',
  'IOTEDGE_GATEWAYHOSTNAME',
  'IOTEDGE_MODULEGENERATIONID',
  'IOTEDGE_APIVERSION',
];

/**
 * `ModuleClient.fromEnvironment(Mqtt)`: under IoT Edge it authenticates through the workload API; elsewhere it
 * uses `EdgeHubConnectionString`/`IotHubConnectionString` and trusts `EdgeModuleCACertificateFile`. With `env`,
 * those variables are taken from it instead of `process.env` (several modules in one test process): the SDK
 * reads them synchronously when called, so they are swapped in only for the duration of the call.
 */
export function moduleClientFromEnvironment(
  env?: Readonly<Record<string, string | undefined>>,
): Promise<ModuleClient> {
  if (!env) return ModuleClient.fromEnvironment(Mqtt);
  const saved = new Map<string, string | undefined>();
  for (const name of MODULE_ENVIRONMENT_VARIABLES) {
    saved.set(name, process.env[name]);
    const value = env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    return ModuleClient.fromEnvironment(Mqtt);
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** Which device and module this process runs as. */
export interface ModuleIdentity {
  readonly deviceId?: string;
  readonly moduleId?: string;
}

/** The device and module ids from the environment (IoT Edge variables, else the connection string), never the key. */
export function moduleIdentityFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): ModuleIdentity {
  if (env.IOTEDGE_DEVICEID)
    return {
      deviceId: env.IOTEDGE_DEVICEID,
      ...(env.IOTEDGE_MODULEID && { moduleId: env.IOTEDGE_MODULEID }),
    };
  const connectionString = env.EdgeHubConnectionString ?? env.IotHubConnectionString ?? '';
  const part = (name: string): string | undefined =>
    connectionString
      .split(';')
      .map((p) => p.trim())
      .find((p) => p.toLowerCase().startsWith(`${name.toLowerCase()}=`))
      ?.slice(name.length + 1) || undefined;
  const deviceId = part('DeviceId');
  const moduleId = part('ModuleId');
  return { ...(deviceId && { deviceId }), ...(moduleId && { moduleId }) };
}
