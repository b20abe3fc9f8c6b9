import { NOT_READY, ReadinessTracker } from '../../../../../modules/common/src/health/readiness';

describe('ReadinessTracker', () => {
  it('starts with the given conditions and is ready once all are cleared', async () => {
    const r = new ReadinessTracker([
      { code: NOT_READY.noConfiguration, message: 'no configuration received yet' },
    ]);
    expect(r.isReady()).toBe(false);
    expect(await r.check()).toEqual([{ code: 'no_configuration', message: 'no configuration received yet' }]);
    r.ready(NOT_READY.noConfiguration);
    expect(r.isReady()).toBe(true);
    expect(await r.check()).toEqual([]);
  });

  it('keeps conditions in the order they opened and rewords in place', () => {
    const r = new ReadinessTracker();
    r.notReady(NOT_READY.listenersOffline, '0 of 2 listeners online');
    r.notReady(NOT_READY.relayUnreachable, 'relay DNS failed');
    r.notReady(NOT_READY.listenersOffline, '1 of 2 listeners online');
    expect(r.reasons()).toEqual([
      { code: 'listeners_offline', message: '1 of 2 listeners online' },
      { code: 'relay_unreachable', message: 'relay DNS failed' },
    ]);
  });

  it('notifies on real changes only, until unsubscribed', () => {
    const r = new ReadinessTracker();
    const seen: number[] = [];
    const off = r.onChange((reasons) => seen.push(reasons.length));
    r.notReady('a', 'x');
    r.notReady('a', 'x');
    r.ready('b');
    r.notReady('b', 'y');
    r.ready('a');
    off();
    r.ready('b');
    expect(seen).toEqual([1, 2, 1]);
  });
});
