import type { Attributes, Meter } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricData, MetricReader } from '@opentelemetry/sdk-metrics';
import { createRelayMetrics, RelayMetrics } from '../../modules/common/src/telemetry/metrics';
import { INSTRUMENTS, InstrumentKey } from '../../modules/common/src/telemetry/instruments';
import { pullTemporality } from '../../modules/common/src/telemetry/prometheus-reader';

/**
 * A reader that only collects when asked: no timers, so tests stay deterministic and leave nothing running.
 * Same temporality as the Prometheus reader, so a test sees what a scrape would.
 */
class ManualReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: pullTemporality });
  }

  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** One data point, flattened: sums and gauges give `value`; histograms give count, sum and per-bucket counts. */
export interface Point {
  readonly attributes: Attributes;
  readonly value: number;
  readonly histogram?: {
    readonly count: number;
    readonly sum: number;
    readonly boundaries: number[];
    readonly counts: number[];
  };
}

/** Instrument name (or facade key) → points, as of one collection. */
export class MetricsSnapshot {
  constructor(private readonly byName: ReadonlyMap<string, readonly Point[]>) {}

  /** Every point of an instrument (by OTel name like `relay.tunnel.bytes`, or facade key like `tunnelBytes`). */
  points(instrument: string): readonly Point[] {
    return this.byName.get(resolveName(instrument)) ?? [];
  }

  /** Sum of the values of the points whose attributes include every pair in `match` (0 when none match). */
  value(instrument: string, match: Attributes = {}): number {
    return this.matching(instrument, match).reduce((total, p) => total + p.value, 0);
  }

  /** Histogram totals over the matching points: number of recordings and their sum. */
  histogram(instrument: string, match: Attributes = {}): { count: number; sum: number } {
    return this.matching(instrument, match).reduce(
      (acc, p) => ({ count: acc.count + (p.histogram?.count ?? 0), sum: acc.sum + (p.histogram?.sum ?? 0) }),
      { count: 0, sum: 0 },
    );
  }

  /** Points whose attributes include every pair in `match`. */
  matching(instrument: string, match: Attributes = {}): readonly Point[] {
    return this.points(instrument).filter((p) =>
      Object.entries(match).every(([k, v]) => p.attributes[k] === v),
    );
  }

  /** Instrument names that produced at least one point. */
  names(): string[] {
    return [...this.byName.keys()];
  }
}

/** A MeterProvider wired to an on-demand reader, plus the relay facade on it. */
export interface TestMetrics {
  readonly meterProvider: MeterProvider;
  readonly meter: Meter;
  /** The facade modules use, bound to `module`. */
  readonly metrics: RelayMetrics;
  /** Collects now (observable instruments run their callbacks) and returns readable values. */
  collect(): Promise<MetricsSnapshot>;
  shutdown(): Promise<void>;
}

/** Builds in-memory metrics for a test; pass `nowMs` to control the token-expiry gauge's clock. */
export function createTestMetrics(options: { module?: string; nowMs?: () => number } = {}): TestMetrics {
  const reader = new ManualReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const meter = meterProvider.getMeter('test');
  return {
    meterProvider,
    meter,
    metrics: createRelayMetrics(meter, { module: options.module ?? 'test-module', nowMs: options.nowMs }),
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length) throw new AggregateError(errors, 'metric collection failed');
      const byName = new Map<string, Point[]>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          byName.set(metric.descriptor.name, [
            ...(byName.get(metric.descriptor.name) ?? []),
            ...flatten(metric),
          ]);
        }
      }
      return new MetricsSnapshot(byName);
    },
    shutdown: () => meterProvider.shutdown(),
  };
}

function flatten(metric: MetricData): Point[] {
  switch (metric.dataPointType) {
    case DataPointType.HISTOGRAM:
      return metric.dataPoints.map((p) => ({
        attributes: p.attributes,
        value: p.value.count,
        histogram: {
          count: p.value.count,
          sum: p.value.sum ?? 0,
          boundaries: p.value.buckets.boundaries,
          counts: p.value.buckets.counts,
        },
      }));
    case DataPointType.SUM:
    case DataPointType.GAUGE:
      return metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value }));
    default:
      return [];
  }
}

function resolveName(instrument: string): string {
  return instrument in INSTRUMENTS ? INSTRUMENTS[instrument as InstrumentKey].name : instrument;
}
