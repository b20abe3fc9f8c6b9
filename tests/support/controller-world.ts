// Fleet-controller integration world: the sandbox relay, its ARM API and the sandbox IoT Hub over TLS (one CA),
// driven by the unmodified SDKs (azure-iothub, @azure/arm-relay). Devices and module identities are created with
// the Registry, as DPS and the IoT Edge agent would; the controller runs in-process through runController.
import { mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayAPI } from '@azure/arm-relay';
import type { Registry } from 'azure-iothub';
import pino from 'pino';
import type { JsonObject } from '../../cloud/src/model/json';
import {
  runController,
  type ControllerHandle,
  type RunControllerOptions,
} from '../../cloud/src/run-controller';
import type { ControllerSettingsInput, PoolSettings } from '../../cloud/src/settings';
import { startSandboxArm, type SandboxArm } from '../../sandbox/src/arm';
import {
  createSandboxEntraIssuer,
  startSandboxIdentityEndpoint,
  type SandboxIdentityEndpoint,
} from '../../sandbox/src/entra';
import {
  createIotHubServiceClients,
  startSandboxIotHub,
  type SandboxIotHub,
  type SandboxIotHubOptions,
} from '../../sandbox/src/iothub';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { generateSandboxPki } from '../../sandbox/src/tls/pki';

/** Everything a controller integration test touches. */
export interface ControllerWorld {
  readonly relay: SandboxRelay;
  readonly arm: SandboxArm;
  readonly hub: SandboxIotHub;
  /** The controller's managed identity endpoint (IDENTITY_ENDPOINT/IDENTITY_HEADER), trusted by the ARM. */
  readonly controllerIdentity: SandboxIdentityEndpoint;
  readonly registry: Registry;
  /** An independent ARM client for assertions. */
  readonly relayApi: RelayAPI;
  /** A location device (IoT Edge) with relay tags and a relay-forwarder module identity. */
  addLocation(
    deviceId: string,
    services: Record<string, string | JsonObject>,
    relay?: JsonObject,
  ): Promise<void>;
  /** A gateway device (IoT Edge) in `pool` with a relay-gateway module identity. */
  addGateway(deviceId: string, pool?: string): Promise<void>;
  /** Deletes a device (its modules go with it). */
  removeDevice(deviceId: string): Promise<void>;
  /** Merge-patches a device's tags with the service SDK. */
  patchTags(deviceId: string, tags: JsonObject): Promise<void>;
  tags(deviceId: string): Promise<JsonObject>;
  desired(deviceId: string, moduleId: string): Promise<JsonObject>;
  /** Names of the hybrid connections in the namespace, sorted. */
  hybridConnectionNames(): Promise<string[]>;
  /** Starts a controller (not looping unless `start: true`); stopped at close. */
  startController(
    settings: Partial<ControllerSettingsInput>,
    options?: Partial<RunControllerOptions>,
  ): ControllerHandle;
  /** `IotHubConnectionString` + `EdgeModuleCACertificateFile` for a module (twin-mode modules). */
  moduleEnvironment(deviceId: string, moduleId: string): Record<string, string>;
  close(): Promise<void>;
}

/** The pool most tests use: ports 20000-20099, reachable from anywhere. */
export const DEFAULT_POOL: PoolSettings = {
  name: 'default',
  firstPort: 20000,
  lastPort: 20099,
  allow: ['0.0.0.0/0'],
};

/** Starts relay, ARM and IoT Hub sharing one CA; `hubOptions` reach the sandbox hub (e.g. its throttle window). */
export async function startControllerWorld(
  hubOptions: Pick<SandboxIotHubOptions, 'throttle' | 'throttleWindowMs'> = {},
  /** Relay namespaces (default 1): each a sandbox relay of its own behind the one ARM endpoint. */
  relayNamespaces = 1,
): Promise<ControllerWorld> {
  const stateDir = await mkdtemp(join(tmpdir(), 'hrf-controller-'));
  const pki = await generateSandboxPki();
  const relay = await startSandboxRelay({ pki });
  const extraRelays: SandboxRelay[] = [];
  for (let i = 2; i <= relayNamespaces; i++) extraRelays.push(await startSandboxRelay({ pki }));
  // The sandbox Entra ID tenant: a controller process gets ARM tokens from its identity endpoint.
  const issuer = createSandboxEntraIssuer({ identities: [{ clientId: 'fleet-controller', roles: [] }] });
  const controllerIdentity = await startSandboxIdentityEndpoint({ issuer });
  const arm = await startSandboxArm({
    relay,
    pki,
    entra: issuer.trust,
    extraNamespaces: extraRelays.map((r, i) => ({ namespaceName: `sandbox-relay-${i + 2}`, relay: r })),
    // A namespace created through ARM (the controller's namespace growth) gets a sandbox relay of its own.
    createDataPlane: async () => {
      const created = await startSandboxRelay({ pki });
      return { relay: created, stop: () => created.stop() };
    },
  });
  const hub = await startSandboxIotHub({ pki, stateDir, ...hubOptions });
  const clients = createIotHubServiceClients(hub.ownerConnectionString, { ca: hub.caPem });
  const registry = clients.registry;
  const relayApi = new RelayAPI(arm.credential(), arm.subscriptionId, arm.clientOptions());
  const controllers: ControllerHandle[] = [];

  const createEdgeDevice = async (deviceId: string, tags: JsonObject, moduleId: string) => {
    await registry.create({ deviceId, capabilities: { iotEdge: true } } as never);
    await registry.updateTwin(deviceId, { tags }, '*');
    await registry.addModule({ deviceId, moduleId } as never);
  };

  return {
    relay,
    arm,
    hub,
    controllerIdentity,
    registry,
    relayApi,
    addLocation: (deviceId, services, extra = {}) => {
      const svc: JsonObject = {};
      for (const [name, s] of Object.entries(services)) svc[name] = typeof s === 'string' ? { target: s } : s;
      return createEdgeDevice(
        deviceId,
        { relay: { role: 'location', services: svc, ...extra } },
        'relay-forwarder',
      );
    },
    addGateway: (deviceId, pool = 'default') =>
      createEdgeDevice(deviceId, { relay: { role: 'gateway', pool } }, 'relay-gateway'),
    async removeDevice(deviceId) {
      await registry.delete(deviceId);
    },
    async patchTags(deviceId, tags) {
      await registry.updateTwin(deviceId, { tags }, '*');
    },
    async tags(deviceId) {
      const { responseBody } = await registry.getTwin(deviceId);
      return (responseBody as unknown as { tags: JsonObject }).tags;
    },
    async desired(deviceId, moduleId) {
      const { responseBody } = await registry.getModuleTwin(deviceId, moduleId);
      const desired = {
        ...(responseBody as unknown as { properties: { desired: JsonObject } }).properties.desired,
      };
      delete desired.$version;
      delete desired.$metadata;
      return desired;
    },
    async hybridConnectionNames() {
      const names: string[] = [];
      for await (const hc of relayApi.hybridConnections.listByNamespace(arm.resourceGroup, arm.namespaceName))
        names.push(hc.name!);
      return names.sort();
    },
    startController(settings, options = {}) {
      const handle = runController({
        settings: { pools: [DEFAULT_POOL], ...settings },
        iothub: { connectionString: hub.ownerConnectionString, ca: hub.caPem },
        arm: {
          credential: arm.credential(),
          subscriptionId: arm.subscriptionId,
          resourceGroup: arm.resourceGroup,
          ...(extraRelays.length > 0
            ? { namespaces: arm.namespaceNames.map((namespace) => ({ namespace })) }
            : { namespace: arm.namespaceName }),
          endpoint: arm.endpoint,
          ca: arm.caPem,
        },
        logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
        start: false,
        pollIntervalMs: 0,
        ...options,
      });
      controllers.push(handle);
      return handle;
    },
    moduleEnvironment: (deviceId, moduleId) =>
      hub.moduleEnvironment(deviceId, moduleId) as Record<string, string>,
    async close() {
      await Promise.all(controllers.map((c) => c.stop()));
      clients.close();
      await hub.stop();
      await arm.stop();
      await controllerIdentity.stop();
      await relay.stop();
      for (const extra of extraRelays) await extra.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** `count` consecutive loopback ports that were free a moment ago (for a pool whose gateway really binds). */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 40000 + Math.floor(Math.random() * 20000);
    const servers: net.Server[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const server = net.createServer();
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(base + i, '127.0.0.1', resolve);
        });
        servers.push(server);
      }
      return base;
    } catch {
      // taken: try another base
    } finally {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    }
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/**
 * The environment a fleet-controller process (`cloud/src/main.ts`) needs against `world`: the hub and ARM with the
 * one sandbox CA file (they share the sandbox PKI), the controller's managed identity endpoint (what
 * DefaultAzureCredential uses for ARM, as in Azure), one open pool, LOG_LEVEL info.
 */
export function controllerProcessEnv(world: ControllerWorld): Record<string, string> {
  const caFile = world.hub.caFile!;
  return {
    IOTHUB_CONNECTION_STRING: world.hub.ownerConnectionString,
    IOTHUB_CA_FILE: caFile,
    AZURE_SUBSCRIPTION_ID: world.arm.subscriptionId,
    RELAY_RESOURCE_GROUP: world.arm.resourceGroup,
    RELAY_NAMESPACE: world.arm.namespaceName,
    ARM_ENDPOINT: world.arm.endpoint,
    ARM_CA_FILE: caFile,
    ...world.controllerIdentity.environment(),
    CONTROLLER_POOLS: '[{"name":"default","ports":"20000-20099","allow":["0.0.0.0/0"]}]',
    LOG_LEVEL: 'info',
  };
}
