import type { BenchProcess } from '../process/bench-process';

/** CPU time used by each process (by role) and by the bench process itself, between start() and stop(). */
export class CpuMeter {
  private readonly before = new Map<BenchProcess, number>();
  private readonly selfBefore = process.cpuUsage();

  constructor(private readonly processes: readonly BenchProcess[]) {
    for (const proc of processes) this.before.set(proc, proc.cpuMs() ?? NaN);
  }

  /** ms of CPU per role (`client+target` is the bench process: clients and the target server). */
  stop(): Record<string, number> {
    const result: Record<string, number> = {};
    for (const proc of this.processes)
      result[proc.role] = Math.round((proc.cpuMs() ?? NaN) - this.before.get(proc)!);
    const self = process.cpuUsage(this.selfBefore);
    result['client+target'] = Math.round((self.user + self.system) / 1000);
    return result;
  }
}
