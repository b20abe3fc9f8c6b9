import { cpus, loadavg, totalmem } from 'node:os';
import type { BenchOptions, VariantName } from './options';
import type { VariantReport } from './variant-session';

/** Ratios of ours to another variant (null when either figure is missing or failed). */
export interface Ratios {
  /** Single-stream throughput, ours / other (higher is better for ours). */
  readonly throughputSingle: number | null;
  readonly throughputParallel: number | null;
  /** p50 connect+first-byte latency, ours / other (lower is better for ours). */
  readonly latencyP50: number | null;
  readonly latencyP99: number | null;
}

/** One target of the issue, checked against this run's figures. */
export interface TargetCheck {
  readonly target: string;
  readonly value: number | null;
  readonly met: boolean;
}

/** The shared relay's figures over the whole run. */
export interface RelayFigures {
  readonly peakRssMiB: number;
  readonly maxInFlightBytesPerDirection: number;
  readonly maxListenersPerHybridConnection: number;
  readonly tunnelsOpened: number;
  readonly backpressurePauses: number;
  readonly maxBufferedBytesObserved: number;
}

/** The object `--json` prints. */
export interface BenchReport {
  readonly bench: 'relay-tunnel';
  readonly schemaVersion: 1;
  readonly ok: boolean;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly machine: {
    readonly node: string;
    readonly platform: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryMiB: number;
    /** 1-minute load average when the run started and ended: other work on the machine skews every figure. */
    readonly loadAverageAtStart: number;
    readonly loadAverageAtEnd: number;
  };
  readonly settings: {
    readonly variants: readonly VariantName[];
    readonly bulkMiB: number;
    readonly parallelStreams: number;
    readonly bulkRounds: number;
    readonly latencyConnections: number;
    readonly warmupConnections: number;
    readonly idleConnections: number;
    readonly idleHoldMs: number;
    readonly corruptVariant: VariantName | null;
    readonly units: string;
  };
  readonly variants: Partial<Record<VariantName, VariantReport>>;
  readonly relay: RelayFigures | null;
  readonly ratios: {
    readonly 'ours/baseline': Ratios;
    readonly 'ours/hyco-ws': Ratios;
    readonly 'ours/direct': Ratios;
  };
  readonly targets: readonly TargetCheck[];
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return round3(a / b);
}

function ratiosAgainst(ours: VariantReport | undefined, other: VariantReport | undefined): Ratios {
  const ok = (r: VariantReport | undefined) => (r?.latency?.status === 'ok' ? r.latency : undefined);
  return {
    throughputSingle: ratio(ours?.throughput?.singleStream.MBps, other?.throughput?.singleStream.MBps),
    throughputParallel: ratio(ours?.throughput?.parallel.MBps, other?.throughput?.parallel.MBps),
    latencyP50: ratio(ok(ours)?.p50Ms, ok(other)?.p50Ms),
    latencyP99: ratio(ok(ours)?.p99Ms, ok(other)?.p99Ms),
  };
}

function minOf(...values: Array<number | null>): number | null {
  return values.some((v) => v === null) ? null : Math.min(...(values as number[]));
}

/** Checks the targets; a figure that is missing (variant not run or failed) is not met. */
export function checkTargets(
  variants: Partial<Record<VariantName, VariantReport>>,
  ratios: BenchReport['ratios'],
): TargetCheck[] {
  const vsBaseline = minOf(
    ratios['ours/baseline'].throughputSingle,
    ratios['ours/baseline'].throughputParallel,
  );
  const vsHyco = minOf(ratios['ours/hyco-ws'].throughputSingle, ratios['ours/hyco-ws'].throughputParallel);
  const idle = variants.ours?.idle;
  return [
    {
      target: 'ours >= 0.9x baseline throughput (worse of single and parallel)',
      value: vsBaseline,
      met: vsBaseline !== null && vsBaseline >= 0.9,
    },
    {
      target: 'ours <= 1.2x baseline p50 latency',
      value: ratios['ours/baseline'].latencyP50,
      met: ratios['ours/baseline'].latencyP50 !== null && ratios['ours/baseline'].latencyP50 <= 1.2,
    },
    {
      target: 'ours >= 2x hyco-ws throughput (worse of single and parallel)',
      value: vsHyco,
      met: vsHyco !== null && vsHyco >= 2,
    },
    {
      target: `ours: ${idle?.connections ?? 0} concurrent idle connections with no error (issue: 2000)`,
      value: idle ? idle.errors : null,
      met: idle !== undefined && idle.status === 'ok',
    },
  ];
}

/** Assembles the JSON report. */
export function buildReport(input: {
  readonly options: BenchOptions;
  readonly startedAtMs: number;
  readonly loadAverageAtStart: number;
  readonly variants: Partial<Record<VariantName, VariantReport>>;
  readonly relay: RelayFigures | null;
}): BenchReport {
  const { options, variants } = input;
  const ratios = {
    'ours/baseline': ratiosAgainst(variants.ours, variants.baseline),
    'ours/hyco-ws': ratiosAgainst(variants.ours, variants['hyco-ws']),
    'ours/direct': ratiosAgainst(variants.ours, variants.direct),
  };
  return {
    bench: 'relay-tunnel',
    schemaVersion: 1,
    ok: Object.values(variants).every((v) => v.status === 'ok'),
    startedAt: new Date(input.startedAtMs).toISOString(),
    durationMs: Date.now() - input.startedAtMs,
    machine: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryMiB: Math.round(totalmem() / 1024 / 1024),
      loadAverageAtStart: input.loadAverageAtStart,
      loadAverageAtEnd: Math.round(loadavg()[0]! * 100) / 100,
    },
    settings: {
      variants: options.variants,
      bulkMiB: options.totalMiB,
      parallelStreams: options.streams,
      bulkRounds: options.bulkRounds,
      latencyConnections: options.connections,
      warmupConnections: options.warmupConnections,
      idleConnections: options.idle,
      idleHoldMs: options.idleHoldMs,
      corruptVariant: options.corruptVariant ?? null,
      units: 'MBps = 10^6 bytes/s of payload; memory in MiB; latency in ms; cpuMs = CPU time during the run',
    },
    variants,
    relay: input.relay,
    ratios,
    targets: checkTargets(variants, ratios),
  };
}
