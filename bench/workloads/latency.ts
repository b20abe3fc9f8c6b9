import { EMPTY_DIGEST } from '../target/protocol';
import { BenchConnection } from './connection';
import { summarize, type LatencySummary } from './percentiles';

/** Connect + first-byte latency over sequential connections. */
export interface LatencyResult extends Partial<LatencySummary> {
  readonly status: 'ok' | 'failed';
  /** Connections measured (warm-up not included). */
  readonly connections: number;
  readonly errors: number;
  /** Connections that did not close cleanly within 5 s after their answer (counted, not timed). */
  readonly closeErrors: number;
  readonly errorSamples: readonly string[];
}

const MAX_ERROR_SAMPLES = 5;

/**
 * Times connections to one variant, one after another. Each is timed from the connect call to the first byte of
 * the target's answer to an 8-byte request: for a tunnel that is TCP accept, relay handshake and rendezvous, the
 * listener's dial of the target, and one round trip. Each connection is closed, and its close awaited, before
 * the next starts. Several `run` calls (interleaved with other variants' runs) add to the same sample.
 */
export class LatencyRecorder {
  private readonly samples: number[] = [];
  private readonly errorSamples: string[] = [];
  private errors = 0;
  private closeErrors = 0;
  private attempted = 0;

  constructor(private readonly port: number) {}

  /** Opens `count` connections in sequence; `counted: false` makes them warm-up only. */
  async run(count: number, counted = true): Promise<void> {
    for (let i = 0; i < count; i++) {
      if (counted) this.attempted += 1;
      const startedMs = performance.now();
      let connection: BenchConnection | undefined;
      try {
        connection = await BenchConnection.open(this.port, 15_000);
        const answer = await connection.request();
        if (!answer.equals(EMPTY_DIGEST)) throw new Error('wrong answer');
        if (counted) this.samples.push(connection.firstByteAtMs - startedMs);
      } catch (err) {
        if (counted) {
          this.errors += 1;
          if (this.errorSamples.length < MAX_ERROR_SAMPLES) this.errorSamples.push((err as Error).message);
        }
      }
      if (connection && !(await connection.close(5_000)) && counted) this.closeErrors += 1;
    }
  }

  /** The figures so far. */
  result(): LatencyResult {
    return {
      status: this.errors === 0 ? 'ok' : 'failed',
      connections: this.attempted,
      errors: this.errors,
      closeErrors: this.closeErrors,
      errorSamples: [...this.errorSamples],
      ...summarize(this.samples),
    };
  }
}

/** Splits `total` connections into `rounds` nearly equal shares. */
export function roundShares(total: number, rounds: number): number[] {
  const n = Math.max(1, Math.min(rounds, total));
  return Array.from({ length: n }, (_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));
}
