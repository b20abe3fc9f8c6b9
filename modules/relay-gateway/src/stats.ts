import type { RefusalReason, TunnelEndReason, TunnelFailureReason } from './reasons';

/** A point-in-time copy of one route's counters (monotonic totals since the route was created, plus gauges). */
export interface RouteCountersSnapshot {
  /** Clients that passed admission. */
  readonly accepted: number;
  /** Clients refused before any relay work, by reason. */
  readonly refused: Readonly<Partial<Record<RefusalReason, number>>>;
  /** Admitted clients whose tunnel could not be opened, by reason. */
  readonly failed: Readonly<Partial<Record<TunnelFailureReason, number>>>;
  /** Tunnels that were established. */
  readonly tunneled: number;
  /** Established tunnels that ended abnormally, by reason (clean ends are not counted here). */
  readonly broken: Readonly<Partial<Record<TunnelEndReason, number>>>;
  /** Clients admitted and not yet closed (opening or tunneled). */
  readonly active: number;
  /**
   * Of `failed`, the `no-listener` failures before the route's first tunnel: the location's listener was not up
   * yet (a fleet booting, its own probes). Absent when none.
   */
  readonly startup?: number;
  /** Bytes read from clients and sent into tunnels, live tunnels included. */
  readonly bytesFromClients: number;
  /** Bytes received from tunnels and written to clients, live tunnels included. */
  readonly bytesToClients: number;
}

/** Live byte counts of one open tunnel, read when a snapshot is taken. */
export interface LiveBytes {
  readonly bytesFromClient: number;
  readonly bytesToClient: number;
}

/** Counters of one route. Plain increments: the gateway runs on one thread. */
export class RouteCounters {
  private accepted = 0;
  private tunneled = 0;
  private readonly refused = new Map<RefusalReason, number>();
  private readonly failed = new Map<TunnelFailureReason, number>();
  private readonly broken = new Map<TunnelEndReason, number>();
  private startup = 0;
  private finishedBytesFromClients = 0;
  private finishedBytesToClients = 0;

  /** A client passed admission. */
  countAccepted(): void {
    this.accepted++;
  }

  /** A client was refused before any relay work. */
  countRefused(reason: RefusalReason): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  /** An admitted client's tunnel could not be opened. */
  countFailed(reason: TunnelFailureReason): void {
    this.failed.set(reason, (this.failed.get(reason) ?? 0) + 1);
    // Nobody listened yet and nothing ever got through: the location is still coming up, not a user's problem.
    if (reason === 'no-listener' && this.tunneled === 0) this.startup++;
  }

  /** A tunnel was established. */
  countTunneled(): void {
    this.tunneled++;
  }

  /** A tunnel ended; `reason` is set when it ended abnormally. Its bytes move to the totals. */
  countEnded(bytes: LiveBytes, reason?: TunnelEndReason): void {
    this.finishedBytesFromClients += bytes.bytesFromClient;
    this.finishedBytesToClients += bytes.bytesToClient;
    if (reason !== undefined) this.broken.set(reason, (this.broken.get(reason) ?? 0) + 1);
  }

  /** The counters now; `live` are the tunnels still open (their bytes so far are included). */
  snapshot(active: number, live: Iterable<LiveBytes>): RouteCountersSnapshot {
    let bytesFromClients = this.finishedBytesFromClients;
    let bytesToClients = this.finishedBytesToClients;
    for (const bytes of live) {
      bytesFromClients += bytes.bytesFromClient;
      bytesToClients += bytes.bytesToClient;
    }
    return {
      accepted: this.accepted,
      refused: Object.fromEntries(this.refused),
      failed: Object.fromEntries(this.failed),
      tunneled: this.tunneled,
      broken: Object.fromEntries(this.broken),
      ...(this.startup > 0 && { startup: this.startup }),
      active,
      bytesFromClients,
      bytesToClients,
    };
  }
}
