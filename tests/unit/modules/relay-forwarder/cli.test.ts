import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ExitCode, parseCliArgs, runForwarderCli, USAGE } from '../../../../modules/relay-forwarder/src/cli';

function io() {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      signals: new EventEmitter(),
      log: pino({ level: 'silent' }),
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

describe('parseCliArgs', () => {
  it('reads --config, --relay-ca and --log-level', () => {
    expect(parseCliArgs(['--config', 'f.json', '--relay-ca', 'ca.pem', '--log-level', 'debug'])).toEqual({
      ok: true,
      args: { configPath: 'f.json', relayCaPath: 'ca.pem', logLevel: 'debug' },
    });
    expect(parseCliArgs(['-c', 'f.json'])).toEqual({ ok: true, args: { configPath: 'f.json' } });
  });

  it.each([
    [[], '--config is required'],
    [['--config'], '--config needs a value'],
    [['--config', 'f', '--bogus'], 'unknown option --bogus'],
    [['--config', 'f', 'extra'], 'unexpected argument extra'],
    [['--config', 'f', '--log-level', 'loud'], '--log-level must be one of'],
  ])('refuses %j', (argv, message) => {
    const parsed = parseCliArgs(argv);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(message);
  });

  it('asks for help', () => {
    expect(parseCliArgs(['--help'])).toEqual({ ok: false, help: true });
  });
});

describe('runForwarderCli (before anything starts)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forwarder-cli-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints usage for --help and exits 0', async () => {
    const t = io();
    expect(await runForwarderCli(['--help'], t.io)).toBe(ExitCode.OK);
    expect(t.stdout()).toBe(USAGE);
  });

  it('exits 64 with the usage on a bad command line', async () => {
    const t = io();
    expect(await runForwarderCli([], t.io)).toBe(ExitCode.USAGE);
    expect(t.stderr()).toContain('--config is required');
    expect(t.stderr()).toContain('Usage: relay-forwarder');
  });

  it('exits 66 when the configuration file is missing or not JSON', async () => {
    const t = io();
    expect(await runForwarderCli(['--config', path.join(dir, 'none.json')], t.io)).toBe(ExitCode.NO_INPUT);
    expect(t.stderr()).toContain('no such file');
    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, '{"schemaVersion": 1,,}');
    const u = io();
    expect(await runForwarderCli(['--config', broken], u.io)).toBe(ExitCode.NO_INPUT);
    expect(u.stderr()).toContain('invalid JSON at line 1');
  });

  it('exits 78 and lists every problem with its path when the first configuration is invalid, never printing the key', async () => {
    const file = path.join(dir, 'bad.json');
    const key = 'c3VwZXItc2VjcmV0LWtleQ==';
    fs.writeFileSync(
      file,
      JSON.stringify({
        schemaVersion: 1,
        hybridConnections: {
          a: {
            connectionString: `Endpoint=sb://ns.example/;SharedAccessKeyName=listen;SharedAccessKey=${key}`,
            services: { web: { target: 'web' }, db: { target: 'db:1433', maxConnections: 0 } },
          },
        },
      }),
    );
    const t = io();
    expect(await runForwarderCli(['--config', file], t.io)).toBe(ExitCode.CONFIG);
    expect(t.stderr()).toContain('invalid configuration (3 problems)');
    expect(t.stderr()).toContain('/hybridConnections/a/path: missing hybrid connection path');
    expect(t.stderr()).toContain('/hybridConnections/a/services/db/maxConnections:');
    expect(t.stderr()).toContain('/hybridConnections/a/services/web/target: invalid target "web"');
    expect(t.stderr()).not.toContain(key);
  });

  it('exits 66 when --relay-ca cannot be read', async () => {
    const file = path.join(dir, 'ok.json');
    fs.writeFileSync(file, '{"schemaVersion":1}');
    const t = io();
    expect(await runForwarderCli(['--config', file, '--relay-ca', path.join(dir, 'none.pem')], t.io)).toBe(
      ExitCode.NO_INPUT,
    );
    expect(t.stderr()).toContain('cannot read --relay-ca');
  });

  it('runs an empty configuration until SIGTERM and exits 0', async () => {
    const file = path.join(dir, 'empty.json');
    fs.writeFileSync(file, '{"schemaVersion":1}');
    const t = io();
    const run = runForwarderCli(['--config', file], t.io);
    // The run subscribes to signals once the configuration is applied.
    const deadline = Date.now() + 10_000;
    while (t.io.signals.listenerCount('SIGTERM') === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    t.io.signals.emit('SIGTERM');
    expect(await run).toBe(ExitCode.OK);
    for (const name of ['SIGHUP', 'SIGINT', 'SIGTERM']) expect(t.io.signals.listenerCount(name)).toBe(0);
  });
});
