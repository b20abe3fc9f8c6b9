import type { TunnelEndReason, TunnelFailureReason } from '../reasons';

/**
 * Why a UDP route dropped a datagram: source outside the allow-list, a new flow beyond `maxFlows` or the gateway's
 * `limits.maxConnections`, above `maxDatagramBytes` (from a client, or from the relay: `oversized-from-relay`),
 * the open flow's queue full, the relay behind (`backlog`), or its flow's relay connection could not be opened.
 */
export type UdpDropReason =
  | 'not-allowed'
  | 'flow-limit'
  | 'global-limit'
  | 'oversized'
  | 'oversized-from-relay'
  | 'queue-full'
  | 'backlog'
  | 'flow-failed';

/** How a flow ended: idle timeout, closed by the forwarder, the route or gateway stopping, or abnormally. */
export type UdpFlowEndReason = 'idle' | 'closed' | 'stopped' | TunnelEndReason;

/** A point-in-time copy of one UDP route's counters (monotonic totals, plus `activeFlows`). */
export interface UdpRouteCountersSnapshot {
  /** Flows whose relay connection opened. */
  readonly flowsOpened: number;
  /** Flows open or opening now. */
  readonly activeFlows: number;
  /** Flows whose relay connection could not be opened, by reason (as for TCP tunnels). */
  readonly flowsFailed: Readonly<Partial<Record<TunnelFailureReason, number>>>;
  /** Flows that ended, by how. */
  readonly flowsEnded: Readonly<Partial<Record<UdpFlowEndReason, number>>>;
  /** Datagrams (and payload bytes) from clients sent into tunnels. */
  readonly datagramsFromClients: number;
  readonly bytesFromClients: number;
  /** Datagrams (and payload bytes) from tunnels sent to clients. */
  readonly datagramsToClients: number;
  readonly bytesToClients: number;
  /** Datagrams dropped, by reason. */
  readonly dropped: Readonly<Partial<Record<UdpDropReason, number>>>;
}

/** Counters of one UDP route. Plain increments: the gateway runs on one thread. */
export class UdpRouteCounters {
  flowsOpened = 0;
  datagramsFromClients = 0;
  bytesFromClients = 0;
  datagramsToClients = 0;
  bytesToClients = 0;
  private readonly flowsFailed = new Map<TunnelFailureReason, number>();
  private readonly flowsEnded = new Map<UdpFlowEndReason, number>();
  private readonly dropped = new Map<UdpDropReason, number>();

  /** Counts `count` datagrams dropped for `reason`. */
  drop(reason: UdpDropReason, count = 1): void {
    if (count > 0) this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + count);
  }

  /** A flow's relay connection could not be opened. */
  failed(reason: TunnelFailureReason): void {
    this.flowsFailed.set(reason, (this.flowsFailed.get(reason) ?? 0) + 1);
  }

  /** An open flow ended. */
  ended(reason: UdpFlowEndReason): void {
    this.flowsEnded.set(reason, (this.flowsEnded.get(reason) ?? 0) + 1);
  }

  /** The counters now. */
  snapshot(activeFlows: number): UdpRouteCountersSnapshot {
    return {
      flowsOpened: this.flowsOpened,
      activeFlows,
      flowsFailed: Object.fromEntries(this.flowsFailed),
      flowsEnded: Object.fromEntries(this.flowsEnded),
      datagramsFromClients: this.datagramsFromClients,
      bytesFromClients: this.bytesFromClients,
      datagramsToClients: this.datagramsToClients,
      bytesToClients: this.bytesToClients,
      dropped: Object.fromEntries(this.dropped),
    };
  }
}
