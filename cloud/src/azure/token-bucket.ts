/** Time as the limiter sees it; tests inject a manual clock so waits are deterministic. */
export interface LimiterClock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Resolves after `ms` on this clock. */
  sleep(ms: number): Promise<void>;
}

/** The process clock. */
export const SYSTEM_CLOCK: LimiterClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A token bucket: `ratePerMinute` tokens a minute, at most `burst` saved up. Callers take tokens in arrival order
 * (one queue), so a busy caller cannot starve another. `pause(ms)` empties the bucket and stops the refill for
 * that long (the one token left is for the retry the hub invited) — what a 429 with Retry-After asks of every caller, not just the one that got it.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private blockedUntil = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly perMs: number;

  constructor(
    readonly ratePerMinute: number,
    readonly burst: number,
    private readonly clock: LimiterClock,
  ) {
    if (!(ratePerMinute > 0) || !(burst >= 1))
      throw new Error('a token bucket needs a rate > 0 and a burst >= 1');
    this.perMs = ratePerMinute / 60_000;
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Resolves with the milliseconds waited once a token is taken. */
  take(): Promise<number> {
    const started = this.clock.now();
    const turn = this.queue.then(() => this.takeNow());
    this.queue = turn.catch(() => undefined);
    return turn.then(() => this.clock.now() - started);
  }

  /** Holds every taker for `ms` (from now, or longer if already held); then one may go, the rest at the rate. */
  pause(ms: number): void {
    this.refill();
    this.tokens = 1;
    this.blockedUntil = Math.max(this.blockedUntil, this.clock.now() + ms);
    this.last = Math.max(this.last, this.blockedUntil);
  }

  private async takeNow(): Promise<void> {
    for (;;) {
      this.refill();
      const now = this.clock.now();
      if (now < this.blockedUntil) {
        await this.clock.sleep(this.blockedUntil - now);
        continue;
      }
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.max(1, Math.ceil((1 - this.tokens) / this.perMs)));
    }
  }

  private refill(): void {
    const now = this.clock.now();
    if (now <= this.last) return;
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
  }
}
