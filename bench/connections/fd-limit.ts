import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The open-file limit of this process (soft, hard), read from /proc; undefined where that is unavailable. */
export function openFileLimit(): { soft: number; hard: number } | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
    if (!match) return undefined;
    const value = (s: string): number => (s === 'unlimited' ? Infinity : Number(s));
    return { soft: value(match[1]!), hard: value(match[2]!) };
  } catch {
    return undefined;
  }
}

/**
 * Makes sure this process (and so every child it starts later, which inherits the limit) may open `needed`
 * files: holding N connections through a tunnel takes about 2N sockets in each of the bench, gateway, forwarder
 * and relay processes. Node cannot call setrlimit, so this runs `prlimit` on its own pid, which needs root (or
 * CAP_SYS_RESOURCE) above the hard limit. Returns the limit in force afterwards, having said what it did.
 */
export function ensureOpenFileLimit(needed: number, log: (line: string) => void): number {
  const current = openFileLimit();
  if (!current) return needed;
  if (current.soft >= needed) return current.soft;
  log(
    `open-file limit (ulimit -n) is ${current.soft}, below the ${needed} the held connections need; ` +
      `raising it for this run with prlimit`,
  );
  try {
    execFileSync(
      'prlimit',
      ['--pid', String(process.pid), `--nofile=${needed}:${Math.max(needed, current.hard)}`],
      {
        stdio: 'ignore',
      },
    );
  } catch {
    // Without privileges the soft limit can still go up to the hard one.
    if (current.hard > current.soft) {
      try {
        execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${current.hard}:${current.hard}`], {
          stdio: 'ignore',
        });
      } catch {
        // Reported below from the limit actually in force.
      }
    }
  }
  const after = openFileLimit()?.soft ?? current.soft;
  if (after < needed)
    log(
      `could not raise the open-file limit past ${after} (prlimit needs root above the hard limit ${current.hard}); ` +
        `run with a smaller --concurrent or raise it (ulimit -n ${needed}) first`,
    );
  return after;
}
