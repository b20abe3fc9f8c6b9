import type { CounterDelta } from './counters';
import type { BucketFigures, HistoryBucket } from './view-types';

/** Bucket size and how many buckets the ring keeps (bucketMs × bucketCount = the history's length). */
export interface HistoryOptions {
  readonly bucketMs: number;
  readonly bucketCount: number;
}

interface Bucket {
  /** Absolute bucket number (startMs / bucketMs): tells a reused slot from a current one. */
  index: number;
  fleet: Figures;
  locations: Map<string, Figures>;
}

interface Figures {
  bytes: number;
  errors: number;
  connections: number;
  peakActive: number;
}

const zero = (): Figures => ({ bytes: 0, errors: 0, connections: 0, peakActive: 0 });

/**
 * A fixed ring of time buckets (pure, bounded memory: bucketCount × locations). Each poll adds its counter
 * differences to the bucket of its time and raises the bucket's peak of open tunnels, for the fleet and per
 * location. Buckets nobody wrote read as zero, so a gap in polling shows as a gap, not as a line across it.
 */
export class BucketHistory {
  private readonly ring: (Bucket | undefined)[];

  constructor(private readonly options: HistoryOptions) {
    if (!(options.bucketMs > 0) || !(Number.isInteger(options.bucketCount) && options.bucketCount > 0))
      throw new RangeError('bucketMs must be > 0 and bucketCount a positive integer');
    this.ring = new Array<Bucket | undefined>(options.bucketCount);
  }

  /** Records one poll: differences since the previous poll and the tunnels open now (per location and in all). */
  record(
    atMs: number,
    deltas: readonly CounterDelta[],
    activeByLocation: ReadonlyMap<string, number>,
    activeTotal: number,
  ): void {
    const bucket = this.bucketAt(atMs);
    for (const d of deltas) {
      add(bucket.fleet, d);
      if (d.location !== undefined) add(this.figures(bucket, d.location), d);
    }
    bucket.fleet.peakActive = Math.max(bucket.fleet.peakActive, activeTotal);
    for (const [location, active] of activeByLocation) {
      const f = this.figures(bucket, location);
      f.peakActive = Math.max(f.peakActive, active);
    }
  }

  /** Every bucket of the history ending with the one holding `nowMs`, oldest first; empty ones as zeros. */
  buckets(nowMs: number): HistoryBucket[] {
    const { bucketMs, bucketCount } = this.options;
    const last = Math.floor(nowMs / bucketMs);
    const out: HistoryBucket[] = [];
    for (let index = last - bucketCount + 1; index <= last; index++) {
      const b = this.ring[mod(index, bucketCount)];
      const current = b !== undefined && b.index === index;
      const locations: Record<string, BucketFigures> = {};
      if (current) for (const [id, f] of b.locations) locations[id] = { ...f };
      out.push({ startMs: index * bucketMs, fleet: current ? { ...b.fleet } : zero(), locations });
    }
    return out;
  }

  private bucketAt(atMs: number): Bucket {
    const index = Math.floor(atMs / this.options.bucketMs);
    const slot = mod(index, this.options.bucketCount);
    let bucket = this.ring[slot];
    if (bucket === undefined || bucket.index !== index) {
      bucket = { index, fleet: zero(), locations: new Map() };
      this.ring[slot] = bucket;
    }
    return bucket;
  }

  private figures(bucket: Bucket, location: string): Figures {
    let f = bucket.locations.get(location);
    if (!f) bucket.locations.set(location, (f = zero()));
    return f;
  }
}

/** Sums figures over buckets; peaks take the highest. */
export function sumFigures(list: readonly BucketFigures[]): BucketFigures {
  const total = zero();
  for (const f of list) {
    total.bytes += f.bytes;
    total.errors += f.errors;
    total.connections += f.connections;
    total.peakActive = Math.max(total.peakActive, f.peakActive);
  }
  return total;
}

function add(f: Figures, d: CounterDelta): void {
  f.bytes += d.bytes;
  f.errors += d.errors;
  f.connections += d.connections;
}

function mod(n: number, m: number): number {
  return ((n % m) + m) % m;
}
