/** An inclusive range of milliseconds; a delay is drawn uniformly from it. */
export type DelayRangeMs = readonly [minMs: number, maxMs: number];

/** Delays the sandbox adds where the real service spends time, so benchmarks are not flattered by loopback. */
export interface LatencyProfile {
  readonly name: string;
  /** Added before every token check on a handshake (listen, connect). */
  readonly tokenCheckMs: DelayRangeMs;
  /** Added between a sender's connect and the accept message reaching the listener (service-internal routing). */
  readonly rendezvousMs: DelayRangeMs;
}

/** Named profiles: `none` (default, fastest tests) and `azure` (estimates, see docs/sandbox-relay.md). */
export const LATENCY_PROFILES: Readonly<Record<'none' | 'azure', LatencyProfile>> = {
  none: { name: 'none', tokenCheckMs: [0, 0], rendezvousMs: [0, 0] },
  // Estimates, not measurements: a SAS check against a remote namespace front end typically costs
  // a few tens of ms, and the rendezvous costs about one client-to-region round trip more.
  azure: { name: 'azure', tokenCheckMs: [20, 40], rendezvousMs: [20, 40] },
};

/** Resolves a profile name or a custom profile; throws on an unknown name or a bad range. */
export function resolveLatencyProfile(
  profile: 'none' | 'azure' | LatencyProfile | undefined,
): LatencyProfile {
  if (profile === undefined) return LATENCY_PROFILES.none;
  if (typeof profile === 'string') {
    const found = LATENCY_PROFILES[profile];
    if (!found) throw new RangeError(`unknown latency profile "${String(profile)}" (use none or azure)`);
    return found;
  }
  for (const [field, range] of [
    ['tokenCheckMs', profile.tokenCheckMs],
    ['rendezvousMs', profile.rendezvousMs],
  ] as const) {
    if (!(range[0] >= 0 && range[1] >= range[0]))
      throw new RangeError(`latency profile ${field} must be [min, max] with 0 <= min <= max`);
  }
  return profile;
}

/** Draws a delay from `range`; `random` is injectable for tests. */
export function pickDelayMs(range: DelayRangeMs, random: () => number = Math.random): number {
  const [minMs, maxMs] = range;
  return minMs + Math.floor(random() * (maxMs - minMs + 1));
}
