import { cpus, loadavg } from 'node:os';
import type { BulkResult } from '../workloads/bulk';
import type { ConcurrentResult } from './concurrent';
import type { FairnessResult } from './fairness';
import type { PgbenchResult } from './postgres';
import type { ConnectionsOptions } from './options';
import type { RequestsResult } from './requests';

/** Every figure of one path: `direct`, `baseline` (bare tunnel, bulk only) or a gateway mode. */
export interface PathReport {
  readonly description: string;
  readonly requests?: RequestsResult;
  /** pgbench -C (a new PostgreSQL connection per transaction), when PostgreSQL is installed. */
  readonly pgbench?: PgbenchResult;
  readonly concurrent?: ConcurrentResult;
  readonly fairness?: FairnessResult;
  readonly bulk?: { readonly singleStream?: BulkResult; readonly parallel?: BulkResult };
  /** Failures outside the workloads (a process that would not start or died). */
  readonly errors: readonly string[];
}

/** One goal of the issue checked against this run's figures; a missing figure is not met. */
export interface GoalCheck {
  readonly goal: string;
  readonly value: number | null;
  readonly met: boolean;
}

/** The object `--json` prints. */
export interface ConnectionsReport {
  readonly bench: 'relay-connections';
  readonly schemaVersion: 1;
  readonly ok: boolean;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly machine: {
    readonly node: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly loadAverageAtStart: number;
    readonly loadAverageAtEnd: number;
    /** The open-file limit the run had (raised for the held connections when possible). */
    readonly openFileLimit: number;
  };
  readonly settings: ConnectionsOptions;
  /** `direct` and `baseline` first, then the modes in order. */
  readonly paths: Readonly<Record<string, PathReport>>;
  readonly goals: readonly GoalCheck[];
}

/** Largest relay connections and per-stream memory the issue allows for held connections (multiplexed). */
export const HELD_GOALS = { relayConnections: 16, kibPerStream: 16 } as const;

const round3 = (n: number): number => Math.round(n * 1000) / 1000;
const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a === null || a === undefined || b === null || b === undefined || b === 0 ? null : round3(a / b);

function failed(path: PathReport): boolean {
  const parts = [
    path.requests,
    path.pgbench,
    path.concurrent,
    path.fairness,
    path.bulk?.singleStream,
    path.bulk?.parallel,
  ];
  return path.errors.length > 0 || parts.some((p) => p !== undefined && p.status !== 'ok');
}

/** The goals for every mode of the run. */
export function checkGoals(
  paths: Readonly<Record<string, PathReport>>,
  modes: readonly string[],
): GoalCheck[] {
  const goals: GoalCheck[] = [];
  const direct = paths.direct;
  const baseline = paths.baseline;
  for (const mode of modes) {
    const p = paths[mode];
    if (!p) continue;
    if (p.requests && direct?.requests) {
      const value = ratio(p.requests.requestsPerSecond, direct.requests.requestsPerSecond);
      goals.push({ goal: `${mode}: requests/s >= 0.8x direct`, value, met: value !== null && value >= 0.8 });
    }
    if (p.pgbench && direct?.pgbench) {
      const value = ratio(p.pgbench.tps, direct.pgbench.tps);
      goals.push({
        goal: `${mode}: pgbench -C tps >= 0.8x direct`,
        value,
        met: value !== null && value >= 0.8,
      });
    }
    if (p.concurrent) {
      const c = p.concurrent;
      const ok = c.status === 'ok';
      goals.push({
        goal: `${mode}: ${c.connections} held connections over <= ${HELD_GOALS.relayConnections} relay connections`,
        value: ok ? c.relayTunnels : null,
        met: ok && c.relayTunnels !== null && c.relayTunnels <= HELD_GOALS.relayConnections,
      });
      const worst = Math.max(
        c.processes.gateway?.perConnectionKiB ?? NaN,
        c.processes.forwarder?.perConnectionKiB ?? NaN,
      );
      goals.push({
        goal: `${mode}: <= ${HELD_GOALS.kibPerStream} KiB per idle stream (worse of gateway, forwarder)`,
        value: ok && !Number.isNaN(worst) ? worst : null,
        met: ok && worst <= HELD_GOALS.kibPerStream,
      });
    }
    if (p.fairness) {
      const value = p.fairness.p99Ratio;
      goals.push({
        goal: `${mode}: interactive p99 beside bulk <= 2x idle`,
        value,
        met: value !== null && value <= 2,
      });
    }
    if (p.bulk && baseline?.bulk) {
      const single = ratio(p.bulk.singleStream?.MBps, baseline.bulk.singleStream?.MBps);
      const parallel = ratio(p.bulk.parallel?.MBps, baseline.bulk.parallel?.MBps);
      const value = single === null || parallel === null ? null : Math.min(single, parallel);
      goals.push({
        goal: `${mode}: bulk >= 1.0x baseline (worse of 1 stream and parallel)`,
        value,
        met: value !== null && value >= 1,
      });
    }
  }
  return goals;
}

/** Assembles the report. */
export function buildConnectionsReport(input: {
  readonly options: ConnectionsOptions;
  readonly startedAtMs: number;
  readonly loadAverageAtStart: number;
  readonly openFileLimit: number;
  readonly paths: Readonly<Record<string, PathReport>>;
}): ConnectionsReport {
  return {
    bench: 'relay-connections',
    schemaVersion: 1,
    ok: Object.values(input.paths).every((p) => !failed(p)),
    startedAt: new Date(input.startedAtMs).toISOString(),
    durationMs: Date.now() - input.startedAtMs,
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      loadAverageAtStart: input.loadAverageAtStart,
      loadAverageAtEnd: Math.round(loadavg()[0]! * 100) / 100,
      openFileLimit: input.openFileLimit,
    },
    settings: input.options,
    paths: input.paths,
    goals: checkGoals(input.paths, input.options.modes),
  };
}
