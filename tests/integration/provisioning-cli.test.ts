// `npm run provision` as a process: the sandbox CA reaches the unmodified SDKs only through NODE_EXTRA_CA_CERTS.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startProvisioningWorld, type ProvisioningWorld } from '../support/provisioning-world';

const MAIN = join(__dirname, '../../provisioning/src/cli/main.ts');

async function runProcess(argv: string[], env: Record<string, string>, cwd: string) {
  const child = spawn(
    process.execPath,
    ['-r', require.resolve('ts-node/register/transpile-only'), MAIN, ...argv],
    {
      // ts-node looks for tsconfig.json from the working folder, which here is a temp folder.
      env: { PATH: process.env.PATH ?? '', TS_NODE_PROJECT: join(__dirname, '../../tsconfig.json'), ...env },
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'close')) as [number];
  return { code, stdout, stderr };
}

describe('provision CLI process', () => {
  let world: ProvisioningWorld;
  beforeAll(async () => {
    world = await startProvisioningWorld();
  });
  afterAll(() => world?.close());

  it('onboards a gateway with NODE_EXTRA_CA_CERTS and exits 0; the key is only in config.toml', async () => {
    const run = await runProcess(
      ['gateway', 'gw-7', '--pool', 'default'],
      { ...world.env, NODE_EXTRA_CA_CERTS: world.caFile },
      world.dir,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('provision gateway gw-7: gateway of pool default');
    expect(run.stdout).not.toContain(world.dps.deviceKey('relay-fleet', 'gw-7'));
    expect((await stat(join(world.dir, 'config', 'devices', 'gw-7', 'config.toml'))).mode & 0o777).toBe(
      0o600,
    );
    const twin = (await world.registry.getTwin('gw-7')).responseBody as unknown as { tags: object };
    expect(twin.tags).toEqual({ relay: { role: 'gateway', pool: 'default' } });
  });
});

describe('provision checks what is cheap before anything is written', () => {
  let world: ProvisioningWorld;
  beforeAll(async () => {
    world = await startProvisioningWorld();
  });
  afterAll(() => world?.close());

  const registered = (id: string): boolean => world.dps.registrations().some((r) => r.registrationId === id);

  it('a wrong IoT Hub key: exit 77 with one line naming the variable, and no DPS registration happened', async () => {
    const wrongKey = world.env.IOTHUB_CONNECTION_STRING!.replace(
      /SharedAccessKey=[^;]+/,
      `SharedAccessKey=${Buffer.from('not the hub key at all, 32 bytes').toString('base64')}`,
    );
    const run = await world.cli(['location', 'loc-key', '--service', 'web=10.0.0.5:80'], {
      IOTHUB_CONNECTION_STRING: wrongKey,
    });
    expect(run.code).toBe(77);
    expect(run.stderr).toMatch(/^provision: IoT Hub refused the credential .*IOTHUB_CONNECTION_STRING/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(registered('loc-key')).toBe(false);
  });

  it('refuses a pool the controller does not have (CONTROLLER_POOLS), exit 64, before DPS', async () => {
    const pools = JSON.stringify([{ name: 'default', ports: '20000-20099', allow: ['10.0.0.0/8'] }]);
    const run = await world.cli(
      ['location', 'loc-pool', '--service', 'web=10.0.0.5:80', '--pool', 'nosuch'],
      {
        CONTROLLER_POOLS: pools,
      },
    );
    expect(run.code).toBe(64);
    expect(run.stderr).toContain(
      `pool "nosuch" is not one of the controller's pools (--pools / CONTROLLER_POOLS): default`,
    );
    expect(registered('loc-pool')).toBe(false);
  });

  it('without the controller pools, refuses a pool no gateway device serves', async () => {
    expect((await world.cli(['gateway', 'gw-eu', '--pool', 'eu'])).code).toBe(0);
    const run = await world.cli(['location', 'loc-us', '--service', 'web=10.0.0.5:80', '--pool', 'us']);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('pool "us" is not one of the pools of the gateway devices in IoT Hub: eu');
    expect(registered('loc-us')).toBe(false);
    const ok = await world.cli(['location', 'loc-eu', '--service', 'web=10.0.0.5:80', '--pool', 'eu']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ {2}✓ registering loc-eu through DPS \(\d+\.\d s\)/m);
  });
});
