// `.sandbox-state/sandbox.env`: the environment that points the real commands (provisioning CLI, fleet controller,
// deployment:gen) at a running sandbox, so the runbook (docs/deploy-azure.md) can be rehearsed locally.
import { chmod, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FleetInfrastructure } from './infrastructure';
import type { PortRange } from './ports';

/** File name of the environment file in the state directory. */
export const SANDBOX_ENV_FILE = 'sandbox.env';

/** What the environment file names: the running sandbox's endpoints, credentials and CA. */
export interface SandboxEnvInfo {
  readonly caFile: string;
  readonly relay: { readonly namespace: string; readonly rootConnectionString: string };
  readonly arm: {
    readonly endpoint: string;
    readonly subscriptionId: string;
    readonly resourceGroup: string;
    readonly namespaceName: string;
  };
  /** The controller's managed identity endpoint (App Service / IoT Edge style). */
  readonly identity: { readonly IDENTITY_ENDPOINT: string; readonly IDENTITY_HEADER: string };
  readonly hub: { readonly hostName: string; readonly ownerConnectionString: string };
  readonly dps: {
    readonly hostName: string;
    readonly idScope: string;
    readonly serviceConnectionString: string;
  };
  readonly pool: PortRange & {
    readonly name: string;
    readonly allow: readonly string[];
    readonly publicHost: string;
  };
}

/** POSIX shell single-quoting: the value as one word, whatever it holds. */
function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The file's text (pure): `export NAME='value'` lines a shell sources, with the commands they serve. */
export function renderSandboxEnv(info: SandboxEnvInfo, pid: number = process.pid): string {
  const line = (name: string, value: string) => `export ${name}=${quote(value)}`;
  return [
    '# hybrid-relay-fleet sandbox: the environment of the real commands, pointed at this running sandbox.',
    `# Written by npm start (pid ${pid}); valid while it runs: the ports change at every start.`,
    '# Sandbox-only secrets (mode 0600). Use it in a shell:   set -a; . .sandbox-state/sandbox.env; set +a',
    '# then rehearse the runbook steps docs/deploy-azure.md marks "sandbox", e.g.',
    '#   npm run provision -- location plant-9 --service web=127.0.0.1:8080',
    '#   npm run provision -- deployments --dry-run',
    '#   npx ts-node --transpile-only cloud/src/main.ts --once     (the sandbox also runs its own controller)',
    '',
    '# Every client trusts the sandbox CA (Azure needs none of this).',
    line('NODE_EXTRA_CA_CERTS', info.caFile),
    '',
    '# Provisioning CLI (docs/provisioning.md): DPS service side, IoT Hub, id scope, device-side DPS endpoint.',
    line('DPS_SERVICE_CONNECTION_STRING', info.dps.serviceConnectionString),
    line('IOTHUB_CONNECTION_STRING', info.hub.ownerConnectionString),
    line('DPS_ID_SCOPE', info.dps.idScope),
    line('DPS_GLOBAL_ENDPOINT', `https://${info.dps.hostName}/`),
    '',
    '# Fleet controller (cloud/src/main.ts, the fleet-controller module): the same IoT Hub, the Relay ARM API.',
    line('IOTHUB_CA_FILE', info.caFile),
    line('AZURE_SUBSCRIPTION_ID', info.arm.subscriptionId),
    line('RELAY_RESOURCE_GROUP', info.arm.resourceGroup),
    line('RELAY_NAMESPACE', info.arm.namespaceName),
    line('ARM_ENDPOINT', info.arm.endpoint),
    line('ARM_CA_FILE', info.caFile),
    "# The controller identity's managed identity endpoint: DefaultAzureCredential finds it, as on App Service.",
    line('IDENTITY_ENDPOINT', info.identity.IDENTITY_ENDPOINT),
    line('IDENTITY_HEADER', info.identity.IDENTITY_HEADER),
    '',
    '# The gateway pool, configured once (deployment:gen passes these to the controller module).',
    line('GATEWAY_POOL_NAME', info.pool.name),
    line('GATEWAY_PORT_RANGE_START', String(info.pool.firstPort)),
    line('GATEWAY_PORT_RANGE_END', String(info.pool.lastPort)),
    line('GATEWAY_ALLOWED_SOURCES', info.pool.allow.join(',')),
    line('GATEWAY_PUBLIC_HOST', info.pool.publicHost),
    '',
    '# The Relay namespace (in Azure: az relay namespace authorization-rule keys list … --name RootManageSharedAccessKey).',
    line('RELAY_CONNECTION_STRING', info.relay.rootConnectionString),
    '',
  ].join('\n');
}

/** Writes `<stateDir>/sandbox.env` atomically with mode 0600 (it holds sandbox keys); resolves its path. */
export async function writeSandboxEnv(stateDir: string, info: SandboxEnvInfo): Promise<string> {
  const file = join(stateDir, SANDBOX_ENV_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, renderSandboxEnv(info), { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
  return file;
}

/** The environment file's contents for a running fleet's infrastructure and its gateway pool. */
export function sandboxEnvInfo(
  infra: Pick<FleetInfrastructure, 'caFile' | 'relay' | 'arm' | 'hub' | 'dps' | 'controllerIdentity'>,
  pool: SandboxEnvInfo['pool'],
): SandboxEnvInfo {
  return {
    caFile: infra.caFile,
    relay: {
      namespace: infra.relay.namespace,
      rootConnectionString: infra.relay.rootKeys.primaryConnectionString,
    },
    arm: {
      endpoint: infra.arm.endpoint,
      subscriptionId: infra.arm.subscriptionId,
      resourceGroup: infra.arm.resourceGroup,
      namespaceName: infra.arm.namespaceName,
    },
    identity: infra.controllerIdentity.environment(),
    hub: { hostName: infra.hub.hostName, ownerConnectionString: infra.hub.ownerConnectionString },
    dps: {
      hostName: infra.dps.hostName,
      idScope: infra.dps.idScope,
      serviceConnectionString: infra.dps.serviceConnectionString,
    },
    pool,
  };
}
