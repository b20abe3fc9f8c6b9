import { connect } from 'node:net';
import type { BenchProcess } from '../process/bench-process';
import { CpuMeter } from '../workloads/cpu';
import { summarize, type LatencySummary } from '../workloads/percentiles';
import { HTTP_REQUEST, HTTP_RESPONSE } from './target';

/** Connection-per-request throughput of one path (direct or a mode), over all its rounds. */
export interface RequestsResult extends Partial<LatencySummary> {
  readonly status: 'ok' | 'failed';
  /** Concurrent clients, each doing one request per connection, back to back. */
  readonly clients: number;
  /** Requests whose whole answer arrived byte for byte. */
  readonly requests: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** Summed over rounds: from the round's start to its last answer. */
  readonly elapsedMs: number;
  /** Completed requests per second; null when any failed. */
  readonly requestsPerSecond: number | null;
  readonly rounds: number;
  readonly roundRequestsPerSecond: readonly number[];
  /** CPU ms per completed request, by process role (gateway, forwarder, relay; client+target is the bench). */
  readonly cpuMsPerRequest: Readonly<Record<string, number>>;
}

const MAX_ERROR_SAMPLES = 5;
/** A request that moves nothing for this long has failed (a stuck tunnel, not a slow one). */
const STALL_MS = 30_000;

/** One request on its own connection: connect, send ~100 bytes, read the ~1 KiB answer until the target closes. */
export function requestOnce(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.setNoDelay(true);
    socket.setTimeout(STALL_MS, () => socket.destroy(new Error('stalled')));
    socket.once('connect', () => socket.write(HTTP_REQUEST));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('end', () => {
      const answer = Buffer.concat(chunks);
      if (answer.equals(HTTP_RESPONSE)) resolve();
      else
        reject(new Error(`answer of ${answer.length} bytes differs from the ${HTTP_RESPONSE.length} sent`));
    });
    socket.once('close', () => reject(new Error('closed before the answer ended')));
  });
}

/** One round: `clients` loops of back-to-back requests until `durationMs` is over; the last ones finish. */
export async function runRequestsRound(
  port: number,
  options: {
    readonly clients: number;
    readonly durationMs: number;
    readonly processes: readonly BenchProcess[];
  },
): Promise<{
  requests: number;
  errors: string[];
  elapsedMs: number;
  samplesMs: number[];
  cpuMs: Record<string, number>;
}> {
  const errors: string[] = [];
  const cpu = new CpuMeter(options.processes);
  const samplesMs: number[] = [];
  const started = performance.now();
  const deadline = started + options.durationMs;
  let lastDone = started;
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (performance.now() < deadline) {
        const at = performance.now();
        try {
          await requestOnce(port);
          lastDone = performance.now();
          samplesMs.push(lastDone - at);
        } catch (err) {
          errors.push((err as Error).message);
          // Do not spin on a dead route: one failure ends this client's round.
          return;
        }
      }
    }),
  );
  return { requests: samplesMs.length, errors, elapsedMs: lastDone - started, samplesMs, cpuMs: cpu.stop() };
}

/** Adds the rounds of one path up. */
export class RequestsAccumulator {
  private readonly samples: number[] = [];
  private readonly errorSamples: string[] = [];
  private errors = 0;
  private elapsedMs = 0;
  private readonly roundRates: number[] = [];
  private readonly cpuMs: Record<string, number> = {};

  constructor(private readonly clients: number) {}

  add(round: Awaited<ReturnType<typeof runRequestsRound>>): void {
    this.samples.push(...round.samplesMs);
    this.errors += round.errors.length;
    for (const e of round.errors) if (this.errorSamples.length < MAX_ERROR_SAMPLES) this.errorSamples.push(e);
    this.elapsedMs += round.elapsedMs;
    // Pair processes are named "<mode> gateway"; the report keys them by role.
    for (const [name, ms] of Object.entries(round.cpuMs)) {
      const role = name.split(' ').pop()!;
      this.cpuMs[role] = (this.cpuMs[role] ?? 0) + ms;
    }
    this.roundRates.push(Math.round((round.requests / round.elapsedMs) * 1000));
  }

  result(): RequestsResult {
    const ok = this.errors === 0 && this.samples.length > 0;
    return {
      status: ok ? 'ok' : 'failed',
      clients: this.clients,
      requests: this.samples.length,
      errors: this.errors,
      errorSamples: [...this.errorSamples],
      elapsedMs: Math.round(this.elapsedMs),
      requestsPerSecond: ok ? Math.round((this.samples.length / this.elapsedMs) * 1000) : null,
      rounds: this.roundRates.length,
      roundRequestsPerSecond: [...this.roundRates],
      cpuMsPerRequest: Object.fromEntries(
        Object.entries(this.cpuMs).map(([role, ms]) => [
          role,
          this.samples.length > 0 ? Math.round((ms / this.samples.length) * 100) / 100 : NaN,
        ]),
      ),
      ...summarize(this.samples),
    };
  }
}
