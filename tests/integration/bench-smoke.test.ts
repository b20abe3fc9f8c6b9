import type { BenchReport } from '../../bench/report';
import { reportOf, runTsNode, type TsNodeRun } from '../support/ts-node-run';

/** Runs `bench/main.ts` the way `npm run bench` does, killing it (by its pid) if it outlives the bound. */
const runBench = (args: readonly string[], killAfterMs = 100_000): Promise<TsNodeRun> =>
  runTsNode('bench/main.ts', args, { killAfterMs });

describe('npm run bench (smoke, tiny sizes)', () => {
  // One run covers every variant; the corrupting proxy in front of hyco-ws proves the digest check is real.
  let run: TsNodeRun;
  let report: BenchReport;

  beforeAll(async () => {
    run = await runBench([
      '--json',
      '--total-mib',
      '1',
      '--streams',
      '2',
      '--bulk-rounds',
      '2',
      '--connections',
      '3',
      '--warmup',
      '1',
      '--idle',
      '5',
      '--idle-hold-ms',
      '50',
      '--corrupt-variant',
      'hyco-ws',
    ]);
    report = reportOf<BenchReport>(run);
  }, 110_000);

  it('prints exactly one JSON object on stdout, logs on stderr, and exits 1 because a variant failed', () => {
    expect(run.stdout.trim().startsWith('{')).toBe(true);
    expect(run.stdout.trim().endsWith('}')).toBe(true);
    expect(run.stderr).toContain('[bench');
    expect(report.ok).toBe(false);
    expect(run.code).toBe(1);
  });

  it('reports the corrupted variant as failed by sha256, with no throughput figure', () => {
    const hyco = report.variants['hyco-ws']!;
    expect(hyco.status).toBe('failed');
    for (const bulk of [hyco.throughput!.singleStream, hyco.throughput!.parallel]) {
      expect(bulk.status).toBe('failed');
      expect(bulk.MBps).toBeNull();
      // Every stream of every round was damaged, and every one was caught.
      expect(bulk.rounds).toBe(2);
      expect(bulk.sha256Mismatches).toBe(bulk.streams * 2);
      expect(bulk.sha256Verified).toBe(0);
      expect(bulk.errors.join(' ')).toContain('sha256 mismatch');
    }
    expect(report.ratios['ours/hyco-ws'].throughputSingle).toBeNull();
    // Only its bulk was corrupted: its latency and idle connections still worked.
    expect(hyco.latency!.errors).toBe(0);
    expect(hyco.idle!.errors).toBe(0);
  });

  it('measures every other variant with verified digests and no errors', () => {
    expect(report.settings.variants).toEqual(['direct', 'baseline', 'hyco-ws', 'ours']);
    for (const name of ['direct', 'baseline', 'ours'] as const) {
      const v = report.variants[name]!;
      expect({ name, errors: v.errors }).toEqual({ name, errors: [] });
      expect(v.status).toBe('ok');
      // Two rounds each: 1 + 1 single streams, 2 + 2 parallel ones, every digest equal.
      expect(v.throughput!.singleStream).toMatchObject({
        status: 'ok',
        streams: 1,
        rounds: 2,
        sha256Verified: 2,
      });
      expect(v.throughput!.parallel).toMatchObject({
        status: 'ok',
        streams: 2,
        rounds: 2,
        sha256Verified: 4,
      });
      expect(v.throughput!.singleStream.bytes).toBe(1024 * 1024);
      expect(v.throughput!.singleStream.MBps).toEqual(expect.any(Number));
      expect(v.latency).toMatchObject({ status: 'ok', connections: 3, errors: 0 });
      expect(v.latency!.p50Ms).toEqual(expect.any(Number));
      expect(v.latency!.p99Ms).toBeGreaterThanOrEqual(v.latency!.p50Ms!);
    }
    expect(report.variants.direct!.idle).toBeUndefined();
  });

  it('reports idle connections and per-process memory for the tunneled variants', () => {
    for (const name of ['baseline', 'hyco-ws', 'ours'] as const) {
      const idle = report.variants[name]!.idle!;
      expect(idle).toMatchObject({ connections: 5, established: 5, verifiedAfterHold: 5, errors: 0 });
      for (const role of ['gateway', 'forwarder']) {
        expect(idle.processes[role]!.peakRssMiB).toBeGreaterThan(0);
        expect(report.variants[name]!.processes[role]!.peakRssMiB).toBeGreaterThan(0);
      }
    }
    expect(report.variants.ours!.listeners).toBe(2);
    expect(report.relay!.peakRssMiB).toBeGreaterThan(0);
    expect(report.relay!.tunnelsOpened).toBeGreaterThan(0);
  });

  it('gives the ratios of ours to each variant and checks the targets', () => {
    for (const pair of ['ours/baseline', 'ours/direct'] as const) {
      const r = report.ratios[pair];
      expect(r.throughputSingle).toEqual(expect.any(Number));
      expect(r.throughputParallel).toEqual(expect.any(Number));
      expect(r.latencyP50).toEqual(expect.any(Number));
      expect(r.latencyP99).toEqual(expect.any(Number));
    }
    expect(report.targets).toHaveLength(4);
    for (const t of report.targets) expect(typeof t.met).toBe('boolean');
    // hyco-ws failed, so the "2x hyco-ws" target has no figure and cannot be met.
    expect(report.targets[2]).toMatchObject({ value: null, met: false });
    expect(report.targets[3]).toMatchObject({ value: 0, met: true });
  });
});
