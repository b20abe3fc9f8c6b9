// Every command of the project answers the same way (README "Commands and exit codes"): --help prints the usage
// on stdout and exits 0, --version prints the version, an unknown flag and a bad value print what is wrong and the
// usage on stderr and exit 64 — no stack trace, nothing started. The processes run in parallel, a few at a time:
// most of their time is start-up, so --version (answered by the shared code) is asked of one CLI per code path.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const VERSION = (require('../../package.json') as { version: string }).version;

interface Cli {
  readonly name: string;
  readonly entry: string;
  /** Also asked for --version (one per way the answer is made: module, controller, provision, shared). */
  readonly version?: true;
  /** A command line with one bad value, and what the answer must name. */
  readonly bad: readonly [readonly string[], RegExp];
}

const CLIS: readonly Cli[] = [
  {
    name: 'relay-gateway',
    entry: 'modules/relay-gateway/src/main.ts',
    version: true,
    bad: [['--config', 'x.json', '--log-level', 'loud'], /--log-level must be one of/],
  },
  {
    name: 'relay-forwarder',
    entry: 'modules/relay-forwarder/src/main.ts',
    bad: [['--shutdown-drain-ms', 'soon'], /--shutdown-drain-ms must be a whole number/],
  },
  {
    name: 'fleet-controller',
    entry: 'cloud/src/main.ts',
    version: true,
    bad: [['--token-lifetime', 'forever'], /--token-lifetime: "forever" is not a duration/],
  },
  {
    name: 'provision',
    entry: 'provisioning/src/cli/main.ts',
    version: true,
    bad: [['location', 'dev1', '--service', 'sql'], /--service "sql" must be name=host:port/],
  },
  {
    name: 'deployment:gen',
    entry: 'provisioning/src/deployment/cli.ts',
    bad: [['--platform', 'sparc'], /--platform sparc: not one of/],
  },
  {
    name: 'sandbox relay',
    entry: 'sandbox/src/relay-main.ts',
    version: true,
    bad: [['--latency', 'mars'], /--latency must be none or azure/],
  },
  {
    name: 'sandbox IoT Hub',
    entry: 'sandbox/src/iothub-main.ts',
    bad: [['--port', '99999'], /--port must be 0-65535/],
  },
  {
    name: 'fleet',
    entry: 'sandbox/src/fleet/main.ts',
    bad: [['--state-dir', ''], /--state-dir needs a value/],
  },
  { name: 'add-location', entry: 'sandbox/src/fleet/add-location.ts', bad: [['a', 'b'], /give one NAME/] },
  {
    name: 'demo',
    entry: 'sandbox/src/demo/main.ts',
    bad: [['--state-dir', ''], /--state-dir needs a value/],
  },
  { name: 'bench', entry: 'bench/main.ts', bad: [['--streams', 'zero'], /--streams must be a whole number/] },
];

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

// No connection strings or log settings of the developer's shell: every answer must come from the command line.
const ENV = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_OPTIONS: '' };

function run(entry: string, args: readonly string[]): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', entry, ...args], {
      cwd: ROOT,
      env: ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Runs every job, at most `limit` at once (two cores are shared with other tests). */
async function pool<T>(jobs: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

describe('every CLI: --help, --version, an unknown flag and a bad value', () => {
  const answers = new Map<string, Ran>();

  beforeAll(async () => {
    const jobs = CLIS.flatMap((cli) =>
      (
        [
          ['help', ['--help']],
          ...(cli.version ? [['version', ['--version']] as const] : []),
          ['unknown', ['--bogus']],
          ['bad', cli.bad[0]],
        ] as const
      ).map(
        ([kind, args]) =>
          async () =>
            answers.set(`${cli.name} ${kind}`, await run(cli.entry, args)),
      ),
    );
    await pool(jobs, 3);
  }, 600_000);

  describe.each(CLIS.map((cli) => [cli.name, cli] as const))('%s', (name, cli) => {
    const noStack = (text: string): void => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

    it('--help: the usage on stdout, exit 0', () => {
      const r = answers.get(`${name} help`)!;
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/Usage/);
      expect(r.stdout).toContain('--version');
    });

    if (cli.version) {
      it('--version: the name and version, exit 0', () => {
        const r = answers.get(`${name} version`)!;
        expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: `${name} ${VERSION}\n` });
      });
    }

    it('an unknown flag: one line naming it, then the usage; exit 64', () => {
      const r = answers.get(`${name} unknown`)!;
      expect(r.code).toBe(64);
      expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^${name}: unknown option --bogus`));
      expect(r.stderr).toMatch(/Usage/);
      noStack(r.stderr);
    });

    it('a bad value: what is wrong, then the usage; exit 64', () => {
      const r = answers.get(`${name} bad`)!;
      expect(r.code).toBe(64);
      expect(r.stderr).toMatch(cli.bad[1]);
      expect(r.stderr).toMatch(/Usage/);
      noStack(r.stderr);
    });
  });
});
