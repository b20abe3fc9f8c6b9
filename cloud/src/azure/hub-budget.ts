import {
  HUB_CALL_KINDS,
  hubLimits,
  type HubCallKind,
  type HubLimits,
  type IotHubTier,
} from './hub-throttles';
import { SYSTEM_CLOCK, TokenBucket, type LimiterClock } from './token-bucket';

/** Which hub the calls are budgeted for. */
export interface HubBudgetSettings {
  readonly tier: IotHubTier;
  readonly units: number;
  /** Per-minute limits that differ from the published ones (a hub with other throttles; tests). */
  readonly limits?: Partial<HubLimits>;
}

/** One kind's use of its budget. */
export interface HubBudgetUse {
  readonly kind: HubCallKind;
  /** What the hub allows a minute (the published throttle). */
  readonly limitPerMinute: number;
  /** What this process allows itself a minute (a share of the limit, so a full bucket stays under it). */
  readonly budgetPerMinute: number;
  readonly calls: number;
  readonly callsLastMinute: number;
  /** Most calls in any 60 s window so far. */
  readonly peakPerMinute: number;
  /** 429 answers received (each retried after the hub's hint). */
  readonly throttled: number;
  /** Total time callers waited for a token or a 429 hint. */
  readonly waitedMs: number;
}

/** What the budget tells its owner: a 429 and the wait it caused (for a log line). */
export type HubThrottledListener = (kind: HubCallKind, waitMs: number, attempt: number) => void;

/** Every call as it goes out, and every 429 (for a metric). */
export type HubCallListener = (kind: HubCallKind, outcome: 'sent' | 'throttled') => void;

/**
 * The process uses this share of each published throttle: the buckets' burst (one second's worth) plus a
 * minute's refill must stay under the hub's per-minute count, with room for the status view and the CLI.
 */
export const BUDGET_SHARE = 0.9;
const MAX_ATTEMPTS = 8;
const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 60_000;

/**
 * Budgets IoT Hub calls per kind with one token bucket each, and retries a 429 after the service's Retry-After
 * (else a jittered exponential backoff), pausing every caller of that kind meanwhile. Work is never dropped: a
 * call that stays throttled through every attempt fails as retryable, and the reconcile that made it runs again.
 */
export class HubBudget {
  private readonly buckets = new Map<HubCallKind, TokenBucket>();
  private readonly stats = new Map<HubCallKind, MutableUse>();

  constructor(
    readonly settings: HubBudgetSettings,
    private readonly clock: LimiterClock = SYSTEM_CLOCK,
    private readonly random: () => number = Math.random,
    private readonly onThrottled?: HubThrottledListener,
    private readonly onCall?: HubCallListener,
  ) {
    const limits = { ...hubLimits(settings.tier, settings.units), ...settings.limits };
    for (const kind of HUB_CALL_KINDS) {
      const budget = limits[kind] * BUDGET_SHARE;
      this.buckets.set(kind, new TokenBucket(budget, Math.max(1, Math.floor(budget / 60)), clock));
      this.stats.set(kind, {
        limit: limits[kind],
        budget,
        calls: 0,
        window: [],
        peak: 0,
        throttled: 0,
        waited: 0,
      });
    }
  }

  /** Runs `call` once a token of `kind` is free; on 429 waits as the hub asks and tries again. */
  async run<T>(kind: HubCallKind, call: () => Promise<T>): Promise<T> {
    const bucket = this.buckets.get(kind) as TokenBucket;
    const use = this.stats.get(kind) as MutableUse;
    for (let attempt = 1; ; attempt++) {
      use.waited += await bucket.take();
      this.count(use);
      this.onCall?.(kind, 'sent');
      try {
        return await call();
      } catch (err) {
        if (statusOf(err) !== 429 || attempt >= MAX_ATTEMPTS) throw err;
        use.throttled++;
        this.onCall?.(kind, 'throttled');
        const wait = retryAfterMs(err) ?? this.backoffMs(attempt);
        this.onThrottled?.(kind, wait, attempt);
        bucket.pause(wait);
      }
    }
  }

  /** Each kind's use so far. */
  use(): HubBudgetUse[] {
    const now = this.clock.now();
    return HUB_CALL_KINDS.map((kind) => {
      const u = this.stats.get(kind) as MutableUse;
      trim(u.window, now);
      return {
        kind,
        limitPerMinute: u.limit,
        budgetPerMinute: Math.floor(u.budget),
        calls: u.calls,
        callsLastMinute: u.window.length,
        peakPerMinute: u.peak,
        throttled: u.throttled,
        waitedMs: Math.round(u.waited),
      };
    });
  }

  private count(u: MutableUse): void {
    const now = this.clock.now();
    u.calls++;
    u.window.push(now);
    trim(u.window, now);
    u.peak = Math.max(u.peak, u.window.length);
  }

  // Full jitter: a random wait up to the exponential bound, so replicas throttled together spread out.
  private backoffMs(attempt: number): number {
    const bound = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
    return Math.max(100, Math.round(bound * this.random()));
  }
}

interface MutableUse {
  limit: number;
  budget: number;
  calls: number;
  window: number[];
  peak: number;
  throttled: number;
  waited: number;
}

function trim(window: number[], now: number): void {
  let drop = 0;
  while (drop < window.length && (window[drop] as number) <= now - 60_000) drop++;
  if (drop > 0) window.splice(0, drop);
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { response?: { statusCode?: unknown } } | undefined)?.response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The Retry-After header of an SDK error's response, in ms (seconds or an HTTP date); undefined when absent. */
export function retryAfterMs(err: unknown, nowMs: number = Date.now()): number | undefined {
  const headers = (err as { response?: { headers?: Record<string, unknown> } } | undefined)?.response
    ?.headers;
  const raw = headers?.['retry-after'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
