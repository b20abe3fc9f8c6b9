import type { BenchProcess } from '../process/bench-process';
import { BenchConnection } from './connection';
import { CpuMeter } from './cpu';
import type { PayloadSource } from './payload';

/** One bulk measurement: `streams` connections upload `totalBytes` between them, each checked by SHA-256. */
export interface BulkResult {
  readonly status: 'ok' | 'failed';
  /** Parallel connections per round. */
  readonly streams: number;
  readonly bytes: number;
  /** From the first connect to the last verified digest (summed over rounds). */
  readonly elapsedMs: number;
  /** 10^6 bytes per second; null when the run failed (a wrong digest is a failure, not a figure). */
  readonly MBps: number | null;
  /** Streams whose target-side SHA-256 equalled the sender's (over all rounds). */
  readonly sha256Verified: number;
  readonly sha256Mismatches: number;
  readonly errors: readonly string[];
  /** CPU ms used during the run, per process role (and `client+target` for the bench process). */
  readonly cpuMs: Readonly<Record<string, number>>;
  /** Rounds the bytes were split into (interleaved with the other variants). */
  readonly rounds: number;
  /** Throughput of each round, for the spread. */
  readonly roundMBps: readonly (number | null)[];
}

const MAX_ERRORS = 10;
const mbps = (bytes: number, elapsedMs: number): number =>
  Math.round((bytes / 1e6 / (elapsedMs / 1000)) * 10) / 10;

/** Adds up the rounds of one bulk measurement; the aggregate is bytes over summed elapsed time. */
export class BulkAccumulator {
  private readonly rounds: BulkResult[] = [];

  add(round: BulkResult): void {
    this.rounds.push(round);
  }

  /** The aggregate, or undefined before the first round. */
  result(): BulkResult | undefined {
    if (this.rounds.length === 0) return undefined;
    const sum = (pick: (r: BulkResult) => number): number => this.rounds.reduce((a, r) => a + pick(r), 0);
    const ok = this.rounds.every((r) => r.status === 'ok');
    const bytes = sum((r) => r.bytes);
    const elapsedMs = sum((r) => r.elapsedMs);
    const cpuMs: Record<string, number> = {};
    for (const r of this.rounds)
      for (const [role, ms] of Object.entries(r.cpuMs)) cpuMs[role] = (cpuMs[role] ?? 0) + ms;
    return {
      status: ok ? 'ok' : 'failed',
      streams: this.rounds[0]!.streams,
      bytes,
      elapsedMs,
      MBps: ok ? mbps(bytes, elapsedMs) : null,
      sha256Verified: sum((r) => r.sha256Verified),
      sha256Mismatches: sum((r) => r.sha256Mismatches),
      errors: this.rounds.flatMap((r) => r.errors).slice(0, MAX_ERRORS),
      cpuMs,
      rounds: this.rounds.length,
      roundMBps: this.rounds.map((r) => r.MBps),
    };
  }
}

/** Splits `totalBytes` over `streams` (the first streams take the remainder). */
export function streamLengths(totalBytes: number, streams: number): number[] {
  const base = Math.floor(totalBytes / streams);
  return Array.from({ length: streams }, (_, i) => base + (i < totalBytes % streams ? 1 : 0));
}

/**
 * Uploads through the variant at `port` and has the target hash what arrived. Expected digests are computed
 * before the clock starts, so the clients' cost is writing only.
 */
export async function runBulk(
  port: number,
  payload: PayloadSource,
  options: {
    readonly streams: number;
    readonly totalBytes: number;
    readonly processes: readonly BenchProcess[];
  },
): Promise<BulkResult> {
  const lengths = streamLengths(options.totalBytes, options.streams);
  const expected = lengths.map((length, stream) => payload.digest(stream, length));
  const errors: string[] = [];
  let verified = 0;
  let mismatches = 0;
  let lastDoneMs = 0;
  const cpu = new CpuMeter(options.processes);
  const startedMs = performance.now();
  await Promise.all(
    lengths.map(async (lengthBytes, stream) => {
      let connection: BenchConnection | undefined;
      try {
        connection = await BenchConnection.open(port);
        const digest = await connection.request({ source: payload, stream, lengthBytes });
        lastDoneMs = Math.max(lastDoneMs, performance.now());
        if (digest.equals(expected[stream]!)) verified += 1;
        else {
          mismatches += 1;
          errors.push(`stream ${stream}: sha256 mismatch (target hashed different bytes)`);
        }
      } catch (err) {
        errors.push(`stream ${stream}: ${(err as Error).message}`);
      } finally {
        await connection?.close(5_000);
      }
    }),
  );
  const cpuMs = cpu.stop();
  const elapsedMs = Math.round((lastDoneMs || performance.now()) - startedMs);
  const ok = errors.length === 0 && verified === options.streams;
  return {
    status: ok ? 'ok' : 'failed',
    streams: options.streams,
    bytes: options.totalBytes,
    elapsedMs,
    MBps: ok ? mbps(options.totalBytes, elapsedMs) : null,
    sha256Verified: verified,
    sha256Mismatches: mismatches,
    errors,
    cpuMs,
    rounds: 1,
    roundMBps: [ok ? mbps(options.totalBytes, elapsedMs) : null],
  };
}
