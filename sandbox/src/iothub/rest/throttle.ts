/** The throttle classes of the service API, as IoT Hub's "quotas and throttling" page groups them. */
export type ThrottleKind = 'query' | 'twinRead' | 'twinUpdate' | 'registry' | 'configuration';

/** Calls per window (default a minute) the sandbox allows per kind; a kind left out is unlimited. */
export type ThrottleRates = Partial<Readonly<Record<ThrottleKind, number>>>;

/** What the sandbox saw of one kind. */
export interface ThrottleKindStats {
  readonly calls: number;
  /** Most calls accepted in any one window (60 s unless the hub was given another). */
  readonly peakPerWindow: number;
  /** Calls answered 429. */
  readonly throttled: number;
}

const KINDS: readonly ThrottleKind[] = ['query', 'twinRead', 'twinUpdate', 'registry', 'configuration'];

/** Which throttle a REST request counts against; undefined for calls IoT Hub throttles elsewhere (methods, stats). */
export function throttleKindOf(method: string, path: string): ThrottleKind | undefined {
  if (path === '/devices/query') return 'query';
  if (/^\/twins\/[^/]+(\/modules\/[^/]+)?\/methods$/.test(path)) return undefined;
  if (path.startsWith('/twins/')) return method === 'GET' ? 'twinRead' : 'twinUpdate';
  if (path.startsWith('/configurations') || path.endsWith('/applyConfigurationContent'))
    return 'configuration';
  if (path === '/devices' || path.startsWith('/devices/')) return 'registry';
  return undefined;
}

/**
 * Counts every service call per kind over a sliding minute and, for kinds given a rate, answers 429 with
 * Retry-After once the minute's count is reached — stricter than IoT Hub (which shapes traffic before it refuses),
 * so a client that stays under it stays under the real hub too.
 */
export class RestThrottle {
  private readonly windows = new Map<ThrottleKind, number[]>();
  private readonly stats = new Map<ThrottleKind, { calls: number; peak: number; throttled: number }>();

  constructor(
    private rates: ThrottleRates = {},
    /** The sliding window the rates count over; tests shorten it so a Retry-After is seconds, not a minute. */
    readonly windowMs = 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    for (const kind of KINDS) {
      this.windows.set(kind, []);
      this.stats.set(kind, { calls: 0, peak: 0, throttled: 0 });
    }
  }

  /** Replaces the rates (and forgets the calls counted so far against the old ones); {} throttles nothing. */
  setRates(rates: ThrottleRates): void {
    this.rates = rates;
    for (const window of this.windows.values()) window.length = 0;
  }

  /** Admits one call: undefined when allowed, else the seconds to wait (for Retry-After). */
  admit(kind: ThrottleKind): number | undefined {
    const now = this.now();
    const window = this.windows.get(kind) as number[];
    const stats = this.stats.get(kind) as { calls: number; peak: number; throttled: number };
    let drop = 0;
    while (drop < window.length && (window[drop] as number) <= now - this.windowMs) drop++;
    if (drop > 0) window.splice(0, drop);
    const rate = this.rates[kind];
    if (rate !== undefined && window.length >= rate) {
      stats.throttled++;
      return Math.max(1, Math.ceil(((window[0] as number) + this.windowMs - now) / 1000));
    }
    window.push(now);
    stats.calls++;
    stats.peak = Math.max(stats.peak, window.length);
    return undefined;
  }

  /** Calls, peak per minute and 429s per kind since the hub started. */
  snapshot(): Record<ThrottleKind, ThrottleKindStats> {
    const out = {} as Record<ThrottleKind, ThrottleKindStats>;
    for (const [kind, s] of this.stats)
      out[kind] = { calls: s.calls, peakPerWindow: s.peak, throttled: s.throttled };
    return out;
  }
}
