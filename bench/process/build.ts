import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Repository root (bench/process/ → ../..). */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/** Compiled child entry points, ready to run with plain `node`. */
export interface BenchBuild {
  readonly outDir: string;
  /** NODE_PATH for the children: the compiled files live outside the repository. */
  readonly nodePath: string;
  /** Absolute path of the compiled JS for a repository-relative `.ts` entry. */
  script(entry: string): string;
  remove(): Promise<void>;
}

/**
 * Compiles `entries` (repository-relative .ts files, and everything they import) to JavaScript in a temporary
 * directory. Children run compiled JS like production images do: running them under ts-node would add the
 * TypeScript compiler (tens of MiB) to every RSS figure and seconds to every start. Type checking is skipped
 * (`--noCheck`): `npm run typecheck` owns that, and the bench must run while other work is in progress.
 */
export async function buildChildEntries(entries: readonly string[]): Promise<BenchBuild> {
  const outDir = await mkdtemp(join(tmpdir(), 'bench-build-'));
  const tsc = require.resolve('typescript/bin/tsc');
  const args = [
    tsc,
    '--noCheck',
    '--outDir',
    outDir,
    '--rootDir',
    REPO_ROOT,
    '--module',
    'commonjs',
    '--target',
    'ES2022',
    '--moduleResolution',
    'node',
    '--esModuleInterop',
    '--resolveJsonModule',
    '--skipLibCheck',
    '--types',
    'node',
    ...entries.map((e) => join(REPO_ROOT, e)),
  ];
  const output = await new Promise<{ code: number | null; text: string }>((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr.on('data', (c: Buffer) => (text += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, text }));
  });
  if (output.code !== 0) {
    await rm(outDir, { recursive: true, force: true });
    throw new Error(`compiling the bench children failed:\n${output.text.slice(0, 4000)}`);
  }
  return {
    outDir,
    nodePath: join(REPO_ROOT, 'node_modules'),
    script: (entry) => join(outDir, entry.replace(/\.ts$/, '.js')),
    remove: () => rm(outDir, { recursive: true, force: true }),
  };
}
