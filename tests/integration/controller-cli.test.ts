// The fleet-controller process: main.ts --once as a child process against the sandbox (CA files, ARM tokens from the
// sandbox's managed identity endpoint through the unmodified DefaultAzureCredential), and the looping CLI
// in-process until SIGTERM.
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import pino from 'pino';
import { runControllerCli } from '../../cloud/src/cli';
import {
  controllerProcessEnv,
  startControllerWorld,
  type ControllerWorld,
} from '../support/controller-world';

describe('fleet-controller process', () => {
  let world: ControllerWorld;
  let env: Record<string, string>;

  beforeAll(async () => {
    world = await startControllerWorld();
    await world.addGateway('gw-1');
    env = controllerProcessEnv(world);
  });

  afterAll(async () => {
    await world.close();
  });

  it('main.ts --once configures the fleet, logs one line per action with the location, and exits 0', async () => {
    await world.addLocation('once-site', { web: '10.0.0.1:80' });
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'cloud/src/main.ts', '--once'],
      {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(await world.hybridConnectionNames()).toContain('hrf-once-site');
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; action?: string; location?: string });
    const actions = lines.filter((l) => l.msg === 'reconcile action');
    expect(actions.map((l) => l.action)).toEqual(
      expect.arrayContaining([
        'createHybridConnection',
        'writeForwarderTwin',
        'writeGatewayTwin',
        'writeLocationStatus',
      ]),
    );
    expect(actions.every((l) => typeof l.location === 'string' && l.location.includes('once-site'))).toBe(
      true,
    );
    // No secret reaches the log.
    expect(stdout).not.toMatch(/SharedAccessSignature|sig=|SharedAccessKey=/);
  }, 60_000);

  it('loops until SIGTERM, reconciling a location added while it runs, and exits 0', async () => {
    const signals = new EventEmitter();
    const out: string[] = [];
    const io = {
      env: { ...env, POLL_INTERVAL: '50ms' },
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => out.push(t) },
      signals,
      logger: pino({ level: 'silent' }),
    };
    // In-process, DefaultAzureCredential reads the process's own environment (not io.env).
    const identity = world.controllerIdentity.environment();
    const saved = {
      IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT,
      IDENTITY_HEADER: process.env.IDENTITY_HEADER,
    };
    Object.assign(process.env, identity);
    const running = runControllerCli([], io).finally(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    await world.addLocation('loop-site', { web: '10.0.0.2:80' });
    const deadline = Date.now() + 10_000;
    while (!(await world.hybridConnectionNames()).includes('hrf-loop-site')) {
      if (Date.now() > deadline) throw new Error('loop-site was not reconciled');
      await new Promise((r) => setTimeout(r, 50));
    }
    signals.emit('SIGTERM');
    expect(await running).toBe(0);
    expect(world.controllerIdentity.issued).toBeGreaterThan(0);
  });

  it('keeps a SIGTERM that arrives during start-up: stops and exits 0 instead of running on', async () => {
    const signals = new EventEmitter();
    const identity = world.controllerIdentity.environment();
    const saved = {
      IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT,
      IDENTITY_HEADER: process.env.IDENTITY_HEADER,
    };
    Object.assign(process.env, identity);
    const running = runControllerCli([], {
      env: { ...env, POLL_INTERVAL: '50ms' },
      stdout: { write: () => true },
      stderr: { write: () => true },
      signals,
      logger: pino({ level: 'silent' }),
    }).finally(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    // Raised while the CLI still reads its files and loads its credential (the module raises it on a desired
    // change, IoT Edge with SIGTERM): before the fix nobody listened yet, and the controller ran until killed.
    signals.emit('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const stillRunning = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('still running 30 s after the SIGTERM'), 30_000);
    });
    try {
      expect(await Promise.race([running, stillRunning])).toBe(0);
    } finally {
      clearTimeout(timer);
      signals.emit('SIGTERM'); // lets a controller that missed the first one stop, so the file's world can close
      await running;
    }
  }, 60_000);

  it('refuses bad settings with exit code 64 and says why', async () => {
    const out: string[] = [];
    const io = {
      env: { ...env, CONTROLLER_POOLS: '[{"name":"default","ports":"20000-20099","allow":["10.0.0.1/8"]}]' },
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => out.push(t) },
      signals: new EventEmitter(),
      logger: pino({ level: 'silent' }),
    };
    expect(await runControllerCli(['--once'], io)).toBe(64);
    expect(out.join('')).toContain('host bits set');
  });
});
