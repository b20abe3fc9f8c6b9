import { connect, type Socket } from 'node:net';
import type { BenchProcess } from '../process/bench-process';
import type { ConnectionTarget } from './target';

/** Memory of one process across the hold, in MiB and KiB per held connection. */
export interface HeldMemory {
  readonly rssBeforeMiB: number;
  /** VmRSS at the end of the hold, every connection open and idle. */
  readonly rssHeldMiB: number;
  /** (held − before) / connections established. */
  readonly perConnectionKiB: number;
}

/** Many concurrent idle client connections through one gateway route. */
export interface ConcurrentResult {
  readonly status: 'ok' | 'failed';
  readonly connections: number;
  /** Connections whose first echo came back. */
  readonly established: number;
  /** Connections that echoed again after the hold. */
  readonly verifiedAfterHold: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** Time to open and prove all of them, `concurrency` at a time (the ramp). */
  readonly openMs: number;
  readonly concurrency: number;
  readonly holdMs: number;
  /** Connections the target saw open during the hold. */
  readonly targetConnectionsHeld: number;
  /** Gateway and forwarder (fresh processes: `before` is their idle figure). */
  readonly processes: Readonly<Record<string, HeldMemory>>;
  /** The shared relay (not fresh; its growth over the hold is still the connections' cost there). */
  readonly relay: HeldMemory;
  /** Tunnels (one sender and one listener WebSocket each) the relay had open during the hold; null if it did not say. */
  readonly relayTunnels: number | null;
  /** Of those, tunnels open before the ramp (warm pools). */
  readonly relayTunnelsBefore: number;
}

/** What the workload reads from the relay. */
export interface RelayProbe {
  readonly process: BenchProcess;
  stats(): Promise<{ readonly activeTunnels: number; readonly pendingRendezvous: number }>;
}

const MAX_ERROR_SAMPLES = 5;
const STATS_ATTEMPTS = 5;

/** The relay's stats, asked again while it is too busy to answer in time (thousands of TLS sockets on one loop). */
async function statsOf(relay: RelayProbe): Promise<{ activeTunnels: number; pendingRendezvous: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await relay.stats();
    } catch (err) {
      if (attempt >= STATS_ATTEMPTS) throw err;
    }
  }
}
const MiB = 1024 * 1024;
const round1 = (n: number): number => Math.round(n * 10) / 10;

/** One held client: `E` selects the target's echo; each probe is one byte there and back. */
class HeldClient {
  private waiting: { resolve(): void; reject(err: Error): void } | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', () => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.resolve();
    });
    socket.on('error', (err) => (this.failure ??= err));
    socket.on('close', () => {
      this.failure ??= new Error('closed');
      this.waiting?.reject(this.failure);
      this.waiting = undefined;
    });
  }

  static open(port: number): Promise<HeldClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.setNoDelay(true);
      const client = new HeldClient(socket);
      socket.once('connect', () => resolve(client));
      socket.once('close', () => reject(client.failure ?? new Error('connect failed')));
    });
  }

  probe(first: boolean, timeoutMs: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`no echo within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (err) => (clearTimeout(timer), reject(err)),
      };
      this.socket.write(first ? 'Ex' : 'x');
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Runs `worker` over `count` indices with at most `concurrency` in flight. */
async function eachLimited(count: number, concurrency: number, worker: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await worker(next++);
    }),
  );
}

function heldMemory(beforeBytes: number, heldBytes: number, connections: number): HeldMemory {
  return {
    rssBeforeMiB: round1(beforeBytes / MiB),
    rssHeldMiB: round1(heldBytes / MiB),
    perConnectionKiB: connections > 0 ? round1((heldBytes - beforeBytes) / 1024 / connections) : 0,
  };
}

/**
 * Opens `count` client connections through the route at `port` (`concurrency` at a time), proves each with a
 * 1-byte echo, holds them all idle for `holdMs`, reads the gateway's, forwarder's and relay's memory and the
 * relay's tunnel count, proves each again, closes them all and waits until the target saw them go. Any connection
 * that fails at any step is an error.
 */
export async function runConcurrent(
  port: number,
  options: {
    readonly count: number;
    readonly holdMs: number;
    readonly concurrency: number;
    readonly target: ConnectionTarget;
    readonly processes: readonly BenchProcess[];
    readonly relay: RelayProbe;
    readonly log: (line: string) => void;
  },
): Promise<ConcurrentResult> {
  const errorSamples: string[] = [];
  let errors = 0;
  const fail = (stage: string, err: unknown): void => {
    errors += 1;
    if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push(`${stage}: ${(err as Error).message}`);
  };
  const before = options.processes.map((p) => p.rss()?.rssBytes ?? 0);
  const relayBefore = options.relay.process.rss()?.rssBytes ?? 0;
  const relayTunnelsBefore = (await statsOf(options.relay)).activeTunnels;
  const held: HeldClient[] = [];
  const started = performance.now();
  let nextReport = 1000;
  await eachLimited(options.count, options.concurrency, async () => {
    let client: HeldClient | undefined;
    try {
      client = await HeldClient.open(port);
      await client.probe(true, 60_000);
      held.push(client);
      if (held.length >= nextReport) {
        options.log(`  ${held.length}/${options.count} open (${Math.round(performance.now() - started)} ms)`);
        nextReport += 1000;
      }
    } catch (err) {
      client?.destroy();
      fail('open', err);
    }
  });
  const openMs = Math.round(performance.now() - started);

  await new Promise((resolve) => setTimeout(resolve, options.holdMs));
  const targetConnectionsHeld = await options.target.openConnections();
  const stats = await statsOf(options.relay).catch((err: unknown) => {
    fail('relay stats during the hold', err);
    return undefined;
  });
  const processes: Record<string, HeldMemory> = {};
  options.processes.forEach((proc, i) => {
    // Roles are "<mode> gateway" / "<mode> forwarder"; the report keys them by the last word.
    const role = proc.role.split(' ').pop()!;
    processes[role] = heldMemory(before[i]!, proc.rss()?.rssBytes ?? 0, held.length);
  });
  const relay = heldMemory(relayBefore, options.relay.process.rss()?.rssBytes ?? 0, held.length);

  let verifiedAfterHold = 0;
  await eachLimited(held.length, options.concurrency, async (i) => {
    try {
      await held[i]!.probe(false, 60_000);
      verifiedAfterHold += 1;
    } catch (err) {
      fail('after hold', err);
    }
  });
  for (const client of held) client.destroy();
  if (!(await options.target.waitForOpenConnections(0, 60_000)))
    fail(
      'teardown',
      new Error(`${await options.target.openConnections()} target connections still open after 60 s`),
    );

  return {
    status: errors === 0 && verifiedAfterHold === options.count ? 'ok' : 'failed',
    connections: options.count,
    established: held.length,
    verifiedAfterHold,
    errors,
    errorSamples,
    openMs,
    concurrency: options.concurrency,
    holdMs: options.holdMs,
    targetConnectionsHeld,
    processes,
    relay,
    relayTunnels: stats?.activeTunnels ?? null,
    relayTunnelsBefore,
  };
}
