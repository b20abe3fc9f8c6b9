import fc from 'fast-check';
import {
  placeOnShards,
  type GatewayShard,
  type ShardCandidate,
} from '../../../../cloud/src/plan/gateway-shards';

const shards = (n: number, base = 100, acceptsNew = true): GatewayShard[] =>
  Array.from({ length: n }, (_, i) => ({
    moduleId: i === 0 ? 'relay-gateway' : `relay-gateway-${i + 1}`,
    baseBytes: base,
    acceptsNew,
  }));

const ids = (m: ReadonlyMap<string, string>, moduleId: string) =>
  [...m].filter(([, s]) => s === moduleId).map(([id]) => id);

describe('placeOnShards', () => {
  it('balances newcomers by twin size: each goes to the instance with the smallest bound', () => {
    const r = placeOnShards({
      shards: shards(3),
      candidates: [
        { locationId: 'a', bytes: 500 },
        { locationId: 'b', bytes: 100 },
        { locationId: 'c', bytes: 100 },
        { locationId: 'd', bytes: 100 },
        { locationId: 'e', bytes: 100 },
      ],
      maxBytes: 10_000,
      targetBytes: 10_000,
    });
    // a → 1 (all empty, first wins); b → 2; c → 3; d → 2 (200 < 600); e → 3.
    expect(ids(r.placement, 'relay-gateway')).toEqual(['a']);
    expect(ids(r.placement, 'relay-gateway-2')).toEqual(['b', 'd']);
    expect(ids(r.placement, 'relay-gateway-3')).toEqual(['c', 'e']);
    expect(r.boundBytes.get('relay-gateway')).toBe(600);
    expect(r.refused.size).toBe(0);
  });

  it('keeps a placed location where it is, even when another instance has more room', () => {
    const r = placeOnShards({
      shards: shards(2),
      candidates: [
        { locationId: 'a', bytes: 300, currentModuleId: 'relay-gateway-2' },
        { locationId: 'b', bytes: 300, currentModuleId: 'relay-gateway-2' },
        { locationId: 'c', bytes: 300 },
      ],
      maxBytes: 10_000,
      targetBytes: 10_000,
    });
    expect(ids(r.placement, 'relay-gateway-2')).toEqual(['a', 'b']);
    expect(ids(r.placement, 'relay-gateway')).toEqual(['c']);
  });

  it('lets placed locations use the hard bound but newcomers only the target', () => {
    const r = placeOnShards({
      shards: shards(1, 0),
      candidates: [
        { locationId: 'old-1', bytes: 400, currentModuleId: 'relay-gateway' },
        { locationId: 'old-2', bytes: 400, currentModuleId: 'relay-gateway' },
        { locationId: 'new', bytes: 100 },
      ],
      maxBytes: 1000,
      targetBytes: 800,
    });
    expect([...r.placement.keys()]).toEqual(['old-1', 'old-2']);
    expect([...r.refused]).toEqual(['new']);
  });

  it('moves a placed location only when its twin overflowed the hard bound', () => {
    const r = placeOnShards({
      shards: shards(2, 0),
      candidates: [
        { locationId: 'a', bytes: 600, currentModuleId: 'relay-gateway' },
        { locationId: 'b', bytes: 600, currentModuleId: 'relay-gateway' },
      ],
      maxBytes: 1000,
      targetBytes: 1000,
    });
    expect(r.placement.get('a')).toBe('relay-gateway');
    expect(r.placement.get('b')).toBe('relay-gateway-2');
  });

  it('places no newcomer on an instance some gateway device lacks, but keeps what is there', () => {
    const list = shards(2);
    const r = placeOnShards({
      shards: [list[0]!, { ...list[1]!, acceptsNew: false }],
      candidates: [
        { locationId: 'a', bytes: 100, currentModuleId: 'relay-gateway-2' },
        { locationId: 'b', bytes: 100 },
        { locationId: 'c', bytes: 100 },
      ],
      maxBytes: 10_000,
      targetBytes: 10_000,
    });
    expect(r.placement.get('a')).toBe('relay-gateway-2');
    expect(r.placement.get('b')).toBe('relay-gateway');
    expect(r.placement.get('c')).toBe('relay-gateway');
  });

  it('refuses a location only when every instance is full; a smaller one behind it still fits', () => {
    const r = placeOnShards({
      shards: shards(2, 0),
      candidates: [
        { locationId: 'a', bytes: 700 },
        { locationId: 'b', bytes: 700 },
        { locationId: 'c', bytes: 700 },
        { locationId: 'd', bytes: 300 },
      ],
      maxBytes: 1000,
      targetBytes: 1000,
    });
    expect([...r.refused]).toEqual(['c']);
    expect(r.placement.get('d')).toBe('relay-gateway');
  });

  it('places a location that holds ports (but sits in no twin) before a newcomer that sorts first', () => {
    const r = placeOnShards({
      shards: shards(1, 0),
      candidates: [
        { locationId: 'aaa', bytes: 600 },
        { locationId: 'zzz', bytes: 600, holdsPorts: true },
      ],
      maxBytes: 1000,
      targetBytes: 1000,
    });
    expect([...r.placement.keys()]).toEqual(['zzz']);
    expect([...r.refused]).toEqual(['aaa']);
  });

  it('over any sequence of arrivals and departures: nobody placed moves, newcomers keep twins within the target', () => {
    const step = fc.record({
      add: fc.array(fc.integer({ min: 50, max: 400 }), { maxLength: 12 }),
      remove: fc.array(fc.nat(), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(step, { minLength: 1, maxLength: 8 }),
        (n, steps) => {
          const target = 1500;
          let next = 0;
          let live = new Map<string, { bytes: number; at?: string }>();
          for (const s of steps) {
            const ids = [...live.keys()];
            for (const r of s.remove) if (ids.length > 0) live.delete(ids[r % ids.length]!);
            for (const bytes of s.add) live.set(`l${String(next++).padStart(4, '0')}`, { bytes });
            const candidates: ShardCandidate[] = [...live].map(([locationId, l]) => ({
              locationId,
              bytes: l.bytes,
              ...(l.at !== undefined && { currentModuleId: l.at }),
            }));
            const r = placeOnShards({
              shards: shards(n, 100),
              candidates,
              maxBytes: 2000,
              targetBytes: target,
            });
            for (const [id, l] of live) {
              const at = r.placement.get(id);
              if (l.at !== undefined) expect(at).toBe(l.at);
              expect(at === undefined).toBe(r.refused.has(id));
            }
            for (const bound of r.boundBytes.values()) expect(bound).toBeLessThanOrEqual(target);
            // Refused only when no instance had room for it.
            for (const id of r.refused)
              for (const bound of r.boundBytes.values())
                expect(bound + live.get(id)!.bytes).toBeGreaterThan(target);
            const placed = new Map<string, { bytes: number; at?: string }>();
            for (const [id, l] of live) {
              const at = r.placement.get(id);
              if (at !== undefined) placed.set(id, { bytes: l.bytes, at });
            }
            live = placed;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
