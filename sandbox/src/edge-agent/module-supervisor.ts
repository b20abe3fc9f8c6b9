import type { ModuleSpec } from './deployment-spec';
import type { RunningModule } from './module-child';
import { restartDelayMs, shouldRestart, type ModuleExit, type RestartBackoff } from './restart-policy';

/** IoT Edge's module runtime states, as `$edgeAgent` reports them. */
export type RuntimeStatus = 'running' | 'backoff' | 'stopped' | 'failed' | 'unknown';

/** One module's state (no secrets). */
export interface ModuleState {
  readonly name: string;
  readonly spec: ModuleSpec;
  readonly runtimeStatus: RuntimeStatus;
  readonly pid?: number;
  readonly restartCount: number;
  readonly exitCode?: number;
  readonly statusDescription?: string;
  readonly lastStartTimeUtc?: string;
  readonly lastExitTimeUtc?: string;
  readonly lastRestartTimeUtc?: string;
}

/** What a supervisor needs from the agent. */
export interface SupervisorDeps {
  /** Creates the module identity if needed and starts the process. */
  readonly launch: (spec: ModuleSpec) => Promise<RunningModule>;
  readonly backoff: RestartBackoff;
  /** Bound on a stop before SIGKILL (IoT Edge gives a container 10 s after SIGTERM). */
  readonly stopTimeoutMs: number;
  /** Called after every state change (reporting, waiters). */
  readonly onChange: () => void;
  readonly nowMs?: () => number;
}

/**
 * Runs one module of the deployment: starts it when its desired status is `running`, restarts it per its
 * `restartPolicy` with a doubling delay, restarts it at once when its definition (image, env, createOptions,
 * version) changes, stops it when told. Every transition is visible in `state()`.
 */
export class ModuleSupervisor {
  private child: RunningModule | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The generation a launch is under way for (a halt makes it stale; a new launch may then start). */
  private launchingGeneration: number | undefined;
  /** The latest launch, awaited by stop() so that no process starts after the supervisor stopped. */
  private inflight: Promise<void> = Promise.resolve();
  /** Bumped by every halt, so a launch that finishes after it knows it is stale. */
  private generation = 0;
  private failures = 0;
  private startedAtMs = 0;
  private closed = false;
  private status: Omit<ModuleState, 'name' | 'spec'> = { runtimeStatus: 'unknown', restartCount: 0 };

  constructor(
    private spec: ModuleSpec,
    private readonly deps: SupervisorDeps,
  ) {}

  /** A snapshot of the module's state. */
  state(): ModuleState {
    return { name: this.spec.name, spec: this.spec, ...this.status };
  }

  /** Starts the module if its desired status asks for it (and the image is one the stand-in runs). */
  start(): void {
    // A module asked to stay stopped is stopped whatever its image (the sandbox's own fleet-controller module).
    if (this.spec.status !== 'running') {
      this.set({ runtimeStatus: 'stopped', statusDescription: 'desired status is stopped' });
      return;
    }
    if (!this.spec.runs) {
      this.set({
        runtimeStatus: 'failed',
        statusDescription: `image ${this.spec.image} is not relay-forwarder or relay-gateway; the sandbox runs only those`,
      });
      return;
    }
    this.inflight = this.launch();
  }

  /** Applies a new definition: a changed one restarts the process, a changed status starts or stops it. */
  async update(spec: ModuleSpec): Promise<void> {
    const before = this.spec;
    this.spec = spec;
    const definitionChanged = before.fingerprint !== spec.fingerprint;
    const statusChanged = before.status !== spec.status;
    if (!definitionChanged && !statusChanged) {
      this.deps.onChange();
      return;
    }
    await this.halt();
    this.failures = 0;
    this.start();
  }

  /** Stops the module for good (removed from the deployment, or the agent stops). */
  async stop(): Promise<void> {
    this.closed = true;
    await this.halt();
    await this.inflight;
    this.set({ runtimeStatus: 'stopped', statusDescription: 'stopped by the agent' });
  }

  private async launch(): Promise<void> {
    if (this.closed || this.child || this.launchingGeneration === this.generation) return;
    const generation = this.generation;
    this.launchingGeneration = generation;
    const done = (): void => {
      if (this.launchingGeneration === generation) this.launchingGeneration = undefined;
    };
    let child: RunningModule;
    try {
      child = await this.deps.launch(this.spec);
    } catch (err) {
      done();
      if (generation !== this.generation || this.closed) return;
      // The agent could not start it (identity, spawn): retry with the backoff whatever the restart policy says.
      this.scheduleRestart(`start failed: ${(err as Error).message}`);
      return;
    }
    done();
    if (generation !== this.generation || this.closed) {
      await child.stop(this.deps.stopTimeoutMs);
      return;
    }
    this.child = child;
    this.startedAtMs = this.now();
    this.set({
      runtimeStatus: 'running',
      ...(child.pid !== undefined && { pid: child.pid }),
      exitCode: undefined,
      statusDescription: undefined,
      lastStartTimeUtc: new Date(this.startedAtMs).toISOString(),
    });
    void child.exited.then((exit) => this.exitedOnItsOwn(child, exit));
  }

  private exitedOnItsOwn(child: RunningModule, exit: ModuleExit): void {
    if (this.child !== child) return; // a stop we asked for
    this.child = undefined;
    if (this.now() - this.startedAtMs >= this.deps.backoff.stableAfterMs) this.failures = 0;
    const exitCode = exit.code ?? 128;
    const how = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exitCode}`;
    this.status = {
      ...this.status,
      pid: undefined,
      exitCode,
      lastExitTimeUtc: new Date(this.now()).toISOString(),
    };
    if (!this.closed && shouldRestart(this.spec.restartPolicy, exit)) {
      this.scheduleRestart(how);
      return;
    }
    this.set({
      runtimeStatus: exit.code === 0 ? 'stopped' : 'failed',
      statusDescription: `${how}; restartPolicy ${this.spec.restartPolicy}`,
    });
  }

  private scheduleRestart(reason: string): void {
    this.failures += 1;
    const delayMs = restartDelayMs(this.deps.backoff, this.failures);
    this.set({ runtimeStatus: 'backoff', statusDescription: `${reason}; restarting in ${delayMs} ms` });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.status = {
        ...this.status,
        restartCount: this.status.restartCount + 1,
        lastRestartTimeUtc: new Date(this.now()).toISOString(),
      };
      this.inflight = this.launch();
    }, delayMs);
  }

  private async halt(): Promise<void> {
    this.generation += 1;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    const exit = await child.stop(this.deps.stopTimeoutMs);
    this.status = {
      ...this.status,
      pid: undefined,
      exitCode: exit.code ?? 128,
      lastExitTimeUtc: new Date(this.now()).toISOString(),
    };
  }

  private set(change: Partial<Omit<ModuleState, 'name' | 'spec'>>): void {
    const next: Record<string, unknown> = { ...this.status, ...change };
    for (const key of Object.keys(next)) if (next[key] === undefined) delete next[key];
    this.status = next as unknown as Omit<ModuleState, 'name' | 'spec'>;
    this.deps.onChange();
  }

  private now(): number {
    return (this.deps.nowMs ?? Date.now)();
  }
}
