// What the forwarder learns about each tunnel (opened, closed, refused): the shapes its events, logs, metrics
// and traces are built from.
import type { ConnectionRefusalReason, ServiceRefusalReason } from './stats';

/** Receives what happens to tunnels (the forwarder turns these into events, logs and metrics). */
export interface TunnelEventSink {
  opened(info: TunnelOpenedEvent): void;
  closed(info: TunnelClosedEvent): void;
  refused(info: TunnelRefusedEvent): void;
}

/** Which tunnel an event is about; `tunnelId` is the relay tracking id (the sender's `sb-hc-id`). */
export interface TunnelIdentity {
  readonly hybridConnection: string;
  readonly service: string;
  readonly tunnelId: string;
}

/** W3C trace context the sender put on its connect request (`traceparent`, `tracestate`), for telemetry. */
export type TraceHeaders = Readonly<Record<string, string>>;

/** A tunnel was confirmed to its sender. */
export interface TunnelOpenedEvent extends TunnelIdentity {
  /** When the relay handed the connection over (epoch ms): connect latency and span start. */
  readonly acceptedAtMs: number;
  readonly traceHeaders?: TraceHeaders;
  /** Live byte counts of this tunnel (read them while it is open, e.g. for metrics of long transfers). */
  readonly live: { readonly bytesToTarget: number; readonly bytesFromTarget: number };
}

/** A confirmed tunnel ended. */
export interface TunnelClosedEvent extends TunnelIdentity {
  readonly ok: boolean;
  /** Error code when it did not end cleanly (e.g. TUNNEL_IDLE_TIMEOUT, TUNNEL_ABORTED). */
  readonly errorCode?: string;
  readonly bytesToTarget: number;
  readonly bytesFromTarget: number;
  readonly durationMs: number;
}

/** A relay connection was answered with a failure close code instead of a tunnel. */
export interface TunnelRefusedEvent {
  readonly hybridConnection: string;
  readonly tunnelId: string;
  /** The port name asked for (absent when the preamble was unreadable). */
  readonly portName?: string;
  /** Set when the port name named a configured service. */
  readonly service?: string;
  readonly reason: ServiceRefusalReason | ConnectionRefusalReason;
  readonly closeCode: number;
  /** When the relay handed the connection over (epoch ms). */
  readonly acceptedAtMs: number;
  readonly traceHeaders?: TraceHeaders;
}
