/** Longest timer we arm: Node fires timers above 2^31-1 ms at once, and long-lived tokens are common. */
export const MAX_TIMER_DELAY_MS = 24 * 60 * 60 * 1000;

/** Shortest renewal delay, so an absurdly short token lifetime cannot turn renewal into a hot loop. */
export const MIN_RENEW_DELAY_MS = 100;

/**
 * How long after issuing a token with `lifetimeMs` left to renew it: at `ratio` of the lifetime or
 * `renewBeforeExpiryMs` before expiry, whichever comes first (the margin is ignored when the whole
 * lifetime is shorter than it).
 */
export function renewDelayMs(lifetimeMs: number, renewBeforeExpiryMs: number, ratio = 0.8): number {
  const byRatio = lifetimeMs * ratio;
  const byMargin = lifetimeMs - renewBeforeExpiryMs;
  const delay = byMargin > 0 ? Math.min(byRatio, byMargin) : byRatio;
  return Math.min(MAX_TIMER_DELAY_MS, Math.max(MIN_RENEW_DELAY_MS, Math.floor(delay)));
}
