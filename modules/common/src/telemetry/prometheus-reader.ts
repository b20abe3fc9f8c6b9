import {
  AggregationTemporality,
  AggregationTemporalitySelector,
  InstrumentType,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import { serializePrometheus } from './prometheus';

/**
 * Cumulative for everything except observable gauges, which are delta: a cumulative gauge keeps repeating the last
 * value of a series that is no longer observed (a removed hybrid connection would report "1 listener online" forever).
 */
export const pullTemporality: AggregationTemporalitySelector = (type) =>
  type === InstrumentType.OBSERVABLE_GAUGE ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;

/** A pull MetricReader: nothing is exported on a schedule; `scrape()` collects on demand and renders Prometheus text. */
export class PrometheusReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: pullTemporality });
  }

  /** Collects every instrument now and returns the Prometheus text exposition. */
  async scrape(): Promise<string> {
    const { resourceMetrics } = await this.collect();
    return serializePrometheus(resourceMetrics);
  }

  protected override async onShutdown(): Promise<void> {}

  protected override async onForceFlush(): Promise<void> {}
}
