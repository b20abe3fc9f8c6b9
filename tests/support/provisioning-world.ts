// A sandbox IoT Hub and DPS sharing one CA, a temp folder, and the provisioning CLI run in-process against them
// (the way `npm run provision` runs, with the CA passed in since NODE_EXTRA_CA_CERTS is read only at start-up).
import type { Registry } from 'azure-iothub';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProvisionCli } from '../../provisioning/src/cli/run';
import { startSandboxDps, type SandboxDps } from '../../sandbox/src/dps';
import { createIotHubServiceClients, startSandboxIotHub, type SandboxIotHub } from '../../sandbox/src/iothub';
import { generateSandboxPki, type SandboxPki } from '../../sandbox/src/tls/pki';
import { TEMPLATE_VARIABLES } from './provisioning-fixtures';

/** What a CLI run printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The world the provisioning tests run in. */
export interface ProvisioningWorld {
  readonly hub: SandboxIotHub;
  readonly dps: SandboxDps;
  readonly registry: Registry;
  /** The CA and server certificate both services use (for a second service the CLI trusts too). */
  readonly pki: SandboxPki;
  readonly dir: string;
  /** The CA as a file (what NODE_EXTRA_CA_CERTS or trust_bundle_cert would name). */
  readonly caFile: string;
  /** The CLI's environment: connection strings, ID scope, global endpoint, template variables. */
  readonly env: Readonly<Record<string, string>>;
  /** Runs `provision …` in-process with `env` (plus `extraEnv`), in `dir`. */
  cli(argv: readonly string[], extraEnv?: Readonly<Record<string, string>>): Promise<CliRun>;
  close(): Promise<void>;
}

/** Starts hub and DPS (retry-after 0, so registration takes milliseconds) with one CA. */
export async function startProvisioningWorld(): Promise<ProvisioningWorld> {
  const pki = await generateSandboxPki();
  const dir = await mkdtemp(join(tmpdir(), 'hrf-provisioning-'));
  const hub = await startSandboxIotHub({ pki });
  const dps = await startSandboxDps({ iotHub: hub, pki, retryAfterSeconds: 0 });
  const clients = createIotHubServiceClients(hub.ownerConnectionString, { ca: hub.caPem });
  const caFile = join(dir, 'sandbox-ca.pem');
  await writeFile(caFile, hub.caPem);
  const env = {
    ...TEMPLATE_VARIABLES,
    DPS_SERVICE_CONNECTION_STRING: dps.serviceConnectionString,
    IOTHUB_CONNECTION_STRING: hub.ownerConnectionString,
    DPS_ID_SCOPE: dps.idScope,
    DPS_GLOBAL_ENDPOINT: `https://${dps.hostName}/`,
  };
  return {
    hub,
    dps,
    registry: clients.registry,
    pki,
    dir,
    caFile,
    env,
    async cli(argv, extraEnv = {}) {
      let stdout = '';
      let stderr = '';
      const code = await runProvisionCli(argv, {
        env: { ...env, ...extraEnv },
        stdout: { write: (t: string) => (stdout += t) },
        stderr: { write: (t: string) => (stderr += t) },
        cwd: dir,
        ca: hub.caPem,
      });
      return { code, stdout, stderr };
    },
    async close() {
      clients.close();
      await dps.stop();
      await hub.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
