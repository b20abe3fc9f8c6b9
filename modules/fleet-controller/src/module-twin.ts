import type { ModuleClient, Twin } from 'azure-iot-device';
import {
  MODULE_ENVIRONMENT_VARIABLES,
  moduleClientFromEnvironment,
} from '../../common/src/twin/module-client';

/** The controller module's twin: its desired settings, a reported-properties patch, change notifications. */
export interface ControllerTwin {
  /** Desired properties as last received. */
  desired(): Readonly<Record<string, unknown>>;
  /** Patches reported properties. */
  report(patch: Record<string, unknown>): Promise<void>;
  /** Calls `listener` after each desired-properties change (not for the first document). */
  onDesiredChange(listener: (desired: Readonly<Record<string, unknown>>) => void): void;
  close(): Promise<void>;
}

/** True when the environment describes a module identity (IoT Edge's workload API, or a connection string). */
export function hasModuleIdentity(env: Readonly<Record<string, string | undefined>>): boolean {
  return ['IOTEDGE_WORKLOADURI', 'EdgeHubConnectionString', 'IotHubConnectionString'].some(
    (name) => MODULE_ENVIRONMENT_VARIABLES.includes(name) && (env[name] ?? '') !== '',
  );
}

/** Opens the module client from `env` and reads the twin once; the caller closes it. */
export async function openControllerTwin(
  env: Readonly<Record<string, string | undefined>>,
): Promise<ControllerTwin> {
  const client: ModuleClient = await moduleClientFromEnvironment(env);
  await client.open();
  let twin: Twin;
  try {
    twin = await client.getTwin();
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  let current = { ...(twin.properties.desired as Record<string, unknown>) };
  const listeners: Array<(desired: Readonly<Record<string, unknown>>) => void> = [];
  let first = true;
  // The SDK emits the whole desired document once on subscription, then each patch.
  twin.on('properties.desired', (patch: Record<string, unknown>) => {
    if (first) {
      first = false;
      current = { ...patch };
      return;
    }
    current = { ...current, ...patch };
    for (const [key, value] of Object.entries(patch)) if (value === null) delete current[key];
    for (const listener of listeners) listener(current);
  });
  return {
    desired: () => current,
    report: (patch) =>
      new Promise<void>((resolve, reject) =>
        twin.properties.reported.update(patch, (err?: Error) => (err ? reject(err) : resolve())),
      ),
    onDesiredChange: (listener) => void listeners.push(listener),
    close: async () => {
      await client.close().catch(() => undefined);
    },
  };
}
