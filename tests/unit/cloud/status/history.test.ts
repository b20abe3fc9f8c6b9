import { BucketHistory, sumFigures } from '../../../../cloud/src/status/history';

const delta = (bytes: number, location?: string, errors = 0, connections = 0) => ({
  key: 'gw/r',
  ...(location !== undefined && { location }),
  bytes,
  errors,
  connections,
});

describe('BucketHistory', () => {
  it('sums differences per bucket for the fleet and per location, and keeps peaks of open tunnels', () => {
    const h = new BucketHistory({ bucketMs: 1000, bucketCount: 3 });
    h.record(10_100, [delta(100, 'a', 1, 2), delta(50)], new Map([['a', 2]]), 3);
    h.record(10_900, [delta(10, 'a')], new Map([['a', 1]]), 1);
    h.record(11_200, [delta(7, 'b')], new Map([['b', 4]]), 4);
    const buckets = h.buckets(11_500);
    expect(buckets.map((b) => b.startMs)).toEqual([9_000, 10_000, 11_000]);
    expect(buckets[0]).toEqual({
      startMs: 9_000,
      fleet: { bytes: 0, errors: 0, connections: 0, peakActive: 0 },
      locations: {},
    });
    expect(buckets[1]!.fleet).toEqual({ bytes: 160, errors: 1, connections: 2, peakActive: 3 });
    expect(buckets[1]!.locations).toEqual({ a: { bytes: 110, errors: 1, connections: 2, peakActive: 2 } });
    expect(buckets[2]!.locations).toEqual({ b: { bytes: 7, errors: 0, connections: 0, peakActive: 4 } });
  });

  it('reuses slots as time passes: old buckets read as zero, a gap stays a gap', () => {
    const h = new BucketHistory({ bucketMs: 1000, bucketCount: 3 });
    h.record(0, [delta(1, 'a')], new Map(), 0);
    h.record(1_000, [delta(2, 'a')], new Map(), 0);
    h.record(5_000, [delta(3, 'a')], new Map(), 0);
    const buckets = h.buckets(5_000);
    expect(buckets.map((b) => [b.startMs, b.fleet.bytes])).toEqual([
      [3_000, 0],
      [4_000, 0],
      [5_000, 3],
    ]);
  });

  it('rejects a nonsensical shape', () => {
    expect(() => new BucketHistory({ bucketMs: 0, bucketCount: 1 })).toThrow(RangeError);
    expect(() => new BucketHistory({ bucketMs: 1000, bucketCount: 0 })).toThrow(RangeError);
  });
});

describe('sumFigures', () => {
  it('adds counts and keeps the highest peak', () => {
    expect(
      sumFigures([
        { bytes: 1, errors: 2, connections: 3, peakActive: 4 },
        { bytes: 10, errors: 20, connections: 30, peakActive: 2 },
      ]),
    ).toEqual({ bytes: 11, errors: 22, connections: 33, peakActive: 4 });
    expect(sumFigures([])).toEqual({ bytes: 0, errors: 0, connections: 0, peakActive: 0 });
  });
});
