import { readFileSync } from 'node:fs';

/** Resident memory of a process, from /proc (Linux). */
export interface RssReading {
  /** Resident set size now. */
  readonly rssBytes: number;
  /** Peak resident set size since the process started (VmHWM). */
  readonly peakRssBytes: number;
}

/** Reads VmRSS and VmHWM of `pid`; undefined when the process is gone or /proc is unavailable. */
export function readRss(pid: number): RssReading | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  };
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
}

// USER_HZ is 100 on every Linux ABI Node runs on; /proc/<pid>/stat counts CPU time in those ticks.
const TICKS_PER_SECOND = 100;

/** User + system CPU time `pid` has used so far, in ms (10 ms resolution); undefined when unavailable. */
export function readCpuMs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/** Samples VmRSS of some processes every `intervalMs` and keeps each one's maximum. */
export class RssSampler {
  private readonly peaks = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: readonly number[],
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Stops sampling (takes one last sample) and returns the maximum VmRSS seen per pid, in bytes. */
  stop(): Map<number, number> {
    clearInterval(this.timer);
    this.sample();
    return this.peaks;
  }

  private sample(): void {
    for (const pid of this.pids) {
      const reading = readRss(pid);
      if (reading) this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, reading.rssBytes));
    }
  }
}
