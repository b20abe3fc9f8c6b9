// The sandbox Azure services of the fleet, in this process: Relay (data plane), the Relay ARM API, IoT Hub and
// DPS, on ephemeral loopback ports, all with one PKI kept under `{stateDir}/pki` (one CA file to trust).
import type { Registry } from 'azure-iothub';
import type { ProvisioningServiceClient } from 'azure-iot-provisioning-service';
import { join } from 'node:path';
import { startSandboxArm, type SandboxArm } from '../arm';
import { createProvisioningServiceClient, startSandboxDps, type SandboxDps } from '../dps';
import { createIotHubServiceClients, startSandboxIotHub, type SandboxIotHub } from '../iothub';
import { startSandboxRelay, type SandboxRelay } from '../relay';
import { loadOrCreateSandboxPki } from '../tls/pki-store';
import {
  createSandboxEntraIssuer,
  startSandboxIdentityEndpoint,
  type SandboxIdentityEndpoint,
} from '../entra';
import { startFleetEntra, type FleetEntra } from './entra';
import type { FleetLogs } from './logs';

/** The running sandbox services and service-side SDK clients for them. */
export interface FleetInfrastructure {
  readonly caFile: string;
  readonly caPem: string;
  readonly relay: SandboxRelay;
  /** The data planes of the namespaces after the first (`relayNamespaces` > 1), in ARM's namespaceNames order. */
  readonly extraRelays: readonly SandboxRelay[];
  readonly arm: SandboxArm;
  readonly hub: SandboxIotHub;
  readonly dps: SandboxDps;
  /** azure-iothub Registry with the hub owner's rights (provisioning, status tags). */
  readonly registry: Registry;
  /** azure-iot-provisioning-service client (enrollment groups). */
  readonly provisioningService: ProvisioningServiceClient;
  /** Present with `relayAuth: 'entra'`: the modules' identities (the relay then refuses SAS). */
  readonly entra?: FleetEntra;
  /**
   * The fleet controller's managed identity endpoint (its environment: IDENTITY_ENDPOINT, IDENTITY_HEADER): an
   * unmodified DefaultAzureCredential gets tokens there that the sandbox ARM accepts, as in Azure.
   */
  readonly controllerIdentity: SandboxIdentityEndpoint;
  /** Stops everything started here (in reverse order). */
  stop(): Promise<void>;
}

/** Client id of the fleet controller's managed identity in the sandbox tenant. */
export const CONTROLLER_CLIENT_ID = 'fleet-controller';

/** Options of {@link startFleetInfrastructure}. */
export interface FleetInfrastructureOptions {
  readonly stateDir: string;
  readonly logs: FleetLogs;
  /** DPS `retry-after` (seconds) of a registration in progress; the sandbox's default when absent. */
  readonly dpsRetryAfterSeconds?: number;
  /** `entra`: the relay trusts a sandbox Entra ID issuer and refuses SAS; each device gets its own identity. */
  readonly relayAuth?: 'sas' | 'entra';
  /** Relay namespaces to serve (default 1): each its own sandbox relay on its own port, one ARM endpoint for all. */
  readonly relayNamespaces?: number;
}

/**
 * Starts relay, ARM, IoT Hub and DPS. IoT Hub and DPS keep no state between runs (each `npm start` is a fresh
 * fleet); only the PKI is kept, so NODE_EXTRA_CA_CERTS needs setting once.
 */
export async function startFleetInfrastructure(
  options: FleetInfrastructureOptions,
): Promise<FleetInfrastructure> {
  const stops: Array<() => Promise<unknown> | void> = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) await Promise.resolve(s()).catch(() => undefined);
  };
  try {
    const pki = await loadOrCreateSandboxPki(join(options.stateDir, 'pki'));
    const relay = await startSandboxRelay({ pki, logger: options.logs.logger('sandbox-relay') });
    stops.push(() => relay.stop());
    // One sandbox Entra ID tenant: the controller's identity for ARM, and the modules' for the relay (entra).
    const issuer = createSandboxEntraIssuer({ identities: [{ clientId: CONTROLLER_CLIENT_ID, roles: [] }] });
    const controllerIdentity = await startSandboxIdentityEndpoint({
      issuer,
      systemAssignedClientId: CONTROLLER_CLIENT_ID,
      logger: options.logs.logger('sandbox-entra'),
    });
    stops.push(() => controllerIdentity.stop());
    const extraRelays: SandboxRelay[] = [];
    for (let i = 2; i <= (options.relayNamespaces ?? 1); i++) {
      const extra = await startSandboxRelay({ pki, logger: options.logs.logger(`sandbox-relay-${i}`) });
      stops.push(() => extra.stop());
      extraRelays.push(extra);
    }
    // Every namespace's relay trusts the one issuer (and refuses SAS), those created through ARM later too.
    const entra =
      options.relayAuth === 'entra'
        ? startFleetEntra([relay, ...extraRelays], issuer, options.logs.logger('sandbox-entra'))
        : undefined;
    if (entra) stops.push(() => entra.stop());
    const arm = await startSandboxArm({
      relay,
      pki,
      logger: options.logs.logger('sandbox-arm'),
      entra: issuer.trust,
      extraNamespaces: extraRelays.map((r, i) => ({ namespaceName: `sandbox-relay-${i + 2}`, relay: r })),
      // A namespace created through ARM (the controller's namespace growth) is one more relay on its own port.
      createDataPlane: async (name) => {
        const created = await startSandboxRelay({
          pki,
          logger: options.logs.logger(`sandbox-relay-${name}`),
        });
        entra?.trust(created);
        return { relay: created, stop: () => created.stop() };
      },
    });
    stops.push(() => arm.stop());
    const hub = await startSandboxIotHub({
      pki,
      caFile: pki.caFile,
      logger: options.logs.logger('sandbox-iothub'),
    });
    stops.push(() => hub.stop());
    const dps = await startSandboxDps({
      iotHub: hub,
      pki,
      logger: options.logs.logger('sandbox-dps'),
      ...(options.dpsRetryAfterSeconds !== undefined && {
        retryAfterSeconds: options.dpsRetryAfterSeconds,
      }),
    });
    stops.push(() => dps.stop());
    const clients = createIotHubServiceClients(hub.ownerConnectionString, { ca: pki.caPem });
    stops.push(() => clients.close());
    const provisioningService = createProvisioningServiceClient(dps.serviceConnectionString, {
      ca: pki.caPem,
    });
    return {
      caFile: pki.caFile,
      caPem: pki.caPem,
      relay,
      extraRelays,
      arm,
      hub,
      dps,
      registry: clients.registry,
      provisioningService,
      ...(entra !== undefined && { entra }),
      controllerIdentity,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
