// Pieces the newer fault cases share: a world of their own, the "no fault" tail (a fresh verified set and what
// stayed held), a probe loop that measures outages as new clients see them, and transfers long enough to span
// a fault that takes seconds to unfold.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { afterwards } from './cases';
import { addTotals, download, noTotals, probe, upload, type TransferTotals } from './transfers';
import { ChaosWorld, DOWNLOAD_BYTES, type Held, type WorldOptions } from './world';

const MiB = 1024 * 1024;

/** Sleeps `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a world whose gateway listens on every route port; a world that lost a port (see {@link routesListening})
 * is stopped and started again on other ports, once.
 */
export async function startWorld(options: WorldOptions = {}): Promise<ChaosWorld> {
  for (let attempt = 1; ; attempt++) {
    const world = await ChaosWorld.start(options);
    try {
      await routesListening(world);
      return world;
    } catch (err) {
      await world.close();
      if (attempt >= 2) throw err;
      process.stderr.write(`chaos: ${(err as Error).message}; starting the world again\n`);
    }
  }
}

/**
 * Runs `fn` in a world of its own built with `options` (a case that needs other configuration than the shared
 * world's), and always stops that world.
 */
export async function inOwnWorld<T>(
  options: WorldOptions,
  fn: (world: ChaosWorld) => Promise<T>,
): Promise<T> {
  const world = await startWorld(options);
  try {
    return await fn(world);
  } finally {
    await world.close();
  }
}

/** The tail every case ends with: a fresh set of transfers that must all verify, then what is held above `baseline`. */
export async function settle(
  world: ChaosWorld,
  baseline: Held,
  boundMs?: number,
): Promise<{ after: TransferTotals; held: Held }> {
  const after = await afterwards(world);
  return { after, held: await world.heldAbove(baseline, boundMs) };
}

/** What a probe loop saw. */
export interface ProbeRecord {
  readonly probes: number;
  readonly failed: number;
  /** Longest stretch from a failed probe's start to the next good probe's end, ms (0: none failed). */
  readonly longestOutageMs: number;
}

/** Probes the sink route `port` back to back (one short verified upload each, 200 ms apart) until `stop()`. */
export function probeLoop(port: number): { stop(): Promise<ProbeRecord> } {
  let running = true;
  let probes = 0;
  let failed = 0;
  let longestOutageMs = 0;
  let outageSince: number | undefined;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      const ok = await probe(port, 5_000);
      probes += 1;
      if (!ok) {
        failed += 1;
        outageSince ??= started;
      } else if (outageSince !== undefined) {
        longestOutageMs = Math.max(longestOutageMs, Date.now() - outageSince);
        outageSince = undefined;
      }
      await sleep(200);
    }
    // Still out at the end: the outage lasts until now.
    if (outageSince !== undefined) longestOutageMs = Math.max(longestOutageMs, Date.now() - outageSince);
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { probes, failed, longestOutageMs };
    },
  };
}

/**
 * `n` uploads of 4 MiB and `n` downloads of DOWNLOAD_BYTES paced to last about `spanMs` each, so a fault that
 * takes seconds (a token running out, a hub restart) happens while they are in flight.
 */
export async function longTransfers(world: ChaosWorld, n: number, spanMs: number): Promise<TransferTotals> {
  const uploadChunks = (4 * MiB) / (64 * 1024);
  // The source's reads arrive in pieces of about 64 KiB; pausing after each one paces the download.
  const downloadReads = DOWNLOAD_BYTES / (64 * 1024);
  const runs: Array<Promise<TransferTotals>> = [];
  for (let i = 0; i < n; i++) {
    runs.push(
      upload(world.ports.sink, 4 * MiB, 700 + i, {
        writeDelayMs: Math.ceil(spanMs / uploadChunks),
        timeoutMs: spanMs + 90_000,
      }),
    );
    runs.push(
      download(world.ports.source, DOWNLOAD_BYTES, {
        readDelayMs: Math.ceil(spanMs / downloadReads),
        timeoutMs: spanMs + 90_000,
      }),
    );
  }
  return (await Promise.all(runs)).reduce(addTotals, noTotals());
}

/** Socket inodes of process `pid` (undefined when it is gone). */
function socketInodes(pid: number): Set<string> | undefined {
  try {
    return new Set(
      readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
          } catch {
            return undefined;
          }
        })
        .filter((inode): inode is string => inode !== undefined),
    );
  } catch {
    return undefined;
  }
}

/** Rows of /proc/net/tcp{,6} held by `pid` whose state is `state` and whose local (or remote) port is `port`. */
function tcpRows(pid: number | undefined, port: number, state: string, side: 'local' | 'remote'): number {
  if (pid === undefined) return -1;
  const inodes = socketInodes(pid);
  if (inodes === undefined) return -1;
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6'])
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      // Fields: sl, local_address, rem_address (each ADDR:PORT in hex), st, ..., inode (the tenth).
      const f = line.trim().split(/\s+/);
      const address = side === 'local' ? f[1] : f[2];
      if (f.length > 9 && address?.endsWith(`:${hexPort}`) && f[3] === state && inodes.has(f[9]!)) count += 1;
    }
  return count;
}

/**
 * Established TCP connections of process `pid` to loopback port `port` (e.g. the gateway's connections to the
 * relay: at idle, its warm ones); -1 when the process is gone.
 */
export function connectionsTo(pid: number | undefined, port: number): number {
  return tcpRows(pid, port, '01', 'remote');
}

/**
 * Throws unless the gateway listens on every route port within 10 s. The route ports are picked free and bound
 * later (so a restarted gateway serves the same ones); on a machine busy with other loopback traffic an outgoing
 * connection can take one meanwhile, and that route's clients would then fail for a reason that is not the case's.
 */
export async function routesListening(world: ChaosWorld): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const missing = Object.entries(world.ports).filter(
      ([, port]) => tcpRows(world.gateway?.pid, port, '0A', 'local') < 1,
    );
    if (missing.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `the gateway does not listen on route port(s) ${missing.map(([n, p]) => `${n} ${p}`).join(', ')}`,
      );
    await sleep(200);
  }
}
