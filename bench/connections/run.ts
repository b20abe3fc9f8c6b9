import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchProcess } from '../process/bench-process';
import { buildChildEntries, type BenchBuild } from '../process/build';
import { RELAY_ENTRY, relayStateDir, startBenchRelay, type BenchRelay } from '../relay';
import { startBenchTarget, type BenchTarget } from '../target/server';
import { baselineVariant } from '../variants/baseline';
import type { RunningVariant } from '../variants/types';
import { BulkAccumulator, runBulk } from '../workloads/bulk';
import { roundShares } from '../workloads/latency';
import { PayloadSource } from '../workloads/payload';
import { runConcurrent } from './concurrent';
import { ensureOpenFileLimit } from './fd-limit';
import { runFairness } from './fairness';
import { connectionModes } from './modes';
import type { ConnectionsOptions } from './options';
import { PgbenchAccumulator, runPgbenchRound, startLocalPostgres, type LocalPostgres } from './postgres';
import { freePort, PAIR_ENTRIES, startModePair, type ModePair, type PairContext } from './pair';
import { buildConnectionsReport, type ConnectionsReport, type PathReport } from './report';
import { RequestsAccumulator, runRequestsRound } from './requests';
import type { ConnectionTarget } from './target';
import { startConnectionTargetThread } from './target-thread';

const MiB = 1024 * 1024;
/** Sockets per held connection in the busiest processes (client + target in the bench; two in each module). */
const FDS_PER_HELD_CONNECTION = 2;
/** Files each process holds besides the held connections (listeners, modules, pipes, the warm pools). */
const FD_HEADROOM = 256;

/** How many connections the open-file limit lets every process hold (all of them when unknown). */
export function heldConnectionsAllowed(limit: number, wanted: number): number {
  return Math.max(0, Math.min(wanted, Math.floor((limit - FD_HEADROOM) / FDS_PER_HELD_CONNECTION)));
}

type MutablePath = { -readonly [K in keyof PathReport]: PathReport[K] } & { errors: string[] };

interface World {
  readonly relay: BenchRelay;
  readonly connTarget: ConnectionTarget;
  readonly bulkTarget: BenchTarget;
  /** Relay tunnels allowed to stay open with no client (warm pools of the pairs running). */
  idleAllowed: number;
}

/** Waits (bounded) until the last workload's connections are gone from the targets and the relay. */
async function settle(world: World): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    // A relay busy closing thousands of connections may not answer its admin API in time: ask again.
    const tunnels = await world.relay.stats().then(
      (stats) => stats.activeTunnels,
      () => Infinity,
    );
    if (
      tunnels <= world.idleAllowed &&
      (await world.connTarget.openConnections()) === 0 &&
      world.bulkTarget.openConnections === 0
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // Warm pools refill after their connections were taken; give them a moment so every mode starts alike.
  await new Promise((r) => setTimeout(r, 500));
}

/**
 * One run of the connection workloads against one sandbox relay process: the held connections first, each mode
 * with a fresh gateway + forwarder pair (so their idle memory is the "before" figure), then one pair per mode for
 * connection-per-request throughput (rounds, direct and modes taking turns), fairness and bulk (beside the bare
 * baseline tunnel). Nothing is left running or on disk afterwards.
 */
export async function runConnectionsBench(
  options: ConnectionsOptions,
  log: (line: string) => void,
): Promise<ConnectionsReport> {
  const startedAtMs = Date.now();
  const loadAverageAtStart = Math.round(loadavg()[0]! * 100) / 100;
  const modes = connectionModes(options.warmConnections, options.muxConnections);
  const wants = (w: (typeof options.workloads)[number]): boolean => options.workloads.includes(w);
  const openFileLimit = wants('concurrent')
    ? ensureOpenFileLimit(options.concurrent * FDS_PER_HELD_CONNECTION + FD_HEADROOM, log)
    : 0;
  // Holding more than the limit allows would only measure EMFILE: hold what fits and say so (the report keeps both).
  const held = heldConnectionsAllowed(openFileLimit, options.concurrent);
  if (wants('concurrent') && held < options.concurrent)
    log(
      `holding ${held} connections instead of ${options.concurrent}: that is what ${openFileLimit} open files allow`,
    );
  const runDir = await mkdtemp(join(tmpdir(), 'bench-connections-'));
  const paths: Record<string, MutablePath> = {
    direct: { description: 'client → target, no tunnel', errors: [] },
  };
  if (wants('bulk')) paths.baseline = { description: baselineVariant.description, errors: [] };
  for (const mode of options.modes) paths[mode] = { description: modes[mode]!.description, errors: [] };
  let build: BenchBuild | undefined;
  let relay: BenchRelay | undefined;
  let connTarget: ConnectionTarget | undefined;
  let bulkTarget: BenchTarget | undefined;
  const pairs = new Map<string, ModePair>();
  let baseline: RunningVariant | undefined;
  let postgres: LocalPostgres | undefined;
  const onSignal = (): void => {
    // Children are killed by the exit hook in bench-process.ts; the temporary files are removed here.
    rmSync(runDir, { recursive: true, force: true });
    if (build) rmSync(build.outDir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    connTarget = await startConnectionTargetThread();
    bulkTarget = await startBenchTarget();
    log('compiling child processes (tsc --noCheck)');
    build = await buildChildEntries([RELAY_ENTRY, ...PAIR_ENTRIES, ...baselineVariant.entries]);
    relay = await startBenchRelay(build, relayStateDir(runDir), log);
    log(`sandbox relay on ${relay.namespace} (TLS), pid ${relay.process.pid}`);
    if (wants('pgbench')) {
      try {
        postgres = await startLocalPostgres(await freePort(), log);
      } catch (err) {
        paths.direct!.errors.push(`pgbench: ${(err as Error).message}`);
      }
    }
    const world: World = { relay, connTarget, bulkTarget, idleAllowed: 0 };
    const context: PairContext = {
      relay,
      build,
      workDir: runDir,
      connTarget,
      bulkTarget,
      ...(postgres && { pgTarget: postgres }),
      log,
    };
    const startPair = async (mode: string): Promise<ModePair | undefined> => {
      try {
        return await startModePair(mode, modes[mode]!, context);
      } catch (err) {
        paths[mode]!.errors.push(`start: ${(err as Error).message}`);
        return undefined;
      }
    };

    if (wants('concurrent')) {
      if (openFileLimit < options.concurrent * FDS_PER_HELD_CONNECTION)
        log(
          `only ${openFileLimit} open files allowed: expect the held connections to fail past ~${openFileLimit / 2}`,
        );
      for (const mode of options.modes) {
        const pair = await startPair(mode);
        if (!pair) continue;
        world.idleAllowed = pair.idleRelayConnections;
        await settle(world);
        log(`${mode}: ${held} held connections, ${options.rampConcurrency} opening at a time`);
        paths[mode]!.concurrent = await runConcurrent(pair.connPort, {
          count: held,
          holdMs: options.holdMs,
          concurrency: options.rampConcurrency,
          target: connTarget,
          processes: [pair.gateway, pair.forwarder],
          relay,
          log,
        });
        if (!pair.gateway.running || !pair.forwarder.running)
          paths[mode]!.errors.push('a module process died');
        await pair.stop();
        world.idleAllowed = 0;
        await settle(world);
      }
    }

    const others = options.workloads.some((w) => w !== 'concurrent');
    if (others) {
      for (const mode of options.modes) {
        const pair = await startPair(mode);
        if (pair) pairs.set(mode, pair);
      }
      world.idleAllowed = [...pairs.values()].reduce((sum, p) => sum + p.idleRelayConnections, 0);
    }
    const running = options.modes.filter((m) => pairs.has(m));

    if (wants('requests')) {
      const relayProcess = relay.process;
      const lanes = [
        { name: 'direct', port: connTarget.port, procs: [] as BenchProcess[] },
        ...running.map((m) => {
          const pair = pairs.get(m)!;
          return { name: m, port: pair.connPort, procs: [pair.gateway, pair.forwarder, relayProcess] };
        }),
      ];
      const sums = new Map(lanes.map((l) => [l.name, new RequestsAccumulator(options.clients)]));
      log(
        `requests: ${options.clients} clients, one request per connection, ${options.rounds} × ${options.roundMs} ms ` +
          `per path (${lanes.map((l) => l.name).join(', ')})`,
      );
      for (let round = 0; round < options.rounds; round++) {
        for (let i = 0; i < lanes.length; i++) {
          const lane = lanes[(i + round) % lanes.length]!;
          await settle(world);
          sums.get(lane.name)!.add(
            await runRequestsRound(lane.port, {
              clients: options.clients,
              durationMs: options.roundMs,
              processes: lane.procs,
            }),
          );
        }
      }
      for (const [name, sum] of sums) paths[name]!.requests = sum.result();
    }

    if (postgres) {
      const lanes = [
        { name: 'direct', port: postgres.port },
        ...running.map((m) => ({ name: m, port: pairs.get(m)!.pgPort! })),
      ];
      const seconds = Math.max(1, Math.round(options.roundMs / 1000));
      log(`pgbench -C -S: ${options.clients} clients, ${options.rounds} × ${seconds} s per path`);
      const sums = new Map(lanes.map((l) => [l.name, new PgbenchAccumulator(options.clients)]));
      for (let round = 0; round < options.rounds; round++) {
        for (let i = 0; i < lanes.length; i++) {
          const lane = lanes[(i + round) % lanes.length]!;
          await settle(world);
          sums.get(lane.name)!.add(await runPgbenchRound(lane.port, { clients: options.clients, seconds }));
        }
      }
      for (const [name, sum] of sums) paths[name]!.pgbench = sum.result();
    }

    if (wants('fairness')) {
      log(
        `fairness: ${options.fairnessSamples} interactive round trips idle and beside one bulk stream, per path`,
      );
      const lanes = [
        { name: 'direct', port: connTarget.port },
        ...running.map((m) => ({ name: m, port: pairs.get(m)!.connPort })),
      ];
      for (const lane of lanes) {
        await settle(world);
        paths[lane.name]!.fairness = await runFairness(lane.port, {
          samples: options.fairnessSamples,
          rounds: options.fairnessRounds,
        });
      }
    }

    if (wants('bulk')) {
      try {
        baseline = await baselineVariant.start({ target: bulkTarget, relay, build, workDir: runDir, log });
      } catch (err) {
        paths.baseline!.errors.push(`start: ${(err as Error).message}`);
      }
      const lanes = [
        ...(baseline ? [{ name: 'baseline', port: baseline.entryPort, procs: baseline.processes }] : []),
        ...running.map((m) => {
          const pair = pairs.get(m)!;
          return { name: m, port: pair.bulkPort, procs: [pair.gateway, pair.forwarder] };
        }),
      ];
      const payload = new PayloadSource();
      const shares = roundShares(options.bulkMiB * MiB, options.bulkRounds);
      for (const kind of ['singleStream', 'parallel'] as const) {
        const streams = kind === 'singleStream' ? 1 : options.bulkStreams;
        log(`bulk: ${options.bulkMiB} MiB over ${streams} stream(s) per path in ${shares.length} rounds`);
        const sums = new Map(lanes.map((l) => [l.name, new BulkAccumulator()]));
        for (let round = 0; round < shares.length; round++) {
          for (let i = 0; i < lanes.length; i++) {
            const lane = lanes[(i + round) % lanes.length]!;
            await settle(world);
            const result = await runBulk(lane.port, payload, {
              streams,
              totalBytes: shares[round]!,
              processes: [...lane.procs, relay.process],
            }).catch((err: Error) => {
              paths[lane.name]!.errors.push(`bulk: ${err.message}`);
              return undefined;
            });
            if (result) sums.get(lane.name)!.add(result);
          }
        }
        for (const [name, sum] of sums) paths[name]!.bulk = { ...paths[name]!.bulk, [kind]: sum.result() };
      }
    }

    for (const [mode, pair] of pairs)
      if (!pair.gateway.running || !pair.forwarder.running) paths[mode]!.errors.push('a module process died');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await baseline?.stop();
    for (const pair of pairs.values()) await pair.stop();
    await postgres?.stop();
    await relay?.stop();
    await connTarget?.close();
    await bulkTarget?.close();
    await build?.remove();
    await rm(runDir, { recursive: true, force: true });
  }
  return buildConnectionsReport({ options, startedAtMs, loadAverageAtStart, openFileLimit, paths });
}
