import { scrubForTwin } from '../../../modules/common/src/twin/scrub';
import type { JsonValue } from '../model/json';
import { sumFigures } from './history';
import type { BucketFigures, FleetDocument, FleetSnapshot, HistoryBucket, SourceStatus } from './view-types';

/** Everything the `/api/fleet` document is made of. */
export interface DocumentInput {
  readonly nowMs: number;
  readonly pollIntervalMs: number;
  readonly bucketMs: number;
  readonly source: SourceStatus;
  readonly snapshot: FleetSnapshot | null;
  readonly buckets: readonly HistoryBucket[];
  /** How many locations get their own line in the charts (default 6). */
  readonly chartedLocations?: number;
}

/**
 * The document the page renders (pure). Hour sums per location for the table, the busiest locations by bytes
 * for the charts. Every string is scrubbed of secret-shaped text and secret-named fields are replaced: the
 * inputs hold none (desired properties are never read), and this keeps it so whatever a module reports.
 */
export function buildDocument(input: DocumentInput): FleetDocument {
  const hourByLocation: Record<string, BucketFigures> = {};
  const ids = new Set<string>(input.snapshot?.locations.map((l) => l.id) ?? []);
  for (const b of input.buckets) for (const id of Object.keys(b.locations)) ids.add(id);
  for (const id of [...ids].sort()) {
    hourByLocation[id] = sumFigures(input.buckets.map((b) => b.locations[id]).filter((f) => f !== undefined));
  }
  const charted = Object.entries(hourByLocation)
    .filter(([, f]) => f.bytes > 0 || f.errors > 0 || f.connections > 0 || f.peakActive > 0)
    .sort(([a, fa], [b, fb]) => fb.bytes - fa.bytes || fb.connections - fa.connections || (a < b ? -1 : 1))
    .slice(0, input.chartedLocations ?? 6)
    .map(([id]) => id);
  const document: FleetDocument = {
    generatedAtMs: input.nowMs,
    pollIntervalMs: input.pollIntervalMs,
    source: input.source,
    snapshot: input.snapshot,
    history: {
      bucketMs: input.bucketMs,
      buckets: input.buckets,
      chartedLocations: charted,
      hourByLocation,
      hour: sumFigures(input.buckets.map((b) => b.fleet)),
    },
  };
  return scrubForTwin(document as unknown as JsonValue) as unknown as FleetDocument;
}
