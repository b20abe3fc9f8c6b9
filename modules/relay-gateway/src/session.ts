import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { SocketEndpoint } from '../../common/src/net/proxy-protocol';
import { clientAddressHeaders, clientCertHeaders } from '../../common/src/tunnel/client-address';
import { pumpTunnel, type TunnelPump } from '../../common/src/tunnel/pump';
import type { GatewayHybridConnection } from './config/types';
import {
  classifyTunnelEnd,
  classifyTunnelFailure,
  type TunnelEndReason,
  type TunnelFailureReason,
} from './reasons';
import type { LiveBytes } from './stats';
import type { TunnelOpener } from './tunnel-opener';
import type { WarmPoolSettings } from './warm-pool';
import type { MuxSettings } from './mux-pools';

/** What one client connection needs from its route, fixed when the client is admitted. */
export interface SessionSettings {
  readonly routeId: string;
  readonly hybridConnection: GatewayHybridConnection;
  readonly service: string;
  readonly connectTimeoutMs: number;
  /** 0 disables. */
  readonly idleTimeoutMs: number;
  /** The route's warm pool settings (absent: always cold). */
  readonly warm?: WarmPoolSettings;
  /** Multiplexed streams for this route's clients (absent: one relay connection per client). */
  readonly mux?: MuxSettings;
  /** The original client a trusted front announced with the PROXY protocol (else the socket's peer). */
  readonly client?: SocketEndpoint;
  /** The client certificate an mTLS route verified. */
  readonly clientCertificate?: { readonly subject: string; readonly serial: string };
}

/** How a client connection ended. */
export type SessionResult =
  | { readonly kind: 'failed'; readonly reason: TunnelFailureReason; readonly error: unknown }
  | {
      readonly kind: 'ended';
      /** Set when the tunnel ended abnormally. */
      readonly reason?: TunnelEndReason;
      readonly error?: Error;
      readonly bytesFromClient: number;
      readonly bytesToClient: number;
    };

/** Why the gateway itself ends a session. */
export type SessionCloseReason = 'drain-timeout' | 'stopped' | 'not-allowed';

const noop = (): void => undefined;

/**
 * One admitted client: opens its tunnel within the connect timeout, then pumps bytes until both sides are done.
 * While the tunnel opens the client socket stays paused, so early bytes (and an early FIN) wait in the kernel
 * and reach the forwarder in order. A client that cannot be tunneled is reset at once.
 */
export class ClientSession implements LiveBytes {
  /** Unique id, also the relay `sb-hc-id` (tracking id). */
  readonly id = randomUUID();
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly startedAtMs = Date.now();
  private readonly opening = new AbortController();
  private openAbortReason: TunnelFailureReason | undefined;
  /** The relay accepted the connect request: a connect timeout from now on is the forwarder's or target's. */
  private relayConnected = false;
  /** The relay tracking id of the connection that carries this client (a warm connection has its own). */
  relayConnectionId: string = this.id;
  private pump: TunnelPump | undefined;
  private endReason: TunnelEndReason | undefined;
  private finished = false;

  constructor(
    private readonly socket: Socket,
    readonly settings: SessionSettings,
    private readonly opener: TunnelOpener,
  ) {
    this.remoteAddress = settings.client?.address ?? socket.remoteAddress;
    this.remotePort = settings.client?.port ?? socket.remotePort;
  }

  /** `opening` until the tunnel is up, then `tunneled`, then `closed`. */
  get phase(): 'opening' | 'tunneled' | 'closed' {
    return this.finished ? 'closed' : this.pump ? 'tunneled' : 'opening';
  }

  get bytesFromClient(): number {
    return this.pump?.tcpToRelayBytes ?? 0;
  }

  get bytesToClient(): number {
    return this.pump?.relayToTcpBytes ?? 0;
  }

  /** Runs the session to its end; `onTunneled` is called once the tunnel is open. Never rejects. */
  async run(onTunneled: () => void = noop, onRelayConnected: () => void = noop): Promise<SessionResult> {
    try {
      return await this.runOnce(onTunneled, onRelayConnected);
    } finally {
      this.finished = true;
    }
  }

  /** Ends the session from the gateway side: aborts the open, or ends the tunnel (peer gets close code 1001). */
  close(reason: SessionCloseReason): void {
    if (this.pump) {
      this.endReason ??= reason;
      // Reset first so the client sees an aborted connection, not an end of stream it could take for a
      // complete answer; the pump's abort runs before the socket's close event, so the forwarder gets 1001.
      this.socket.resetAndDestroy();
      this.pump.abort(reason);
    } else this.abortOpening('stopped');
  }

  private async runOnce(onTunneled: () => void, onRelayConnected: () => void): Promise<SessionResult> {
    const { socket, settings } = this;
    const onClientGone = (): void => this.abortOpening('client-closed');
    socket.on('error', noop);
    socket.once('close', onClientGone);
    // A relay that never answered the handshake is told apart from a slow forwarder or target (readiness).
    const timer = setTimeout(
      () => this.abortOpening(this.relayConnected ? 'connect-timeout' : 'relay-timeout'),
      settings.connectTimeoutMs,
    );

    let tunnel;
    try {
      if (socket.destroyed) this.abortOpening('client-closed');
      this.opening.signal.throwIfAborted();
      tunnel = await this.opener({
        routeId: settings.routeId,
        connectionId: this.id,
        hybridConnection: settings.hybridConnection,
        service: settings.service,
        timeoutMs: settings.connectTimeoutMs,
        signal: this.opening.signal,
        // The forwarder learns who the client is (logs, PROXY protocol to its target): docs/tunnel-protocol.md.
        headers: {
          ...clientAddressHeaders(this.remoteAddress, this.remotePort),
          ...clientCertHeaders(settings.clientCertificate),
        },
        onRelayConnected: (relayConnectionId) => {
          // A stream's own id, or (a classic connection after a stale stream) the client's again.
          this.relayConnectionId = relayConnectionId ?? this.id;
          this.relayConnected = true;
          onRelayConnected();
        },
        ...(settings.warm && { warm: settings.warm }),
        ...(settings.mux && { mux: settings.mux }),
      });
      // The opener may have won a race against an abort: the tunnel is not wanted any more.
      if (this.opening.signal.aborted) {
        tunnel.duplex.destroy();
        this.opening.signal.throwIfAborted();
      }
    } catch (err) {
      if (!socket.destroyed) socket.resetAndDestroy();
      return { kind: 'failed', reason: classifyTunnelFailure(err, this.openAbortReason), error: err };
    } finally {
      clearTimeout(timer);
      socket.off('close', onClientGone);
    }

    if (tunnel.relayConnectionId !== undefined) this.relayConnectionId = tunnel.relayConnectionId;
    this.pump = pumpTunnel(socket, tunnel.duplex, { idleTimeoutMs: settings.idleTimeoutMs });
    socket.off('error', noop);
    onTunneled();
    const outcome = await this.pump.completion;
    return {
      kind: 'ended',
      ...(!outcome.ok && { reason: classifyTunnelEnd(outcome.error, this.endReason), error: outcome.error }),
      bytesFromClient: outcome.tcpToRelayBytes,
      bytesToClient: outcome.relayToTcpBytes,
    };
  }

  private abortOpening(reason: TunnelFailureReason): void {
    if (this.opening.signal.aborted) return;
    this.openAbortReason = reason;
    this.opening.abort(new Error(`tunnel open aborted: ${reason}`));
  }
}
