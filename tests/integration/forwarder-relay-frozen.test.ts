// A relay that stops answering while its TCP connections stay up (the sandbox relay process frozen with SIGSTOP):
// the forwarder's control channels must notice within seconds (keep-alive ping every 10 s, pong within 5 s) and
// report listeners_offline, instead of holding "ready" for up to a minute. Recovers once the relay runs again.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Forwarder } from '../../modules/relay-forwarder/src/forwarder';
import { ForwarderReadiness } from '../../modules/relay-forwarder/src/readiness';
import type { RelayMainInfo } from '../../sandbox/src/relay-main';
import { eventually, testLogger } from '../support/relay-gateway-harness';

const repoRoot = resolve(__dirname, '../..');

describe('forwarder readiness with a frozen relay', () => {
  let stateDir: string;
  let relay: ChildProcess | undefined;
  let forwarder: Forwarder | undefined;
  let readiness: ForwarderReadiness | undefined;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'frozen-relay-'));
  });

  afterAll(async () => {
    readiness?.close();
    if (relay && relay.exitCode === null) {
      relay.kill('SIGCONT');
      relay.kill('SIGKILL');
      await once(relay, 'exit');
    }
    await forwarder?.stop(0);
    await rm(stateDir, { recursive: true, force: true });
  });

  it('is not ready within seconds of the relay freezing, and ready again when it thaws', async () => {
    relay = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'sandbox/src/relay-main.ts', '--json'],
      {
        cwd: repoRoot,
        env: { ...process.env, LOG_LEVEL: 'silent', SANDBOX_STATE_DIR: stateDir, SANDBOX_RELAY_HCS: 'site' },
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const lines = createInterface({ input: relay.stdout! });
    const [firstLine] = (await once(lines, 'line')) as [string];
    lines.close();
    const info = JSON.parse(firstLine) as RelayMainInfo;

    forwarder = new Forwarder({
      log: testLogger(),
      tls: { ca: await readFile(info.caFile, 'utf8') },
      // Fast reconnects once the relay is back; the keep-alive stays the module's default under test.
      listener: { backoff: { initialDelayMs: 50, maxDelayMs: 500, multiplier: 2, jitterRatio: 0.5 } },
    });
    readiness = new ForwarderReadiness();
    readiness.attach(forwarder);
    const applied = forwarder.applyDocument({
      schemaVersion: 1,
      hybridConnections: {
        site: {
          connectionString: `${info.manageConnectionString};EntityPath=site`,
          listeners: 1,
          services: { echo: { target: '127.0.0.1:9' } },
        },
      },
    });
    expect(applied.ok).toBe(true);
    await eventually(() => readiness!.isReady(), 'the forwarder online', 30_000);

    relay.kill('SIGSTOP');
    // The library default (30 s ping + 30 s pong) took 30–60 s here; the forwarder's keep-alive takes 5–15 s.
    await eventually(() => !readiness!.isReady(), 'the forwarder to notice the frozen relay', 25_000);
    expect(readiness.reasons().map((r) => r.code)).toEqual(['listeners_offline']);

    relay.kill('SIGCONT');
    await eventually(() => readiness!.isReady(), 'the forwarder back online', 60_000);
  }, 120_000);
});
