// Multiplexed streams end to end: real TCP clients → the real relay-gateway (in-process) → the sandbox relay over
// TLS → the real relay-forwarder as a child process → an echo target. Many sha256-checked transfers share a few
// relay connections; a reader that stops stalls only its own stream; a forwarder killed (kill -9) and a relay
// restart with streams open reset every client and leave nothing held, and new clients are served afterwards.
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayHybridConnection } from '../../modules/relay-gateway/src/config/types';
import { startGatewayFromFile, type GatewayFileApp } from '../../modules/relay-gateway/src/file-app';
import { DEFAULT_MUX_TIMING } from '../../modules/relay-gateway/src/mux-pools';
import { createRelayTunnelOpener, type TunnelOpener } from '../../modules/relay-gateway/src/tunnel-opener';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { startEchoTarget } from '../support/e2e-targets';
import { startModuleChild, type ModuleChildWorld } from '../support/module-child-world';
import { routePort, testLogger } from '../support/relay-gateway-harness';
import { patternBytes, sha256, type TestTcpServer } from '../support/tunnel-harness';

jest.setTimeout(180_000);

const PATH = 'site-m';
let relay: SandboxRelay;
let echo: TestTcpServer;
let forwarder: ModuleChildWorld | undefined;
let forwarderDocument: object;
let gateway: GatewayFileApp;
let opener: TunnelOpener;
let dir: string;
let port: number;
const hc = { namespace: '', path: PATH } as GatewayHybridConnection;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition(); await sleep(20))
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
}

/** Sends `data` through the tunnel and reads the echo; `readAfter` pauses the reader until that promise settles. */
async function transfer(data: Buffer, readAfter?: Promise<unknown>): Promise<Buffer> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    socket.on('end', resolve);
    socket.on('error', reject);
  });
  if (readAfter) {
    socket.pause();
    void readAfter.then(() => socket.on('data', (c: Buffer) => chunks.push(c)).resume());
  } else socket.on('data', (c: Buffer) => chunks.push(c));
  socket.end(data);
  await ended;
  socket.destroy();
  return Buffer.concat(chunks);
}

/** Retries a small echo until it works (the forwarder's listeners are online and a mux connection is ready). */
async function waitServed(): Promise<void> {
  for (const deadline = Date.now() + 60_000; ; await sleep(200)) {
    const ok = await transfer(Buffer.from('ready?')).then(
      (b) => b.toString() === 'ready?',
      () => false,
    );
    if (ok && (opener.muxStats?.(hc)?.connections ?? 0) > 0) return;
    if (Date.now() > deadline) throw new Error('the tunnel never became ready over a mux connection');
  }
}

/** Opens `count` clients whose streams are established (first echo seen) and stay open. */
async function openClients(count: number): Promise<Array<{ socket: net.Socket; closed: Promise<string> }>> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      const closed = new Promise<string>((resolve) => {
        socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
        socket.on('close', () => resolve('closed'));
      });
      await once(socket, 'connect');
      socket.write('hello');
      await once(socket, 'data');
      return { socket, closed };
    }),
  );
}

beforeAll(async () => {
  relay = await startSandboxRelay();
  relay.createHybridConnection(PATH);
  const listen = relay.createAuthorizationRule(PATH, 'forwarder', ['Listen']);
  const send = relay.createAuthorizationRule(PATH, 'gateway', ['Send']);
  (hc as { namespace: string }).namespace = relay.namespace;
  echo = await startEchoTarget();
  forwarderDocument = {
    schemaVersion: 1,
    drainTimeoutMs: 1_000,
    hybridConnections: {
      [PATH]: {
        connectionString: listen.primaryConnectionString,
        listeners: 2,
        services: { echo: { target: `127.0.0.1:${echo.port}`, maxConnections: 2_000 } },
      },
    },
  };
  forwarder = await startModuleChild('relay-forwarder', forwarderDocument, relay.caPem, 'warn');
  dir = await mkdtemp(join(tmpdir(), 'hrf-mux-'));
  const configPath = join(dir, 'gateway.json');
  await writeFile(
    configPath,
    JSON.stringify({
      schemaVersion: 1,
      drainTimeoutMs: 1_000,
      hybridConnections: { [PATH]: { connectionString: send.primaryConnectionString } },
      routes: {
        echo: {
          port: 0,
          bindAddress: '127.0.0.1',
          hybridConnection: PATH,
          service: 'echo',
          allow: ['127.0.0.0/8'],
          warmConnections: 0,
          muxConnections: 2,
          maxConnections: 2_000,
        },
      },
    }),
  );
  const logger = testLogger();
  opener = createRelayTunnelOpener({
    tls: { ca: relay.caPem },
    logger,
    muxTiming: { ...DEFAULT_MUX_TIMING, retryAfterMs: 200 },
  });
  gateway = await startGatewayFromFile({
    configPath,
    logger,
    tls: { ca: relay.caPem },
    watch: { debounceMs: 20, pollIntervalMs: 0 },
    opener,
  });
  port = routePort(gateway.gateway, 'echo');
  await waitServed();
});

afterAll(async () => {
  gateway?.hurry();
  await gateway?.stop(0);
  await forwarder?.close();
  await echo?.close();
  await relay?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('carries 100 concurrent sha256-checked transfers over at most 2 relay connections', async () => {
  const tunnelsBefore = relay.stats().counters.tunnelsOpened;
  await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      const data = patternBytes(200 * 1024 + i * 331, 500 + i);
      expect(sha256(await transfer(data))).toBe(sha256(data));
    }),
  );
  // One relay connection per client would have opened 100; the mux connections were already there (≤ 2 more).
  expect(relay.stats().counters.tunnelsOpened - tunnelsBefore).toBeLessThanOrEqual(2);
  await until(() => gateway.gateway.activeConnectionsOf('echo') === 0, 'clients released');
  // The gateway's state (metrics read it) names the hybrid connection's mux connections.
  const pool = gateway.gateway.state().mux?.[PATH];
  expect(pool).toMatchObject({ supported: true, streams: 0 });
  expect(pool!.connections).toBeGreaterThanOrEqual(1);
});

it('lets a transfer complete while another client has stopped reading, then completes that one too', async () => {
  let release!: () => void;
  const readLater = new Promise<void>((resolve) => (release = resolve));
  const slowData = patternBytes(12 * 1024 * 1024, 9);
  const slow = transfer(slowData, readLater);
  await sleep(500); // the slow stream fills its windows and stalls
  const fastData = patternBytes(4 * 1024 * 1024, 10);
  expect(sha256(await transfer(fastData))).toBe(sha256(fastData));
  release();
  expect(sha256(await slow)).toBe(sha256(slowData));
});

it('resets every client when the forwarder is killed with 1,000 streams open, holds nothing, and serves again after a restart', async () => {
  await until(() => gateway.gateway.activeConnectionsOf('echo') === 0, 'earlier clients released');
  const clients = [];
  // In batches, so a loaded machine never meets the connect timeout.
  for (let i = 0; i < 10; i++) clients.push(...(await openClients(100)));
  expect(gateway.gateway.activeConnectionsOf('echo')).toBe(1_000);
  // Over the multiplexed connections only: the relay carries at most two connections for the thousand clients.
  expect(relay.stats().activeTunnels).toBeLessThanOrEqual(2);
  process.kill(forwarder!.pid, 'SIGKILL');
  const ends = await Promise.all(clients.map((c) => c.closed));
  // Every client saw its connection cut (reset), none a clean end of stream.
  for (const end of ends) expect(end).toBe('ECONNRESET');
  await until(() => gateway.gateway.activeConnectionsOf('echo') === 0, 'gateway sessions released');
  await until(() => relay.stats().activeTunnels === 0, 'relay connections released');
  await until(() => echo.sockets.size === 0, 'target connections released');
  expect(opener.muxStats?.(hc)?.streams ?? 0).toBe(0);
  await forwarder!.close().catch(() => undefined);
  forwarder = await startModuleChild('relay-forwarder', forwarderDocument, relay.caPem, 'warn');
  await waitServed();
});

it('resets every client when the relay restarts with streams open, and serves again on the restarted relay', async () => {
  const clients = await openClients(20);
  const { port: relayPort, registry, pki } = relay;
  await relay.stop();
  const ends = await Promise.all(clients.map((c) => c.closed));
  for (const end of ends) expect(end).toBe('ECONNRESET');
  await until(() => gateway.gateway.activeConnectionsOf('echo') === 0, 'gateway sessions released');
  relay = await startSandboxRelay({ port: relayPort, registry, pki });
  await waitServed();
  const data = patternBytes(1024 * 1024, 77);
  expect(sha256(await transfer(data))).toBe(sha256(data));
});
