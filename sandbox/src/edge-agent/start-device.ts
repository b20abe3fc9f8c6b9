import { ConnectionString } from 'azure-iothub';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../../modules/common/src/log';
import { parseEdgeConfigToml, type EdgeDpsConfig } from '../../../provisioning/src/location/config-toml';
import { endpointHost } from '../../../provisioning/src/location/provision-device';
import { registerWithSymmetricKey } from '../../../cloud/src/azure/dps-clients';
import { createIotHubServiceClients } from '../../../cloud/src/azure/iothub-service-clients';
import { EdgeAgent } from './edge-agent';
import type { ModuleSpec } from './deployment-spec';
import type { RunningModule } from './module-child';
import type { ModuleState } from './module-supervisor';
import { DEFAULT_RESTART_BACKOFF, type RestartBackoff } from './restart-policy';

/** The hub the device lands in, as a service sees it (a `SandboxIotHub` fits). */
export interface EdgeDeviceHub {
  /** A connection string with RegistryRead/Write (module identities and keys). */
  readonly ownerConnectionString: string;
  readonly caPem?: string;
  readonly caFile?: string;
}

/** Options of startSandboxEdgeDevice. */
export interface SandboxEdgeDeviceOptions {
  /** An IoT Edge config.toml (as `provision location` writes it); or give `dps`. */
  readonly configTomlPath?: string;
  /** The same settings without a file. */
  readonly dps?: EdgeDpsConfig;
  readonly hub: EdgeDeviceHub;
  /** CA the device and its modules trust; config.toml's `trust_bundle_cert`, else the hub's CA, when absent. */
  readonly trustBundleFile?: string;
  /** DPS transport of the registration; MQTT (as the brief's IoT Edge stand-in) when absent. */
  readonly dpsTransport?: 'mqtt' | 'http';
  /** Module output goes to `{logDir}/{deviceId}/{module}.log`; only kept in memory when absent. */
  readonly logDir?: string;
  /** Module environment below the deployment's `env` (PATH is always added). */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** Module environment above it; `HEALTH_PORT=0`, `HEALTH_BIND_ADDRESS=127.0.0.1` when absent. */
  readonly envOverrides?: Readonly<Record<string, string>>;
  readonly restartBackoff?: Partial<RestartBackoff>;
  /** SIGKILL this long after SIGTERM; default 10 000 (IoT Edge's grace period). */
  readonly stopTimeoutMs?: number;
  /** Coalescing window of `$edgeAgent` reported patches; default 250. */
  readonly reportDebounceMs?: number;
  readonly logger?: Logger;
  /** Replaces how module processes are started (tests). */
  readonly launchProcess?: (spec: ModuleSpec, env: Record<string, string>, logFile?: string) => RunningModule;
}

/** A running simulated IoT Edge device. */
export interface SandboxEdgeDevice {
  readonly deviceId: string;
  readonly registrationId: string;
  readonly assignedHub: string;
  /** DPS substatus: `initialAssignment` or `deviceDataMigrated`. */
  readonly substatus: string;
  /** How long DPS registration took, in ms. */
  readonly registrationMs: number;
  /** Each module of the device's deployment with its state. */
  modules(): ModuleState[];
  /** Resolves when `predicate(modules())` holds; rejects after `timeoutMs` naming `what`. */
  waitFor(
    predicate: (modules: ModuleState[]) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<ModuleState[]>;
  /** Stops every module and the agent's session. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Boots one simulated IoT Edge device: reads config.toml, registers through DPS with the derived key (unmodified
 * `azure-iot-provisioning-device-mqtt` + `azure-iot-security-symmetric-key`), then runs the `$edgeAgent`
 * stand-in against the assigned hub, which starts the modules the device's deployment lists as processes.
 */
export async function startSandboxEdgeDevice(options: SandboxEdgeDeviceOptions): Promise<SandboxEdgeDevice> {
  const config = await loadConfig(options);
  const hubHost = ConnectionString.parse(options.hub.ownerConnectionString).HostName ?? '';
  const temp: string[] = [];
  const trustBundleFile =
    options.trustBundleFile ??
    config.trustBundleFile ??
    options.hub.caFile ??
    (await caToFile(options.hub.caPem, temp));
  const ca = trustBundleFile !== undefined ? await readFile(trustBundleFile, 'utf8') : options.hub.caPem;
  const logger = (options.logger ?? createLogger('sandbox-edge-agent')).child({
    device: config.registrationId,
  });
  const startedMs = Date.now();
  const registration = await registerWithSymmetricKey({
    provisioningHost: endpointHost(config.globalEndpoint),
    idScope: config.idScope,
    registrationId: config.registrationId,
    symmetricKey: config.symmetricKey,
    transport: options.dpsTransport ?? 'mqtt',
    ...(ca !== undefined && { ca }),
  });
  const registrationMs = Date.now() - startedMs;
  const assignedHub = registration.assignedHub ?? '';
  const deviceId = registration.deviceId ?? config.registrationId;
  if (assignedHub.toLowerCase() !== hubHost.toLowerCase()) {
    await cleanup(temp);
    throw new Error(`DPS assigned ${deviceId} to ${assignedHub}, not to the hub given (${hubHost})`);
  }
  logger.info(
    { deviceId, assignedHub, substatus: registration.substatus, registrationMs },
    'registered through DPS',
  );
  const clients = createIotHubServiceClients(options.hub.ownerConnectionString, {
    ...((options.hub.caPem ?? ca) !== undefined && { ca: (options.hub.caPem ?? ca) as string }),
  });
  const agent = new EdgeAgent({
    deviceId,
    hubHostName: assignedHub,
    registry: clients.registry,
    ...(ca !== undefined && { ca }),
    ...(trustBundleFile !== undefined && { trustBundleFile }),
    extraEnv: { ...(process.env.PATH !== undefined && { PATH: process.env.PATH }), ...options.extraEnv },
    ...(options.envOverrides !== undefined && { envOverrides: options.envOverrides }),
    ...(options.logDir !== undefined && { logDir: options.logDir }),
    backoff: { ...DEFAULT_RESTART_BACKOFF, ...options.restartBackoff },
    stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
    reportDebounceMs: options.reportDebounceMs ?? 250,
    logger,
    ...(options.launchProcess !== undefined && { launchProcess: options.launchProcess }),
  });
  try {
    await agent.start();
  } catch (err) {
    clients.close();
    await cleanup(temp);
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    deviceId,
    registrationId: config.registrationId,
    assignedHub,
    substatus: registration.substatus ?? '',
    registrationMs,
    modules: () => agent.modules(),
    waitFor: (predicate, what, timeoutMs = 30_000) => waitFor(agent, predicate, what, timeoutMs),
    stop: () =>
      (stopping ??= (async () => {
        await agent.stop();
        clients.close();
        await cleanup(temp);
      })()),
  };
}

async function loadConfig(options: SandboxEdgeDeviceOptions): Promise<EdgeDpsConfig> {
  if (options.dps) return options.dps;
  if (options.configTomlPath === undefined)
    throw new Error('startSandboxEdgeDevice needs configTomlPath or dps');
  return parseEdgeConfigToml(await readFile(options.configTomlPath, 'utf8'), options.configTomlPath);
}

// The modules need the CA as a file (EdgeModuleCACertificateFile); a hub known only by its PEM gets a temp one.
async function caToFile(caPem: string | undefined, temp: string[]): Promise<string | undefined> {
  if (caPem === undefined) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'sandbox-edge-ca-'));
  temp.push(dir);
  const file = join(dir, 'ca.pem');
  await writeFile(file, caPem, { mode: 0o600 });
  return file;
}

async function cleanup(temp: readonly string[]): Promise<void> {
  await Promise.all(temp.map((dir) => rm(dir, { recursive: true, force: true })));
}

function waitFor(
  agent: EdgeAgent,
  predicate: (modules: ModuleState[]) => boolean,
  what: string,
  timeoutMs: number,
): Promise<ModuleState[]> {
  return new Promise<ModuleState[]>((resolve, reject) => {
    const check = (): boolean => {
      const modules = agent.modules();
      if (!predicate(modules)) return false;
      finish();
      resolve(modules);
      return true;
    };
    const unsubscribe = agent.onChange(() => void check());
    const timer = setTimeout(() => {
      finish();
      const states = agent.modules().map((m) => `${m.name}=${m.runtimeStatus}`);
      reject(
        new Error(
          `timed out after ${timeoutMs} ms waiting for ${what} (modules: ${states.join(', ') || 'none'})`,
        ),
      );
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      unsubscribe();
    };
    check();
  });
}
