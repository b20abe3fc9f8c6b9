// The contract between a hybrid connection's runtime and the sessions it serves: what a session may look up,
// count and report, and how a live tunnel is tracked for draining.
import type { Logger } from '../../../common/src/log';
import type { dialTarget } from '../../../common/src/net/target';
import type { RepeatLog } from '../../../common/src/repeat-log';
import type { ServiceConfig } from '../config/types';
import type { Drainable } from './drain';
import type { ConnectionRefusalReason, ServiceCounters } from './stats';
import type { TunnelEventSink } from './tunnel-events';

/** What a session needs from the hybrid connection that accepted it. */
export interface TunnelSessionHost {
  /** Hybrid connection name (for logs and events). */
  readonly hybridConnection: string;
  /** The service for a port name under the configuration in force now. */
  service(portName: string): ServiceConfig | undefined;
  /** The counters of a configured service (created on first use). */
  counters(service: string): ServiceCounters;
  /** Counts a refusal that happened before a service was chosen. */
  refusedBeforeService(reason: ConnectionRefusalReason): void;
  /** Tracks a tunnel from the moment its dial starts until it ended. */
  register(tunnel: LiveTunnel): void;
  unregister(tunnel: LiveTunnel): void;
  readonly log: Logger;
  /**
   * Where refusals are logged (unknown service, disabled, busy, a failed dial, no usable preamble), summarised per
   * service and reason: they come as fast as senders can connect (issue 10, item 5).
   */
  readonly refusalLog: RepeatLog;
  readonly events: TunnelEventSink;
  /** How long a sender may take to send its preamble. */
  readonly preambleTimeoutMs?: number;
  /** The same for a warm connection (the gateway opened it ahead of a client and sends the preamble later). */
  readonly warmPreambleTimeoutMs?: number;
  /** Counts a warm connection on arrival. */
  countWarm?(): void;
  /** Streams served at once on one multiplexed connection (default 1,024); 0 refuses to multiplex. */
  readonly muxMaxStreams?: number;
  /** Counts a multiplexed connection on arrival. */
  countMux?(): void;
  /** Aborted when the hybrid connection shuts down: stops waiting for preambles. */
  readonly signal: AbortSignal;
  /** Datagram drops of udp flows (oversized, backlog) come in floods: summarized per service and cause. */
  readonly datagramLog?: RepeatLog;
  /** Dials a target; `dialTarget` unless a test needs a peer that never answers. */
  readonly dial?: typeof dialTarget;
}

/** A tunnel being dialed or pumped. */
export interface LiveTunnel extends Drainable {
  readonly id: string;
  readonly service: string;
  readonly startedAtMs: number;
  /** Live byte counters (0 while dialing). */
  readonly bytesToTarget: number;
  readonly bytesFromTarget: number;
}
