// Both modules as processes, started the IoT Edge way: `main.ts` with no arguments is twin mode, configured
// through ModuleClient.fromEnvironment (here IotHubConnectionString + EdgeModuleCACertificateFile).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  FORWARDER,
  forwarderDesired,
  freePorts,
  GATEWAY,
  gatewayDesired,
  route,
  startTwinWorld,
  waitForTraffic,
  type TwinWorld,
} from '../support/twin-world';

/** Reported properties read as plain JSON (tests index into them freely). */
type Reported = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface ModuleProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly out: { stdout: string; stderr: string };
  readonly exited: Promise<[number | null, string | null]>;
}

function runModule(
  name: 'relay-gateway' | 'relay-forwarder',
  args: string[],
  env: Record<string, string>,
): ModuleProcess {
  const entry = join(__dirname, `../../modules/${name}/src/main.ts`);
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', entry, ...args], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', HEALTH_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  return { child, out, exited };
}

describe('main.ts without arguments runs in twin mode', () => {
  let world: TwinWorld;
  let dir: string;
  const processes: ModuleProcess[] = [];

  beforeAll(async () => {
    world = await startTwinWorld();
    dir = await mkdtemp(join(tmpdir(), 'hrf-twin-main-'));
  });
  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await world?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('both modules take their configuration from the twin, report, send stats, forward, and exit 0 on SIGTERM', async () => {
    const relayCa = join(dir, 'relay-ca.pem');
    await writeFile(relayCa, world.relay.caPem);
    const [port] = (await freePorts(1)) as [number];
    await world.patchDesired(FORWARDER, forwarderDesired(world, { echo: world.echo.port }));
    await world.patchDesired(GATEWAY, gatewayDesired(world, { web: route(port, 'echo') }));
    const settings = { REPORTED_DEBOUNCE_MS: '50', STATS_INTERVAL_MS: '300', LOCATION: 'plant-7' };
    const forwarder = runModule('relay-forwarder', ['--relay-ca', relayCa], {
      ...world.hub.moduleEnvironment(FORWARDER.deviceId, FORWARDER.moduleId),
      ...settings,
    });
    const gateway = runModule('relay-gateway', ['--relay-ca', relayCa, '--shutdown-drain-ms', '0'], {
      ...world.hub.moduleEnvironment(GATEWAY.deviceId, GATEWAY.moduleId),
      ...settings,
    });
    processes.push(forwarder, gateway);

    await waitForTraffic(port, 30_000);
    const gatewayReported = (await world.waitReported(
      GATEWAY,
      (r: Reported) => r.routes?.web?.status === 'listening',
      'the gateway route',
      20_000,
    )) as Reported;
    expect(gatewayReported.config).toMatchObject({ status: 'applied' });
    expect(gatewayReported.module).toMatchObject({ name: 'relay-gateway', version: '0.1.0' });
    await world.waitReported(
      FORWARDER,
      (r: Reported) => r.hybridConnections?.['site-a']?.status === 'listening',
      'the forwarder listening',
      20_000,
    );
    const stats = await world.hub.waitForMessage(
      (m) => m.deviceId === FORWARDER.deviceId && m.outputName === 'stats',
      10_000,
    );
    const body = JSON.parse(Buffer.from(stats.body as Buffer).toString('utf8')) as Reported;
    expect(body).toMatchObject({ module: 'relay-forwarder', location: 'plant-7' });
    expect(body.entries[0]).toMatchObject({
      route: 'site-a/echo',
      hybridConnection: 'site-a',
      location: 'plant-7',
    });
    await world.hub.waitForMessage(
      (m) => m.deviceId === GATEWAY.deviceId && m.outputName === 'stats',
      10_000,
    );

    gateway.child.kill('SIGTERM');
    forwarder.child.kill('SIGTERM');
    expect((await gateway.exited)[0]).toBe(0);
    expect((await forwarder.exited)[0]).toBe(0);
    const logs = gateway.out.stdout + gateway.out.stderr + forwarder.out.stdout + forwarder.out.stderr;
    expect(logs).toContain('desired configuration applied');
    for (const connectionString of [
      world.listenConnectionString,
      world.sendConnectionString,
      world.hub.moduleConnectionString(GATEWAY.deviceId, GATEWAY.moduleId),
      world.hub.moduleConnectionString(FORWARDER.deviceId, FORWARDER.moduleId),
    ]) {
      expect(logs).not.toContain(/SharedAccessKey=([^;]+)/.exec(connectionString)![1]);
    }
  });

  it('--config still selects file mode; a bad twin-mode setting and no IoT Hub identity at all both exit 78 (configuration)', async () => {
    const file = runModule('relay-gateway', ['--config', join(dir, 'missing.json')], {});
    const badEnv = runModule('relay-forwarder', [], { STATS_INTERVAL_MS: 'soon' });
    const noIdentity = runModule('relay-gateway', [], {});
    processes.push(file, badEnv, noIdentity);
    expect((await file.exited)[0]).toBe(66);
    expect((await badEnv.exited)[0]).toBe(78);
    expect(badEnv.out.stderr).toContain('STATS_INTERVAL_MS must be a whole number');
    expect((await noIdentity.exited)[0]).toBe(78);
    expect(noIdentity.out.stderr).toContain(
      'twin mode needs the IoT Edge environment or a module connection string',
    );
  });
});
