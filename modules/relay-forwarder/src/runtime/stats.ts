/** Why the forwarder refused a relay connection for a known service. */
export type ServiceRefusalReason = 'disabled' | 'busy' | 'refused' | 'timeout' | 'dns' | 'target-error';

/** Every ServiceRefusalReason, in a stable order (for reporting). */
export const SERVICE_REFUSAL_REASONS: readonly ServiceRefusalReason[] = [
  'disabled',
  'busy',
  'refused',
  'timeout',
  'dns',
  'target-error',
];

/** Why the forwarder refused a relay connection before any service was chosen. */
export type ConnectionRefusalReason = 'unknown-service' | 'bad-preamble' | 'closing';

/** Counters of one service since its hybrid connection was started (monotonic except `active`). */
export interface ServiceStats {
  /** Tunnels confirmed to the sender (the target dial succeeded). */
  readonly accepted: number;
  readonly refused: Readonly<Record<ServiceRefusalReason, number>>;
  /** Tunnels open now (including those being dialed). */
  readonly active: number;
  /** Tunnels that ended (cleanly or not). */
  readonly closed: number;
  /** Payload bytes written to the target (sender → target). */
  readonly bytesToTarget: number;
  /** Payload bytes read from the target (target → sender). */
  readonly bytesFromTarget: number;
  /** A udp service's datagram counters (absent until its first flow). */
  readonly datagrams?: DatagramStats;
}

/** Why a udp flow dropped a datagram. */
export type DatagramDropCause = 'oversized' | 'backlog' | 'target-error';

/** Datagram counters of a udp service (monotonic). */
export interface DatagramStats {
  /** Datagrams sent to the target. */
  readonly toTarget: number;
  /** Datagrams received from the target and sent into the tunnel. */
  readonly fromTarget: number;
  /** Datagrams dropped, by cause: above maxDatagramBytes (either way), relay backlog full, target send failed. */
  readonly dropped: Readonly<Record<DatagramDropCause, number>>;
}

/** Mutable counters behind DatagramStats. */
export class DatagramCounters {
  toTarget = 0;
  fromTarget = 0;
  readonly dropped: Record<DatagramDropCause, number> = { oversized: 0, backlog: 0, 'target-error': 0 };

  /** A copy safe to hand out. */
  snapshot(): DatagramStats {
    return { toTarget: this.toTarget, fromTarget: this.fromTarget, dropped: { ...this.dropped } };
  }
}

/** Mutable counters behind a ServiceStats snapshot. */
export class ServiceCounters {
  accepted = 0;
  readonly refused: Record<ServiceRefusalReason, number> = {
    disabled: 0,
    busy: 0,
    refused: 0,
    timeout: 0,
    dns: 0,
    'target-error': 0,
  };
  active = 0;
  closed = 0;
  bytesToTarget = 0;
  bytesFromTarget = 0;
  /** Created by a udp service's first flow. */
  datagrams: DatagramCounters | undefined;

  /** A copy safe to hand out. */
  snapshot(): ServiceStats {
    return {
      accepted: this.accepted,
      refused: { ...this.refused },
      active: this.active,
      closed: this.closed,
      bytesToTarget: this.bytesToTarget,
      bytesFromTarget: this.bytesFromTarget,
      ...(this.datagrams && { datagrams: this.datagrams.snapshot() }),
    };
  }
}

/** The last thing that went wrong on a control channel. */
export interface ListenerErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly atMs: number;
}

/** State of one hybrid connection: its control channels and its services. */
export interface HybridConnectionState {
  readonly name: string;
  readonly namespace: string;
  readonly path: string;
  /** Control channels configured. */
  readonly listeners: number;
  /** Control channels online now. */
  readonly onlineListeners: number;
  /** Reconnections scheduled over all control channels. */
  readonly reconnects: number;
  /** Tokens handed to the service on live channels (scheduled renewals and credential updates). */
  readonly tokenRenewals: number;
  readonly lastError?: ListenerErrorInfo;
  /** Expiry of a pre-issued token, when the credential is one. */
  readonly tokenExpiresAtMs?: number;
  /** Refusals before a service was chosen. */
  readonly refused: Readonly<Record<ConnectionRefusalReason, number>>;
  readonly services: Readonly<
    Record<string, ServiceStats & { readonly enabled: boolean; readonly target: string }>
  >;
  /** Tunnels of removed services still draining. */
  readonly drainingTunnels: number;
  /** Relay connections a gateway opened ahead of a client (`x-hrf-warm`), used or not; absent while 0. */
  readonly warmConnections?: number;
  /** Multiplexed relay connections accepted since start (each carries many tunnels); absent while 0. */
  readonly muxConnections?: number;
  /** Multiplexed relay connections open now, the streams (tunnels and dials) they carry, and the stream bound
   *  connections opened now get (0: multiplexing refused); present once one was accepted. */
  readonly mux?: { readonly connections: number; readonly streams: number; readonly maxStreams: number };
}

/** State of the whole forwarder, for twin reporting and metrics. */
export interface ForwarderState {
  /** When the running configuration was applied. */
  readonly configAppliedAtMs?: number;
  readonly hybridConnections: Readonly<Record<string, HybridConnectionState>>;
  /** Hybrid connections removed from the configuration whose tunnels are still draining. */
  readonly drainingTunnels: number;
}
