import { RelayError, isRelayError } from './errors';

/** A capped, jittered exponential delay schedule. */
export interface BackoffPolicy {
  /** Delay before the first retry (before jitter). */
  readonly initialDelayMs: number;
  /** Hard ceiling: no delay is ever longer than this. */
  readonly maxDelayMs: number;
  /** Growth factor per attempt (2 doubles the delay). */
  readonly multiplier: number;
  /** 0…1: how far below the nominal delay a jittered delay may fall (0.5 → between 50% and 100%). */
  readonly jitterRatio: number;
}

/** Default schedule: 1 s, 2 s, 4 s … capped at 30 s, each up to 50% shorter at random. */
export const DEFAULT_BACKOFF_POLICY: BackoffPolicy = Object.freeze({
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitterRatio: 0.5,
});

/** The nominal (un-jittered) delay before retry number `attempt` (1-based), already capped. */
export function nominalBackoffDelayMs(policy: BackoffPolicy, attempt: number): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // Math.pow overflows to Infinity for large attempts, which min() then caps: no special case needed.
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * Math.pow(policy.multiplier, exponent));
}

/**
 * The jittered delay before retry number `attempt` (1-based). Jitter only shortens the delay, so the
 * cap stays a hard ceiling while many clients dropped at the same moment still spread out.
 */
export function backoffDelayMs(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const nominal = nominalBackoffDelayMs(policy, attempt);
  const ratio = Math.min(1, Math.max(0, policy.jitterRatio));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(nominal * (1 - ratio * r));
}

/** Stateful walk along a backoff schedule: `next()` for each failure, `reset()` after success. */
export class Backoff {
  private attempts = 0;

  constructor(
    readonly policy: BackoffPolicy = DEFAULT_BACKOFF_POLICY,
    private readonly random: () => number = Math.random,
  ) {}

  /** Number of delays handed out since the last reset. */
  get attempt(): number {
    return this.attempts;
  }

  /** Delay before the next attempt; each call moves one step along the schedule. */
  next(): number {
    this.attempts += 1;
    return backoffDelayMs(this.policy, this.attempts, this.random);
  }

  /** Starts the schedule over, e.g. once a connection has proved healthy. */
  reset(): void {
    this.attempts = 0;
  }
}

/** Sleeps `ms`, rejecting with RELAY_ABORTED when `signal` aborts; injectable so tests can use fake timers. */
export type SleepFn = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The default SleepFn: one timer, removed on abort so nothing is left behind. */
export const sleep: SleepFn = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** What `retry()` tells its observer before each wait. */
export interface RetryInfo {
  readonly error: unknown;
  /** The attempt that just failed (1-based). */
  readonly attempt: number;
  readonly delayMs: number;
}

/** Options for retry(). */
export interface RetryOptions {
  readonly policy?: BackoffPolicy;
  readonly signal?: AbortSignal;
  /** Give up after this many attempts in total (default: unlimited). */
  readonly maxAttempts?: number;
  /** Start no attempt later than this after the first one began; the last wait is trimmed to fit (default: unlimited). */
  readonly maxElapsedMs?: number;
  /** Which failures are worth another attempt (default: RelayErrors marked retryable). */
  readonly shouldRetry?: (error: unknown, attempt: number) => boolean;
  readonly onRetry?: (info: RetryInfo) => void;
  readonly nowMs?: () => number;
  readonly sleep?: SleepFn;
  readonly random?: () => number;
}

/**
 * Runs `operation` until it succeeds, the failure is not retryable, or a bound is reached; waits along the
 * backoff schedule in between. The last failure is rethrown as is; abort rejects with RELAY_ABORTED.
 */
export async function retry<T>(
  operation: (attempt: number, signal?: AbortSignal) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const now = options.nowMs ?? Date.now;
  const wait = options.sleep ?? sleep;
  const shouldRetry = options.shouldRetry ?? ((error: unknown) => isRelayError(error) && error.retryable);
  const backoff = new Backoff(options.policy ?? DEFAULT_BACKOFF_POLICY, options.random);
  const startedAtMs = now();
  for (let attempt = 1; ; attempt += 1) {
    if (options.signal?.aborted) throw abortedError(options.signal);
    try {
      return await operation(attempt, options.signal);
    } catch (error) {
      if (options.signal?.aborted) throw abortedError(options.signal);
      if (!shouldRetry(error, attempt)) throw error;
      if (options.maxAttempts !== undefined && attempt >= options.maxAttempts) throw error;
      let delayMs = backoff.next();
      if (options.maxElapsedMs !== undefined) {
        // Trim the last wait to the window's end so one final attempt lands inside it.
        const remainingMs = options.maxElapsedMs - (now() - startedAtMs);
        if (remainingMs <= 0) throw error;
        delayMs = Math.min(delayMs, remainingMs);
      }
      options.onRetry?.({ error, attempt, delayMs });
      await wait(delayMs, options.signal);
    }
  }
}

/** The RELAY_ABORTED error for an aborted signal, keeping the abort reason as its cause. */
export function abortedError(signal: AbortSignal): RelayError {
  return new RelayError('RELAY_ABORTED', 'operation aborted', false, undefined, { cause: signal.reason });
}
