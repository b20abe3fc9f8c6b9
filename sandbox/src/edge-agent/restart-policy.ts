import type { RestartPolicy } from './deployment-spec';

/** How a module process ended. */
export interface ModuleExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Delays between restarts of a module that keeps exiting. */
export interface RestartBackoff {
  /** Delay before the first restart; default 1 000. */
  readonly initialDelayMs: number;
  /** Cap of the doubling delay; default 30 000. */
  readonly maxDelayMs: number;
  /** A process that ran this long counts as healthy again: the next restart starts from `initialDelayMs`; default 60 000. */
  readonly stableAfterMs: number;
}

/** Defaults: shorter than IoT Edge's own cool-off, since a sandbox user watches it happen. */
export const DEFAULT_RESTART_BACKOFF: RestartBackoff = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  stableAfterMs: 60_000,
};

/**
 * IoT Edge's restart policies: `never`; `on-failure` restarts a module that crashed (non-zero exit, or killed by
 * a signal) but not one that exited cleanly; `on-unhealthy` is `on-failure` plus failing health checks, and the
 * stand-in runs no health checks; `always` restarts whatever the exit.
 */
export function shouldRestart(policy: RestartPolicy, exit: ModuleExit): boolean {
  switch (policy) {
    case 'never':
      return false;
    case 'always':
      return true;
    case 'on-failure':
    case 'on-unhealthy':
      return exit.code !== 0;
  }
}

/** The delay before restart number `failures` (1-based) in a row: doubling from the initial delay, capped. */
export function restartDelayMs(backoff: RestartBackoff, failures: number): number {
  const exponent = Math.max(0, Math.min(failures - 1, 30));
  return Math.min(backoff.initialDelayMs * 2 ** exponent, backoff.maxDelayMs);
}
