import { randomUUID } from 'node:crypto';
import { silentLogger, type RelayLogger } from '../../common/src/hc/logger';
import type { MuxSession } from '../../common/src/mux/session';
import { MUX_RETRY_AFTER_MS } from '../../common/src/mux/negotiate';
import { isTunnelError } from '../../common/src/tunnel/errors';
import type { GatewayHybridConnection } from './config/types';

/** A route's multiplexing settings. */
export interface MuxSettings {
  /** Upper bound of multiplexed relay connections to the route's hybrid connection. */
  readonly maxConnections: number;
}

/** Tuning that is not configuration (tests shorten it). */
export interface MuxPoolTiming {
  /** `PING` interval on every mux connection. */
  readonly pingIntervalMs: number;
  /** A connection without a stream for this long is closed (it holds a namespace connection for nobody). */
  readonly idleAfterMs: number;
  /** A connection older than this is drained (GOAWAY) and replaced on demand, before a relay or token ends it. */
  readonly maxAgeMs: number;
  /** After a failed open (no listener, relay error), the next try waits this long. */
  readonly retryAfterMs: number;
  /** After a listener did not accept multiplexing, the hybrid connection is asked again after this long. */
  readonly unsupportedRetryAfterMs: number;
}

/** Default timing: pings well inside load balancers' idle timeouts, like the warm pool's. */
export const DEFAULT_MUX_TIMING: MuxPoolTiming = Object.freeze({
  pingIntervalMs: 20_000,
  idleAfterMs: 120_000,
  maxAgeMs: 30 * 60_000,
  retryAfterMs: 5_000,
  unsupportedRetryAfterMs: MUX_RETRY_AFTER_MS,
});

/** A mux connection as the pool tracks it. */
export interface MuxConnection {
  readonly session: MuxSession;
  /** The relay tracking id (`sb-hc-id`) of the connection. */
  readonly id: string;
  readonly openedAtMs: number;
}

/** Opens one relay connection with `x-hrf-mux: 1` and waits for the listener's accept (rejects otherwise). */
export type MuxOpen = (hc: GatewayHybridConnection, id: string, signal: AbortSignal) => Promise<MuxSession>;

/** Counters of one hybrid connection's pool. */
export interface MuxPoolStats {
  readonly connections: number;
  readonly streams: number;
  readonly opened: number;
  /** Whether the last listener asked accepted multiplexing (undefined until one answered or timed out). */
  readonly supported: boolean | undefined;
}

/** Connections kept while clients come (within the route's bound), so they land on different listeners. */
const MIN_SPREAD_CONNECTIONS = 2;

class MuxPool {
  private readonly connections: MuxConnection[] = [];
  private opening = 0;
  private notBeforeMs = 0;
  private opened = 0;
  private supported: boolean | undefined;
  private closed = false;
  private readonly shutdown = new AbortController();
  private readonly sweep: NodeJS.Timeout;
  /** Routes whose clients use this pool; when the last one is released the pool closes (nothing held). */
  readonly routes = new Set<string>();

  constructor(
    readonly hybridConnection: GatewayHybridConnection,
    private readonly open: MuxOpen,
    private readonly logger: RelayLogger,
    private readonly timing: MuxPoolTiming,
  ) {
    this.sweep = setInterval(() => this.recycle(), Math.min(timing.idleAfterMs, timing.maxAgeMs, 10_000) / 2);
    this.sweep.unref();
  }

  /** The least loaded connection that can take a stream now, or undefined; opens more in the background. */
  take(maxConnections: number): MuxConnection | undefined {
    if (this.closed) return undefined;
    let best: MuxConnection | undefined;
    for (const c of this.connections) {
      if (c.session.canOpen && (!best || c.session.activeStreams < best.session.activeStreams)) best = c;
    }
    // Another connection once the least loaded is half full, so a burst never waits for a stream slot; and at
    // least two while clients come, so the relay spreads them over the forwarder's listeners (and replicas): one
    // forwarder lost then resets only the streams it carried.
    const crowded = !best || best.session.activeStreams * 2 >= best.session.maxStreams;
    const spread = this.live() < Math.min(MIN_SPREAD_CONNECTIONS, maxConnections);
    if ((crowded || spread) && this.live() + this.opening < maxConnections) this.grow();
    return best;
  }

  stats(): MuxPoolStats {
    let streams = 0;
    for (const c of this.connections) streams += c.session.activeStreams;
    return { connections: this.connections.length, streams, opened: this.opened, supported: this.supported };
  }

  /** Stops opening; live streams finish on their connections (GOAWAY), idle ones close now. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweep);
    this.shutdown.abort();
    for (const c of this.connections) c.session.goAway();
  }

  /** Connections that count toward the bound: every one not draining, full or not. */
  private live(): number {
    return this.connections.filter((c) => !c.session.isDraining).length;
  }

  private grow(): void {
    const now = Date.now();
    if (now < this.notBeforeMs) return;
    this.opening += 1;
    const id = randomUUID();
    this.open(this.hybridConnection, id, this.shutdown.signal).then(
      (session) => {
        this.opening -= 1;
        this.opened += 1;
        this.supported = true;
        if (this.closed) {
          session.goAway();
          return;
        }
        const connection: MuxConnection = { session, id, openedAtMs: Date.now() };
        this.connections.push(connection);
        session.once('close', (error) => {
          const at = this.connections.indexOf(connection);
          if (at >= 0) this.connections.splice(at, 1);
          if (error) this.logger.debug({ relayConnectionId: id, code: error.code }, 'mux connection ended');
        });
        this.logger.debug({ relayConnectionId: id, maxStreams: session.maxStreams }, 'mux connection open');
      },
      (err: unknown) => {
        this.opening -= 1;
        if (this.closed) return;
        // A listener that stayed silent or answered otherwise does not multiplex: ask again much later.
        const unsupported = isTunnelError(err, 'TUNNEL_HANDSHAKE_TIMEOUT');
        if (unsupported) this.supported = false;
        this.notBeforeMs =
          Date.now() + (unsupported ? this.timing.unsupportedRetryAfterMs : this.timing.retryAfterMs);
        this.logger.debug(
          { err: String(err), unsupported },
          unsupported ? 'listener does not multiplex; one connection per client' : 'mux connection failed',
        );
      },
    );
  }

  private recycle(): void {
    const now = Date.now();
    for (const c of this.connections) {
      const idle =
        c.session.idleSinceMs !== undefined && now - c.session.idleSinceMs >= this.timing.idleAfterMs;
      if (idle || now - c.openedAtMs >= this.timing.maxAgeMs) c.session.goAway();
    }
  }
}

/**
 * Multiplexed relay connections per hybrid connection (docs/relay-gateway.md, "Multiplexed streams"): a few
 * long-lived connections carry the clients of every route of that hybrid connection as streams. A pool is
 * rebuilt when its hybrid connection object (credentials) changes; the old one drains.
 */
export class MuxPools {
  private readonly pools = new Map<string, MuxPool>();
  private closed = false;

  constructor(
    private readonly open: MuxOpen,
    private readonly logger: RelayLogger = silentLogger,
    private readonly timing: MuxPoolTiming = DEFAULT_MUX_TIMING,
  ) {}

  /** A mux connection with room for a stream to `hc`, or undefined (the client goes one connection per client). */
  take(hc: GatewayHybridConnection, settings: MuxSettings, routeId = ''): MuxConnection | undefined {
    if (this.closed || settings.maxConnections <= 0) return undefined;
    const key = `${hc.namespace}/${hc.path}`;
    let pool = this.pools.get(key);
    if (pool && pool.hybridConnection !== hc) {
      pool.close();
      pool = undefined;
    }
    if (!pool) {
      pool = new MuxPool(hc, this.open, this.logger, this.timing);
      this.pools.set(key, pool);
    }
    pool.routes.add(routeId);
    return pool.take(settings.maxConnections);
  }

  /** A route's port closed (removed, disabled, rebound): a pool no route uses any more drains and closes. */
  release(routeId: string): void {
    for (const [key, pool] of this.pools) {
      if (!pool.routes.delete(routeId) || pool.routes.size > 0) continue;
      pool.close();
      this.pools.delete(key);
    }
  }

  /** Counters of the pool of `hc`, if any. */
  stats(hc: GatewayHybridConnection): MuxPoolStats | undefined {
    return this.pools.get(`${hc.namespace}/${hc.path}`)?.stats();
  }

  /** Drains every pool and opens no more (shutdown). */
  close(): void {
    this.closed = true;
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
  }
}
