// Log safety end to end: relay-gateway and relay-forwarder run as real processes (main.ts, file mode, most verbose
// log level, Azure Monitor configured, /metrics and health endpoints on) against the sandbox relay over TLS, with
// real SAS keys in connection strings and pre-issued SAS tokens. The run carries traffic, refuses a configuration
// on each side (documents full of secrets), renews tokens on live control channels, is scraped and probed, and
// stops on SIGTERM. Then every byte the two processes wrote is scanned: no key, no token signature, no
// `SharedAccessKey=`, no connection string, no instrumentation key.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import * as http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createSasToken, relayResourceUri } from '../../modules/common/src/hc/sas';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { connectClient, eventually } from '../support/relay-gateway-harness';
import { patternBytes, sha256, startTcpServer, type TestTcpServer } from '../support/tunnel-harness';

const ROOT = path.resolve(__dirname, '../..');
const INSTRUMENTATION_KEY = '5e3c1f7a-9b2d-4c8e-a1f0-6d4b2e9c7a13';

interface ModuleProcess {
  readonly name: string;
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
}

function startModule(
  name: 'relay-gateway' | 'relay-forwarder',
  configFile: string,
  caFile: string,
): ModuleProcess {
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      `modules/${name}/src/main.ts`,
      '--config',
      configFile,
      '--relay-ca',
      caFile,
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        LOG_LEVEL: 'trace',
        HEALTH_PORT: '0',
        HEALTH_BIND_ADDRESS: '127.0.0.1',
        METRICS_PORT: '0',
        // Exporting cannot succeed (nothing listens there); the point is that the key never shows.
        APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${INSTRUMENTATION_KEY};IngestionEndpoint=https://127.0.0.1:9/`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const proc: ModuleProcess = {
    name,
    child,
    stdout: '',
    stderr: '',
    exited: once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>,
  };
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (proc.stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (proc.stderr += c));
  return proc;
}

/** Parsed JSON log lines of a process (lines that are not JSON are kept as `{ raw }`). */
function lines(proc: ModuleProcess): Array<Record<string, unknown>> {
  return proc.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return { raw: l };
      }
    });
}

const withMsg = (proc: ModuleProcess, msg: string) => lines(proc).filter((l) => l.msg === msg);

function httpGet(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

function writeJson(file: string, document: unknown): void {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(document, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}

async function transfer(port: number, size: number, seed: number): Promise<void> {
  const payload = patternBytes(size, seed);
  const client = await connectClient(port);
  client.socket.end(payload);
  const end = await client.ended;
  expect({ port, size, sha256: sha256(end.received) }).toEqual({ port, size, sha256: sha256(payload) });
}

describe('no secret in any log line of either module (processes, sandbox relay, full run)', () => {
  let relay: SandboxRelay;
  let echo: TestTcpServer;
  let dir: string;
  const procs: ModuleProcess[] = [];

  beforeAll(async () => {
    relay = await startSandboxRelay();
    echo = await startTcpServer((socket) => {
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'no-secrets-'));
  });

  afterAll(async () => {
    for (const proc of procs) if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await echo?.close();
    await relay?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('carries traffic, refuses, renews and stops without writing a secret', async () => {
    relay.createHybridConnection('site-a');
    relay.createHybridConnection('site-b');
    const listenA = relay.createAuthorizationRule('site-a', 'listen', ['Listen']);
    const sendA = relay.createAuthorizationRule('site-a', 'send', ['Send']);
    const listenB = relay.createAuthorizationRule('site-b', 'listen', ['Listen']);
    const sendB = relay.createAuthorizationRule('site-b', 'send', ['Send']);
    const token = (rule: typeof listenB, lifetimeMs: number, nowMs = Date.now()): string =>
      createSasToken({
        resource: relayResourceUri(relay.namespace, 'site-b'),
        keyName: rule.keyName,
        key: rule.primaryKey,
        lifetimeMs,
        nowMs,
      });
    const tokens = [
      token(listenB, 3_600_000),
      token(sendB, 3_600_000),
      token(listenB, 7_200_000),
      token(sendB, 7_200_000),
      // Expired a minute ago: the forwarder refuses the document that carries it.
      token(listenB, 60_000, Date.now() - 120_000),
    ];
    const [listenTokenB, sendTokenB, renewedListenTokenB, renewedSendTokenB, expiredListenTokenB] = tokens;

    const caFile = path.join(dir, 'relay-ca.pem');
    fs.writeFileSync(caFile, relay.caPem);
    const forwarderFile = path.join(dir, 'forwarder.json');
    const gatewayFile = path.join(dir, 'gateway.json');
    const echoTarget = { target: `127.0.0.1:${echo.port}` };
    const forwarderDoc = (listenToken: string) => ({
      schemaVersion: 1,
      logLevel: 'trace',
      hybridConnections: {
        siteA: {
          connectionString: listenA.primaryConnectionString,
          listeners: 2,
          services: { echo: echoTarget },
        },
        siteB: {
          namespace: relay.namespace,
          path: 'site-b',
          sasToken: listenToken,
          listeners: 1,
          services: { echo: echoTarget },
        },
      },
    });
    const route = (hybridConnection: string, service: string) => ({
      port: 0,
      bindAddress: '127.0.0.1',
      hybridConnection,
      service,
      allow: ['127.0.0.0/8'],
    });
    const gatewayDoc = (sendToken: string) => ({
      schemaVersion: 1,
      logLevel: 'trace',
      hybridConnections: {
        'site-a': { connectionString: sendA.primaryConnectionString },
        'site-b': { namespace: relay.namespace, path: 'site-b', sasToken: sendToken },
      },
      routes: {
        a: route('site-a', 'echo'),
        b: route('site-b', 'echo'),
        nosuch: route('site-a', 'nosuch'),
      },
    });
    writeJson(forwarderFile, forwarderDoc(listenTokenB!));
    writeJson(gatewayFile, gatewayDoc(sendTokenB!));

    const forwarder = startModule('relay-forwarder', forwarderFile, caFile);
    const gateway = startModule('relay-gateway', gatewayFile, caFile);
    procs.push(forwarder, gateway);
    try {
      await eventually(
        () => withMsg(forwarder, 'listener online').length >= 3,
        'three listeners online',
        30_000,
      );
      await eventually(
        () => withMsg(gateway, 'route listening').length >= 3,
        'three routes listening',
        30_000,
      );
      await eventually(
        () =>
          withMsg(gateway, 'health endpoint listening').length +
            withMsg(forwarder, 'health endpoint listening').length ===
          2,
        'both health endpoints',
        30_000,
      );
      const portOf = (routeId: string): number =>
        (withMsg(gateway, 'route listening').find((l) => l.routeId === routeId)!.address as { port: number })
          .port;
      const healthPort = (proc: ModuleProcess): number =>
        withMsg(proc, 'health endpoint listening')[0]!.port as number;
      const metricsPort = (proc: ModuleProcess): number =>
        Number(String(withMsg(proc, 'telemetry started')[0]!.metricsEndpoint).split(':').pop());

      // Traffic both ways through both hybrid connections (key-minted and pre-issued tokens), and a refusal.
      await transfer(portOf('a'), 300_000, 1);
      await transfer(portOf('b'), 70_000, 2);
      const refused = await connectClient(portOf('nosuch'));
      refused.socket.end('x');
      expect((await refused.ended).received.length).toBe(0);

      // Refused documents that are full of secrets: a connection string missing its entity path (with the real
      // key), and an expired (but genuinely signed) token.
      writeJson(gatewayFile, {
        ...gatewayDoc(sendTokenB!),
        hybridConnections: {
          'site-a': { connectionString: sendA.primaryConnectionString.replace(/;EntityPath=[^;]*/, '') },
          'site-b': { namespace: relay.namespace, path: 'site-b', sasToken: sendTokenB },
        },
      });
      writeJson(forwarderFile, forwarderDoc(expiredListenTokenB!));
      await eventually(
        () => withMsg(gateway, 'configuration refused').length === 1,
        'gateway refusal',
        15_000,
      );
      await eventually(
        () => lines(forwarder).some((l) => String(l.msg).startsWith('configuration refused')),
        'forwarder refusal',
        15_000,
      );

      // Token renewal: new pre-issued tokens reach the forwarder's live control channel (renewToken) and the
      // gateway's new tunnels.
      writeJson(forwarderFile, forwarderDoc(renewedListenTokenB!));
      writeJson(gatewayFile, gatewayDoc(renewedSendTokenB!));
      await eventually(
        () => withMsg(forwarder, 'token renewed').length >= 1,
        'forwarder token renewed',
        15_000,
      );
      await eventually(
        () =>
          withMsg(gateway, 'configuration applied').some((l) =>
            (l.credentialsChanged as string[])?.includes('site-b'),
          ),
        'gateway credential change',
        15_000,
      );
      await transfer(portOf('b'), 50_000, 3);

      // Health and metrics answers are output too.
      const served: string[] = [];
      for (const proc of [gateway, forwarder]) {
        const ready = await httpGet(healthPort(proc), '/readyz');
        expect({ name: proc.name, status: ready.status }).toEqual({ name: proc.name, status: 200 });
        served.push(ready.body);
        const metrics = await httpGet(metricsPort(proc), '/metrics');
        expect(metrics.body).toContain('relay_connections_accepted_total');
        served.push(metrics.body);
      }
      expect(served.join('\n')).toMatch(/relay_token_renewals_total\{[^}]*outcome="success"[^}]*\} 1/);

      for (const proc of procs) proc.child.kill('SIGTERM');
      const exits = await Promise.all(procs.map((p) => p.exited));
      expect(exits).toEqual([
        [0, null],
        [0, null],
      ]);

      // The scan: every byte of stdout and stderr of both processes, and what their endpoints served.
      const output = [...procs.flatMap((p) => [p.stdout, p.stderr]), ...served].join('\n');
      const secrets: Record<string, string> = {
        'site-a listen key': listenA.primaryKey,
        'site-a send key': sendA.primaryKey,
        'site-b listen key': listenB.primaryKey,
        'site-b send key': sendB.primaryKey,
        'root key': relay.rootKeys.primaryKey,
        'instrumentation key': INSTRUMENTATION_KEY,
        'listen connection string': listenA.primaryConnectionString,
        'send connection string': sendA.primaryConnectionString,
      };
      for (const [i, t] of tokens.entries()) {
        const signature = decodeURIComponent(/sig=([^&]+)/.exec(t!)![1]!);
        secrets[`token ${i}`] = t!;
        secrets[`token ${i} signature`] = signature;
        secrets[`token ${i} signature (url-encoded)`] = encodeURIComponent(signature);
      }
      const leaks = Object.entries(secrets)
        .filter(([, value]) => output.includes(value))
        .map(([what]) => what);
      expect(leaks).toEqual([]);
      // Not even a scrubbed trace of one: code must not hand secrets to the logger in the first place.
      for (const marker of [
        /SharedAccessKey=/i,
        /\bsig(=|%3D)/i,
        /SharedAccessSignature/i,
        /Endpoint=sb:\/\//i,
        /InstrumentationKey=/i,
      ])
        expect({ marker: String(marker), found: output.match(marker)?.index }).toEqual({
          marker: String(marker),
          found: undefined,
        });

      // And the run was what it claims: the lines exist and are JSON.
      for (const proc of procs) {
        expect({ name: proc.name, stderr: proc.stderr }).toEqual({ name: proc.name, stderr: '' });
        expect(lines(proc).filter((l) => 'raw' in l)).toEqual([]);
      }
      expect(withMsg(forwarder, 'telemetry started')[0]).toMatchObject({ mode: 'azure-monitor' });
      expect(withMsg(gateway, 'tunnel failed: unknown service').length).toBe(1);
    } finally {
      for (const proc of procs) if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    }
  });
});
