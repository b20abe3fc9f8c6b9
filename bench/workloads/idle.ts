import type { BenchProcess } from '../process/bench-process';
import { RssSampler } from '../process/proc-stats';
import type { BenchTarget } from '../target/server';
import { EMPTY_DIGEST } from '../target/protocol';
import { BenchConnection } from './connection';

/** Memory of one process during the idle measurement, in MiB. */
export interface IdleProcessMemory {
  readonly rssBeforeMiB: number;
  /** VmRSS while every connection is open and idle. */
  readonly rssHeldMiB: number;
  /** Peak RSS up to the end of the hold (VmHWM: the processes were fresh when the measurement began). */
  readonly peakRssMiB: number;
  /** (peak − before) / established connections. */
  readonly perConnectionKiB: number;
}

/** Many concurrent idle tunneled connections: does every one work, and what do they cost in memory. */
export interface IdleResult {
  readonly status: 'ok' | 'failed';
  readonly connections: number;
  /** Connections that completed a round trip through the tunnel after opening. */
  readonly established: number;
  /** Connections that completed a second round trip after the hold. */
  readonly verifiedAfterHold: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** Time to open and verify all of them (at `concurrency` at a time). */
  readonly openMs: number;
  readonly concurrency: number;
  readonly holdMs: number;
  /** Connections the target saw open during the hold. */
  readonly targetConnectionsHeld: number;
  /** Per role (gateway, forwarder). */
  readonly processes: Readonly<Record<string, IdleProcessMemory>>;
  /** The shared relay: highest VmRSS sampled during this measurement (it is not fresh, so VmHWM would mislead). */
  readonly relayPeakRssMiB?: number;
  readonly relayRssBeforeMiB?: number;
  /** Tunnels the relay counted during the hold. */
  readonly relayActiveTunnels?: number;
}

const MAX_ERROR_SAMPLES = 5;
const MiB = 1024 * 1024;
const round1 = (n: number): number => Math.round(n * 10) / 10;

/** Runs `worker` over `items` with at most `concurrency` in flight. */
async function eachLimited<T>(items: readonly T[], concurrency: number, worker: (item: T) => Promise<void>) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await worker(items[next++]!);
  });
  await Promise.all(lanes);
}

/**
 * Opens `count` connections through the variant, proves each with a round trip, holds them idle for `holdMs`,
 * reads the processes' memory, proves each again, then closes them all and waits until the target saw them go.
 * Any connection that fails at any step is an error (the target is zero).
 */
export async function runIdle(
  port: number,
  options: {
    readonly count: number;
    readonly holdMs: number;
    readonly concurrency?: number;
    readonly target: BenchTarget;
    readonly processes: readonly BenchProcess[];
    readonly relay?: { readonly process: BenchProcess; stats(): Promise<{ activeTunnels: number }> };
  },
): Promise<IdleResult> {
  const concurrency = options.concurrency ?? 64;
  const errorSamples: string[] = [];
  let errors = 0;
  const fail = (stage: string, err: unknown): void => {
    errors += 1;
    if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push(`${stage}: ${(err as Error).message}`);
  };
  const before = new Map(options.processes.map((p) => [p, p.rss()?.rssBytes ?? 0]));
  const relayBefore = options.relay?.process.rss()?.rssBytes;
  const sampler = options.relay ? new RssSampler([options.relay.process.pid]) : undefined;

  const open: BenchConnection[] = [];
  const startedMs = performance.now();
  await eachLimited(
    Array.from({ length: options.count }, (_, i) => i),
    concurrency,
    async () => {
      let connection: BenchConnection | undefined;
      try {
        connection = await BenchConnection.open(port, 30_000);
        if (!(await connection.request()).equals(EMPTY_DIGEST)) throw new Error('wrong answer');
        open.push(connection);
      } catch (err) {
        connection?.destroy();
        fail('open', err);
      }
    },
  );
  const openMs = Math.round(performance.now() - startedMs);

  await new Promise((resolve) => setTimeout(resolve, options.holdMs));
  const targetConnectionsHeld = options.target.openConnections;
  const relayActiveTunnels = options.relay ? (await options.relay.stats()).activeTunnels : undefined;
  const memory: Record<string, IdleProcessMemory> = {};
  for (const proc of options.processes) {
    const reading = proc.rss();
    const rssBefore = before.get(proc)!;
    const peak = reading?.peakRssBytes ?? 0;
    memory[proc.role] = {
      rssBeforeMiB: round1(rssBefore / MiB),
      rssHeldMiB: round1((reading?.rssBytes ?? 0) / MiB),
      peakRssMiB: round1(peak / MiB),
      perConnectionKiB: open.length > 0 ? round1((peak - rssBefore) / 1024 / open.length) : 0,
    };
  }

  let verifiedAfterHold = 0;
  await eachLimited(open, concurrency, async (connection) => {
    try {
      if (!(await connection.request()).equals(EMPTY_DIGEST)) throw new Error('wrong answer');
      verifiedAfterHold += 1;
    } catch (err) {
      fail('after hold', err);
    }
  });
  const relayPeak = sampler?.stop().get(options.relay!.process.pid);

  await Promise.all(open.map((c) => c.close(10_000)));
  if (!(await options.target.waitForOpenConnections(0, 20_000)))
    fail('teardown', new Error(`${options.target.openConnections} target connections still open after 20 s`));

  return {
    status: errors === 0 && verifiedAfterHold === options.count ? 'ok' : 'failed',
    connections: options.count,
    established: open.length,
    verifiedAfterHold,
    errors,
    errorSamples,
    openMs,
    concurrency,
    holdMs: options.holdMs,
    targetConnectionsHeld,
    processes: memory,
    ...(relayPeak !== undefined && { relayPeakRssMiB: round1(relayPeak / MiB) }),
    ...(relayBefore !== undefined && { relayRssBeforeMiB: round1(relayBefore / MiB) }),
    ...(relayActiveTunnels !== undefined && { relayActiveTunnels }),
  };
}
