// Connect + 1-byte echo latency through the real relay-gateway and relay-forwarder (in this process) and the
// sandbox relay over TLS, with the relay's `none` and `azure` latency profiles: cold connections with full TLS
// handshakes, cold connections resuming TLS sessions, pre-warmed connections, and multiplexed streams over a relay
// connection opened before (`mux`). Prints a table and JSON.
// Run: npm run bench:connect [-- --samples 40 --gap-ms 100 --profiles none,azure]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { relayTlsSessions } from '../modules/common/src/hc/tls-sessions';
import { startForwarderFromFile } from '../modules/relay-forwarder/src/file-app';
import { startGatewayFromFile } from '../modules/relay-gateway/src/file-app';
import { startSandboxRelay } from '../sandbox/src/relay';
import { summarize, type LatencySummary } from './workloads/percentiles';

type Mode = 'cold-full-tls' | 'cold-resumed-tls' | 'warm' | 'mux';
const MODES: readonly Mode[] = ['cold-full-tls', 'cold-resumed-tls', 'warm', 'mux'];
/** Clients per mode before measuring (the first profile of a run otherwise pays the JIT's warm-up). */
const WARMUP = 15;

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

/** Opens a client connection, sends one byte and resolves with the ms until the echo came back. */
function connectAndEcho(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write(Buffer.from([42])));
    socket.once('data', () => {
      const ms = performance.now() - started;
      socket.destroy();
      resolve(ms);
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before the echo')));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measureProfile(
  profile: 'none' | 'azure',
  samples: number,
  gapMs: number,
): Promise<Record<Mode, LatencySummary | undefined>> {
  const log = pino({ level: 'silent' });
  const dir = await mkdtemp(join(tmpdir(), 'bench-connect-'));
  const relay = await startSandboxRelay({ latencyProfile: profile });
  const echo = net.createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const echoPort = (echo.address() as net.AddressInfo).port;
  relay.createHybridConnection('bench');
  const send = relay.createAuthorizationRule('bench', 'send', ['Send']).primaryConnectionString;
  const listen = relay.createAuthorizationRule('bench', 'listen', ['Listen']).primaryConnectionString;
  const forwarderPath = join(dir, 'forwarder.json');
  const gatewayPath = join(dir, 'gateway.json');
  await writeFile(
    forwarderPath,
    JSON.stringify({
      schemaVersion: 1,
      hybridConnections: {
        bench: { connectionString: listen, services: { echo: { target: `127.0.0.1:${echoPort}` } } },
      },
    }),
  );
  // A route selects its mode: `multiplex` (streams over a few long-lived relay connections) or one relay
  // connection per client, warm (pre-opened) or cold.
  const route = (warmConnections: number, multiplex = false) => ({
    port: 0,
    bindAddress: '127.0.0.1',
    hybridConnection: 'bench',
    service: 'echo',
    allow: ['127.0.0.0/8'],
    warmConnections,
    multiplex,
  });
  await writeFile(
    gatewayPath,
    JSON.stringify({
      schemaVersion: 1,
      hybridConnections: { bench: { connectionString: send } },
      routes: { cold: route(0), warm: route(2), mux: route(0, true) },
    }),
  );
  const tls = { ca: relay.caPem };
  const forwarder = await startForwarderFromFile({ configPath: forwarderPath, log, tls });
  const gateway = await startGatewayFromFile({ configPath: gatewayPath, logger: log, tls });
  const results = {} as Record<Mode, LatencySummary | undefined>;
  try {
    const portOf = (id: string) => gateway.gateway.state().routes[id]!.boundPort!;
    // The forwarder's control channels must be up before the first client.
    for (let i = 0; i < 100; i++) {
      if (
        await connectAndEcho(portOf('cold')).then(
          () => true,
          () => false,
        )
      )
        break;
      await sleep(100);
    }
    for (const mode of MODES) {
      const port = portOf(mode === 'warm' || mode === 'mux' ? mode : 'cold');
      const times: number[] = [];
      // Unmeasured clients first: JIT warmed up, TLS sessions cached, the warm pool filled, the mux connection open.
      for (let i = 0; i < samples + WARMUP; i++) {
        if (mode === 'cold-full-tls') relayTlsSessions.clear();
        const ms = await connectAndEcho(port);
        if (i >= WARMUP) times.push(ms);
        await sleep(gapMs);
      }
      results[mode] = summarize(times);
      const seen = forwarder.forwarder.state().hybridConnections.bench;
      process.stderr.write(
        `${profile} ${mode}: forwarder has seen ${seen?.warmConnections ?? 0} warm and ` +
          `${seen?.muxConnections ?? 0} multiplexed connections so far\n`,
      );
    }
  } finally {
    await gateway.stop(0);
    await forwarder.stop(0);
    await new Promise<void>((resolve) => echo.close(() => resolve()));
    await relay.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

async function main(): Promise<void> {
  const samples = arg('samples', 40);
  const gapMs = arg('gap-ms', 100);
  const all: Record<string, Record<Mode, LatencySummary | undefined>> = {};
  const at = process.argv.indexOf('--profiles');
  const profiles = (at > 0 ? process.argv[at + 1]! : 'none,azure').split(',') as ('none' | 'azure')[];
  for (const profile of profiles) all[profile] = await measureProfile(profile, samples, gapMs);
  process.stdout.write(
    `connect + 1-byte echo through gateway → relay → forwarder → target (${samples} clients each, ${gapMs} ms apart)\n`,
  );
  process.stdout.write('profile  mode              p50 ms   p99 ms   mean ms\n');
  for (const [profile, modes] of Object.entries(all)) {
    for (const mode of MODES) {
      const s = modes[mode];
      const cell = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(2)).padStart(8);
      process.stdout.write(
        `${profile.padEnd(8)} ${mode.padEnd(16)} ${cell(s?.p50Ms)} ${cell(s?.p99Ms)} ${cell(s?.meanMs)}\n`,
      );
    }
  }
  process.stdout.write(`${JSON.stringify({ samples, gapMs, results: all })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
