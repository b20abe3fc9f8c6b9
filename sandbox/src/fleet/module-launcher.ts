// How the fleet's simulated IoT Edge devices start module processes: as the edge agent does, but each in a process
// group of its own (a terminal's Ctrl-C then reaches only the fleet, which stops every module once, in order), and
// remembered so that an unexpected exit of the fleet process still kills them (no orphan keeps a port).
import type { ModuleSpec } from '../edge-agent';
import { ModuleChild, moduleCommand, type RunningModule } from '../edge-agent/module-child';

/** Starts module processes in their own process groups and kills what is left when this process exits. */
export class ModuleLauncher {
  private readonly running = new Set<number>();
  private readonly killAll = (): void => {
    for (const pid of this.running) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  constructor() {
    process.on('exit', this.killAll);
  }

  /** The `launchProcess` hook of `startSandboxEdgeDevice`. */
  readonly launch = (spec: ModuleSpec, env: Record<string, string>, logFile?: string): RunningModule => {
    if (!spec.runs) throw new Error(`image ${spec.image} cannot run in the sandbox`);
    const { command, args, cwd } = moduleCommand(spec.runs);
    const child = ModuleChild.spawn({
      command,
      args,
      cwd,
      env,
      detached: true,
      ...(logFile !== undefined && { logFile }),
    });
    const pid = child.pid;
    if (pid !== undefined) {
      this.running.add(pid);
      void child.exited.then(() => this.running.delete(pid));
    }
    return child;
  };

  /** Pids of module processes still running. */
  pids(): number[] {
    return [...this.running];
  }

  /** Stops watching for the exit of this process (after every device stopped its modules). */
  close(): void {
    this.killAll();
    process.off('exit', this.killAll);
  }
}
