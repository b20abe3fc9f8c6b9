// Starts the whole sandbox fleet and stops it again: the sandbox Azure services, the fleet controller, the
// automatic deployments, one gateway device and the locations, each booted through DPS; more locations can be
// added while it runs.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runController, type ControllerHandle } from '../../../cloud/src/run-controller';
import { startStatusServer, type StatusServer } from '../../../cloud/src/status';
import type { ReconcileResult } from '../../../cloud/src/reconcile/reconcile';
import { gatewayDeclaration, provisionDeployments, type DeploymentResult } from '../../../provisioning/src';
import type { SandboxEdgeDevice } from '../edge-agent';
import { bootFleetDevice, provisionFleetDevice, type DeviceContext } from './devices';
import { GATEWAY_ROLES } from './entra';
import { sandboxEnvInfo, writeSandboxEnv } from './env-file';
import { startFleetInfrastructure, type FleetInfrastructure } from './infrastructure';
import { DEFAULT_LOCATION_TIMEOUT_MS, startFleetLocation, type FleetLocation } from './location';
import { FleetLogs } from './logs';
import { ModuleLauncher } from './module-launcher';
import {
  DEFAULT_FLEET_LOCATIONS,
  FLEET_POOL,
  GATEWAY_DEVICE_ID,
  locationNameProblem,
  POOL_PORT_COUNT,
} from './plan';
import { findFreePortRange, type PortRange } from './ports';
import { SILENT_PROGRESS, type Progress } from '../../../modules/common/src/cli/progress';
import { FleetRequestError } from './request-error';

/** Options of {@link startFleet}. */
export interface FleetOptions {
  /** Holds `pki/` (kept between runs) and `fleet/` (devices' config.toml, logs, admin.json of this run). */
  readonly stateDir: string;
  readonly locations?: readonly string[];
  /** Bound on each wait of a location's start. */
  readonly timeoutMs?: number;
  /** Called after each controller reconcile (the on-screen summary). */
  readonly onReconcile?: (result: ReconcileResult) => void;
  /** The controller's change-poll period; short so that new locations appear fast. */
  readonly controllerPollMs?: number;
  /** DPS `retry-after` in seconds; the sandbox's default (1 s) when absent. */
  readonly dpsRetryAfterSeconds?: number;
  /** `entra`: modules use their machines' Entra ID identities and the relay refuses SAS (default `sas`). */
  readonly relayAuth?: 'sas' | 'entra';
  /** Relay namespaces (default 1): with 2 the controller places locations in both (docs/fleet-controller.md). */
  readonly relayNamespaces?: number;
  /** Reports each boot step (what runs now, what is done); silent by default. */
  readonly progress?: Progress;
}

/** Counters of the controller since start. */
export interface ControllerSummary {
  readonly reconciles: number;
  readonly actions: number;
  readonly failedActions: number;
  readonly failedReconciles: number;
}

/** A running fleet. */
export interface Fleet {
  readonly infra: FleetInfrastructure;
  /** `{stateDir}/fleet`. */
  readonly dir: string;
  readonly logDir: string;
  readonly pool: PortRange;
  /** `{stateDir}/sandbox.env`: the environment that points the provisioning CLI and the controller here. */
  readonly envFile: string;
  readonly deployments: readonly DeploymentResult[];
  readonly gateway: SandboxEdgeDevice;
  readonly controller: ControllerHandle;
  /** The controller's status view (loopback, ephemeral port), reading the sandbox IoT Hub. */
  readonly status: StatusServer;
  /** Running locations in the order they became reachable (the initial ones first, in the given order). */
  locations(): readonly FleetLocation[];
  /** Onboards, boots and waits for one more location (refused when the name is taken or invalid). */
  addLocation(name: string): Promise<FleetLocation>;
  controllerSummary(): ControllerSummary;
  /** Pids of the module processes running now. */
  modulePids(): number[];
  /** Stops devices (modules get SIGTERM), sample services, controller, sandbox services. Idempotent. */
  stop(): Promise<void>;
}

// Its own small file so the admin endpoint's clients (add-location, --help) need not load the whole fleet.
export { FleetRequestError } from './request-error';

/** Starts everything on loopback; on any failure stops what was started and rejects. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const dir = join(options.stateDir, 'fleet');
  // A fresh fleet each run: the config.toml files of the last one hold keys of an enrollment that is gone.
  await rm(join(dir, 'devices'), { recursive: true, force: true });
  await rm(join(dir, 'logs'), { recursive: true, force: true });
  await mkdir(join(dir, 'logs'), { recursive: true, mode: 0o700 });
  const logs = new FleetLogs(join(dir, 'logs'));
  const launcher = new ModuleLauncher();
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCATION_TIMEOUT_MS;
  const summary = { reconciles: 0, actions: 0, failedActions: 0, failedReconciles: 0 };
  const running: FleetLocation[] = [];
  const pending = new Map<string, Promise<unknown>>();
  // Aborts location starts still waiting when the fleet stops (they then stop what they started).
  const aborter = new AbortController();
  const cleanups: Array<() => Promise<unknown>> = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      aborter.abort(new FleetRequestError('STOPPING', 'the fleet is stopping'));
      await Promise.allSettled(pending.values());
      // Devices first and together (their modules drain in parallel), then what they talked to.
      await Promise.all(running.splice(0).map((l) => l.stop().catch(() => undefined)));
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
      launcher.close();
      await logs.close();
    })());

  const progress = options.progress ?? SILENT_PROGRESS;
  try {
    const infra = await progress.step('sandbox Relay, Relay ARM, IoT Hub and DPS', () =>
      startFleetInfrastructure({
        stateDir: options.stateDir,
        logs,
        ...(options.dpsRetryAfterSeconds !== undefined && {
          dpsRetryAfterSeconds: options.dpsRetryAfterSeconds,
        }),
        ...(options.relayAuth !== undefined && { relayAuth: options.relayAuth }),
        ...(options.relayNamespaces !== undefined && { relayNamespaces: options.relayNamespaces }),
      }),
    );
    cleanups.push(() => infra.stop());
    const pool = await findFreePortRange(POOL_PORT_COUNT);
    const poolSettings = {
      name: FLEET_POOL,
      ...pool,
      allow: ['127.0.0.0/8', '::1/128'],
      publicHost: '127.0.0.1',
      bindAddress: '127.0.0.1',
    };
    const controller = runController({
      settings: {
        pools: [poolSettings],
        ...(infra.entra && { relayAuth: { type: 'entra' as const } }),
      },
      iothub: { registry: infra.registry },
      arm: {
        credential: infra.arm.credential(),
        subscriptionId: infra.arm.subscriptionId,
        resourceGroup: infra.arm.resourceGroup,
        namespaces: infra.arm.namespaceNames.map((namespace) => ({ namespace })),
        endpoint: infra.arm.endpoint,
        ca: infra.caPem,
      },
      logger: logs.logger('fleet-controller'),
      pollIntervalMs: options.controllerPollMs ?? 250,
    });
    cleanups.push(() => controller.stop());
    // The status view a controller host would serve, polling fast because the sandbox hub has no query quota.
    const status = await startStatusServer({
      registry: infra.registry,
      port: 0,
      pollIntervalMs: 2_000,
      bucketMs: 10_000,
      logger: logs.logger('status-view'),
    });
    cleanups.push(() => status.close());
    // The same services, as the environment of the real commands (the runbook rehearsed locally).
    const envFile = await writeSandboxEnv(options.stateDir, sandboxEnvInfo(infra, poolSettings));
    controller.controller.on('reconciled', (result: ReconcileResult) => {
      summary.reconciles += 1;
      summary.actions += result.actionsDone;
      summary.failedActions += result.actionsFailed;
      options.onReconcile?.(result);
    });
    controller.controller.on('reconcileFailed', () => (summary.failedReconciles += 1));

    const deployments = await progress.step(
      'automatic deployments',
      () =>
        provisionDeployments({ registry: infra.registry, fleet: { variables: deploymentVariables(pool) } }),
      (results) => results.map((r) => `${r.id} ${r.outcome}`).join(', '),
    );

    const ctx: DeviceContext = {
      infra,
      launcher,
      devicesDir: join(dir, 'devices'),
      moduleLogDir: join(dir, 'logs', 'devices'),
      agentLogger: logs.logger('sandbox-edge-agent'),
    };
    const gateway = await progress.step(
      `gateway device ${GATEWAY_DEVICE_ID}: provisioned, booted through DPS, relay-gateway started`,
      async () => {
        const provisioned = await provisionFleetDevice(
          ctx,
          GATEWAY_DEVICE_ID,
          gatewayDeclaration(FLEET_POOL),
        );
        const gatewayIdentity = await infra.entra?.deviceEnvironment(provisioned.deviceId, GATEWAY_ROLES);
        return bootFleetDevice(ctx, provisioned.configTomlPath, gatewayIdentity);
      },
    );
    cleanups.push(() => gateway.stop());

    const addLocation = async (name: string): Promise<FleetLocation> => {
      if (stopping) throw new FleetRequestError('STOPPING', 'the fleet is stopping');
      const problem = locationNameProblem(name);
      if (problem) throw new FleetRequestError('INVALID_NAME', problem);
      if (pending.has(name) || running.some((l) => l.name === name))
        throw new FleetRequestError('LOCATION_EXISTS', `location ${name} exists already`);
      const start = (async () => {
        const location = await startFleetLocation(ctx, name, timeoutMs, aborter.signal);
        if (stopping) {
          await location.stop();
          throw new FleetRequestError('STOPPING', 'the fleet is stopping');
        }
        running.push(location);
        return location;
      })();
      pending.set(name, start);
      try {
        return await start;
      } finally {
        pending.delete(name);
      }
    };

    // The initial locations boot together; they are listed in the given order.
    const initial = await Promise.allSettled(
      (options.locations ?? DEFAULT_FLEET_LOCATIONS).map((name) =>
        progress.step(
          `location ${name}: provisioned, booted through DPS, relay-forwarder up, reachable through the gateway`,
          () => addLocation(name),
        ),
      ),
    );
    const failed = initial.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const order = options.locations ?? DEFAULT_FLEET_LOCATIONS;
    running.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));

    return {
      infra,
      dir,
      logDir: logs.dir,
      pool,
      envFile,
      deployments,
      gateway,
      controller,
      status,
      locations: () => [...running],
      addLocation,
      controllerSummary: () => ({ ...summary }),
      modulePids: () => launcher.pids(),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The manifest templates' placeholders for the sandbox (no container registry: the agent runs processes). */
function deploymentVariables(pool: PortRange): Record<string, string> {
  return {
    CONTAINER_REGISTRY_SERVER: 'sandbox.azurecr.io',
    CONTAINER_REGISTRY_USERNAME: 'sandbox',
    CONTAINER_REGISTRY_PASSWORD: 'sandbox-has-no-registry',
    LOG_LEVEL: 'info',
    APPLICATIONINSIGHTS_CONNECTION_STRING: '',
    AZURE_MONITOR_LIVE_METRICS: 'false',
    GATEWAY_PORT_RANGE_START: String(pool.firstPort),
    GATEWAY_PORT_RANGE_END: String(pool.lastPort),
    GATEWAY_POOL_NAME: 'default',
    GATEWAY_ALLOWED_SOURCES: '0.0.0.0/0',
    GATEWAY_PUBLIC_HOST: '',
    GATEWAY_SNI_PORT: '',
    GATEWAY_SNI_ZONE: '',
    GATEWAY_SNI_PUBLIC_PORT: '',
    // The sandbox runs the controller in its own process (with its status view): the gateway's module stays stopped.
    CONTROLLER_MODULE_STATUS: 'stopped',
    CONTROLLER_IOTHUB_CONNECTION_STRING: '',
    AZURE_SUBSCRIPTION_ID: '',
    RELAY_RESOURCE_GROUP: '',
    RELAY_NAMESPACE: '',
    RELAY_NAMESPACES: '',
    CONTROLLER_CLIENT_ID: '',
    RELAY_AUTH: '',
    GATEWAY_CLIENT_ID: '',
    FORWARDER_CLIENT_ID: '',
    CREATE_NAMESPACES: '',
    CREATED_NAMESPACE_PREFIX: '',
    CREATED_NAMESPACE_REGION: '',
    CREATED_NAMESPACE_RESOURCE_GROUP: '',
    NAMESPACE_CREATE_TIMEOUT: '',
  };
}
