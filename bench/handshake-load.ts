/**
 * Handshake latency and rate of the sandbox relay, idle and under bulk load, with TLS in the relay's own event
 * loop (0 fronts) and in front processes (2). Prints one table.
 *
 *   npm run bench:handshake [-- --fronts 0,2 --streams 4 --samples 40]
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { endpointFromConnectionString } from '../modules/common/src/hc/endpoint';
import { HybridConnectionListener } from '../modules/common/src/hc/listener';
import { connectHybridConnection } from '../modules/common/src/hc/sender';
import { BenchProcess } from './process/bench-process';
import { buildChildEntries, type BenchBuild } from './process/build';
import { RELAY_ENTRY, startBenchRelay, type BenchRelay } from './relay';
import { summarize } from './workloads/percentiles';

const LOAD_ENTRY = 'bench/handshake/load-main.ts';

interface Row {
  fronts: number;
  load: string;
  tlsP50: number;
  tlsP90: number;
  tlsMax: number;
  hcP50: number;
  hcMax: number;
  burstPerSec: number;
  bulkMiBs: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** One fresh TLS handshake to the relay: TCP connect to secureConnect, in ms. */
async function tlsHandshakeMs(relay: BenchRelay): Promise<number> {
  const [host, port] = relay.namespace.split(':');
  const started = process.hrtime.bigint();
  const socket = connect({ host, port: Number(port), ca: relay.caPem, servername: 'localhost' });
  await once(socket, 'secureConnect');
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  socket.destroy();
  return ms;
}

async function measure(
  relay: BenchRelay,
  samples: number,
  send: string,
  load: string,
  fronts: number,
): Promise<Row> {
  const before = await relay.stats();
  const startedMs = Date.now();
  const tls: number[] = [];
  for (let i = 0; i < samples; i++) tls.push(await tlsHandshakeMs(relay));
  const endpoint = endpointFromConnectionString(send, { tls: { ca: relay.caPem } });
  const hc: number[] = [];
  for (let i = 0; i < Math.ceil(samples / 2); i++) {
    const t0 = Date.now();
    const ws = await connectHybridConnection(endpoint, { timeoutMs: 30_000 });
    hc.push(Date.now() - t0);
    ws.terminate();
  }
  // A burst like the 200-concurrent e2e test: 100 handshakes at once.
  const burstStarted = Date.now();
  await Promise.all(Array.from({ length: 100 }, () => tlsHandshakeMs(relay)));
  const burstPerSec = Math.round(100_000 / Math.max(1, Date.now() - burstStarted));
  const after = await relay.stats();
  const bytes = after.counters.bytesSenderToListener - before.counters.bytesSenderToListener;
  const t = summarize(tls)!;
  const h = summarize(hc)!;
  return {
    fronts,
    load,
    tlsP50: t.p50Ms,
    tlsP90: t.p90Ms,
    tlsMax: t.maxMs,
    hcP50: h.p50Ms,
    hcMax: h.maxMs,
    burstPerSec,
    bulkMiBs: Math.round((bytes / 1048576 / ((Date.now() - startedMs) / 1000)) * 10) / 10,
  };
}

async function runOne(
  build: BenchBuild,
  fronts: number,
  streams: number,
  samples: number,
  dir: string,
): Promise<Row[]> {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const relay = await startBenchRelay(build, join(dir, `relay-${fronts}`), log, [
    '--tls-fronts',
    String(fronts),
  ]);
  const rows: Row[] = [];
  let load: BenchProcess | undefined;
  try {
    const probeKeys = await relay.createHybridConnection('probe2');
    const bulk = await relay.createHybridConnection('bulk');
    const probeListener = new HybridConnectionListener(
      endpointFromConnectionString(probeKeys.listenConnectionString, { tls: { ca: relay.caPem } }),
    );
    probeListener.on('connection', (ws) => ws.on('error', () => undefined));
    probeListener.start();
    await once(probeListener, 'online');
    try {
      rows.push(await measure(relay, samples, probeKeys.sendConnectionString, 'idle', fronts));
      load = BenchProcess.start({
        role: 'load',
        script: build.script(LOAD_ENTRY),
        env: {
          NODE_PATH: build.nodePath,
          HANDSHAKE_LOAD_CONFIG: JSON.stringify({
            listenConnectionString: bulk.listenConnectionString,
            sendConnectionString: bulk.sendConnectionString,
            caFile: relay.caFile,
            streams,
          }),
        },
        log,
      });
      await load.waitForLine((line) => line.includes('"ready"'), 60_000);
      await new Promise((r) => setTimeout(r, 1000));
      rows.push(await measure(relay, samples, probeKeys.sendConnectionString, `bulk x${streams}`, fronts));
    } finally {
      await probeListener.close();
    }
  } finally {
    await load?.stop('SIGTERM');
    await relay.stop();
  }
  return rows;
}

async function main(): Promise<void> {
  const frontsList = arg('fronts', '0,2').split(',').map(Number);
  const streams = Number(arg('streams', '4'));
  const samples = Number(arg('samples', '40'));
  const dir = await mkdtemp(join(tmpdir(), 'bench-handshake-'));
  const build = await buildChildEntries([RELAY_ENTRY, LOAD_ENTRY]);
  const rows: Row[] = [];
  try {
    for (const fronts of frontsList) rows.push(...(await runOne(build, fronts, streams, samples, dir)));
  } finally {
    await build.remove();
    await rm(dir, { recursive: true, force: true });
  }
  const header = [
    'fronts',
    'load',
    'TLS p50 ms',
    'TLS p90 ms',
    'TLS max ms',
    'HC connect p50 ms',
    'HC connect max ms',
    'burst handshakes/s',
    'bulk MiB/s',
  ];
  const lines = rows.map((r) =>
    [
      r.fronts,
      r.load,
      r.tlsP50.toFixed(1),
      r.tlsP90.toFixed(1),
      r.tlsMax.toFixed(1),
      r.hcP50,
      r.hcMax,
      r.burstPerSec,
      r.bulkMiBs,
    ].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(
    `sandbox relay handshakes (load average at end ${loadavg()[0]!.toFixed(2)}, ${samples} sequential samples, burst of 100)`,
  );
  console.log(fmt(header));
  for (const line of lines) console.log(fmt(line));
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
