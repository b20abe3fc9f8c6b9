import { resolve } from 'node:path';
import { runTsNode } from './ts-node-run';

/** What telemetry-child.ts prints. */
export interface TelemetryChildReport {
  readonly mode: 'azure-monitor' | 'local';
  readonly processToReadyMs: number;
  readonly startTelemetryMs: number;
  readonly shutdown: { readonly completed: boolean; readonly elapsedMs: number };
  /** The `/metrics` body, when METRICS_PORT was set. */
  readonly scrape?: string;
  /** Whether the Azure Monitor distro was loaded into the child at all. */
  readonly azureMonitorLoaded: boolean;
}

/** The child's report plus what the parent saw. */
export interface TelemetryChildRun {
  readonly report: TelemetryChildReport;
  readonly exitCode: number | null;
  readonly wallMs: number;
  readonly stdout: string;
  readonly stderr: string;
}

const CHILD = resolve(__dirname, 'telemetry-child.ts');

/** Runs telemetry-child.ts under ts-node with `env` added; kills it (by its pid) if it outlives `killAfterMs`. */
export async function runTelemetryChild(
  env: NodeJS.ProcessEnv,
  killAfterMs = 60_000,
): Promise<TelemetryChildRun> {
  const started = performance.now();
  const { code: exitCode, stdout, stderr } = await runTsNode(CHILD, [], { killAfterMs, env });
  const wallMs = Math.round(performance.now() - started);
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return { report: JSON.parse(line) as TelemetryChildReport, exitCode, wallMs, stdout, stderr };
  } catch {
    throw new Error(`telemetry child gave no report (exit ${exitCode}): ${stderr.slice(0, 2000)}`);
  }
}
