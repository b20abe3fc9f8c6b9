import { CounterTracker } from '../../../../cloud/src/status/counters';
import type { RouteCounterSample } from '../../../../cloud/src/status/view-types';

const sample = (
  key: string,
  bytes: number,
  errors = 0,
  connections = 0,
  extra: Partial<RouteCounterSample> = {},
): RouteCounterSample => ({
  key,
  epoch: 'e1',
  location: 'plant-7',
  active: 0,
  counters: { bytes, errors, connections },
  ...extra,
});

describe('CounterTracker', () => {
  it('takes the first poll as the baseline, then reports differences', () => {
    const t = new CounterTracker(60_000);
    expect(t.update([sample('gw/a', 1000, 1, 5)], 0)).toEqual([]);
    expect(t.update([sample('gw/a', 1500, 3, 7)], 1000)).toEqual([
      { key: 'gw/a', location: 'plant-7', bytes: 500, errors: 2, connections: 2 },
    ]);
    expect(t.update([sample('gw/a', 1500, 3, 7)], 2000)).toEqual([
      { key: 'gw/a', location: 'plant-7', bytes: 0, errors: 0, connections: 0 },
    ]);
  });

  it('counts all of a route first seen after the baseline (it started at zero)', () => {
    const t = new CounterTracker(60_000);
    t.update([sample('gw/a', 10)], 0);
    const deltas = t.update([sample('gw/a', 10), sample('gw/b', 300, 1, 2)], 1000);
    expect(deltas).toContainEqual({
      key: 'gw/b',
      location: 'plant-7',
      bytes: 300,
      errors: 1,
      connections: 2,
    });
  });

  it('treats a new module start time or a counter that went down as a restart from zero', () => {
    const t = new CounterTracker(60_000);
    t.update([sample('gw/a', 1000, 0, 10)], 0);
    expect(t.update([sample('gw/a', 1200, 0, 11, { epoch: 'e2' })], 1000)[0]).toMatchObject({
      bytes: 1200,
      connections: 11,
    });
    expect(t.update([sample('gw/a', 50, 0, 1, { epoch: 'e2' })], 2000)[0]).toMatchObject({
      bytes: 50,
      connections: 1,
    });
  });

  it('skips routes without counters (compact reports) and keeps their last values', () => {
    const t = new CounterTracker(60_000);
    t.update([sample('gw/a', 100)], 0);
    const { counters: _dropped, ...withoutCounters } = sample('gw/a', 0);
    expect(t.update([withoutCounters], 1000)).toEqual([]);
    expect(t.update([sample('gw/a', 160)], 2000)[0]).toMatchObject({ bytes: 60 });
  });

  it('forgets routes unseen for longer than forgetAfterMs', () => {
    const t = new CounterTracker(5_000);
    t.update([sample('gw/a', 100)], 0);
    t.update([], 10_000);
    // Forgotten: when it comes back, everything counts as new (it must have been recreated).
    expect(t.update([sample('gw/a', 100)], 11_000)[0]).toMatchObject({ bytes: 100 });
  });
});
