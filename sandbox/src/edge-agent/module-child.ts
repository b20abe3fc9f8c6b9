import { spawn, type ChildProcess } from 'node:child_process';
import { MODULE_NODE_FLAGS } from '../../../modules/common/src/runtime/node-flags';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import type { RunnableModule } from './deployment-spec';
import type { ModuleExit } from './restart-policy';

/** A module process as the supervisor sees it. */
export interface RunningModule {
  readonly pid: number | undefined;
  /** Resolves once, when the process has exited and its output is flushed. */
  readonly exited: Promise<ModuleExit>;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with the exit. Idempotent. */
  stop(timeoutMs: number): Promise<ModuleExit>;
}

/** What to run. */
export interface SpawnOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** The whole environment of the process (nothing is inherited). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Appends stdout and stderr here; otherwise only the last lines are kept in memory. */
  readonly logFile?: string;
  /** Its own process group (a terminal's Ctrl-C then reaches only the parent, which stops it in order). */
  readonly detached?: boolean;
}

/** Lines of output kept in memory per process, for diagnostics. */
const KEPT_LINES = 200;

/** The repository root (or `dist/`): this file is three levels down, in sandbox/src/edge-agent. */
const ROOT = resolve(__dirname, '../../..');

/**
 * How to start one of our modules the way its image does (`node main.js`, no arguments: twin mode): from the
 * sources through ts-node when this file runs from sources, else the compiled entry next to it.
 */
export function moduleCommand(module: RunnableModule): { command: string; args: string[]; cwd: string } {
  const fromSources = extname(__filename) === '.ts';
  const entry = join(ROOT, 'modules', module, 'src', fromSources ? 'main.ts' : 'main.js');
  // The images' node flags (MODULE_NODE_FLAGS): the sandbox runs the modules the way they ship.
  const loader = fromSources ? ['-r', require.resolve('ts-node/register/transpile-only')] : [];
  const args = [...MODULE_NODE_FLAGS, ...loader, entry];
  return { command: process.execPath, args, cwd: ROOT };
}

/** A child process with its output kept (last lines, and a log file when asked) and a bounded stop. */
export class ModuleChild implements RunningModule {
  readonly exited: Promise<ModuleExit>;
  private readonly lines: string[] = [];
  private exit: ModuleExit | undefined;
  private stopping: Promise<ModuleExit> | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly log: WriteStream | undefined,
  ) {
    let partial = '';
    const take = (chunk: Buffer): void => {
      this.log?.write(chunk);
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) this.keep(line);
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    this.exited = new Promise<ModuleExit>((resolveExit) => {
      // 'close' comes after the output streams ended; a failed spawn gives 'error' and then 'close' too.
      child.once('close', (code, signal) => {
        if (partial !== '') this.keep(partial);
        this.exit = { code, signal };
        if (this.log) this.log.end(() => resolveExit({ code, signal }));
        else resolveExit({ code, signal });
      });
    });
    child.on('error', (err) => this.keep(`spawn failed: ${err.message}`));
  }

  /** Starts the process with exactly the given environment. */
  static spawn(options: SpawnOptions): ModuleChild {
    let log: WriteStream | undefined;
    if (options.logFile !== undefined) {
      mkdirSync(dirname(options.logFile), { recursive: true, mode: 0o700 });
      log = createWriteStream(options.logFile, { flags: 'a', mode: 0o600 });
      log.on('error', () => undefined);
    }
    const child = spawn(options.command, [...options.args], {
      env: { ...options.env },
      ...(options.cwd !== undefined && { cwd: options.cwd }),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.detached === true && { detached: true }),
    });
    return new ModuleChild(child, log);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last lines of output (stdout and stderr interleaved as they came). */
  recentOutput(): readonly string[] {
    return [...this.lines];
  }

  stop(timeoutMs: number): Promise<ModuleExit> {
    if (this.exit) return Promise.resolve(this.exit);
    this.stopping ??= (async () => {
      this.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolveKill) => {
        timer = setTimeout(() => {
          this.child.kill('SIGKILL');
          resolveKill();
        }, timeoutMs);
      });
      try {
        await Promise.race([this.exited, killed]);
        return await this.exited;
      } finally {
        clearTimeout(timer);
      }
    })();
    return this.stopping;
  }

  private keep(line: string): void {
    this.lines.push(line);
    if (this.lines.length > KEPT_LINES) this.lines.splice(0, this.lines.length - KEPT_LINES);
  }
}
