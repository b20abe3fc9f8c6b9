// End to end with both modules as separate processes, started from their entry files with configuration files,
// the way a plain VM runs them: node modules/relay-{forwarder,gateway}/src/main.ts --config f.json --relay-ca ca.pem.
// The relay and the targets run in this process; the tests talk to the gateway's public ports only.
import { readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModuleProcess, type LogLine } from '../../sandbox/src/demo/module-process';
import type { SampleService } from '../../sandbox/src/demo/services';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { hashUntilEnd, writePattern } from '../support/e2e-streams';
import {
  sha256Of,
  startEchoTarget,
  startHttpTarget,
  startSha256SinkTarget,
  startSourceTarget,
  type SourceTarget,
} from '../support/e2e-targets';
import { e2eRoute, SITE } from '../support/e2e-world';
import { connectClient, freePort } from '../support/relay-gateway-harness';
import { connectTcp, type TestTcpServer } from '../support/tunnel-harness';

const MiB = 1024 * 1024;
const SLOW_READER_BYTES = 128 * MiB;

/** Resident set size of a process, from /proc (Linux). */
function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/** Polls `sample` until it stops changing for `stableMs`; bounded by `timeoutMs`. */
async function settled(sample: () => number, stableMs: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = sample();
  let since = Date.now();
  while (Date.now() - since < stableMs) {
    if (Date.now() > deadline) throw new Error(`still moving after ${timeoutMs} ms (at ${last})`);
    await new Promise((r) => setTimeout(r, 25));
    const now = sample();
    if (now !== last) [last, since] = [now, Date.now()];
  }
  return last;
}

describe('e2e with relay-gateway and relay-forwarder as processes (config files, --relay-ca)', () => {
  let relay: SandboxRelay;
  let dir: string;
  let echo: TestTcpServer;
  let sink: TestTcpServer;
  let web: SampleService;
  let source: SourceTarget;
  let downPort: number;
  let forwarder: ModuleProcess;
  let gateway: ModuleProcess;
  let keys: { listen: string; send: string; listenKey: string; sendKey: string };
  let gatewayPath: string;
  let forwarderPath: string;
  const ports = new Map<string, number>();

  const at = (port: number): { target: string } => ({ target: `127.0.0.1:${port}` });
  const forwarderDoc = (services: Record<string, unknown>): object => ({
    schemaVersion: 1,
    logLevel: 'info',
    drainTimeoutMs: 2_000,
    hybridConnections: { [SITE]: { connectionString: keys.listen, listeners: 2, services } },
  });
  const gatewayDoc = (routes: Record<string, unknown>): object => ({
    schemaVersion: 1,
    logLevel: 'info',
    drainTimeoutMs: 2_000,
    hybridConnections: { [SITE]: { connectionString: keys.send } },
    routes,
  });
  let writes = 0;
  async function replace(path: string, document: unknown): Promise<void> {
    const temp = join(dir, `.write-${++writes}.tmp`);
    await writeFile(temp, typeof document === 'string' ? document : JSON.stringify(document, null, 2));
    await rename(temp, path);
  }
  const services = (): Record<string, unknown> => ({
    echo: at(echo.port),
    sink: at(sink.port),
    web: at(web.port),
    source: at(source.port),
    down: at(downPort),
  });
  const routes: Record<string, unknown> = {
    echo: e2eRoute('echo'),
    sink: e2eRoute('sink'),
    web: e2eRoute('web'),
    source: e2eRoute('source'),
    down: e2eRoute('down'),
  };

  /** Waits for the gateway to log that `routeId` listens (from line `fromLine` on) and remembers its port. */
  async function routeListening(routeId: string, fromLine = 0): Promise<number> {
    const line = await gateway.waitForLog(
      (l) => l.msg === 'route listening' && l.routeId === routeId,
      `route ${routeId} listening`,
      { fromLine, timeoutMs: 30_000 },
    );
    const port = (line.address as { port: number }).port;
    ports.set(routeId, port);
    return port;
  }

  async function roundTrip(routeId: string, text: string): Promise<{ received: string; errorCode?: string }> {
    const client = await connectClient(ports.get(routeId)!);
    client.socket.end(text);
    const end = await client.ended;
    return { received: end.received.toString(), ...(end.errorCode && { errorCode: end.errorCode }) };
  }

  beforeAll(async () => {
    relay = await startSandboxRelay();
    relay.createHybridConnection(SITE);
    const listenRule = relay.createAuthorizationRule(SITE, 'forwarder', ['Listen']);
    const sendRule = relay.createAuthorizationRule(SITE, 'gateway', ['Send']);
    keys = {
      listen: listenRule.primaryConnectionString,
      send: sendRule.primaryConnectionString,
      listenKey: listenRule.primaryKey,
      sendKey: sendRule.primaryKey,
    };
    [echo, sink, web, source, downPort] = await Promise.all([
      startEchoTarget(),
      startSha256SinkTarget(),
      startHttpTarget(SITE, 'web'),
      startSourceTarget(SLOW_READER_BYTES, 3),
      freePort(),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'hrf-e2e-processes-'));
    const caPath = join(dir, 'relay-ca.pem');
    await writeFile(caPath, relay.caPem);
    forwarderPath = join(dir, 'forwarder.json');
    gatewayPath = join(dir, 'gateway.json');
    await replace(forwarderPath, forwarderDoc(services()));
    await replace(gatewayPath, gatewayDoc(routes));
    // jest.setup silences LOG_LEVEL; the processes log at info, as deployed. Health endpoints on loopback ports the
    // OS picks (the deployment defaults, 8080/8081 on every interface, would clash between parallel tests).
    const env = { ...process.env, LOG_LEVEL: 'info', HEALTH_PORT: '0', HEALTH_BIND_ADDRESS: '127.0.0.1' };
    forwarder = ModuleProcess.start({
      module: 'relay-forwarder',
      configPath: forwarderPath,
      relayCaPath: caPath,
      env,
    });
    gateway = ModuleProcess.start({
      module: 'relay-gateway',
      configPath: gatewayPath,
      relayCaPath: caPath,
      env,
    });
    await Promise.all([
      ...Object.keys(routes).map((id) => routeListening(id)),
      forwarder.waitForLog(
        () => forwarder.lines.filter((l) => l.msg === 'listener online').length >= 2,
        'both control channels online',
        { timeoutMs: 30_000 },
      ),
    ]);
  }, 60_000);

  afterAll(async () => {
    // Normally stopped by the last test; this only cleans up after a failure.
    await Promise.all([gateway?.stop(5_000), forwarder?.stop(5_000)]);
    await Promise.all([echo?.close(), sink?.close(), web?.close(), source?.close()]);
    await relay?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reports ready on each module health endpoint (/readyz), as a load-balancer probe would ask', async () => {
    for (const module of [gateway, forwarder]) {
      const line = await module.waitForLog(
        (l) => l.msg === 'health endpoint listening',
        'the health endpoint',
      );
      expect(line.host).toBe('127.0.0.1');
      const ready = await new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: line.port as number, path: '/readyz', agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve(`${res.statusCode} ${Buffer.concat(chunks).toString()}`));
          })
          .on('error', reject);
      });
      expect(ready).toBe('200 {"status":"ready","reasons":[]}');
    }
  });

  it('tunnels TCP, HTTP and a 16 MiB upload (sha256), and carries half-close', async () => {
    expect(await roundTrip('echo', 'hello\n')).toEqual({ received: 'hello\n' });
    const page = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: ports.get('web'), path: '/', agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(`${res.statusCode} ${Buffer.concat(chunks).toString()}`));
        })
        .on('error', reject);
    });
    expect(page).toMatch(new RegExp(`^200 [^]*Hello from ${SITE} / web`));
    const upload = await connectClient(ports.get('sink')!);
    const sent = await writePattern(upload.socket, 16 * MiB, 77, { end: true });
    expect((await upload.ended).received.toString()).toBe(sent);
  });

  it('closes the client when the target is down, and the gateway logs the forwarder reason', async () => {
    expect(await roundTrip('down', 'anyone?')).toEqual({ received: '', errorCode: 'ECONNRESET' });
    const failed = await gateway.waitForLog(
      (l) => l.msg === 'tunnel failed: target refused' && l.routeId === 'down',
      'the gateway to log the failure',
    );
    expect(failed.reason).toBe('target-refused');
    // The same attempt in the forwarder's log: refused with 4502 (the target is never named to the sender).
    await forwarder.waitForLog(
      (l) => l.msg === 'tunnel refused' && l.closeCode === 4502 && l.portName === 'down',
      'the forwarder to log the refusal',
    );
  });

  it('keeps each process memory bounded behind a slow reader, then delivers everything', async () => {
    const rssBefore = { gateway: rssBytes(gateway.pid!), forwarder: rssBytes(forwarder.pid!) };
    const client = await connectTcp(ports.get('source')!);
    client.pause();
    const produced = await settled(() => source.connections[0]?.written ?? 0, 750, 30_000);
    const growth = {
      gateway: rssBytes(gateway.pid!) - rssBefore.gateway,
      forwarder: rssBytes(forwarder.pid!) - rssBefore.forwarder,
    };
    // 128 MiB offered; held on the whole path: the relay's 16 MiB bound plus socket buffers.
    expect(produced).toBeLessThan(80 * MiB);
    expect(growth.gateway).toBeLessThan(48 * MiB);
    expect(growth.forwarder).toBeLessThan(48 * MiB);
    const read = hashUntilEnd(client);
    client.end();
    client.resume();
    expect(await read).toEqual({ sha256: source.connections[0]!.sha256, bytes: SLOW_READER_BYTES });
  });

  it('re-applies changed files: a new route and service appear, an invalid file is refused with its reasons', async () => {
    const mark = gateway.lineCount;
    await replace(forwarderPath, forwarderDoc({ ...services(), echo2: at(echo.port) }));
    await forwarder.waitForLog((l) => l.msg === 'services updated', 'the forwarder to apply the new service');
    await replace(gatewayPath, gatewayDoc({ ...routes, echo2: e2eRoute('echo2') }));
    await routeListening('echo2', mark);
    expect(await roundTrip('echo2', 'second route')).toEqual({ received: 'second route' });

    const refusedMark = gateway.lineCount;
    await replace(gatewayPath, gatewayDoc({ ...routes, bad: e2eRoute('echo', { allow: ['300.0.0.0/8'] }) }));
    const refused: LogLine = await gateway.waitForLog(
      (l) => l.msg === 'configuration refused',
      'the gateway to refuse the document',
      { fromLine: refusedMark },
    );
    expect(JSON.stringify(refused.problems)).toContain('/routes/bad/allow/0');
    expect(await roundTrip('echo2', 'still running')).toEqual({ received: 'still running' });
  });

  it('stops both on SIGTERM with exit 0; every log line is JSON and carries no key', async () => {
    const [gatewayExit, forwarderExit] = await Promise.all([gateway.stop(10_000), forwarder.stop(10_000)]);
    expect({ gateway: gatewayExit, forwarder: forwarderExit }).toEqual({
      gateway: { code: 0, signal: null },
      forwarder: { code: 0, signal: null },
    });
    for (const module of [gateway, forwarder]) {
      expect(module.otherOutput).toEqual([]);
      expect(module.stderr).toBe('');
      const text = JSON.stringify(module.lines);
      expect(text).not.toContain(keys.listenKey);
      expect(text).not.toContain(keys.sendKey);
    }
    expect(gateway.lines.some((l) => l.msg === 'stopped')).toBe(true);
    expect(forwarder.lines.some((l) => l.msg === 'forwarder stopped')).toBe(true);
    expect(sha256Of('')).toHaveLength(64);
  });
});
