import { mkdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchOptions, VariantName } from './options';
import { buildChildEntries, type BenchBuild } from './process/build';
import { RELAY_ENTRY, relayStateDir, startBenchRelay, type BenchRelay } from './relay';
import { buildReport, type BenchReport, type RelayFigures } from './report';
import { startBenchTarget, type BenchTarget } from './target/server';
import { VariantSession, type VariantReport } from './variant-session';
import { baselineVariant } from './variants/baseline';
import { directVariant } from './variants/direct';
import { hycoWsVariant } from './variants/hyco-ws';
import { oursVariant } from './variants/ours';
import type { VariantDefinition } from './variants/types';
import { roundShares } from './workloads/latency';
import { PayloadSource } from './workloads/payload';

const DEFINITIONS: Record<VariantName, VariantDefinition> = {
  direct: directVariant,
  baseline: baselineVariant,
  'hyco-ws': hycoWsVariant,
  ours: oursVariant,
};

/** Latency is measured in this many rounds, variants taking turns, so drift over the run hits all alike. */
const LATENCY_ROUNDS = 10;
const MiB = 1024 * 1024;

async function relayFigures(relay: BenchRelay): Promise<RelayFigures> {
  const stats = await relay.stats();
  return {
    peakRssMiB: Math.round(((relay.process.rss()?.peakRssBytes ?? 0) / MiB) * 10) / 10,
    // The sandbox relay's defaults (docs/sandbox-relay.md), which relay-main keeps.
    maxInFlightBytesPerDirection: 16 * MiB,
    maxListenersPerHybridConnection: 25,
    tunnelsOpened: stats.counters.tunnelsOpened,
    backpressurePauses: stats.counters.backpressurePauses,
    maxBufferedBytesObserved: stats.counters.maxBufferedBytesObserved,
  };
}

/**
 * Waits (bounded) until no tunnel is left from the last workload, so its teardown does not bleed into the next.
 * Relay connections a variant holds with no client (our gateway's warm pool) stay by design and are allowed.
 */
async function settle(
  relay: BenchRelay | undefined,
  target: BenchTarget,
  sessions: readonly VariantSession[],
): Promise<void> {
  const idleAllowed = sessions.reduce((sum, s) => sum + s.idleRelayConnections, 0);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const tunnels = relay ? (await relay.stats()).activeTunnels : 0;
    if (tunnels <= idleAllowed && target.openConnections === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 200));
}

/**
 * One bench run: the target and the relay are shared; each variant is started and measured with idle connections
 * while its processes are fresh; then latency in interleaved rounds; then bulk, variant by variant. Nothing is
 * left running or on disk afterwards.
 */
export async function runBench(options: BenchOptions, log: (line: string) => void): Promise<BenchReport> {
  const startedAtMs = Date.now();
  const loadAverageAtStart = Math.round(loadavg()[0]! * 100) / 100;
  const runDir = await mkdtemp(join(tmpdir(), 'bench-run-'));
  let target: BenchTarget | undefined;
  let build: BenchBuild | undefined;
  let relay: BenchRelay | undefined;
  const sessions: VariantSession[] = [];
  const onSignal = (): void => {
    // Children are killed by the exit hook in bench-process.ts; only the temporary files need removing here.
    rmSync(runDir, { recursive: true, force: true });
    if (build) rmSync(build.outDir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const definitions = options.variants.map((name) => DEFINITIONS[name]);
    const tunneled = definitions.filter((d) => d.name !== 'direct');
    const cpuProfDir = options.cpuProfDir ? resolve(options.cpuProfDir) : undefined;
    if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
    const payload = new PayloadSource();
    target = await startBenchTarget();
    if (tunneled.length > 0) {
      log('compiling child processes (tsc --noCheck)');
      build = await buildChildEntries([RELAY_ENTRY, ...tunneled.flatMap((d) => d.entries)]);
      relay = await startBenchRelay(build, relayStateDir(runDir), log);
      log(`sandbox relay on ${relay.namespace} (TLS), pid ${relay.process.pid}`);
    }
    const context = {
      target,
      ...(relay && { relay }),
      ...(build && { build }),
      runDir,
      log,
      ...(cpuProfDir && { cpuProfDir }),
    };

    for (const definition of definitions) {
      log(`${definition.name}: starting (${definition.description})`);
      const session = await VariantSession.start(definition, context);
      sessions.push(session);
      if (options.idle > 0 && definition.name !== 'direct' && session.usable) {
        log(`${definition.name}: ${options.idle} idle connections, held ${options.idleHoldMs} ms`);
        await session.measureIdle(options, target);
        await settle(relay, target, sessions);
      }
    }

    const usable = sessions.filter((s) => s.usable);
    log(`latency: ${options.connections} sequential connections per variant in ${LATENCY_ROUNDS} rounds`);
    for (const session of usable) await session.measureLatency(options.warmupConnections, false);
    const shares = roundShares(options.connections, LATENCY_ROUNDS);
    for (let round = 0; round < shares.length; round++) {
      // Rotate who goes first, so no variant always follows the same neighbour.
      for (let i = 0; i < usable.length; i++)
        await usable[(i + round) % usable.length]!.measureLatency(shares[round]!);
    }

    // Bulk: each measurement split into rounds, variants taking turns, so noise from other work hits all alike.
    const roundBytes = roundShares(options.totalMiB * MiB, options.bulkRounds);
    for (const kind of ['singleStream', 'parallel'] as const) {
      const streams = kind === 'singleStream' ? 1 : options.streams;
      log(
        `bulk: ${options.totalMiB} MiB over ${streams} stream(s) per variant in ${roundBytes.length} rounds`,
      );
      for (let round = 0; round < roundBytes.length; round++) {
        for (let i = 0; i < usable.length; i++) {
          await settle(relay, target, sessions);
          await usable[(i + round) % usable.length]!.measureBulkRound(
            options,
            payload,
            kind,
            roundBytes[round]!,
          );
        }
      }
    }

    const variants: Partial<Record<VariantName, VariantReport>> = {};
    for (const session of sessions) {
      await session.stop();
      const report = session.report();
      variants[session.name] = report;
      const t = report.throughput;
      log(
        `${session.name}: ${report.status}; ${t?.singleStream.MBps ?? '-'} MB/s single, ` +
          `${t?.parallel.MBps ?? '-'} MB/s parallel, p50 ${report.latency?.p50Ms ?? '-'} ms`,
      );
    }
    const relayReport = relay ? await relayFigures(relay) : null;
    return buildReport({ options, startedAtMs, loadAverageAtStart, variants, relay: relayReport });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const session of sessions) await session.stop();
    await relay?.stop();
    await target?.close();
    await build?.remove();
    await rm(runDir, { recursive: true, force: true });
  }
}
