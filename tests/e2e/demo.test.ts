// `npm run demo:tunnel`, the sandbox tunnel demo, as a user runs it: `--check` runs the self-check and exits; without it the
// demo runs until Ctrl-C, and the lines it prints work.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onPath } from '../../sandbox/src/demo/print';
import { runCommand } from '../support/command-run';
import { httpGetLoopback } from '../support/loopback-http';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run demo:tunnel (the sandbox tunnel demo)', () => {
  let stateDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'hrf-demo-'));
    // The demo's own modules log to files; LOG_LEVEL=silent from jest.setup must not reach them.
    env = { ...process.env, SANDBOX_STATE_DIR: stateDir, LOG_LEVEL: 'info' };
  });

  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('`npm run demo:tunnel -- --check` starts everything, passes its self-check through the tunnel and exits 0', async () => {
    const demo = runCommand('npm', ['run', '--silent', 'demo:tunnel', '--', '--check'], env);
    const { code, signal } = await demo.exited;
    const out = demo.output();
    expect({ code, signal, out }).toMatchObject({ code: 0, signal: null });
    expect(out).toMatch(/sandbox relay {4}127\.0\.0\.1:\d+ {2}\(CA .*ca\.pem\)/);
    expect(out).toMatch(/^ {2}… sandbox relay, sample services, relay-forwarder and relay-gateway$/m);
    expect(out).toMatch(
      /^ {2}✓ sandbox relay, sample services, relay-forwarder and relay-gateway \(\d+\.\d s\)$/m,
    );
    // Health endpoints on loopback ephemeral ports, not the deployment defaults 8080/8081 on every interface.
    expect(out).toMatch(/relay-gateway {4}pid \d+ {2}config .* {2}health http:\/\/127\.0\.0\.1:\d+\/readyz/);
    expect(out).toMatch(
      /relay-forwarder {2}pid \d+ {2}config .* {2}health http:\/\/127\.0\.0\.1:\d+\/readyz/,
    );
    expect(out).toMatch(/site-a-web +127\.0\.0\.1:\d+ +site-a \/ web +127\.0\.0\.1:\d+ \(HTTP\)/);
    expect(out).toMatch(/site-a-echo +127\.0\.0\.1:\d+ +site-a \/ echo +127\.0\.0\.1:\d+ \(TCP echo\)/);
    expect(out).toMatch(/^ {2}curl http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(out).toMatch(/^ {2}(printf 'hello\\n' \| nc -q1 127\.0\.0\.1 \d+|node -e ".*connect\(\d+,.*")$/m);
    expect(out).toMatch(/ok {4}site-a-web +GET \/ through the tunnel → 200 "Hello from site-a \/ web"/);
    expect(out).toMatch(/ok {4}site-a-echo +sent "hello\\n" through the tunnel, got "hello\\n"/);
    expect(out).toMatch(/ok {4}relay-gateway +GET \/readyz → 200 ready/);
    expect(out).toMatch(/ok {4}relay-forwarder +GET \/readyz → 200 ready/);
    expect(out).toContain('Self-check passed: 4 of 4.');
    expect(out).toMatch(/Stopped\.\n$/);
    // Keys stay in the generated files (owner-only), never on the console.
    expect(out).not.toMatch(/SharedAccessKey=|sig=/);
    expect((await stat(join(stateDir, 'demo', 'gateway.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(stateDir, 'demo', 'forwarder.json'))).mode & 0o777).toBe(0o600);
  });

  it('runs until Ctrl-C: the printed lines work, and SIGINT stops every process with exit 0', async () => {
    const caBefore = await readFile(join(stateDir, 'pki', 'ca.pem'), 'utf8');
    // Its own process group, signalled as a terminal does on Ctrl-C: npm and the demo both get SIGINT.
    const demo = runCommand('npm', ['run', '--silent', 'demo:tunnel'], env, true);
    try {
      await demo.waitFor(/Ctrl-C stops everything\./);
    } catch (err) {
      process.kill(-demo.child.pid!, 'SIGKILL');
      throw err;
    }
    const out = demo.output();
    expect(out).toContain('Self-check passed: 4 of 4.');
    // The CA file is kept between runs, so NODE_EXTRA_CA_CERTS needs setting once.
    expect(await readFile(join(stateDir, 'pki', 'ca.pem'), 'utf8')).toBe(caBefore);

    const curlLine = /^ {2}(curl http:\/\/127\.0\.0\.1:(\d+)\/)$/m.exec(out)!;
    const echoLine = /^ {2}((?:printf|node -e) .*)$/m.exec(out)!;
    if (onPath('curl')) {
      const curl = runCommand('sh', ['-c', curlLine[1]!], process.env);
      expect(await curl.exited).toEqual({ code: 0, signal: null });
      expect(curl.output()).toContain('Hello from site-a / web');
    } else {
      expect((await httpGetLoopback(Number(curlLine[2]))).body).toContain('Hello from site-a / web');
    }
    const echo = runCommand('sh', ['-c', echoLine[1]!], process.env);
    expect(await echo.exited).toEqual({ code: 0, signal: null });
    expect(echo.output()).toBe('hello\n');

    const pids = [...out.matchAll(/relay-(?:gateway|forwarder) +pid (\d+)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(2);
    expect(pids.every(isRunning)).toBe(true);
    process.kill(-demo.child.pid!, 'SIGINT');
    expect(await demo.exited).toEqual({ code: 0, signal: null });
    expect(demo.output()).toMatch(/SIGINT: stopping[^]*Stopped\.\n$/);
    expect(pids.filter(isRunning)).toEqual([]);
    await expect(httpGetLoopback(Number(curlLine[2]))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
