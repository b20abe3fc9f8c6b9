import {
  ConfigStatusTracker,
  MAX_REPORTED_PROBLEMS,
  reportConfigStatus,
} from '../../../../../modules/common/src/twin/config-status';

const AT = Date.UTC(2026, 0, 2, 3, 4, 5);

describe('config status', () => {
  it('starts waiting', () => {
    expect(reportConfigStatus(new ConfigStatusTracker().current)).toEqual({ status: 'waiting' });
  });

  it('reports the applied version, and a refusal beside it with paths and messages', () => {
    const tracker = new ConfigStatusTracker();
    tracker.received(4);
    tracker.applied(4, AT);
    tracker.received(5);
    tracker.refused(5, AT + 1000, [{ path: '/routes/a/port', message: 'must be <= 65535' }]);
    expect(reportConfigStatus(tracker.current)).toEqual({
      status: 'refused',
      version: 4,
      appliedAt: '2026-01-02T03:04:05.000Z',
      receivedVersion: 5,
      refused: {
        version: 5,
        at: '2026-01-02T03:04:06.000Z',
        problemCount: 1,
        problems: [{ path: '/routes/a/port', message: 'must be <= 65535' }],
      },
    });
    tracker.received(6);
    tracker.applied(6, AT + 2000);
    expect(reportConfigStatus(tracker.current)).toEqual({
      status: 'applied',
      version: 6,
      appliedAt: '2026-01-02T03:04:07.000Z',
      receivedVersion: 6,
    });
  });

  it('caps the problems listed, and counts them all', () => {
    const tracker = new ConfigStatusTracker();
    const problems = Array.from({ length: 50 }, (_, i) => ({ path: `/routes/r${i}/port`, message: 'bad' }));
    tracker.refused(1, AT, problems);
    const report = reportConfigStatus(tracker.current) as {
      refused: { problemCount: number; problems: unknown[] };
    };
    expect(report.refused.problemCount).toBe(50);
    expect(report.refused.problems).toHaveLength(MAX_REPORTED_PROBLEMS);
  });
});
