// `.sandbox-state/sandbox.env` (what `npm start` writes): sourced by a shell, it points the unmodified provisioning
// CLI and the fleet controller at the running sandbox — the runbook's onboarding and controller steps, rehearsed.
import { RelayAPI } from '@azure/arm-relay';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SANDBOX_ENV_FILE, sandboxEnvInfo, writeSandboxEnv } from '../../sandbox/src/fleet/env-file';
import { startFleetInfrastructure, type FleetInfrastructure } from '../../sandbox/src/fleet/infrastructure';
import { FleetLogs } from '../../sandbox/src/fleet/logs';

const ROOT = resolve(__dirname, '../..');

/** Runs `command` in `sh` after `set -a; . envFile; set +a`, as the file's header tells a person to. */
async function inShell(envFile: string, command: string, cwd: string) {
  const child = spawn('sh', ['-c', `set -a; . "$1"; set +a; ${command}`, 'sh', envFile], {
    // Only PATH from outside: everything else must come from the file.
    env: { PATH: process.env.PATH ?? '', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'close')) as [number];
  return { code, stdout, stderr };
}

const tsNode = (entry: string, args: string) =>
  `exec "${process.execPath}" -r "${require.resolve('ts-node/register/transpile-only')}" "${join(ROOT, entry)}" ${args}`;

describe('sandbox.env', () => {
  let dir: string;
  let logs: FleetLogs;
  let infra: FleetInfrastructure;
  let envFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sandbox-env-'));
    logs = new FleetLogs(join(dir, 'logs'));
    infra = await startFleetInfrastructure({ stateDir: dir, logs });
    envFile = await writeSandboxEnv(
      dir,
      sandboxEnvInfo(infra, {
        name: 'default',
        firstPort: 41000,
        lastPort: 41009,
        allow: ['127.0.0.0/8', '::1/128'],
        publicHost: '127.0.0.1',
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await infra?.stop();
    await logs?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is written to the state directory, mode 0600, with no value left empty', async () => {
    expect(envFile).toBe(join(dir, SANDBOX_ENV_FILE));
    expect((await stat(envFile)).mode & 0o777).toBe(0o600);
    const exports = (await readFile(envFile, 'utf8')).split('\n').filter((l) => l.startsWith('export '));
    expect(exports.map((l) => /^export ([A-Z_]+)=/.exec(l)?.[1])).toEqual(
      expect.arrayContaining([
        'NODE_EXTRA_CA_CERTS',
        'DPS_SERVICE_CONNECTION_STRING',
        'IOTHUB_CONNECTION_STRING',
        'DPS_ID_SCOPE',
        'DPS_GLOBAL_ENDPOINT',
        'AZURE_SUBSCRIPTION_ID',
        'RELAY_NAMESPACE',
        'ARM_ENDPOINT',
        'IDENTITY_ENDPOINT',
        'IDENTITY_HEADER',
        'GATEWAY_PORT_RANGE_START',
        'RELAY_CONNECTION_STRING',
      ]),
    );
    expect(exports.filter((l) => l.endsWith("=''"))).toEqual([]);
    // No sandbox-only credential: the controller's DefaultAzureCredential uses the managed identity endpoint.
    expect(exports.some((l) => l.includes('SANDBOX_'))).toBe(false);
  });

  it('lets the provisioning CLI onboard a gateway and a location, and the controller converge them once', async () => {
    const gateway = await inShell(
      envFile,
      tsNode('provisioning/src/cli/main.ts', 'gateway gw-env --pool default'),
      dir,
    );
    expect({ code: gateway.code, stderr: gateway.stderr }).toEqual({ code: 0, stderr: '' });
    const location = await inShell(
      envFile,
      tsNode('provisioning/src/cli/main.ts', 'location plant-env --service web=127.0.0.1:8080'),
      dir,
    );
    expect({ code: location.code, stderr: location.stderr }).toEqual({ code: 0, stderr: '' });
    expect(location.stdout).toContain('provision location plant-env');
    const twin = (await infra.registry.getTwin('plant-env')).responseBody as unknown as { tags: object };
    expect(twin.tags).toMatchObject({
      relay: { role: 'location', services: { web: { target: '127.0.0.1:8080' } } },
    });

    // The controller with nothing but the file: its pool from GATEWAY_PORT_RANGE_*, the sandbox ARM and hub, and
    // ARM tokens from the identity endpoint through the unmodified DefaultAzureCredential.
    const controller = await inShell(envFile, tsNode('cloud/src/main.ts', '--once'), dir);
    expect({ code: controller.code, stderr: controller.stderr }).toEqual({ code: 0, stderr: '' });
    const relayApi = new RelayAPI(
      infra.arm.credential(),
      infra.arm.subscriptionId,
      infra.arm.clientOptions(),
    );
    const names: string[] = [];
    for await (const hc of relayApi.hybridConnections.listByNamespace(
      infra.arm.resourceGroup,
      infra.arm.namespaceName,
    ))
      names.push(hc.name ?? '');
    expect(names).toContain('hrf-plant-env');
    expect(infra.controllerIdentity.issued).toBeGreaterThan(0);
  }, 120_000);
});
