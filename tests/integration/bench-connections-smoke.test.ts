import type { ConnectionsReport } from '../../bench/connections/report';
import { reportOf, runTsNode, type TsNodeRun } from '../support/ts-node-run';

/** Runs `bench/connections/main.ts` as `npm run bench:connections` does, killed (by its pid) past the bound. */
const runConnectionsBench = (args: readonly string[], killAfterMs = 170_000): Promise<TsNodeRun> =>
  runTsNode('bench/connections/main.ts', args, { killAfterMs });

describe('npm run bench:connections (smoke, tiny sizes)', () => {
  // One run, every workload and mode; figures are not judged, only that every byte and answer was right.
  let run: TsNodeRun;
  let report: ConnectionsReport;

  beforeAll(async () => {
    run = await runConnectionsBench([
      '--json',
      // pgbench needs PostgreSQL installed, which a test cannot assume; the other four run everywhere.
      '--workloads',
      'concurrent,requests,fairness,bulk',
      '--concurrent',
      '20',
      '--ramp-concurrency',
      '8',
      '--hold-ms',
      '50',
      '--clients',
      '2',
      '--rounds',
      '1',
      '--round-ms',
      '300',
      '--fairness-samples',
      '10',
      '--fairness-rounds',
      '2',
      '--bulk-mib',
      '1',
      '--bulk-streams',
      '2',
      '--bulk-rounds',
      '1',
    ]);
    report = reportOf<ConnectionsReport>(run);
  }, 180_000);

  it('prints one JSON object, the table on stderr, and exits 0 with every workload passed', () => {
    expect(run.stderr).toContain('connection-per-request');
    expect({ ok: report.ok, code: run.code }).toEqual({ ok: true, code: 0 });
    expect(Object.keys(report.paths)).toEqual(['direct', 'baseline', 'cold', 'warm', 'mux']);
    for (const [name, path] of Object.entries(report.paths))
      expect({ name, errors: path.errors }).toEqual({ name, errors: [] });
  });

  it('answers every connection-per-request byte for byte, direct and tunneled', () => {
    for (const name of ['direct', 'cold', 'warm', 'mux']) {
      const r = report.paths[name]!.requests!;
      expect({ name, status: r.status, errors: r.errors }).toEqual({ name, status: 'ok', errors: 0 });
      expect(r.requests).toBeGreaterThan(0);
      expect(r.requestsPerSecond).toEqual(expect.any(Number));
    }
  });

  it('holds every connection, proves each before and after the hold, and counts one relay tunnel per client', () => {
    for (const name of ['cold', 'warm']) {
      const c = report.paths[name]!.concurrent!;
      expect(c).toMatchObject({
        status: 'ok',
        connections: 20,
        established: 20,
        verifiedAfterHold: 20,
        errors: 0,
      });
      expect(c.targetConnectionsHeld).toBe(20);
      // Today every client is its own relay connection (plus the warm pools' idle ones).
      expect(c.relayTunnels).toBeGreaterThanOrEqual(20);
      for (const role of ['gateway', 'forwarder']) expect(c.processes[role]!.rssHeldMiB).toBeGreaterThan(0);
    }
    // Multiplexed: the same proof per client; how many relay connections carried them is the bench's figure
    // (clients that came before the first mux connection was ready went classic, by design).
    expect(report.paths.mux!.concurrent!).toMatchObject({
      status: 'ok',
      connections: 20,
      established: 20,
      verifiedAfterHold: 20,
      errors: 0,
      targetConnectionsHeld: 20,
    });
  });

  it('checks the bulk streams by sha256 in the fairness and bulk workloads', () => {
    for (const name of ['direct', 'cold', 'warm', 'mux']) {
      const f = report.paths[name]!.fairness!;
      expect({ name, status: f.status, errors: f.errors }).toEqual({ name, status: 'ok', errors: [] });
      expect(f.bulkSha256Verified).toBe(2);
      expect(f.samples).toBe(10);
      expect(f.p99Ratio).toEqual(expect.any(Number));
    }
    for (const name of ['baseline', 'cold', 'warm', 'mux']) {
      const b = report.paths[name]!.bulk!;
      expect(b.singleStream).toMatchObject({ status: 'ok', sha256Verified: 1, sha256Mismatches: 0 });
      expect(b.parallel).toMatchObject({ status: 'ok', sha256Verified: 2, sha256Mismatches: 0 });
    }
  });

  it("checks the issue's goals for every mode", () => {
    // Per mode: requests vs direct, relay connections, KiB per stream, fairness, bulk vs baseline.
    expect(report.goals).toHaveLength(15);
    for (const g of report.goals) expect(typeof g.met).toBe('boolean');
  });
});

describe('npm run bench:connections (command line)', () => {
  it('refuses an unknown mode with exit 64 and names the known ones', async () => {
    const bad = await runConnectionsBench(['--modes', 'cold,turbo'], 60_000);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('unknown turbo (known: cold, warm, mux)');
  }, 70_000);
});
