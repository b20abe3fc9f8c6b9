// The fault cases: each does one thing to the world while verified transfers run, then measures what was lost,
// how long until a fresh connection works, and what stayed held.
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { ChaosWorld, DOWNLOAD_BYTES, type Held } from './world';
import { addTotals, download, noTotals, probe, upload, type TransferTotals } from './transfers';

/** One row of the table. */
export interface CaseResult {
  readonly name: string;
  readonly what: string;
  /** Transfers in flight when the fault hit. */
  readonly during: TransferTotals;
  /** Transfers started after recovery: every one must verify. */
  readonly after: TransferTotals;
  /** ms from the end of the fault until a fresh connection carried verified bytes (-1: never). */
  readonly recoverMs: number;
  /** Held above the idle baseline after the case settled. */
  readonly held: Held;
  readonly pass: boolean;
  readonly note: string;
  /**
   * The process the clients talk to was killed: the kernel ends their connections with a FIN when nothing was
   * unread, which no TCP client can tell from a complete answer, so cut transfers may look complete.
   */
  readonly clientPeerKilled?: boolean;
}

/** A fault case. */
export interface ChaosCase {
  readonly name: string;
  readonly what: string;
  /** Fast and passing: part of the CI subset (tests/e2e/chaos.test.ts). */
  readonly ci: boolean;
  run(world: ChaosWorld): Promise<Omit<CaseResult, 'name' | 'what' | 'pass'> & { readonly pass?: boolean }>;
}

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `n` uploads of 4 MiB and `n` downloads of DOWNLOAD_BYTES, at once, written slowly enough to be in flight. */
export async function inFlight(
  world: ChaosWorld,
  n: number,
  timeoutMs: number,
): Promise<{ totals: TransferTotals; note: string }> {
  const ups: Array<Promise<TransferTotals>> = [];
  const downs: Array<Promise<TransferTotals>> = [];
  for (let i = 0; i < n; i++) {
    ups.push(upload(world.ports.sink, 4 * MiB, 100 + i, { writeDelayMs: 20, timeoutMs }));
    downs.push(download(world.ports.source, DOWNLOAD_BYTES, { readDelayMs: 5, timeoutMs }));
  }
  const up = (await Promise.all(ups)).reduce(addTotals, noTotals());
  const down = (await Promise.all(downs)).reduce(addTotals, noTotals());
  const note =
    up.corrupt + down.corrupt > 0
      ? `corrupt: ${up.corrupt} uploads answered with another hash, ${down.corrupt} downloads ended by a clean FIN short of the end`
      : '';
  return { totals: addTotals(up, down), note };
}

/** A fresh verified set after the fault: 4 uploads and 4 downloads. */
export async function afterwards(world: ChaosWorld): Promise<TransferTotals> {
  const runs: Array<Promise<TransferTotals>> = [];
  for (let i = 0; i < 4; i++) {
    runs.push(upload(world.ports.sink, MiB + i, 500 + i, { timeoutMs: 60_000 }));
    runs.push(download(world.ports.source, DOWNLOAD_BYTES, { timeoutMs: 60_000 }));
  }
  return (await Promise.all(runs)).reduce(addTotals, noTotals());
}

/** The common shape: transfers in flight, the fault, recovery, a fresh set, what is held. */
export async function faultDuringTransfers(
  world: ChaosWorld,
  fault: () => Promise<void>,
  recoverBoundMs: number,
  clientPeerKilled = false,
): Promise<Omit<CaseResult, 'name' | 'what' | 'pass'>> {
  const baseline = world.held();
  const during = inFlight(world, 3, recoverBoundMs + 60_000);
  await sleep(400);
  await fault();
  const recoverMs = await world.timeToRecover(recoverBoundMs);
  const { totals, note } = await during;
  const after = await afterwards(world);
  const held = await world.heldAbove(baseline);
  return { during: totals, after, recoverMs, held, note, clientPeerKilled };
}

function relayRestart(downMs: number, ci: boolean): ChaosCase {
  return {
    name: `relay restart ${downMs / 1000} s`,
    what: `kill -9 the relay, ${downMs / 1000} s down, start it on the same port`,
    ci,
    run: (world) =>
      faultDuringTransfers(
        world,
        async () => {
          await world.killRelay();
          await sleep(downMs);
          await world.startRelay();
        },
        90_000,
      ),
  };
}

function moduleKill(module: 'forwarder' | 'gateway'): ChaosCase {
  return {
    name: `${module} kill -9`,
    what: `kill -9 the ${module} mid-transfer (uploads and downloads), start it again`,
    ci: true,
    run: (world) =>
      faultDuringTransfers(
        world,
        async () => {
          await world.kill(module);
          if (module === 'forwarder') world.startForwarder();
          else world.startGateway();
        },
        60_000,
        module === 'gateway',
      ),
  };
}

function relayFrozen(frozenMs: number, ci: boolean): ChaosCase {
  return {
    name: `relay black-holed ${frozenMs / 1000} s`,
    what: `SIGSTOP the relay (TCP accepted, nothing answered) for ${frozenMs / 1000} s, then SIGCONT`,
    ci,
    run: (world) =>
      faultDuringTransfers(
        world,
        async () => {
          const pid = world.relay!.pid!;
          process.kill(pid, 'SIGSTOP');
          // New clients meanwhile: they must fail cleanly (reset), never hang past the connect timeout.
          const meanwhile = probe(world.ports.sink, 30_000);
          await sleep(frozenMs);
          process.kill(pid, 'SIGCONT');
          await meanwhile;
        },
        60_000,
      ),
  };
}

const targetDownUp: ChaosCase = {
  name: 'target down/up',
  what: 'close every target (connections dropped) for 2 s mid-transfer, listen again',
  ci: true,
  run: (world) =>
    faultDuringTransfers(
      world,
      async () => {
        const { echo, sink, source } = world.targets;
        await Promise.all([echo.close(), sink.close(), source.close()]);
        await sleep(2_000);
        await Promise.all([echo.reopen(), sink.reopen(), source.reopen()]);
      },
      30_000,
    ),
};

const slowPeers: ChaosCase = {
  name: 'slow reader and writer',
  what: '4 downloads (8 MiB) pause 50 ms after every read, 4 uploads (2 MiB) write 64 KiB per 50 ms',
  ci: true,
  async run(world) {
    const baseline = world.held();
    const runs: Array<Promise<TransferTotals>> = [];
    for (let i = 0; i < 4; i++) {
      runs.push(download(world.ports.source, DOWNLOAD_BYTES, { readDelayMs: 50, timeoutMs: 120_000 }));
      runs.push(upload(world.ports.sink, 2 * MiB, 900 + i, { writeDelayMs: 50, timeoutMs: 120_000 }));
    }
    const during = (await Promise.all(runs)).reduce(addTotals, noTotals());
    return {
      during,
      after: await afterwards(world),
      recoverMs: 0,
      held: await world.heldAbove(baseline),
      note: '',
      // Slowness cuts no path: every transfer must verify.
      pass: during.lost === 0,
    };
  },
};

function shortConnections(count: number, ci: boolean): ChaosCase {
  return {
    name: `${count} short connections`,
    what: `${count} connections of 1 KiB each way, 50 at a time`,
    ci,
    async run(world) {
      const baseline = world.held();
      let during = noTotals();
      for (let done = 0; done < count; done += 50) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(50, count - done) }, (_, i) =>
            upload(world.ports.sink, 1024, done + i, { timeoutMs: 30_000 }),
          ),
        );
        during = batch.reduce(addTotals, during);
      }
      const rssBefore = baseline.gatewayRssMiB;
      const held = await world.heldAbove(baseline);
      return {
        during,
        after: await afterwards(world),
        recoverMs: 0,
        held,
        note: `gateway RSS ${rssBefore} → ${held.gatewayRssMiB} MiB`,
      };
    },
  };
}

const vanishingClients: ChaosCase = {
  name: 'clients vanish under backpressure',
  what: '60 downloads stop reading, then reset (20), destroy (20) or end (20) after 1 s',
  ci: false,
  async run(world) {
    const baseline = world.held();
    const sockets = await Promise.all(
      Array.from(
        { length: 60 },
        () =>
          new Promise<ReturnType<typeof connect>>((resolve) => {
            const s = connect({ host: '127.0.0.1', port: world.ports.source }, () => resolve(s));
            s.on('error', () => undefined);
          }),
      ),
    );
    for (const s of sockets) {
      s.write('go');
      s.pause();
    }
    await sleep(1_000);
    sockets.forEach((s, i) => (i % 3 === 0 ? s.resetAndDestroy() : i % 3 === 1 ? s.destroy() : s.end()));
    await sleep(1_000);
    const at1s = world.held();
    for (const s of sockets) s.destroy();
    const held = await world.heldAbove(baseline);
    return {
      during: { ...noTotals(), count: 60, lost: 60 },
      after: await afterwards(world),
      recoverMs: 0,
      held,
      // The goal: released within 1 s of the client's departure (issue 10, item 2).
      pass:
        at1s.targetConnections <= baseline.targetConnections &&
        held.gatewaySockets === 0 &&
        held.forwarderSockets === 0,
      note: `1 s after they left: ${at1s.gatewaySockets - baseline.gatewaySockets} gateway sockets, ${at1s.targetConnections - baseline.targetConnections} target connections still held`,
    };
  },
};

const fileHandleLimit: ChaosCase = {
  name: 'file-handle limit',
  what: 'prlimit the gateway to 100 open files, 150 connections at once, limit restored',
  ci: true,
  async run(world) {
    const baseline = world.held();
    const pid = String(world.gateway!.pid);
    // Only the soft limit moves: raising a hard limit again needs a capability containers often lack.
    const soft = execFileSync('prlimit', ['--pid', pid, '--nofile', '--output=SOFT', '--noheadings'])
      .toString()
      .trim();
    execFileSync('prlimit', ['--pid', pid, '--nofile=100:']);
    let during: TransferTotals;
    try {
      during = (
        await Promise.all(
          Array.from({ length: 150 }, (_, i) =>
            upload(world.ports.sink, 64 * 1024, 3000 + i, { timeoutMs: 30_000 }),
          ),
        )
      ).reduce(addTotals, noTotals());
    } finally {
      execFileSync('prlimit', ['--pid', pid, `--nofile=${soft}:`]);
    }
    const recoverMs = await world.timeToRecover(30_000);
    const alive = world.gateway!.exitStatus === undefined;
    return {
      during,
      after: await afterwards(world),
      recoverMs,
      held: await world.heldAbove(baseline),
      note: alive ? 'gateway kept running' : 'gateway exited',
      pass: alive,
    };
  },
};

const cpuContention: ChaosCase = {
  name: 'CPU contention',
  what: 'stress-ng --cpu 2 during 200 concurrent verified transfers (mixed sizes)',
  ci: false,
  async run(world) {
    const baseline = world.held();
    const stress = spawn('stress-ng', ['--cpu', '2', '--timeout', '120s'], { stdio: 'ignore' });
    stress.on('error', () => undefined);
    try {
      await sleep(1_000);
      const sizes = [0, 1, 1024, 64 * 1024 + 1, 300 * 1024, MiB + 3];
      const during = (
        await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            i % 2
              ? upload(world.ports.sink, sizes[i % sizes.length]!, 4000 + i, { timeoutMs: 120_000 })
              : download(world.ports.source, DOWNLOAD_BYTES, { timeoutMs: 120_000 }),
          ),
        )
      ).reduce(addTotals, noTotals());
      return {
        during,
        after: await afterwards(world),
        recoverMs: 0,
        held: await world.heldAbove(baseline),
        note: '',
        // Contention cuts no path: every one of the 200 must verify.
        pass: during.lost === 0,
      };
    } finally {
      stress.kill('SIGKILL');
    }
  },
};

/** Every case, most valuable first; `ci` marks the subset npm test runs. */
export const CASES: readonly ChaosCase[] = [
  relayRestart(1_000, true),
  moduleKill('forwarder'),
  moduleKill('gateway'),
  targetDownUp,
  relayFrozen(5_000, false),
  slowPeers,
  shortConnections(1_000, true),
  fileHandleLimit,
  vanishingClients,
  cpuContention,
  shortConnections(10_000, false),
  relayRestart(20_000, false),
  relayFrozen(75_000, false),
  relayRestart(120_000, false),
];

/**
 * The verdict: transfers in flight may be cut by a fault (counted as connections lost) but never corrupted,
 * every transfer after it verifies, a fresh connection works again, and nothing stays held.
 */
export function verdict(result: Omit<CaseResult, 'pass' | 'name' | 'what'> & { pass?: boolean }): boolean {
  const afterOk = result.after.lost === 0 && result.after.verified > 0;
  const intact =
    (result.clientPeerKilled === true || result.during.corrupt === 0) && result.after.corrupt === 0;
  const heldOk =
    result.held.gatewaySockets === 0 &&
    result.held.forwarderSockets === 0 &&
    result.held.targetConnections === 0;
  return afterOk && intact && heldOk && result.recoverMs >= 0 && (result.pass ?? true);
}
