import { silentLogger, type RelayLogger } from '../../common/src/hc/logger';
import { isTunnelError } from '../../common/src/tunnel/errors';
import type { GatewayHybridConnection } from './config/types';
import type { TunnelRequest } from './tunnel-opener';
import {
  DEFAULT_WARM_TIMING,
  WarmPool,
  type WarmConnection,
  type WarmPoolStats,
  type WarmPoolTiming,
} from './warm-pool';

export type { WarmPoolTiming } from './warm-pool';

/** Opens a warm sender connection for a route's hybrid connection. */
export type WarmConnect = (request: TunnelRequest, signal: AbortSignal) => Promise<WarmConnection>;

interface Entry {
  readonly pool: WarmPool;
  readonly hybridConnection: GatewayHybridConnection;
  readonly service: string;
}

/**
 * One warm pool per route, rebuilt when the route's hybrid connection object (credentials), service or pool
 * settings change, so a warm connection is always one the route would open now.
 */
export class WarmPools {
  private readonly pools = new Map<string, Entry>();
  private closed = false;

  constructor(
    private readonly connect: WarmConnect,
    private readonly logger: RelayLogger = silentLogger,
    private readonly timing: WarmPoolTiming = DEFAULT_WARM_TIMING,
  ) {}

  /** A warm connection for this request (one whose listener takes client metadata if it needs to), or undefined. */
  take(request: TunnelRequest, needsMetadata = false): WarmConnection | undefined {
    if (this.closed) return undefined;
    let entry = this.pools.get(request.routeId);
    const settings = request.warm;
    if (
      entry &&
      (entry.hybridConnection !== request.hybridConnection ||
        entry.service !== request.service ||
        entry.pool.settings.maxSize !== settings?.maxSize ||
        entry.pool.settings.maxIdleMs !== settings?.maxIdleMs)
    ) {
      this.release(request.routeId);
      entry = undefined;
    }
    if (!settings || settings.maxSize <= 0) return undefined;
    if (!entry) {
      const first = request;
      entry = {
        pool: new WarmPool((signal) => this.connect(first, signal), settings, this.logger, this.timing),
        hybridConnection: request.hybridConnection,
        service: request.service,
      };
      this.pools.set(request.routeId, entry);
    }
    return entry.pool.take(needsMetadata);
  }

  /** Counters of a route's pool, if it has one. */
  stats(routeId: string): WarmPoolStats | undefined {
    return this.pools.get(routeId)?.pool.stats();
  }

  /** Closes a route's warm connections. */
  release(routeId: string): void {
    this.pools.get(routeId)?.pool.close();
    this.pools.delete(routeId);
  }

  /** Closes every pool and opens no more. */
  close(): void {
    this.closed = true;
    for (const id of [...this.pools.keys()]) this.release(id);
  }
}

/**
 * True when a tunnel on a warm connection failed without the forwarder deciding anything (the connection was
 * closed or lost before it answered the preamble): the request may go again on a cold connection.
 */
export function isStaleWarmFailure(err: unknown): boolean {
  if (!isTunnelError(err)) return false;
  switch (err.code) {
    case 'TUNNEL_CLOSED_EARLY':
    case 'TUNNEL_RELAY_LOST':
    case 'TUNNEL_IDLE_TIMEOUT':
      return true;
    case 'TUNNEL_REMOTE_ERROR':
      return err.closeCode === undefined || err.closeCode < 4000;
    default:
      return false;
  }
}
