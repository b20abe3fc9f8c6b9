import type { ModuleSpec } from './deployment-spec';

/**
 * Variables the stand-in overrides after the deployment's own `env`, by default. Under IoT Edge each module has
 * its own network namespace (bridge network), so every forwarder can serve health on 8081; here all modules of all
 * simulated devices share the host, so listening ports the deployment fixes become ephemeral loopback ones.
 */
export const DEFAULT_ENV_OVERRIDES: Readonly<Record<string, string>> = {
  HEALTH_PORT: '0',
  HEALTH_BIND_ADDRESS: '127.0.0.1',
};

/** Inputs of moduleEnvironment. */
export interface ModuleEnvironmentInput {
  readonly spec: ModuleSpec;
  readonly deviceId: string;
  readonly hubHostName: string;
  /** The module identity's connection string (holds its key: never logged). */
  readonly connectionString: string;
  /** CA file the module trusts for IoT Hub and the relay (the sandbox CA); absent against Azure. */
  readonly trustBundleFile?: string;
  /** Defaults below the deployment's `env` (e.g. PATH, REPORTED_DEBOUNCE_MS for a demo). */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** Values above everything but the identity (DEFAULT_ENV_OVERRIDES when absent). */
  readonly envOverrides?: Readonly<Record<string, string>>;
}

/**
 * The whole environment of a module process, in increasing precedence: `extraEnv`; the deployment's `env`; the
 * identity IoT Edge would give — `IotHubConnectionString` + `EdgeModuleCACertificateFile` (what
 * `ModuleClient.fromEnvironment` uses outside IoT Edge; the `IOTEDGE_WORKLOADURI` path needs the workload API
 * the sandbox does not have), `IOTEDGE_DEVICEID` / `IOTEDGE_MODULEID` / `IOTEDGE_IOTHUBHOSTNAME` for the code
 * that names itself, and `NODE_EXTRA_CA_CERTS` so the relay's sandbox certificate is trusted too; last, the
 * overrides. Nothing is inherited from the agent's own environment.
 */
export function moduleEnvironment(input: ModuleEnvironmentInput): Record<string, string> {
  const trust = input.trustBundleFile;
  return {
    ...input.extraEnv,
    ...input.spec.env,
    IotHubConnectionString: input.connectionString,
    IOTEDGE_DEVICEID: input.deviceId,
    IOTEDGE_MODULEID: input.spec.name,
    IOTEDGE_IOTHUBHOSTNAME: input.hubHostName,
    ...(trust !== undefined && { EdgeModuleCACertificateFile: trust, NODE_EXTRA_CA_CERTS: trust }),
    ...(input.envOverrides ?? DEFAULT_ENV_OVERRIDES),
  };
}
