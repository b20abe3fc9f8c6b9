import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

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
const ROOT = resolve(__dirname, '..', '..');

/** Runs telemetry-child.ts under ts-node with `env` added; kills it (by its pid) if it outlives `killAfterMs`. */
export function runTelemetryChild(env: NodeJS.ProcessEnv, killAfterMs = 60_000): Promise<TelemetryChildRun> {
  const started = performance.now();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CHILD], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolveRun, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearTimeout(killer);
      const wallMs = Math.round(performance.now() - started);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolveRun({ report: JSON.parse(line) as TelemetryChildReport, exitCode, wallMs, stdout, stderr });
      } catch {
        reject(new Error(`telemetry child gave no report (exit ${exitCode}): ${stderr.slice(0, 2000)}`));
      }
    });
  });
}
