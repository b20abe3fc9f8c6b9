import type { RouteCounterSample } from './view-types';

/** What changed in one route's counters since the previous poll. */
export interface CounterDelta {
  readonly key: string;
  readonly location?: string;
  readonly bytes: number;
  readonly errors: number;
  readonly connections: number;
}

interface Seen {
  epoch: string;
  bytes: number;
  errors: number;
  connections: number;
  lastSeenMs: number;
}

/**
 * Turns cumulative route counters into per-poll differences (pure, in memory). The first poll only sets the
 * baseline (what happened before the view started is not "the last hour"); a route first seen later started at
 * zero, so all of its count is new. A counter that went down, or a new module start time (`epoch`), means the
 * gateway restarted: the new value is all new. Routes not seen for `forgetAfterMs` are forgotten.
 */
export class CounterTracker {
  private readonly seen = new Map<string, Seen>();
  private primed = false;

  constructor(private readonly forgetAfterMs: number) {}

  /** The differences since the previous call, one per route with counters. */
  update(samples: readonly RouteCounterSample[], nowMs: number): CounterDelta[] {
    const deltas: CounterDelta[] = [];
    for (const s of samples) {
      if (!s.counters) continue;
      const c = s.counters;
      const before = this.seen.get(s.key);
      this.seen.set(s.key, { epoch: s.epoch, ...c, lastSeenMs: nowMs });
      if (!this.primed) continue;
      const restarted =
        before !== undefined &&
        (before.epoch !== s.epoch ||
          c.bytes < before.bytes ||
          c.errors < before.errors ||
          c.connections < before.connections);
      const base = before === undefined || restarted ? { bytes: 0, errors: 0, connections: 0 } : before;
      deltas.push({
        key: s.key,
        ...(s.location !== undefined && { location: s.location }),
        bytes: c.bytes - base.bytes,
        errors: c.errors - base.errors,
        connections: c.connections - base.connections,
      });
    }
    this.primed = true;
    for (const [key, s] of this.seen) if (nowMs - s.lastSeenMs > this.forgetAfterMs) this.seen.delete(key);
    return deltas;
  }
}
