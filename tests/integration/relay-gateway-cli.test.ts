// The relay-gateway command line: exit codes and messages, signals, and the real entry point as a process.
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, runGatewayCli } from '../../modules/relay-gateway/src/cli';
import * as net from 'node:net';
import { eventually, freePort, testLogger } from '../support/relay-gateway-harness';

const CS = 'Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=send;SharedAccessKey=k;EntityPath=hc';

function validDocument(port = 0): object {
  return {
    schemaVersion: 1,
    hybridConnections: { hc: { connectionString: CS } },
    routes: {
      web: { port, bindAddress: '127.0.0.1', hybridConnection: 'hc', service: 'web', allow: ['0.0.0.0/0'] },
    },
  };
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function eventuallyAsync(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('relay-gateway CLI', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hrf-gateway-cli-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function io() {
    const out = { stdout: '', stderr: '' };
    return {
      out,
      signals: new EventEmitter(),
      stdout: { write: (t: string) => (out.stdout += t) },
      stderr: { write: (t: string) => (out.stderr += t) },
      logger: testLogger(),
    };
  }

  async function file(name: string, content: unknown): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  }

  it('prints usage for --help and refuses a bad command line', async () => {
    const help = io();
    expect(await runGatewayCli(['--help'], help)).toBe(ExitCode.OK);
    expect(help.out.stdout).toContain('Usage: relay-gateway --config');
    const bad = io();
    expect(await runGatewayCli(['--config'], bad)).toBe(ExitCode.USAGE);
    const missing = io();
    expect(await runGatewayCli([], missing)).toBe(ExitCode.USAGE);
    expect(missing.out.stderr).toContain('--config is required');
  });

  it('exits 78 and prints every problem with its path when the first configuration is invalid', async () => {
    const path = await file('bad.json', {
      schemaVersion: 1,
      hybridConnections: {},
      routes: { web: { port: 8080, hybridConnection: 'nope', service: 'web', allow: ['10.0.0.1/8'] } },
    });
    const cli = io();
    expect(await runGatewayCli(['--config', path], cli)).toBe(ExitCode.CONFIG);
    expect(cli.out.stderr).toBe(
      `relay-gateway: ${path}: invalid configuration (2 problems)\n` +
        '  /routes/web/allow/0: "10.0.0.1/8" has host bits set beyond the /8 prefix (did you mean 10.0.0.0/8?)\n' +
        '  /routes/web/hybridConnection: unknown hybrid connection "nope" (none is configured)\n',
    );
  });

  it('exits 66 when the file is missing or not JSON, naming the position', async () => {
    const missing = io();
    expect(await runGatewayCli(['--config', join(dir, 'none.json')], missing)).toBe(ExitCode.NO_INPUT);
    expect(missing.out.stderr).toContain('no such file');
    const path = await file('broken.json', '{\n  "schemaVersion": 1,\n}');
    const broken = io();
    expect(await runGatewayCli(['--config', path], broken)).toBe(ExitCode.NO_INPUT);
    expect(broken.out.stderr).toContain('invalid JSON at line 3, column 1: trailing comma');
  });

  it('runs until SIGTERM, then closes its ports and exits 0', async () => {
    const port = await freePort();
    const path = await file('ok.json', validDocument(port));
    const cli = io();
    const run = runGatewayCli(['--config', path, '--shutdown-drain-ms', '0'], cli);
    await eventuallyAsync(() => isListening(port), 'the route to listen');
    cli.signals.emit('SIGTERM');
    expect(await run).toBe(ExitCode.OK);
    expect(await isListening(port)).toBe(false);
  });

  it('as a process: exits 78 on an invalid first configuration, 0 after SIGTERM', async () => {
    const entry = join(__dirname, '../../modules/relay-gateway/src/main.ts');
    const runProcess = (configPath: string) => {
      const child = spawn(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', entry, '--config', configPath],
        {
          env: { ...process.env, LOG_LEVEL: 'info' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const out = { stdout: '', stderr: '' };
      child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
      const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
      return { child, out, exited };
    };

    const bad = runProcess(await file('bad.json', { schemaVersion: 2 }));
    expect((await bad.exited)[0]).toBe(78);
    expect(bad.out.stderr).toContain('/schemaVersion: must be 1');

    const good = runProcess(await file('good.json', validDocument()));
    await eventually(() => good.out.stdout.includes('configuration applied'), 'the gateway to start', 20_000);
    good.child.kill('SIGTERM');
    expect((await good.exited)[0]).toBe(0);
    expect(good.out.stdout).toContain('"msg":"stopped"');
  });
});
