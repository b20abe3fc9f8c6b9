// The fleet-controller IoT Edge module's entry (modules/fleet-controller/src/main.ts) as a child process against
// the sandbox: configured by environment only, its pool from GATEWAY_PORT_RANGE_* (the deployment's one source),
// /healthz and /readyz on HEALTH_PORT, exit 0 on SIGTERM; a --pools range that differs is refused with both values;
// with a module identity, its twin's desired settings apply (a bad one is refused and the running ones stay).
import { spawn, type ChildProcess } from 'node:child_process';
import { createIotHubServiceClients } from '../../cloud/src/azure/iothub-service-clients';
import { once } from 'node:events';
import { get } from 'node:http';
import { createServer } from 'node:net';
import {
  controllerProcessEnv,
  startControllerWorld,
  type ControllerWorld,
} from '../support/controller-world';

const ENTRY = 'modules/fleet-controller/src/main.ts';

function start(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: (what: string) => Promise<number>;
} {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ENTRY], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exit = once(child, 'exit') as Promise<[number]>;
  exit.catch(() => undefined); // a spawn error surfaces where the exit is awaited, not as an unhandled rejection
  // A process that does not exit fails with what it last logged (one run beside stress-ng hung here with no trace;
  // the tests' own timeouts leave room for this one to fire first).
  const exited = async (what: string): Promise<number> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`no exit after ${what} within 60 s; its last output:\n${output.slice(-4000)}`)),
        60_000,
      );
    });
    try {
      return (await Promise.race([exit, late]))[0];
    } finally {
      clearTimeout(timer);
    }
  };
  return { child, output: () => output, exited };
}

/** A port the kernel just handed out and released (the module's health server binds it next). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

function status(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    get({ host: '127.0.0.1', port, path, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', () => resolve(0));
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('fleet-controller module entry', () => {
  let world: ControllerWorld;
  let env: Record<string, string>;

  beforeAll(async () => {
    world = await startControllerWorld();
    await world.addGateway('gw-1');
    const { CONTROLLER_POOLS: _pools, ...rest } = controllerProcessEnv(world);
    env = {
      ...rest,
      GATEWAY_PORT_RANGE_START: '20000',
      GATEWAY_PORT_RANGE_END: '20099',
      GATEWAY_ALLOWED_SOURCES: '0.0.0.0/0',
      POLL_INTERVAL: '100ms',
    };
  });

  afterAll(async () => {
    await world.close();
  });

  it('runs on the GATEWAY_PORT_RANGE_* pool, answers its probes, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const { child, output, exited } = start({
      ...env,
      HEALTH_PORT: String(port),
      HEALTH_BIND_ADDRESS: '127.0.0.1',
    });
    try {
      await world.addLocation('module-site', { web: '10.0.0.3:80' });
      await until('the hybrid connection', async () =>
        (await world.hybridConnectionNames()).includes('hrf-module-site'),
      );
      await until('a gateway route in the range', async () => {
        const routes = (await world.desired('gw-1', 'relay-gateway')).routes as Record<
          string,
          { port?: number }
        >;
        return Object.values(routes ?? {}).some(
          (r) => typeof r.port === 'number' && r.port >= 20000 && r.port <= 20099,
        );
      });
      expect(await status(port, '/healthz')).toBe(200);
      expect(await status(port, '/readyz')).toBe(200);
      child.kill('SIGTERM');
      const code = await exited('SIGTERM');
      expect({ code, output: output().includes('"level":50') }).toEqual({ code: 0, output: false });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 150_000);

  it('refuses a CONTROLLER_POOLS range that differs from GATEWAY_PORT_RANGE_*, with both values, exit 64', async () => {
    const port = await freePort();
    const { output, exited } = start({
      ...env,
      HEALTH_PORT: String(port),
      CONTROLLER_POOLS: '[{"name":"default","ports":"20000-20999","allow":["0.0.0.0/0"]}]',
    });
    const code = await exited('the refused range');
    expect(code).toBe(64);
    expect(output()).toMatch(/says ports 20000-20999 but GATEWAY_PORT_RANGE_START\/END say 20000-20099/);
  }, 90_000);

  it('applies its module twin: desired settings reported as applied, a bad one refused while it runs, a good change restarts it', async () => {
    const clients = createIotHubServiceClients(world.hub.ownerConnectionString, { ca: world.hub.caPem });
    const reported = async () => {
      const { responseBody } = await clients.registry.getModuleTwin('gw-1', 'fleet-controller');
      return (responseBody as unknown as { properties: { reported: { settings?: Record<string, unknown> } } })
        .properties.reported.settings;
    };
    const setDesired = async (desired: Record<string, unknown>) => {
      await clients.registry.updateModuleTwin('gw-1', 'fleet-controller', { properties: { desired } }, '*');
    };
    await clients.registry.addModule({ deviceId: 'gw-1', moduleId: 'fleet-controller' });
    await setDesired({ tokenLifetime: '2h', pollInterval: '200ms' });
    const port = await freePort();
    const { child, output, exited } = start({
      ...env,
      ...world.hub.moduleEnvironment('gw-1', 'fleet-controller'),
      HEALTH_PORT: String(port),
    });
    try {
      await until('the applied settings', async () => (await reported())?.applied !== undefined);
      // problems: null in the patch removes the property (twin patches are merge patches).
      expect(await reported()).toEqual({ applied: { TOKEN_LIFETIME: '2h', POLL_INTERVAL: '200ms' } });
      await setDesired({ tokenLifetime: 'soon' });
      await until('the refusal', async () => String((await reported())?.problems ?? '').includes('soon'));
      expect(child.exitCode).toBeNull();
      expect(await status(port, '/healthz')).toBe(200);
      await setDesired({ tokenLifetime: '3h' });
      const code = await exited('the good change');
      expect(code).toBe(0);
      expect(output()).toContain('desired settings changed; restarting to apply them');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      clients.close();
    }
  }, 150_000);
});
