// relay-forwarder run standalone from a configuration file, against the sandbox relay over TLS: in-process
// through runForwarderCli (file changes re-applied, bad files refused), and as a real process (signals, logs).
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { runForwarderCli } from '../../modules/relay-forwarder/src/cli';
import {
  handWrittenPreamble,
  openRawSender,
  startForwarderWorld,
  type ForwarderWorld,
} from '../support/relay-forwarder-harness';
import { waitFor } from '../support/tunnel-harness';

const ROOT = path.resolve(__dirname, '../..');

describe('relay-forwarder --config (sandbox relay, TLS)', () => {
  let world: ForwarderWorld;
  let dir: string;
  let caFile: string;

  beforeAll(async () => {
    world = await startForwarderWorld(['site-a', 'site-b']);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forwarder-cli-'));
    caFile = path.join(dir, 'relay-ca.pem');
    fs.writeFileSync(caFile, world.relay.caPem);
  });

  afterAll(async () => {
    await world.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Writes the file the way deployment tools do: a temporary file renamed over the old one. */
  function writeConfig(file: string, document: unknown): void {
    const temp = `${file}.tmp`;
    fs.writeFileSync(temp, typeof document === 'string' ? document : JSON.stringify(document, null, 2));
    fs.renameSync(temp, file);
  }

  /** Sends `text` through `portName` with a hand-written preamble; resolves with the echo or the close code. */
  async function roundTrip(site: string, portName: string, text: string): Promise<string | number> {
    const sender = await openRawSender(world, site);
    sender.ws.send(Buffer.concat([handWrittenPreamble(portName), Buffer.from(text)]));
    const outcome = await Promise.race([
      sender.waitForBytes(3 + text.length).then(
        (b) => b.toString('latin1', 3),
        () => -1,
      ),
      sender.closed.then((c) => c.code),
    ]);
    sender.ws.close(1000);
    await sender.closed;
    return outcome;
  }

  async function eventually(site: string, portName: string, expected: string | number): Promise<void> {
    const deadline = Date.now() + 10_000;
    let last: string | number | undefined;
    while (Date.now() < deadline) {
      last = await roundTrip(site, portName, 'ping').catch(() => undefined);
      if (last === expected) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`expected ${expected} through ${portName}, last saw ${last}`);
  }

  it('applies the file, re-applies it on change, refuses bad rewrites and stops on SIGTERM', async () => {
    const file = path.join(dir, 'forwarder.json');
    const echo = { target: `127.0.0.1:${world.echo.port}` };
    const cs = world.hc('site-a').listenConnectionString;
    writeConfig(file, {
      schemaVersion: 1,
      hybridConnections: { siteA: { connectionString: cs, services: { echo } } },
    });
    const lines: string[] = [];
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(chunk.toString());
          cb();
        },
      }),
    );
    const signals = new EventEmitter();
    const stderr: string[] = [];
    const run = runForwarderCli(['--config', file, '--relay-ca', caFile], {
      stdout: { write: () => true },
      stderr: { write: (t: string) => stderr.push(t) },
      signals,
      log,
    });
    // Whatever fails below, the forwarder must stop, or Jest would not exit.
    const stopped = run.finally(() => undefined);
    try {
      await checks();
    } finally {
      signals.emit('SIGTERM');
    }
    expect(await stopped).toBe(0);
    expect(stderr).toEqual([]);
    await waitFor(() => (world.relay.stats().listenersByPath['site-a'] ?? 0) === 0, 'channels closed');
    const key = world.hc('site-a').listenKey.key;
    expect(lines.join('')).not.toContain(key);

    async function checks(): Promise<void> {
      await waitFor(
        () => world.relay.stats().listenersByPath['site-a'] === 2,
        'two control channels',
        10_000,
      );
      expect(await roundTrip('site-a', 'echo', 'hello')).toBe('hello');
      expect(await roundTrip('site-a', 'echo2', 'x')).toBe(4404);

      writeConfig(file, {
        schemaVersion: 1,
        hybridConnections: { siteA: { connectionString: cs, services: { echo, echo2: echo } } },
      });
      await eventually('site-a', 'echo2', 'ping');

      writeConfig(file, '{ "schemaVersion": 1, ');
      await waitFor(() => lines.some((l) => l.includes('configuration file unusable')), 'bad JSON logged');
      expect(lines.find((l) => l.includes('configuration file unusable'))).toContain('invalid JSON');
      writeConfig(file, {
        schemaVersion: 1,
        hybridConnections: { siteA: { connectionString: cs, services: { echo: { target: 'nope' } } } },
      });
      await waitFor(
        () => lines.some((l) => l.includes('configuration refused; keeping the running one')),
        'refusal logged',
      );
      expect(await roundTrip('site-a', 'echo2', 'still')).toBe('still');
    }
  });

  it('runs as a process: logs JSON without secrets, serves, and exits 0 on SIGTERM', async () => {
    const file = path.join(dir, 'process.json');
    const token = world.listenToken('site-b', 3_600_000);
    const cs = world.hc('site-a').listenConnectionString;
    const echo = { target: `127.0.0.1:${world.echo.port}` };
    writeConfig(file, {
      schemaVersion: 1,
      logLevel: 'debug',
      hybridConnections: {
        siteA: { connectionString: cs, listeners: 1, services: { echo } },
        siteB: { namespace: world.relay.namespace, sasToken: token, listeners: 1, services: { echo } },
      },
    });
    const child = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        'modules/relay-forwarder/src/main.ts',
        '--config',
        file,
        '--relay-ca',
        caFile,
      ],
      { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    try {
      await waitFor(
        () => (stdout.match(/"msg":"listener online"/g) ?? []).length >= 2,
        'both listeners online (log lines)',
        20_000,
      );
      expect(await roundTrip('site-a', 'echo', 'via a')).toBe('via a');
      expect(await roundTrip('site-b', 'echo', 'via b')).toBe('via b');
    } finally {
      child.kill('SIGTERM');
    }
    const [code, signal] = await exited;
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const lines = stdout.trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(stdout).toContain('"msg":"forwarder stopped"');
    expect(stdout).toContain('"msg":"tunnel open"');
    expect(stdout).not.toContain(world.hc('site-a').listenKey.key);
    expect(stdout).not.toContain(token.slice(token.indexOf('sig=') + 4, token.indexOf('&se=')));
  });
});
