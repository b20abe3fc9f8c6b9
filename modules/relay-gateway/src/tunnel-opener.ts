import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import type { HybridConnectionEndpoint, RelayTlsOptions } from '../../common/src/hc/endpoint';
import type { RelayLogger } from '../../common/src/hc/logger';
import { connectHybridConnection } from '../../common/src/hc/sender';
import { tokenProviderForCredential } from '../../common/src/config/relay-token-provider';
import { halfCloseOfferHeaders } from '../../common/src/tunnel/half-close';
import { datagramBatchOfferHeaders } from '../../common/src/tunnel/datagram-batch';
import { openSenderTunnel } from '../../common/src/tunnel/sender-tunnel';
import { PreambleMode, type PreambleModeValue } from '../../common/src/tunnel/preamble';
import type { GatewayHybridConnection } from './config/types';
import { isStaleWarmFailure, WarmPools, type WarmPoolTiming } from './warm-pools';
import { WARM_HEADER, type WarmPoolSettings } from './warm-pool';
import { encodeWarmMeta, WARM_META_ANNOUNCE_FRAME } from '../../common/src/tunnel/warm-meta';
import { startMuxOpener } from '../../common/src/mux/handshake';
import { DEFAULT_MUX_MAX_STREAMS, muxOfferHeaders } from '../../common/src/mux/negotiate';
import { encodeOpenMeta } from '../../common/src/mux/open-meta';
import { TunnelError } from '../../common/src/tunnel/errors';
import {
  DEFAULT_MUX_TIMING,
  MuxPools,
  type MuxPoolStats,
  type MuxPoolTiming,
  type MuxSettings,
} from './mux-pools';

/** What a route asks for when a client is admitted. */
export interface TunnelRequest {
  readonly routeId: string;
  /** Unique per client connection; sent as `sb-hc-id`, so it is the tracking id in relay and forwarder logs. */
  readonly connectionId: string;
  readonly hybridConnection: GatewayHybridConnection;
  /** Port name for the preamble. */
  readonly service: string;
  /** Upper bound for the whole open (relay handshake and the forwarder's dial). */
  readonly timeoutMs: number;
  /** Aborted when the client leaves, the connect timeout passes or the gateway stops. */
  readonly signal: AbortSignal;
  /** Extra connect-request headers (W3C trace context); the relay hands them to the forwarder as connectHeaders. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Called once the relay accepted the connect request (what is left is the forwarder's dial and reply), with the
   * relay tracking id the forwarder will see when it is not `connectionId` (a multiplexed stream's).
   */
  readonly onRelayConnected?: (relayConnectionId?: string) => void;
  /** The route's pre-warmed connection pool (absent or maxSize 0: every tunnel opens cold). */
  readonly warm?: WarmPoolSettings;
  /** Datagram mode (a UDP flow): always cold, no half-close offer, the preamble's mode byte 1. */
  readonly mode?: PreambleModeValue;
  /** Multiplexed streams (absent: one relay connection per client). */
  readonly mux?: MuxSettings;
}

/** An open tunnel: a byte stream to the forwarder's target. */
export interface OpenedTunnel {
  readonly duplex: Duplex;
  /** Whether the forwarder agreed to carry half-close. */
  readonly halfClose: boolean;
  /** Datagram mode: whether the forwarder agreed to batched datagrams. */
  readonly datagramBatch?: boolean;
  /** The relay tracking id of the connection used: a warm connection has its own, not the client's. */
  readonly relayConnectionId?: string;
}

/** Opens one tunnel per admitted client; rejects with a RelayError or TunnelError (see reasons.ts). */
export interface TunnelOpener {
  (request: TunnelRequest): Promise<OpenedTunnel>;
  /** Closes the route's warm connections (route removed, disabled or rebound). */
  releaseRoute?(routeId: string): void;
  /** Closes every warm connection and keeps no more (shutdown). */
  close?(): void;
  /** Counters of the multiplexed connections to a hybrid connection (diagnostics, tests). */
  muxStats?(hc: GatewayHybridConnection): MuxPoolStats | undefined;
}

/** Options for createRelayTunnelOpener. */
export interface RelayTunnelOpenerOptions {
  /** Extra trust (the sandbox CA); production relies on the system store or NODE_EXTRA_CA_CERTS. */
  readonly tls?: RelayTlsOptions;
  /** Lifetime of tokens minted from a SAS key. */
  readonly tokenLifetimeMs?: number;
  readonly logger?: RelayLogger;
  /** Warm pool timing (tests shorten it). */
  readonly warmTiming?: WarmPoolTiming;
  /** Mux pool timing (tests shorten it). */
  readonly muxTiming?: MuxPoolTiming;
  /** Streams one mux connection carries at most (the listener's announced bound may lower it); default 1,024. */
  readonly muxStreamsPerConnection?: number;
}

/**
 * The real opener: an HC sender connection (`sb-hc-action=connect`, half-close offered in a header), then the
 * azbridge preamble with the route's service name, waiting for the forwarder's reply or its failure close code.
 * Endpoints are built once per hybrid connection object; the gateway keeps that object while its credentials
 * are unchanged and replaces it when they change, so new tunnels pick up a renewed token and live ones keep going.
 */
export function createRelayTunnelOpener(options: RelayTunnelOpenerOptions = {}): TunnelOpener {
  const endpoints = new WeakMap<GatewayHybridConnection, HybridConnectionEndpoint>();
  const endpointFor = (hc: GatewayHybridConnection): HybridConnectionEndpoint => {
    let endpoint = endpoints.get(hc);
    if (!endpoint) {
      const tokenProvider = tokenProviderForCredential(hc.credential, {
        ...(options.tokenLifetimeMs !== undefined && { tokenLifetimeMs: options.tokenLifetimeMs }),
      });
      endpoint = {
        namespace: hc.namespace,
        path: hc.path,
        tokenProvider,
        ...(options.tls && { tls: options.tls }),
      };
      endpoints.set(hc, endpoint);
    }
    return endpoint;
  };

  const cold = async (request: TunnelRequest): Promise<OpenedTunnel> => {
    const datagram = request.mode === PreambleMode.DATAGRAM;
    const ws = await connectHybridConnection(endpointFor(request.hybridConnection), {
      id: request.connectionId,
      // The half-close offer wins over an extra header of the same name; a datagram flow has no half-close.
      headers: datagram
        ? { ...request.headers, ...datagramBatchOfferHeaders() }
        : { ...request.headers, ...halfCloseOfferHeaders() },
      timeoutMs: request.timeoutMs,
      signal: request.signal,
      ...(options.logger && { logger: options.logger }),
    });
    request.onRelayConnected?.();
    // openSenderTunnel closes the WebSocket itself on every failure path.
    const tunnel = await openSenderTunnel(ws, {
      portName: request.service,
      replyTimeoutMs: request.timeoutMs,
      signal: request.signal,
      ...(datagram && { mode: PreambleMode.DATAGRAM }),
    });
    return {
      duplex: tunnel.duplex,
      halfClose: tunnel.halfClose,
      ...(tunnel.datagramBatch && { datagramBatch: true }),
    };
  };

  const pools = new WarmPools(
    async (request, signal) => {
      const id = randomUUID();
      let announced = false;
      const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
        if (isBinary || data.toString() !== WARM_META_ANNOUNCE_FRAME) return;
        announced = true;
        ws.off('message', onMessage);
      };
      const ws = await connectHybridConnection(endpointFor(request.hybridConnection), {
        id,
        headers: { ...halfCloseOfferHeaders(), [WARM_HEADER]: '1' },
        timeoutMs: 30_000,
        signal,
        // The listener announces right after accepting: listen before any frame can be delivered.
        onOpen: (socket) => socket.on('message', onMessage),
        ...(options.logger && { logger: options.logger }),
      });
      return { ws, id, announced: () => announced };
    },
    options.logger,
    options.warmTiming,
  );

  const muxPools = new MuxPools(
    async (hc, id, signal) => {
      const ws = await connectHybridConnection(endpointFor(hc), {
        id,
        headers: muxOfferHeaders(),
        timeoutMs: 30_000,
        signal,
        ...(options.logger && { logger: options.logger }),
      });
      return startMuxOpener(ws, {
        maxStreams: options.muxStreamsPerConnection ?? DEFAULT_MUX_MAX_STREAMS,
        pingIntervalMs: (options.muxTiming ?? DEFAULT_MUX_TIMING).pingIntervalMs,
        signal,
      });
    },
    options.logger,
    options.muxTiming,
  );

  /** A stream on a mux connection, or undefined when none is ready or the stream went stale (go classic). */
  const viaMux = async (request: TunnelRequest): Promise<OpenedTunnel | undefined> => {
    if (!request.mux) return undefined;
    const meta = { port: request.service, headers: request.headers ?? {} };
    const payload = encodeOpenMeta(meta);
    if (!payload) return undefined; // headers that cannot travel in OPEN: classic, with connect headers
    const connection = muxPools.take(request.hybridConnection, request.mux, request.routeId);
    if (!connection) return undefined;
    const stream = connection.session.openStream(meta, payload);
    // The relay accepted this connection long ago: only the forwarder's answer is left. Even a refusal is then
    // known to the forwarder by the stream's tunnel id.
    request.onRelayConnected?.(`${connection.id}/${stream.id}`);
    const onAbort = (): void => {
      stream.destroy();
    };
    request.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await stream.accepted;
    } catch (err) {
      if (request.signal.aborted)
        throw new TunnelError('TUNNEL_ABORTED', 'aborted while the stream opened', false);
      // The connection died or went away before the forwarder saw the stream: nothing reached it, go classic.
      if (isStaleWarmFailure(err)) return undefined;
      throw err;
    } finally {
      request.signal.removeEventListener('abort', onAbort);
    }
    options.logger?.debug(
      { connectionId: request.connectionId, relayConnectionId: connection.id, streamId: stream.id },
      'tunnel opened as a multiplexed stream',
    );
    return { duplex: stream, halfClose: true, relayConnectionId: `${connection.id}/${stream.id}` };
  };

  const opener: TunnelOpener = async (request) => {
    // Warm connections and streams are for TCP clients: a UDP flow is opened once and lives until it is idle.
    if (request.mode === PreambleMode.DATAGRAM) return cold(request);
    const muxed = await viaMux(request);
    if (muxed) return muxed;
    // Per-client headers travel in-band on a warm connection (docs/tunnel-protocol.md, "Warm connections").
    const needsMetadata = Object.keys(request.headers ?? {}).length > 0;
    const meta = needsMetadata ? encodeWarmMeta(request.headers!) : undefined;
    const warm = needsMetadata && meta === undefined ? undefined : pools.take(request, needsMetadata);
    if (warm) {
      try {
        // The relay accepted this connection when it was warmed: only the forwarder's reply is left.
        request.onRelayConnected?.();
        if (meta !== undefined) warm.ws.send(meta);
        const tunnel = await openSenderTunnel(warm.ws, {
          portName: request.service,
          replyTimeoutMs: request.timeoutMs,
          signal: request.signal,
        });
        options.logger?.debug(
          { connectionId: request.connectionId, relayConnectionId: warm.id },
          'tunnel opened on a warm connection',
        );
        return { duplex: tunnel.duplex, halfClose: tunnel.halfClose, relayConnectionId: warm.id };
      } catch (err) {
        // A warm connection that died unseen is replaced by a cold one: the client never sent a byte on it.
        if (request.signal.aborted || !isStaleWarmFailure(err)) throw err;
        options.logger?.debug({ err: String(err) }, 'warm connection was dead; opening cold');
      }
    }
    return cold(request);
  };
  opener.releaseRoute = (routeId) => {
    pools.release(routeId);
    muxPools.release(routeId);
  };
  opener.close = () => {
    pools.close();
    muxPools.close();
  };
  opener.muxStats = (hc) => muxPools.stats(hc);
  return opener;
}
