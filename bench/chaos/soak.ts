/**
 * The soak: `npm run soak [-- --minutes 30]` keeps verified traffic flowing through real processes (short
 * connections, 1 MiB uploads and 8 MiB downloads) and samples each module's RSS and open handles every 10 s,
 * then prints the least-squares slopes per hour. Not part of CI.
 */
import { readdirSync } from 'node:fs';
import { addTotals, download, noTotals, upload, type TransferTotals } from './transfers';
import { ChaosWorld, DOWNLOAD_BYTES, rssMiB, socketCount } from './world';

interface Sample {
  readonly atS: number;
  readonly gwRss: number;
  readonly fwdRss: number;
  readonly gwFds: number;
  readonly fwdFds: number;
  readonly gwSockets: number;
  readonly fwdSockets: number;
}

function fdCount(pid: number | undefined): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

/** Least-squares slope of y over x. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--minutes');
  const minutes = i >= 0 ? Number(process.argv[i + 1]) : 30;
  if (!(minutes > 0)) throw new Error('--minutes must be positive');
  const world = await ChaosWorld.start();
  const samples: Sample[] = [];
  let totals: TransferTotals = noTotals();
  const started = Date.now();
  const endAt = started + minutes * 60_000;
  const sample = (): void => {
    const gw = world.gateway?.pid;
    const fwd = world.forwarder?.pid;
    samples.push({
      atS: (Date.now() - started) / 1000,
      gwRss: rssMiB(gw),
      fwdRss: rssMiB(fwd),
      gwFds: fdCount(gw),
      fwdFds: fdCount(fwd),
      gwSockets: socketCount(gw),
      fwdSockets: socketCount(fwd),
    });
    const s = samples[samples.length - 1]!;
    process.stderr.write(
      `soak ${s.atS.toFixed(0)} s: RSS gw ${s.gwRss} fwd ${s.fwdRss} MiB, fds gw ${s.gwFds} fwd ${s.fwdFds}, verified ${(totals.verified / 1048576).toFixed(0)} MiB, lost ${totals.lost}\n`,
    );
  };
  const timer = setInterval(sample, 10_000);
  try {
    let round = 0;
    while (Date.now() < endAt) {
      round++;
      const batch: Array<Promise<TransferTotals>> = Array.from({ length: 20 }, (_, k) =>
        upload(world.ports.sink, 1024, round * 100 + k, { timeoutMs: 30_000 }),
      );
      batch.push(upload(world.ports.sink, 1024 * 1024, round, { timeoutMs: 60_000 }));
      if (round % 5 === 0) batch.push(download(world.ports.source, DOWNLOAD_BYTES, { timeoutMs: 60_000 }));
      totals = (await Promise.all(batch)).reduce(addTotals, totals);
    }
  } finally {
    clearInterval(timer);
    sample();
    await world.close();
  }
  // The first minute is warm-up (JIT, heap growth to its working size): slopes are taken after it.
  // The last sample is taken after traffic stopped (its drop is not a trend): start → end only.
  const steady = samples.slice(0, -1).filter((s) => s.atS >= Math.min(60, (minutes * 60) / 3));
  const perHour = (pick: (s: Sample) => number): string =>
    (slope(steady.map((s) => [s.atS, pick(s)])) * 3600).toFixed(2);
  console.log(
    `soak ${minutes} min: ${totals.count} transfers, ${(totals.verified / 1048576).toFixed(0)} MiB verified, ${totals.lost} lost, ${totals.corrupt} corrupt`,
  );
  console.log(
    '| process | RSS start → end MiB | RSS slope MiB/h | fds start → end | fd slope /h | socket slope /h |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  const first = steady[0] ?? samples[0]!;
  const last = samples[samples.length - 1]!;
  console.log(
    `| relay-gateway | ${first.gwRss} → ${last.gwRss} | ${perHour((s) => s.gwRss)} | ${first.gwFds} → ${last.gwFds} | ${perHour((s) => s.gwFds)} | ${perHour((s) => s.gwSockets)} |`,
  );
  console.log(
    `| relay-forwarder | ${first.fwdRss} → ${last.fwdRss} | ${perHour((s) => s.fwdRss)} | ${first.fwdFds} → ${last.fwdFds} | ${perHour((s) => s.fwdFds)} | ${perHour((s) => s.fwdSockets)} |`,
  );
  if (totals.lost > 0 || totals.corrupt > 0) process.exitCode = 1;
}

if (require.main === module)
  void main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 2;
  });
