import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseRelayConnectionString } from '../../modules/common/src/hc/connection-string';
import { createSasToken, relayResourceUri } from '../../modules/common/src/hc/sas';
import type { RelayMainInfo } from '../../sandbox/src/relay-main';
import { closed, openWs } from '../support/sandbox-relay-raw-clients';

const repoRoot = resolve(__dirname, '../..');

describe('sandbox relay as a process (relay-main)', () => {
  let stateDir: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'sandbox-relay-main-'));
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await rm(stateDir, { recursive: true, force: true });
  });

  it('prints namespace, CA file and a manage connection string, serves, and stops cleanly on SIGINT', async () => {
    child = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        'sandbox/src/relay-main.ts',
        '--json',
        '--state-dir',
        stateDir,
        '--hc',
        'cli-hc',
      ],
      { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = once(child, 'exit');
    const lines = createInterface({ input: child.stdout! });
    const [firstLine] = (await Promise.race([
      once(lines, 'line'),
      exited.then(() => {
        throw new Error('relay-main exited before printing its info line');
      }),
    ])) as [string];
    const info = JSON.parse(firstLine) as RelayMainInfo;
    expect(info.namespace).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(info.caFile).toBe(join(stateDir, 'pki', 'ca.pem'));
    expect(info.hybridConnections).toEqual(['cli-hc']);

    const cs = parseRelayConnectionString(info.manageConnectionString);
    expect(cs).toMatchObject({ namespace: info.namespace, sharedAccessKeyName: 'RootManageSharedAccessKey' });
    const token = createSasToken({
      resource: relayResourceUri(info.namespace, 'cli-hc'),
      keyName: cs.sharedAccessKeyName!,
      key: cs.sharedAccessKey!,
      lifetimeMs: 60_000,
    });
    const ca = await readFile(info.caFile, 'utf8');
    const control = await openWs(`wss://${info.namespace}/$hc/cli-hc?sb-hc-action=listen`, {
      ca,
      headers: { ServiceBusAuthorization: token },
    });
    const controlClosed = closed(control);

    child.kill('SIGINT');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect((await controlClosed).code).toBe(1006);
    lines.close();
  });
});
