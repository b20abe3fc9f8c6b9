/** Largest delay setTimeout accepts (about 24.8 days); longer waits are re-armed in steps. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Timers owned by one relay instance, so that stop() can cancel every one of them and leave
 * no handle behind (Jest must exit on its own).
 */
export class TimerSet {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  /** Runs `fn` after `delayMs` (clamped to what setTimeout accepts); returns a cancel function. */
  after(delayMs: number, fn: () => void): () => void {
    if (this.closed) return () => undefined;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        fn();
      },
      Math.min(Math.max(0, delayMs), MAX_TIMER_DELAY_MS),
    );
    this.timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    };
  }

  /** Resolves after `delayMs`; never resolves when the set is cleared first (the caller is being torn down). */
  sleep(delayMs: number): Promise<void> {
    if (delayMs <= 0) return Promise.resolve();
    return new Promise((resolve) => this.after(delayMs, resolve));
  }

  /** Number of armed timers (for tests and stats). */
  get size(): number {
    return this.timers.size;
  }

  /** Cancels every timer and refuses new ones. */
  clearAll(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
