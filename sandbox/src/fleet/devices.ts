// One simulated IoT Edge device of the fleet, the way a real one is onboarded and boots: the provisioning
// functions (enrollment, DPS registration with the derived key, tags.relay, config.toml), then the edge-agent
// stand-in from that config.toml (DPS again, as the device, then the modules its automatic deployment lists).
import { join } from 'node:path';
import type { Logger } from '../../../modules/common/src/log';
import {
  provisionDevice,
  type ProvisionDeviceResult,
  type RelayDeclaration,
} from '../../../provisioning/src';
import { startSandboxEdgeDevice, type SandboxEdgeDevice } from '../edge-agent';
import type { FleetInfrastructure } from './infrastructure';
import type { ModuleLauncher } from './module-launcher';

/** What booting a device needs. */
export interface DeviceContext {
  readonly infra: FleetInfrastructure;
  readonly launcher: ModuleLauncher;
  /** config.toml of each device goes to `{devicesDir}/{registrationId}/`. */
  readonly devicesDir: string;
  /** Module output goes to `{moduleLogDir}/{deviceId}/{module}.log`. */
  readonly moduleLogDir: string;
  /** The edge agents' own log. */
  readonly agentLogger: Logger;
}

/** `provision location` / `provision gateway` in-process: onboards the device so it provisions itself at boot. */
export function provisionFleetDevice(
  ctx: DeviceContext,
  registrationId: string,
  declaration: RelayDeclaration,
): Promise<ProvisionDeviceResult> {
  const { infra } = ctx;
  return provisionDevice({
    registrationId,
    declaration,
    provisioningService: infra.provisioningService,
    globalEndpoint: `https://${infra.dps.hostName}/`,
    idScope: infra.dps.idScope,
    registry: infra.registry,
    hubHostName: infra.hub.hostName,
    outDir: join(ctx.devicesDir, registrationId),
    trustBundleFile: infra.caFile,
    ca: infra.caPem,
  });
}

/**
 * Boots the device from its config.toml: DPS registration with its derived key, then its deployment's modules;
 * `env` is the machine's own environment for them (its managed identity endpoint with Entra ID).
 */
export function bootFleetDevice(
  ctx: DeviceContext,
  configTomlPath: string,
  env: Readonly<Record<string, string>> = {},
): Promise<SandboxEdgeDevice> {
  return startSandboxEdgeDevice({
    configTomlPath,
    hub: ctx.infra.hub,
    logDir: ctx.moduleLogDir,
    logger: ctx.agentLogger,
    // Reported properties within 100 ms rather than the modules' default coalescing: someone is watching.
    extraEnv: { REPORTED_DEBOUNCE_MS: '100', ...env },
    reportDebounceMs: 100,
    // The modules drain for at most 8 s in twin mode; a stuck one is killed after that.
    stopTimeoutMs: 10_000,
    launchProcess: ctx.launcher.launch,
  });
}
