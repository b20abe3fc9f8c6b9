// A TypeScript entry point run as a child the way the npm scripts run it (ts-node, from the repository root), for
// tests that read what it prints: a bench's JSON report on stdout and its log on stderr, a probe's one report line.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** How the child ended, with its two output streams kept apart. */
export interface TsNodeRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runTsNode}. */
export interface TsNodeRunOptions {
  /** The child is killed (by its pid) if it outlives this. */
  readonly killAfterMs: number;
  /** Added to this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs `entry` (a path from the repository root, or absolute) with `args` under ts-node and collects its output. */
export function runTsNode(
  entry: string,
  args: readonly string[],
  options: TsNodeRunOptions,
): Promise<TsNodeRun> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(killer);
      done({ code, stdout, stderr });
    });
  });
}

/** The run's stdout as its one JSON report; throws with the exit code, stdout and the end of stderr otherwise. */
export function reportOf<T>(run: TsNodeRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(
      `stdout is not one JSON object (exit ${run.code}):\n${run.stdout}\n${run.stderr.slice(-3000)}`,
    );
  }
}
