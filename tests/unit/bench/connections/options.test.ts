import { DEFAULT_CONNECTIONS_OPTIONS, parseConnectionsArgs } from '../../../../bench/connections/options';
import { checkGoals, type PathReport } from '../../../../bench/connections/report';
import { heldConnectionsAllowed } from '../../../../bench/connections/run';

describe('bench:connections command line', () => {
  it('defaults to every workload and mode, 10,000 held connections', () => {
    expect(parseConnectionsArgs([])).toEqual({ ok: true, options: DEFAULT_CONNECTIONS_OPTIONS });
    expect(DEFAULT_CONNECTIONS_OPTIONS).toMatchObject({
      workloads: ['concurrent', 'requests', 'pgbench', 'fairness', 'bulk'],
      modes: ['cold', 'warm', 'mux'],
      concurrent: 10_000,
      warmConnections: 2,
      muxConnections: 4,
    });
  });

  it('keeps the canonical order of the lists it is given and reads every number', () => {
    const parsed = parseConnectionsArgs([
      '--workloads',
      'bulk,requests',
      '--modes',
      'warm',
      '--concurrent',
      '50',
      '--mux-connections',
      '1',
    ]);
    expect(parsed).toEqual({
      ok: true,
      options: {
        ...DEFAULT_CONNECTIONS_OPTIONS,
        workloads: ['requests', 'bulk'],
        modes: ['warm'],
        concurrent: 50,
        muxConnections: 1,
      },
    });
  });

  it('names every bad value at once', () => {
    const parsed = parseConnectionsArgs(['--workloads', 'nap', '--clients', '0', '--hold-ms', 'x']);
    expect(parsed.ok).toBe(false);
    const error = (parsed as { error: string }).error;
    expect(error).toContain(
      '--workloads: unknown nap (known: concurrent, requests, pgbench, fairness, bulk)',
    );
    expect(error).toContain('--clients must be a whole number >= 1');
    expect(error).toContain('--hold-ms must be a whole number >= 0');
  });
});

describe('held connections and the open-file limit', () => {
  it('holds what 2 descriptors per connection and 256 spare allow, never more than asked', () => {
    expect(heldConnectionsAllowed(20_000, 10_000)).toBe(9_872);
    expect(heldConnectionsAllowed(65_536, 10_000)).toBe(10_000);
    expect(heldConnectionsAllowed(100, 10_000)).toBe(0);
  });
});

describe('goal checks', () => {
  const path = (part: Partial<PathReport>): PathReport => ({ description: '', errors: [], ...part });

  it('compares each mode with direct and the baseline, and a missing figure is not met', () => {
    const requests = (requestsPerSecond: number | null) =>
      ({ status: requestsPerSecond === null ? 'failed' : 'ok', requestsPerSecond }) as PathReport['requests'];
    const goals = checkGoals(
      {
        direct: path({ requests: requests(1000) }),
        cold: path({ requests: requests(900) }),
        warm: path({ requests: requests(null) }),
      },
      ['cold', 'warm'],
    );
    expect(goals).toEqual([
      { goal: 'cold: requests/s >= 0.8x direct', value: 0.9, met: true },
      { goal: 'warm: requests/s >= 0.8x direct', value: null, met: false },
    ]);
  });
});
