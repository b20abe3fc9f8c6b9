import { RouteCounters } from '../../../../modules/relay-gateway/src/stats';

describe('RouteCounters startup failures', () => {
  it('counts no-listener failures before the first tunnel as startup, and none after', () => {
    const c = new RouteCounters();
    expect(c.snapshot(0, []).startup).toBeUndefined();
    c.countFailed('no-listener');
    c.countFailed('no-listener');
    c.countFailed('target-refused'); // a real failure even before the first tunnel
    c.countTunneled();
    c.countFailed('no-listener'); // the service has worked: a listener gone now is a real failure
    const s = c.snapshot(0, []);
    expect(s.startup).toBe(2);
    expect(s.failed).toEqual({ 'no-listener': 3, 'target-refused': 1 });
  });
});
