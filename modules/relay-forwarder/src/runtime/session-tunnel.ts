// A served request's registration with its hybrid connection, from the dial (or flow set-up) until it ended:
// what a drain waits for and aborts, and where live byte counts are read.
import type { LiveTunnel } from './session-host';
import type { TraceHeaders } from './tunnel-events';

/** What a tunnel reports bytes through and is aborted by: a TCP pump or a UDP flow. */
export interface TunnelFlow {
  readonly relayToTcpBytes: number;
  readonly tcpToRelayBytes: number;
  abort(reason?: string): void;
}

/** A tunnel's registration with its host, from the dial (or flow set-up) until it ended. */
export class SessionTunnel implements LiveTunnel {
  readonly startedAtMs = Date.now();
  readonly done: Promise<void>;
  aborted = false;
  onAbort: (() => void) | undefined;
  private pump: TunnelFlow | undefined;
  private ended = false;
  private resolveDone!: () => void;

  constructor(
    readonly id: string,
    readonly service: string,
    readonly origin: { readonly acceptedAtMs: number; readonly traceHeaders?: TraceHeaders },
  ) {
    this.done = new Promise<void>((resolve) => (this.resolveDone = resolve));
  }

  get bytesToTarget(): number {
    return this.pump?.relayToTcpBytes ?? 0;
  }

  get bytesFromTarget(): number {
    return this.pump?.tcpToRelayBytes ?? 0;
  }

  /** Hands over the running pump or flow once the target is dialed; a drain that came first aborts it at once. */
  attach(pump: TunnelFlow): void {
    this.pump = pump;
    if (this.aborted) pump.abort('draining');
  }

  /** Ends the tunnel now (its pump, or the dial in flight through `onAbort`); false if it had ended or was aborted. */
  abort(reason: string): boolean {
    if (this.ended || this.aborted) return false;
    this.aborted = true;
    if (this.pump) this.pump.abort(reason);
    else this.onAbort?.();
    return true;
  }

  /** Marks the tunnel ended: `done` settles. */
  finish(): void {
    this.ended = true;
    this.resolveDone();
  }
}
