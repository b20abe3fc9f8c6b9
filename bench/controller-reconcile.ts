/**
 * How long a fleet-controller reconcile takes for a large fleet (default 1,000 locations with 2 services each),
 * in two parts:
 *
 *  1. planning only — planReconcile, the pure core (median of 7 after warm-up), on a fleet with nothing yet
 *     (the ARM stage), on a converged fleet (steady state) and with every token due; plus whole reconciles
 *     against in-memory IoT Hub / ARM stand-ins (executor and bookkeeping without network);
 *  2. against the sandbox — sandbox IoT Hub + sandbox Relay ARM over TLS with the unmodified SDKs: the first
 *     reconcile (every hybrid connection, rule, key and twin), a steady-state one, one where every token falls
 *     due, and one by a freshly restarted controller.
 *
 * Locations are spread over pools of `--per-pool`, one gateway device each with `--gateway-modules` relay-gateway
 * instances (a gateway twin holds at most 32 KB of desired properties, about 43 locations with two services at
 * the controller's 24 KiB target, so a pool of 1,000 needs `--gateway-modules 24`).
 *
 * The sandbox IoT Hub and the sandbox ARM (with its relays) run in processes of their own
 * (bench/controller/stand-in-process.ts; the hub started as sandbox/src/iothub-main.ts starts it), so each sandbox
 * row gives the CPU time of this process — the controller's alone — beside the hub's and ARM's, this process's RSS
 * after the step and the load average; at the end, the IoT Hub service calls the sandbox counted per throttle
 * class, at their peak 60 s window, against an S1 × 1 unit hub's published throttles, the largest twin of any
 * module, and (with `--iothub-tier`) the controller's own budget use.
 *
 *   npx ts-node --transpile-only bench/controller-reconcile.ts [--locations 1000] [--services 2]
 *       [--per-pool 40] [--gateway-modules 1] [--concurrency 8] [--iothub-tier S1 [--iothub-units 1]]
 *       [--namespaces N] [--skip-sandbox] [--json]
 *
 * `--namespaces` (default: enough for Azure's 5,000 connections per namespace at the default budget, 8 at 10,000
 * locations × 2 services) Relay namespaces, a sandbox relay each behind the one sandbox ARM endpoint.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

// The sandbox services log at LOG_LEVEL; keep the bench output to its own lines.
process.env.LOG_LEVEL ??= 'silent';
import pino from 'pino';
import { hubLimits } from '../cloud/src/azure/hub-throttles';
import type { JsonObject } from '../cloud/src/model/json';
import { keyRef } from '../cloud/src/model/observed';
import { planReconcile } from '../cloud/src/plan/plan';
import { KeyCache } from '../cloud/src/reconcile/key-cache';
import { reconcileOnce, type ReconcileResult } from '../cloud/src/reconcile/reconcile';
import { runController, type ControllerHandle } from '../cloud/src/run-controller';
import { resolveSettings, type ControllerSettings, type PoolSettings } from '../cloud/src/settings';
import { FakeRelay, FakeTwins } from '../tests/support/controller-fakes';
import { SandboxArmCredential } from '../sandbox/src/arm';
import type { SandboxIotHub } from '../sandbox/src/iothub';
import type { IotHubMainInfo } from '../sandbox/src/iothub-main';
import { StandInProcess } from './controller/stand-in-client';
import { parse, type Options } from './controller/options';
import { table, type Row } from './controller/rows';

const HOUR_MS = 3_600_000;
const silent = pino({ level: 'silent' });

function log(line: string): void {
  process.stderr.write(`[controller-bench ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
}

/** The fleet: location ids, their tags, and pools of `perPool` locations with one gateway each. */
function fleetShape(o: Options) {
  const pools: PoolSettings[] = [];
  const locations: { deviceId: string; pool: string; tags: JsonObject }[] = [];
  const poolCount = Math.ceil(o.locations / o.perPool);
  for (let p = 0; p < poolCount; p++) {
    const first = 20000 + p * (o.perPool * o.services + 10);
    pools.push({
      name: `pool-${p}`,
      firstPort: first,
      lastPort: first + o.perPool * o.services - 1,
      allow: ['0.0.0.0/0'],
      gatewayModules: o.gatewayModules,
    });
  }
  for (let i = 0; i < o.locations; i++) {
    const services: JsonObject = {};
    for (let s = 0; s < o.services; s++)
      services[`svc${s}`] = { target: `10.${i >> 8}.${i & 255}.${s + 1}:${1000 + s}` };
    const pool = `pool-${Math.floor(i / o.perPool)}`;
    locations.push({
      deviceId: `loc-${String(i).padStart(5, '0')}`,
      pool,
      tags: { relay: { role: 'location', pool, services } },
    });
  }
  const instances = Array.from({ length: o.gatewayModules }, (_, i) =>
    i === 0 ? 'relay-gateway' : `relay-gateway-${i + 1}`,
  );
  return {
    pools,
    locations,
    instances,
    gateways: pools.map((p) => ({ deviceId: `gw-${p.name}`, pool: p.name })),
  };
}

function settingsFor(pools: PoolSettings[]): ControllerSettings {
  return resolveSettings({ pools, tokenLifetimeMs: 4 * HOUR_MS });
}

/**
 * Median wall and CPU time of `runs` calls after two warm-up calls (the first ones pay for JIT compilation); the
 * CPU time is what a shared machine's load does not inflate.
 */
function time<T>(run: () => T, runs = 7): { value: T; ms: number; cpuMs: number } {
  run();
  run();
  const times: number[] = [];
  const cpus: number[] = [];
  let value = run();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    value = run();
    const c = process.cpuUsage(c0);
    times.push(performance.now() - t0);
    cpus.push((c.user + c.system) / 1000);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  return { value, ms: median(times), cpuMs: median(cpus) };
}

function row(part: Row['part'], scenario: string, r: ReconcileResult): Row {
  return {
    part,
    scenario,
    totalMs: r.durationMs,
    observeMs: r.observeMs,
    planMs: r.planMs,
    actions: r.actionsDone,
    passes: r.passes,
    outcome: r.outcome,
  };
}

async function inMemory(o: Options, rows: Row[]): Promise<void> {
  const shape = fleetShape(o);
  const settings = settingsFor(shape.pools);
  const twins = new FakeTwins();
  const relay = new FakeRelay('bench.servicebus.windows.net');
  for (const l of shape.locations) {
    twins.addDevice(l.deviceId, l.tags);
    twins.addModule(l.deviceId, 'relay-forwarder');
  }
  for (const g of shape.gateways) {
    twins.addDevice(g.deviceId, { relay: { role: 'gateway', pool: g.pool } });
    for (const moduleId of shape.instances) twins.addModule(g.deviceId, moduleId);
  }
  const observe = async (keys = new Map<string, string>()) => ({
    nowMs: Date.UTC(2025, 0, 1),
    namespaceHost: 'bench.servicebus.windows.net',
    devices: await twins.queryDevices(),
    modules: await twins.queryModules(['relay-forwarder', ...shape.instances]),
    hybridConnections: await relay.listHybridConnections(),
    keys,
    missingRules: new Set<string>(),
    failures: new Map(),
  });
  const cold = await observe();
  const coldPlan = time(() => planReconcile(cold, settings));
  rows.push({
    part: 'planning',
    scenario: 'new fleet (ARM stage)',
    totalMs: coldPlan.ms,
    cpuMs: coldPlan.cpuMs,
    actions: coldPlan.value.actions.length,
  });

  const ctx = (nowMs: number) => ({
    twins,
    relay,
    settings,
    keyCache: new KeyCache(600_000),
    logger: silent,
    namespaceHost: () => relay.namespaceHost(),
    nowMs: () => nowMs,
    concurrency: o.concurrency,
    maxPasses: 8,
    shouldStop: () => undefined,
  });
  // The in-memory rows' CPU: the controller's plus the in-memory stand-ins' (copying twins), no SDK or network.
  const measured = async (scenario: string) => {
    const c0 = process.cpuUsage();
    const result = await reconcileOnce(ctx(Date.UTC(2025, 0, 1)));
    const c = process.cpuUsage(c0);
    return { ...row('in-memory', scenario, result), cpuMs: (c.user + c.system) / 1000 };
  };
  rows.push(await measured('first reconcile'));

  const keys = new Map<string, string>();
  for (const [name, hc] of relay.hybridConnections)
    for (const [rule, r] of hc.rules) keys.set(keyRef(name, rule as 'listen'), r.key);
  const converged = await observe(keys);
  const steadyPlan = time(() => planReconcile(converged, settings));
  rows.push({
    part: 'planning',
    scenario: 'converged fleet (no action)',
    totalMs: steadyPlan.ms,
    cpuMs: steadyPlan.cpuMs,
    actions: steadyPlan.value.actions.length,
  });
  const renewPlan = time(() =>
    planReconcile({ ...converged, nowMs: converged.nowMs + 2 * HOUR_MS + 1000 }, settings),
  );
  rows.push({
    part: 'planning',
    scenario: 'every token due (twins stage)',
    totalMs: renewPlan.ms,
    cpuMs: renewPlan.cpuMs,
    actions: renewPlan.value.actions.length,
  });
  rows.push(await measured('steady state'));
}

/** What the sandbox part reports beside its rows. */
interface SandboxFigures {
  maxGatewayTwinBytes: number;
  maxTwinBytes: number;
  problems: number;
  hubCalls: Record<
    string,
    { calls: number; peakPerMinute: number; s1LimitPerMinute: number; throttled: number }
  >;
  budgetUse?: unknown;
  /** Each Relay namespace's use after the last reconcile. */
  namespaces: ReconcileResult['namespaces'];
}

/** What the ARM stand-in process reports once it listens. */
interface ArmReady {
  endpoint: string;
  caPem: string;
  subscriptionId: string;
  resourceGroup: string;
  namespaceNames: string[];
  tokenSecret: string;
}

type CallCounts = ReturnType<SandboxIotHub['serviceThrottle']['snapshot']>;

async function sandbox(o: Options, rows: Row[]): Promise<SandboxFigures> {
  const shape = fleetShape(o);
  log(
    `starting sandbox IoT Hub and relay ARM (${o.namespaces} namespace${o.namespaces > 1 ? 's' : ''}) processes`,
  );
  const stateDir = await mkdtemp(join(tmpdir(), 'hrf-controller-bench-'));
  const hub = await StandInProcess.start<IotHubMainInfo>('hub', ['--state-dir', stateDir, '--json']);
  const arm = await StandInProcess.start<ArmReady>('arm', [String(o.namespaces)]);
  const handles: ControllerHandle[] = [];
  try {
    log(`seeding ${shape.locations.length} locations and ${shape.gateways.length} gateways`);
    const callsBefore = (await hub.request({
      op: 'seed',
      devices: [
        ...shape.locations.map((l) => ({ deviceId: l.deviceId, tags: l.tags, modules: ['relay-forwarder'] })),
        ...shape.gateways.map((g) => ({
          deviceId: g.deviceId,
          tags: { relay: { role: 'gateway', pool: g.pool } },
          modules: shape.instances,
        })),
      ],
    })) as CallCounts;
    const hubCa = await readFile(hub.ready.caFile, 'utf8');
    let nowMs = Date.now();
    const budget = o.hubBudget && { hubBudget: o.hubBudget };
    const startController = () => {
      const handle = runController({
        settings: { pools: shape.pools, tokenLifetimeMs: 4 * HOUR_MS },
        iothub: { connectionString: hub.ready.ownerConnectionString, ca: hubCa },
        arm: {
          credential: new SandboxArmCredential(arm.ready.tokenSecret),
          subscriptionId: arm.ready.subscriptionId,
          resourceGroup: arm.ready.resourceGroup,
          namespaces: arm.ready.namespaceNames.map((namespace) => ({ namespace })),
          endpoint: arm.ready.endpoint,
          ca: arm.ready.caPem,
        },
        logger: silent,
        start: false,
        pollIntervalMs: 0,
        concurrency: o.concurrency,
        nowMs: () => nowMs,
        ...budget,
      });
      handles.push(handle);
      return handle;
    };
    const step = async (scenario: string, run: () => Promise<ReconcileResult>) => {
      let cpu = process.cpuUsage();
      let standIns = [await hub.cpuMs(), await arm.cpuMs()];
      let result: ReconcileResult;
      let retried = '';
      try {
        result = await run();
      } catch (err) {
        // A reconcile that throws is retried by the controller's loop after 2 s; the bench retries once, says
        // so, and measures the retry.
        retried = ` (retried: ${(err as Error).message})`;
        log(`${scenario} threw${retried}`);
        cpu = process.cpuUsage();
        standIns = [await hub.cpuMs(), await arm.cpuMs()];
        result = await run();
      }
      const used = process.cpuUsage(cpu);
      rows.push({
        ...row('sandbox', `${scenario}${retried ? ' (retried)' : ''}`, result),
        cpuMs: (used.user + used.system) / 1000,
        hubCpuMs: (await hub.cpuMs()) - standIns[0]!,
        armCpuMs: (await arm.cpuMs()) - standIns[1]!,
        rssMb: process.memoryUsage().rss / 2 ** 20,
        load: loadavg()[0]!,
      });
      // Each row as it is measured, so a later failure does not lose it.
      const r = rows[rows.length - 1]!;
      log(
        `${r.scenario}: ${r.totalMs.toFixed(0)} ms (read ${r.observeMs?.toFixed(0)} ms, plan ${r.planMs?.toFixed(0)} ms), ` +
          `${r.actions} actions, controller CPU ${r.cpuMs?.toFixed(0)} ms, hub CPU ${r.hubCpuMs?.toFixed(0)} ms, ` +
          `ARM CPU ${r.armCpuMs?.toFixed(0)} ms, RSS ${r.rssMb?.toFixed(0)} MB, load ${r.load?.toFixed(1)}, ${r.outcome}`,
      );
      return result;
    };
    const controller = startController();
    log('first reconcile (creates everything)');
    await step('first reconcile', () => controller.reconcileNow());
    log('steady-state reconcile');
    await step('steady state', () => controller.reconcileNow());
    log('every token due');
    nowMs += 2 * HOUR_MS + 60_000;
    await step('every token due', () => controller.reconcileNow());
    const budgetUse = controller.hubBudgetUse();
    await controller.stop();
    log('restarted controller (no key cache)');
    const restarted = startController();
    const last = await step('restarted controller', () => restarted.reconcileNow());
    await restarted.stop();
    const after = (await hub.request({ op: 'calls' })) as CallCounts;
    const gatewayModules = shape.gateways.flatMap((g) =>
      shape.instances.map((moduleId) => [g.deviceId, moduleId] as const),
    );
    const gatewayBytes = (await hub.request({ op: 'desiredBytes', modules: gatewayModules })) as number[];
    const forwarderBytes = (await hub.request({
      op: 'desiredBytes',
      modules: shape.locations.map((l) => [l.deviceId, 'relay-forwarder'] as const),
    })) as number[];
    const maxGatewayTwinBytes = Math.max(0, ...gatewayBytes);
    const maxTwinBytes = Math.max(maxGatewayTwinBytes, ...forwarderBytes);
    const s1 = hubLimits('S1', 1);
    const hubCalls: SandboxFigures['hubCalls'] = {};
    for (const kind of Object.keys(after) as (keyof typeof after)[])
      hubCalls[kind] = {
        calls: after[kind].calls - callsBefore[kind].calls,
        peakPerMinute: after[kind].peakPerWindow,
        s1LimitPerMinute: s1[kind],
        throttled: after[kind].throttled,
      };
    const problems = [...last.outcomes.values()].filter((oc) => oc.problems.length > 0).length;
    return {
      maxGatewayTwinBytes,
      maxTwinBytes,
      problems,
      hubCalls,
      namespaces: last.namespaces,
      ...(budget && { budgetUse }),
    };
  } finally {
    await Promise.all(handles.map((h) => h.stop()));
    await hub.stop();
    await arm.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const o = parse();
  const rows: Row[] = [];
  log(
    `${o.locations} locations × ${o.services} services, ${Math.ceil(o.locations / o.perPool)} pools ` +
      `(${o.gatewayModules} relay-gateway module${o.gatewayModules === 1 ? '' : 's'} each), concurrency ${o.concurrency}` +
      (o.hubBudget ? `, IoT Hub budget ${o.hubBudget.tier} × ${o.hubBudget.units}` : ', IoT Hub unbudgeted'),
  );
  await inMemory(o, rows);
  const extra = o.skipSandbox ? undefined : await sandbox(o, rows);
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ options: o, rows, ...extra }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${table(rows)}\n`);
  if (extra) {
    process.stdout.write(
      `largest gateway twin: ${extra.maxGatewayTwinBytes} bytes; largest twin: ${extra.maxTwinBytes} bytes; ` +
        `locations with problems: ${extra.problems}\n`,
    );
    for (const n of extra.namespaces)
      process.stdout.write(
        `  namespace ${n.name}: ${n.hybridConnections}/${n.maxHybridConnections} hybrid connections, ` +
          `${n.locations} locations, connection budget ${n.connectionBudget}/${n.maxConnections}\n`,
      );
    process.stdout.write(
      'IoT Hub calls by the controller (sandbox count) — peak 60 s window vs S1 × 1 unit:\n',
    );
    for (const [kind, c] of Object.entries(extra.hubCalls)) {
      const over = c.peakPerMinute > c.s1LimitPerMinute ? '  OVER S1' : '';
      process.stdout.write(
        `  ${kind.padEnd(13)} ${String(c.calls).padStart(6)} calls, peak ${String(c.peakPerMinute).padStart(6)}/min ` +
          `of ${c.s1LimitPerMinute}/min, 429s ${c.throttled}${over}\n`,
      );
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`controller bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 70;
});
