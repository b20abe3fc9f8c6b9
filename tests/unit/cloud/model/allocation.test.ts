import { allocatePorts } from '../../../../cloud/src/model/allocation';

const portsOf = (r: ReturnType<typeof allocatePorts>) =>
  Object.fromEntries([...r.ports].map(([loc, m]) => [loc, Object.fromEntries(m)]));

describe('allocatePorts', () => {
  it('gives two locations with the same service names different ports, lowest first in (location, service) order', () => {
    const r = allocatePorts({
      firstPort: 20000,
      lastPort: 20009,
      requests: [
        { locationId: 'paris', services: ['sql', 'panel'] },
        { locationId: 'berlin', services: ['sql', 'panel'] },
      ],
      claims: [],
    });
    expect(portsOf(r)).toEqual({
      berlin: { panel: 20000, sql: 20001 },
      paris: { panel: 20002, sql: 20003 },
    });
    expect(r.exhausted.size).toBe(0);
  });

  it('keeps every valid claim, so an earlier allocation never moves', () => {
    const r = allocatePorts({
      firstPort: 20000,
      lastPort: 20009,
      requests: [
        { locationId: 'berlin', services: ['sql'] },
        { locationId: 'aachen', services: ['sql'] },
      ],
      claims: [{ locationId: 'berlin', service: 'sql', port: 20000, source: 'status' }],
    });
    expect(portsOf(r)).toEqual({ berlin: { sql: 20000 }, aachen: { sql: 20001 } });
  });

  it('prefers status claims over route claims and settles a double claim by (location, service)', () => {
    const r = allocatePorts({
      firstPort: 20000,
      lastPort: 20009,
      requests: [
        { locationId: 'a', services: ['x'] },
        { locationId: 'b', services: ['x'] },
        { locationId: 'c', services: ['x'] },
      ],
      claims: [
        { locationId: 'c', service: 'x', port: 20005, source: 'route' },
        { locationId: 'b', service: 'x', port: 20005, source: 'status' },
        { locationId: 'a', service: 'x', port: 20007, source: 'status' },
        { locationId: 'c', service: 'x', port: 20007, source: 'status' },
      ],
    });
    // a keeps 20007 over c (same source, a < c); b's status claim beats c's route claim on 20005.
    expect(portsOf(r)).toEqual({ a: { x: 20007 }, b: { x: 20005 }, c: { x: 20000 } });
  });

  it('drops claims outside the range, for services no longer wanted, and on blocked ports', () => {
    const r = allocatePorts({
      firstPort: 20000,
      lastPort: 20002,
      requests: [{ locationId: 'a', services: ['x', 'y'] }],
      claims: [
        { locationId: 'a', service: 'x', port: 19999, source: 'status' },
        { locationId: 'a', service: 'gone', port: 20001, source: 'status' },
        { locationId: 'a', service: 'y', port: 20002, source: 'status' },
      ],
      blocked: new Set([20000, 20002]),
    });
    expect(portsOf(r)).toEqual({ a: { x: 20001 } });
    expect(Object.fromEntries(r.exhausted)).toEqual({ a: ['y'] });
  });

  it('reports exhaustion on the location that did not fit and serves everyone else', () => {
    const r = allocatePorts({
      firstPort: 20000,
      lastPort: 20002,
      requests: [
        { locationId: 'a', services: ['x'] },
        { locationId: 'b', services: ['x', 'y'] },
        { locationId: 'c', services: ['x'] },
      ],
      claims: [{ locationId: 'c', service: 'x', port: 20002, source: 'status' }],
    });
    expect(portsOf(r)).toEqual({ a: { x: 20000 }, b: { x: 20001 }, c: { x: 20002 } });
    expect(Object.fromEntries(r.exhausted)).toEqual({ b: ['y'] });
  });

  it('lets a hold-only service keep its port without giving it a new one', () => {
    const r = allocatePorts({
      firstPort: 20000,
      lastPort: 20009,
      requests: [{ locationId: 'a', services: ['ok'], holdOnly: ['broken', 'new-broken'] }],
      claims: [{ locationId: 'a', service: 'broken', port: 20000, source: 'status' }],
    });
    expect(portsOf(r)).toEqual({ a: { broken: 20000, ok: 20001 } });
  });

  it('never hands out one port twice, whatever the claims', () => {
    const requests = Array.from({ length: 30 }, (_, i) => ({ locationId: `l${i}`, services: ['a', 'b'] }));
    const claims = requests.flatMap((r, i) => [
      { locationId: r.locationId, service: 'a', port: 20000 + (i % 7), source: 'status' as const },
      { locationId: r.locationId, service: 'b', port: 20000 + (i % 5), source: 'route' as const },
    ]);
    const r = allocatePorts({ firstPort: 20000, lastPort: 20049, requests, claims });
    const all = [...r.ports.values()].flatMap((m) => [...m.values()]);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(50);
    expect([...r.exhausted.values()].flat().length).toBe(10);
  });
});
