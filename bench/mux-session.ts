/**
 * The mux layer alone: one mux connection over a loopback ws pair (no TLS, no relay, both ends in this process),
 * measuring what the framing and its writer cost apart from sockets, TLS and the relay — and apart from the load of
 * a shared machine, since it needs one core only. Prints one line per workload:
 *
 *   npx ts-node --transpile-only bench/mux-session.ts [requests|bulk|fairness ...]
 *
 * - requests: 16 concurrent one-request streams (86 bytes up, 1,124 down, both ends FIN) for 3 s: requests/s, CPU ms
 *   per request and WebSocket messages per request each way.
 * - bulk: 256 MiB through 1 stream, then 4 streams: MB/s.
 * - fairness: 1-byte round trips on one stream, idle and beside a bulk upload on another stream of the same
 *   connection: p50/p99 each.
 * Figures are in docs/benchmarks.md ("The mux layer alone").
 */
import { once } from 'node:events';
import type { MuxStream } from '../modules/common/src/mux/stream';
import { openMuxPair, type MuxPair } from '../tests/support/mux-pair';

const REQUEST = Buffer.alloc(86, 3);
const ignore = (): void => undefined;
const RESPONSE = Buffer.alloc(1124, 7);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function requests(pair: MuxPair): Promise<string> {
  let toAcceptor = 0;
  let toOpener = 0;
  pair.serverWs.on('message', () => toAcceptor++);
  pair.clientWs.on('message', () => toOpener++);
  pair.acceptor.on('stream', (s: MuxStream) => {
    s.on('error', ignore); // streams still open when the pair closes at the end
    s.accept();
    s.once('data', () => s.end(RESPONSE));
    s.resume();
  });
  const started = performance.now();
  const cpu = process.cpuUsage();
  const deadline = started + 3000;
  let done = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < deadline) {
        const s = pair.opener.openStream({ port: 'x', headers: { 'x-hrf-client': '127.0.0.1:5000' } });
        await s.accepted;
        s.write(REQUEST);
        let got = 0;
        s.on('data', (c: Buffer) => (got += c.length));
        await once(s, 'end');
        s.end();
        if (!s.closed) await once(s, 'close');
        if (got !== RESPONSE.length) throw new Error(`answer of ${got} bytes`);
        done++;
      }
    }),
  );
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return (
    `requests: ${Math.round((done / elapsed) * 1000)}/s, ${((used.user + used.system) / 1000 / done).toFixed(3)} ms CPU ` +
    `per request, messages per request ${(toAcceptor / done).toFixed(2)} to the listener, ${(toOpener / done).toFixed(2)} back`
  );
}

function serveSinkAndEcho(pair: MuxPair): void {
  pair.acceptor.on('stream', (s: MuxStream) => {
    s.on('error', ignore); // streams still open when the pair closes at the end
    s.accept();
    if (s.meta.port === 'echo') s.pipe(s);
    else {
      s.resume();
      s.on('end', () => s.end());
    }
  });
}

async function upload(pair: MuxPair, bytes: number): Promise<void> {
  const s = pair.opener.openStream({ port: 'sink', headers: {} });
  await s.accepted;
  const chunk = Buffer.alloc(64 * 1024, 1);
  const ended = once(s, 'end');
  s.resume();
  for (let sent = 0; sent < bytes; sent += chunk.length) if (!s.write(chunk)) await once(s, 'drain');
  s.end();
  await ended;
}

async function bulk(pair: MuxPair): Promise<string> {
  serveSinkAndEcho(pair);
  const total = 256 * 1024 * 1024;
  const rates: string[] = [];
  for (const streams of [1, 4]) {
    const started = performance.now();
    await Promise.all(Array.from({ length: streams }, () => upload(pair, total / streams)));
    rates.push(`${streams} stream(s) ${Math.round(total / (performance.now() - started) / 1000)} MB/s`);
  }
  return `bulk: ${rates.join(', ')}`;
}

async function roundTrips(s: MuxStream, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = performance.now();
    s.write(Buffer.from('x'));
    await once(s, 'data');
    out.push(performance.now() - at);
  }
  return out.sort((a, b) => a - b);
}

async function fairness(pair: MuxPair): Promise<string> {
  serveSinkAndEcho(pair);
  const echo = pair.opener.openStream({ port: 'echo', headers: {} });
  await echo.accepted;
  const idle = await roundTrips(echo, 400);
  let stop = false;
  const bulkStream = pair.opener.openStream({ port: 'sink', headers: {} });
  await bulkStream.accepted;
  const chunk = Buffer.alloc(64 * 1024, 1);
  const pumping = (async () => {
    while (!stop) if (!bulkStream.write(chunk)) await once(bulkStream, 'drain');
    bulkStream.end();
  })();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const beside = await roundTrips(echo, 400);
  stop = true;
  await pumping;
  const f = (xs: number[]): string =>
    `${percentile(xs, 0.5).toFixed(3)} / ${percentile(xs, 0.99).toFixed(3)} ms`;
  return `fairness: 1-byte round trip p50 / p99 idle ${f(idle)}, beside a bulk stream ${f(beside)}`;
}

const WORKLOADS = { requests, bulk, fairness } as const;

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  for (const name of names.length > 0 ? names : Object.keys(WORKLOADS)) {
    const run = WORKLOADS[name as keyof typeof WORKLOADS];
    if (!run) throw new Error(`unknown workload ${name} (known: ${Object.keys(WORKLOADS).join(', ')})`);
    const pair = await openMuxPair();
    try {
      process.stdout.write(`${await run(pair)}\n`);
    } finally {
      await pair.close();
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
