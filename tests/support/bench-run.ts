// A bench entry point run the way its npm script runs it (ts-node, from the repository root), for the smoke tests
// that read its JSON report on stdout and its log on stderr.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** How a bench run ended, with its two output streams kept apart. */
export interface BenchRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `entry` (e.g. `bench/main.ts`) with `args`; the child is killed (by its pid) if it outlives `killAfterMs`. */
export function runBenchEntry(
  entry: string,
  args: readonly string[],
  killAfterMs: number,
): Promise<BenchRun> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', entry, ...args], {
    cwd: ROOT,
    env: { ...process.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(killer);
      done({ code, stdout, stderr });
    });
  });
}

/** The run's stdout as its one JSON report; throws with the exit code, stdout and the end of stderr otherwise. */
export function reportOf<T>(run: BenchRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(
      `stdout is not one JSON object (exit ${run.code}):\n${run.stdout}\n${run.stderr.slice(-3000)}`,
    );
  }
}
