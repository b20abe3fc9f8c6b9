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
