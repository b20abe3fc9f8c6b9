import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readCpuMs, readRss, type RssReading } from './proc-stats';

/** How to start one child process of a variant. */
export interface BenchProcessSpec {
  /** Role in the report: `gateway`, `forwarder`, `relay`. */
  readonly role: string;
  readonly script: string;
  readonly args?: readonly string[];
  /** Added to the parent's environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** Extra node flags (e.g. --cpu-prof). */
  readonly nodeFlags?: readonly string[];
  /** Receives every stdout line (ready lines, JSON logs). */
  readonly onLine?: (line: string) => void;
  /** Where stderr and noteworthy lines go (the bench's progress log). */
  readonly log: (line: string) => void;
}

const PROCESSES = new Set<ChildProcess>();
let exitHookInstalled = false;

// If the bench itself dies (Ctrl-C, a crash) its children must not outlive it: kill exactly the ones it started.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of PROCESSES) child.kill('SIGKILL');
  });
}

/** A child process of the bench (a gateway, forwarder, relay…) with line-wise stdout and /proc figures. */
export class BenchProcess {
  readonly role: string;
  private readonly lines: string[] = [];
  private waiters: Array<() => void> = [];
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(
    private readonly child: ChildProcess,
    spec: BenchProcessSpec,
  ) {
    this.role = spec.role;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      if (this.lines.length > 200) this.lines.shift();
      spec.onLine?.(line);
      this.wake();
    });
    createInterface({ input: child.stderr! }).on('line', (line) => spec.log(`[${spec.role}] ${line}`));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        PROCESSES.delete(child);
        this.exitCode = code ?? (signal ? -1 : null);
        this.wake();
        resolve(this.exitCode);
      }),
    );
  }

  /** Spawns `node [flags] script [args]`. */
  static start(spec: BenchProcessSpec): BenchProcess {
    installExitHook();
    // BENCH_CHILD_NODE_FLAGS (e.g. "--trace-gc") reaches every child: a diagnosis aid NODE_OPTIONS cannot give.
    const extraFlags = (process.env.BENCH_CHILD_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
    const flags = [...extraFlags, ...(spec.nodeFlags ?? [])];
    const child = spawn(process.execPath, [...flags, spec.script, ...(spec.args ?? [])], {
      env: { ...process.env, ...spec.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    PROCESSES.add(child);
    spec.log(`${spec.role}: pid ${child.pid} ${spec.script.split('/').slice(-3).join('/')}`);
    return new BenchProcess(child, spec);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Current and peak resident memory (undefined once it has exited). */
  rss(): RssReading | undefined {
    return readRss(this.pid);
  }

  /** CPU time used so far, in ms. */
  cpuMs(): number | undefined {
    return readCpuMs(this.pid);
  }

  /** Resolves with the first stdout line (past or future) matching `predicate`; throws on timeout or exit. */
  async waitForLine(predicate: (line: string) => boolean, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(predicate);
      if (found !== undefined) return found;
      if (!this.running) throw new Error(`${this.role} exited (code ${this.exitCode}) before it was ready`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.role} not ready within ${timeoutMs} ms`);
      await this.nextEvent(Math.min(left, 250));
    }
  }

  /** Stops the process with `signal` and waits; kills it (by its pid) if it outlives `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<number | null> {
    if (this.running) {
      this.child.stdin?.end();
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exitCode ?? null;
  }

  private nextEvent(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  private wake(): void {
    const current = this.waiters;
    this.waiters = [];
    for (const w of current) w();
  }
}
