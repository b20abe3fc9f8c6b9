// Runs relay-gateway or relay-forwarder as a child process from its entry file, the way a plain VM runs it:
// `--config file --relay-ca ca.pem`, JSON log lines on stdout (kept in a file and watched for readiness).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { moduleCommand } from '../edge-agent/module-child';
import type { RunnableModule } from '../edge-agent/deployment-spec';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';

/** The two module processes (the edge agent's runnable modules). */
export type ModuleName = RunnableModule;

/** One parsed JSON log line of a module. */
export type LogLine = Readonly<Record<string, unknown>> & { readonly msg?: string };

/** Options of {@link ModuleProcess.start}. */
export interface ModuleProcessOptions {
  readonly module: ModuleName;
  /** The configuration file (`--config`); without it the module starts in twin mode (IoT Hub from `env`). */
  readonly configPath?: string;
  /** The relay's CA certificate file (the sandbox CA), passed as `--relay-ca`. */
  readonly relayCaPath: string;
  /** Where stdout and stderr are written as they come; nothing is kept on disk without it. */
  readonly logPath?: string;
  /** `--log-level`; the configuration file's `logLevel` wins once it is applied. */
  readonly logLevel?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Run in a process group of its own (see `spawn`'s `detached`); the parent must then stop it itself. */
  readonly detached?: boolean;
}

/** How a module process ended. */
export interface ModuleExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Log lines kept in memory for {@link ModuleProcess.waitForLog} and diagnostics (older ones are dropped). */
const KEPT_LINES = 2_000;
/** Characters of stderr kept for error messages. */
const KEPT_STDERR_CHARS = 16_384;

/** A running module process: its log lines as they arrive, a bounded wait for one, and a bounded stop. */
export class ModuleProcess {
  /** The most recent log lines (JSON lines only; other output is in `otherOutput`). */
  readonly lines: LogLine[] = [];
  /** stdout lines that were not JSON (usage text, stack traces). */
  readonly otherOutput: string[] = [];
  readonly exited: Promise<ModuleExit>;
  private stderrText = '';
  private seenLines = 0;
  private exit: ModuleExit | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly logFile: WriteStream | undefined;

  private constructor(
    readonly module: ModuleName,
    private readonly child: ChildProcessByStdio<null, Readable, Readable>,
    logPath: string | undefined,
  ) {
    this.logFile = logPath === undefined ? undefined : createWriteStream(logPath, { flags: 'w' });
    this.logFile?.on('error', () => undefined);
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      this.logFile?.write(text);
      const parts = (partial + text).split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) this.take(part);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      this.logFile?.write(text);
      this.stderrText = (this.stderrText + text).slice(-KEPT_STDERR_CHARS);
    });
    this.exited = new Promise<ModuleExit>((resolveExit) => {
      child.once('close', (code, signal) => {
        if (partial !== '') this.take(partial);
        this.exit = { code, signal };
        this.wake();
        if (this.logFile) this.logFile.end(() => resolveExit({ code, signal }));
        else resolveExit({ code, signal });
      });
    });
  }

  /** Starts `node [ts-node] modules/<module>/src/main [--config …] --relay-ca …`. */
  static start(options: ModuleProcessOptions): ModuleProcess {
    // Started the way the image starts it (node flags, entry); file mode adds its config and the relay CA.
    const { command, args: moduleArgs, cwd } = moduleCommand(options.module);
    const config = options.configPath === undefined ? [] : ['--config', options.configPath];
    const args = [...moduleArgs, ...config, '--relay-ca', options.relayCaPath];
    if (options.logLevel !== undefined) args.push('--log-level', options.logLevel);
    const child = spawn(command, args, {
      cwd,
      // Health probes on ephemeral ports: the fixed defaults (8080/8081) may be taken on a developer's machine.
      env: options.env ?? { ...process.env, HEALTH_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a terminal's Ctrl-C reaches only the parent, which then sends exactly one SIGTERM.
      // (A second signal means "stop now, drain no longer" to both modules, which is not what Ctrl-C asks for.)
      detached: options.detached ?? false,
    });
    return new ModuleProcess(options.module, child, options.logPath);
  }

  /** The process id (undefined only if the spawn itself failed). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The exit, once it happened. */
  get exitStatus(): ModuleExit | undefined {
    return this.exit;
  }

  /** The last part of stderr. */
  get stderr(): string {
    return this.stderrText;
  }

  /** How many JSON log lines arrived so far (a mark for `waitForLog`'s `fromLine`). */
  get lineCount(): number {
    return this.seenLines;
  }

  /**
   * Resolves with the first line that matches, among kept and future lines numbered `fromLine` or later; rejects
   * if the process exits first or `timeoutMs` passes.
   */
  waitForLog(
    match: (line: LogLine) => boolean,
    what: string,
    options: { readonly timeoutMs?: number; readonly fromLine?: number } = {},
  ): Promise<LogLine> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise<LogLine>((resolveLine, reject) => {
      const check = (): void => {
        const skip = Math.max(0, (options.fromLine ?? 0) - (this.seenLines - this.lines.length));
        const found = this.lines.slice(skip).find(match);
        if (found) finish(() => resolveLine(found));
        else if (this.exit) finish(() => reject(this.failure(`exited before ${what}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(this.failure(`timed out after ${timeoutMs} ms waiting for ${what}`))),
        timeoutMs,
      );
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends `signal` if the process still runs. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.exit && this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`; resolves with how it ended. */
  async stop(timeoutMs = 10_000): Promise<ModuleExit> {
    this.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
    const ended = await Promise.race([this.exited, forced.then(() => undefined)]);
    clearTimeout(timer);
    if (ended) return ended;
    this.kill('SIGKILL');
    return this.exited;
  }

  private take(text: string): void {
    if (text.trim() === '') return;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      line = undefined;
    }
    if (line !== null && typeof line === 'object' && !Array.isArray(line)) {
      this.lines.push(line as LogLine);
      this.seenLines += 1;
      if (this.lines.length > KEPT_LINES) this.lines.splice(0, this.lines.length - KEPT_LINES);
    } else {
      this.otherOutput.push(text);
      if (this.otherOutput.length > KEPT_LINES) this.otherOutput.shift();
    }
    this.wake();
  }

  private wake(): void {
    for (const check of [...this.waiters]) check();
  }

  private failure(message: string): Error {
    const exit = this.exit ? ` (exit code ${this.exit.code}, signal ${this.exit.signal})` : '';
    const stderr = this.stderrText.trim();
    return new Error(`${this.module}: ${message}${exit}${stderr ? `\n${stderr}` : ''}`);
  }
}
