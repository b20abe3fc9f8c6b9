// UDP round trip and loss through the real relay-gateway (udpRoutes) and relay-forwarder (a udp service), both in
// this process, and the sandbox relay over TLS, to a UDP echo target. Two parts:
//   1. round trip: one flow, one datagram at a time (64 bytes), p50/p99, beside the same echo reached directly;
//   2. load: several flows (client ports) sending at a fixed total rate for a while; sent, received, loss, p50/p99
//      round trip, corrupted (every echo's bytes are checked), and the modules' own drop counters.
// Run: npm run bench:udp [-- --samples 2000 --flows 8 --rates 1000,5000,20000 --seconds 5 --bytes 512]
import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { startForwarderFromFile } from '../modules/relay-forwarder/src/file-app';
import { startGatewayFromFile } from '../modules/relay-gateway/src/file-app';
import { startSandboxRelay } from '../sandbox/src/relay';
import { summarize, type LatencySummary } from './workloads/percentiles';

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1]! : fallback;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function udpSocket(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return socket;
}

/** Sequential ping-pong on one client socket: ms per round trip. */
async function pingPong(port: number, samples: number, warmup: number): Promise<LatencySummary | undefined> {
  const socket = await udpSocket();
  const times: number[] = [];
  try {
    for (let i = 0; i < samples + warmup; i++) {
      const payload = Buffer.alloc(64, i % 251);
      const started = performance.now();
      const answered = once(socket, 'message');
      socket.send(payload, port, '127.0.0.1');
      const timeout = sleep(5_000).then(() => 'timeout' as const);
      if ((await Promise.race([answered, timeout])) === 'timeout') throw new Error(`no echo for ping ${i}`);
      if (i >= warmup) times.push(performance.now() - started);
    }
  } finally {
    socket.close();
  }
  return summarize(times);
}

interface LoadResult {
  readonly ratePerSecond: number;
  readonly flows: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly sent: number;
  readonly received: number;
  readonly lossPercent: number;
  readonly corrupt: number;
  readonly rtt: LatencySummary | undefined;
  /** Where datagrams went missing: each hop's count during this run (see `hops`). */
  readonly hops?: Hops;
}

/** Datagrams seen at each hop: read by the gateway, sent to the target by the forwarder, back from it, to clients. */
interface Hops {
  readonly gatewayIn: number;
  readonly forwarderToTarget: number;
  readonly forwarderFromTarget: number;
  readonly gatewayToClients: number;
}

// A datagram: [seq u32][sent-at f64] then a pattern of seq, so every echo's bytes can be checked.
function loadDatagram(seq: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes, seq % 251);
  out.writeUInt32BE(seq, 0);
  out.writeDoubleBE(performance.now(), 4);
  return out;
}

function intact(datagram: Buffer, bytes: number): boolean {
  if (datagram.length !== bytes) return false;
  const fill = datagram.readUInt32BE(0) % 251;
  for (let i = 12; i < datagram.length; i++) if (datagram[i] !== fill) return false;
  return true;
}

/** `flows` clients sending `ratePerSecond` datagrams in total for `seconds`, in 10 ms ticks; then 2 s to drain. */
async function load(
  port: number,
  flows: number,
  ratePerSecond: number,
  seconds: number,
  bytes: number,
): Promise<LoadResult> {
  const sockets = await Promise.all(Array.from({ length: flows }, () => udpSocket()));
  const rtts: number[] = [];
  let received = 0;
  let corrupt = 0;
  for (const socket of sockets)
    socket.on('message', (msg: Buffer) => {
      received += 1;
      if (!intact(msg, bytes)) corrupt += 1;
      else rtts.push(performance.now() - msg.readDoubleBE(4));
    });
  let sent = 0;
  const ticks = seconds * 100;
  const perTick = ratePerSecond / 100;
  let owed = 0;
  const started = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    owed += perTick;
    while (owed >= 1) {
      const socket = sockets[sent % flows]!;
      socket.send(loadDatagram(sent, bytes), port, '127.0.0.1');
      sent += 1;
      owed -= 1;
    }
    // Pace against the clock so a slow tick is caught up, not dropped.
    const next = started + (tick + 1) * 10;
    await sleep(Math.max(0, next - performance.now()));
  }
  await sleep(2_000);
  for (const socket of sockets) socket.close();
  return {
    ratePerSecond,
    flows,
    bytes,
    seconds,
    sent,
    received,
    lossPercent: Math.round(((sent - received) / sent) * 10_000) / 100,
    corrupt,
    rtt: summarize(rtts),
  };
}

async function main(): Promise<void> {
  const samples = Number(arg('samples', '2000'));
  const flows = Number(arg('flows', '8'));
  const rates = arg('rates', '1000,5000,20000').split(',').map(Number);
  const seconds = Number(arg('seconds', '5'));
  const bytes = Number(arg('bytes', '512'));
  const log = pino({ level: 'silent' });
  const dir = await mkdtemp(join(tmpdir(), 'bench-udp-'));
  const relay = await startSandboxRelay();
  const echo = await udpSocket();
  echo.on('message', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
  relay.createHybridConnection('bench');
  const send = relay.createAuthorizationRule('bench', 'send', ['Send']).primaryConnectionString;
  const listen = relay.createAuthorizationRule('bench', 'listen', ['Listen']).primaryConnectionString;
  const forwarderPath = join(dir, 'forwarder.json');
  const gatewayPath = join(dir, 'gateway.json');
  const target = `127.0.0.1:${echo.address().port}`;
  await writeFile(
    forwarderPath,
    JSON.stringify({
      schemaVersion: 1,
      hybridConnections: {
        bench: { connectionString: listen, services: { echo: { target, protocol: 'udp' } } },
      },
    }),
  );
  await writeFile(
    gatewayPath,
    JSON.stringify({
      schemaVersion: 1,
      hybridConnections: { bench: { connectionString: send } },
      udpRoutes: {
        echo: {
          port: 0,
          bindAddress: '127.0.0.1',
          hybridConnection: 'bench',
          service: 'echo',
          allow: ['127.0.0.0/8'],
        },
      },
    }),
  );
  const tls = { ca: relay.caPem };
  const forwarder = await startForwarderFromFile({ configPath: forwarderPath, log, tls });
  const gateway = await startGatewayFromFile({ configPath: gatewayPath, logger: log, tls });
  try {
    const port = gateway.gateway.state().udpRoutes!.echo!.port!;
    // Wait for the forwarder's control channels: until then a flow fails with no-listener.
    for (
      let i = 0;
      i < 100 && forwarder.forwarder.state().hybridConnections.bench?.onlineListeners !== 1;
      i++
    )
      await sleep(100);
    const direct = await pingPong(echo.address().port, samples, 200);
    const tunneled = await pingPong(port, samples, 200);
    const loads: LoadResult[] = [];
    const hops = (): Hops => {
      const r = gateway.gateway.state().udpRoutes!.echo!.counters;
      const d = forwarder.forwarder.state().hybridConnections.bench!.services.echo!.datagrams;
      return {
        gatewayIn: r.datagramsFromClients + Object.values(r.dropped).reduce((a, b) => a + (b ?? 0), 0),
        forwarderToTarget: d?.toTarget ?? 0,
        forwarderFromTarget: d?.fromTarget ?? 0,
        gatewayToClients: r.datagramsToClients,
      };
    };
    for (const rate of rates) {
      const before = hops();
      const result = await load(port, flows, rate, seconds, bytes);
      const after = hops();
      const delta = Object.fromEntries(
        Object.entries(after).map(([k, v]) => [k, v - before[k as keyof Hops]]),
      ) as unknown as Hops;
      loads.push({ ...result, hops: delta });
    }
    const route = gateway.gateway.state().udpRoutes!.echo!.counters;
    const service = forwarder.forwarder.state().hybridConnections.bench!.services.echo!;
    const cell = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(3)).padStart(8);
    process.stdout.write(`UDP round trip, 64-byte datagrams one at a time (${samples} samples)\n`);
    process.stdout.write('path       p50 ms   p99 ms  mean ms\n');
    for (const [name, s] of [
      ['direct', direct],
      ['tunneled', tunneled],
    ] as const)
      process.stdout.write(`${name.padEnd(8)} ${cell(s?.p50Ms)} ${cell(s?.p99Ms)} ${cell(s?.meanMs)}\n`);
    process.stdout.write(`\nUDP load: ${flows} flows, ${bytes}-byte datagrams, ${seconds} s per rate\n`);
    process.stdout.write(
      'rate/s      sent  received  loss %  corrupt   p50 ms   p99 ms   gw-in  fw→tgt  tgt→fw  gw→cli\n',
    );
    for (const r of loads)
      process.stdout.write(
        `${String(r.ratePerSecond).padEnd(7)} ${String(r.sent).padStart(8)} ${String(r.received).padStart(9)} ` +
          `${r.lossPercent.toFixed(2).padStart(7)} ${String(r.corrupt).padStart(8)} ${cell(r.rtt?.p50Ms)} ${cell(r.rtt?.p99Ms)}` +
          ` ${[r.hops!.gatewayIn, r.hops!.forwarderToTarget, r.hops!.forwarderFromTarget, r.hops!.gatewayToClients].map((n) => String(n).padStart(7)).join(' ')}\n`,
      );
    process.stdout.write(
      `\ngateway drops ${JSON.stringify(route.dropped)}; forwarder drops ${JSON.stringify(service.datagrams?.dropped ?? {})}\n`,
    );
    process.stdout.write(
      `${JSON.stringify({ direct, tunneled, loads, gatewayDrops: route.dropped, forwarderDrops: service.datagrams?.dropped })}\n`,
    );
  } finally {
    await gateway.stop(0);
    await forwarder.stop(0);
    echo.close();
    await relay.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
