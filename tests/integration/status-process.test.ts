// The status view inside the fleet-controller process: main.ts with STATUS_PORT serves the page next to the
// reconcile loop (reading the sandbox IoT Hub with the controller's connection string and CA), and stops with it on
// SIGTERM. startStatusFromEnvironment's choices are checked in-process.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import pino from 'pino';
import { startStatusFromEnvironment } from '../../cloud/src/status/from-environment';
import type { FleetDocument } from '../../cloud/src/status/view-types';
import {
  controllerProcessEnv,
  startControllerWorld,
  type ControllerWorld,
} from '../support/controller-world';

describe('status view in the controller process', () => {
  let world: ControllerWorld;
  let env: Record<string, string>;
  const quiet = pino({ level: 'silent' });

  beforeAll(async () => {
    world = await startControllerWorld();
    await world.addGateway('gw-1');
    await world.addLocation('plant-9', { web: '10.0.0.1:80' });
    env = controllerProcessEnv(world);
  });

  afterAll(async () => {
    await world.close();
  });

  it('main.ts with STATUS_PORT serves the fleet beside the controller and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'cloud/src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', ...env, STATUS_PORT: '0', STATUS_POLL_INTERVAL: '200ms' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    try {
      const url = await until(
        () => /"msg":"status view listening"/.test(stdout) && /"url":"([^"]+)"/.exec(stdout)?.[1],
      );
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      // The controller configures the location; the page's data shows its allocated port.
      const doc = await until(async () => {
        const d = (await (await fetch(`${url}api/fleet`)).json()) as FleetDocument;
        const port = d.snapshot?.locations.find((l) => l.id === 'plant-9')?.services[0]?.publicPort;
        return d.source.ok && port !== undefined ? d : undefined;
      });
      expect(doc.snapshot!.locations[0]).toMatchObject({
        id: 'plant-9',
        hybridConnection: 'hrf-plant-9',
        state: 'ok',
      });
      expect((await fetch(url)).status).toBe(200);
      child.kill('SIGTERM');
      const [code] = await exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      await expect(fetch(`${url}api/fleet`)).rejects.toThrow();
      expect(stdout).not.toMatch(/SharedAccessSignature|sig=|SharedAccessKey=/);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);

  it('starts nothing without STATUS_PORT, for --once or --help, or when the controller options are incomplete', async () => {
    expect(await startStatusFromEnvironment([], env, quiet)).toBeUndefined();
    expect(await startStatusFromEnvironment(['--once'], { ...env, STATUS_PORT: '0' }, quiet)).toBeUndefined();
    expect(await startStatusFromEnvironment(['--help'], { ...env, STATUS_PORT: '0' }, quiet)).toBeUndefined();
    expect(await startStatusFromEnvironment([], { STATUS_PORT: '0' }, quiet)).toBeUndefined();
  });

  it('refuses a bad port or interval', async () => {
    await expect(
      startStatusFromEnvironment([], { ...env, STATUS_PORT: 'http' }, quiet),
    ).rejects.toMatchObject({
      code: 'STATUS_BAD_OPTIONS',
    });
    await expect(
      startStatusFromEnvironment([], { ...env, STATUS_PORT: '0', STATUS_POLL_INTERVAL: 'often' }, quiet),
    ).rejects.toMatchObject({ code: 'STATUS_BAD_OPTIONS' });
  });
});

/** Polls `probe` (bounded) until it returns something truthy. */
async function until<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
