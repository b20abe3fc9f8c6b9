import WebSocket from 'ws';
import type { RelayLogger } from '../../common/src/hc/logger';

/** Header a gateway sets on a pre-opened (warm) sender connection; the forwarder waits longer for its preamble. */
export const WARM_HEADER = 'x-hrf-warm';

/** How one route's pool behaves. */
export interface WarmPoolSettings {
  /** Upper bound of connections kept open ahead of clients; 0 turns the pool off. */
  readonly maxSize: number;
  /** A warm connection unused for this long is closed (and replaced while there is demand). */
  readonly maxIdleMs: number;
}

/** Tuning that is not configuration (tests shorten it). */
export interface WarmPoolTiming {
  /** WebSocket ping interval on idle warm connections; a missing pong by the next ping ends the connection. */
  readonly pingIntervalMs: number;
  /** With no client for this long the pool shrinks to 0 (it holds namespace connections for nobody). */
  readonly idleAfterMs: number;
  /** Window over which the client connection rate is measured. */
  readonly rateWindowMs: number;
}

/** Default timing: pings well inside any load balancer's idle timeout; a quiet route holds nothing after 2 min. */
export const DEFAULT_WARM_TIMING: WarmPoolTiming = Object.freeze({
  pingIntervalMs: 20_000,
  idleAfterMs: 120_000,
  rateWindowMs: 10_000,
});

/** Counters of one pool. */
export interface WarmPoolStats {
  /** Warm connections handed to clients. */
  readonly hits: number;
  /** Clients that found the pool empty. */
  readonly misses: number;
  /** Clients with per-client metadata that found only connections whose listener cannot take it (opened cold). */
  readonly coldForMetadata: number;
  /** Connections opened for the pool. */
  readonly opened: number;
  /** Warm connections closed unused (recycled, dead, released). */
  readonly discarded: number;
  /** Open and waiting now. */
  readonly ready: number;
}

/** One warm connection as opened. */
export interface WarmConnection {
  readonly ws: WebSocket;
  readonly id: string;
  /** Whether its listener announced (`hrf:warm`) that it reads client metadata before the preamble; may turn true later. */
  readonly announced: () => boolean;
}

interface Warm extends WarmConnection {
  readonly timer: NodeJS.Timeout;
}

/** Opens one warm sender connection (relay handshake done and accepted by the listener, no preamble sent). */
export type WarmOpen = (signal: AbortSignal) => Promise<WarmConnection>;

/**
 * A route's pre-opened relay connections: `take()` hands one to a client at once, and the pool refills in the
 * background up to a target that follows the observed client rate (1 + rate × open time) within
 * `maxSize`, and falls to 0 when no client came for a while. Idle members are pinged and recycled after
 * `maxIdleMs`, before a peer's preamble timeout or the relay would end them.
 */
export class WarmPool {
  private readonly ready: Warm[] = [];
  private readonly demand: number[] = [];
  private opening = 0;
  private openMsEstimate = 50;
  private lastDemandAtMs = -Infinity;
  private closed = false;
  private readonly shutdown = new AbortController();
  private hits = 0;
  private misses = 0;
  private coldForMetadata = 0;
  private opened = 0;
  private discarded = 0;
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly open: WarmOpen,
    readonly settings: WarmPoolSettings,
    private readonly log: RelayLogger,
    private readonly timing: WarmPoolTiming = DEFAULT_WARM_TIMING,
  ) {
    this.ticker = setInterval(() => this.tick(), timing.pingIntervalMs);
    this.ticker.unref();
  }

  /**
   * A warm connection for a client now, or undefined (open one cold). With `needsMetadata` only a connection whose
   * listener announced it reads client metadata will do. Counts the demand and refills.
   */
  take(needsMetadata = false): WarmConnection | undefined {
    if (this.closed) return undefined;
    for (const warm of this.ready.filter((w) => w.ws.readyState !== WebSocket.OPEN))
      this.remove(warm, 'dead');
    const index = needsMetadata ? this.ready.findIndex((w) => w.announced()) : this.ready.length > 0 ? 0 : -1;
    if (index < 0 && this.ready.length > 0) {
      // Only peers that cannot take this client's metadata (azbridge, an older forwarder): open cold so nothing is
      // lost, and count no demand, so a pool no client can use shrinks away instead of holding connections.
      this.coldForMetadata += 1;
      return undefined;
    }
    const now = Date.now();
    this.lastDemandAtMs = now;
    this.demand.push(now);
    let found: Warm | undefined;
    if (index >= 0) {
      [found] = this.ready.splice(index, 1);
      clearTimeout(found.timer);
      found.ws.off('close', this.onClose);
      found.ws.off('pong', markAlive);
      this.hits += 1;
    } else this.misses += 1;
    this.refill();
    return found && { ws: found.ws, id: found.id, announced: found.announced };
  }

  /** Counters now. */
  stats(): WarmPoolStats {
    return {
      hits: this.hits,
      misses: this.misses,
      coldForMetadata: this.coldForMetadata,
      opened: this.opened,
      discarded: this.discarded,
      ready: this.ready.length,
    };
  }

  /** Closes every warm connection and stops refilling; nothing is held afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    this.shutdown.abort();
    for (const warm of this.ready.splice(0)) {
      clearTimeout(warm.timer);
      this.discard(warm.ws, 'released');
    }
  }

  /** How many connections the pool should hold now. */
  target(now = Date.now()): number {
    if (this.settings.maxSize <= 0 || now - this.lastDemandAtMs > this.timing.idleAfterMs) return 0;
    while (this.demand.length > 0 && now - this.demand[0] > this.timing.rateWindowMs) this.demand.shift();
    const perMs = this.demand.length / this.timing.rateWindowMs;
    // One for the next client, plus the clients expected to arrive while a replacement opens.
    const wanted = 1 + Math.floor(perMs * this.openMsEstimate);
    return Math.min(this.settings.maxSize, wanted);
  }

  private refill(): void {
    while (!this.closed && this.ready.length + this.opening < this.target()) {
      this.opening += 1;
      const startedAtMs = Date.now();
      this.open(this.shutdown.signal).then(
        (connection) => {
          this.opening -= 1;
          this.opened += 1;
          this.openMsEstimate = 0.8 * this.openMsEstimate + 0.2 * (Date.now() - startedAtMs);
          this.add(connection);
        },
        (err: unknown) => {
          this.opening -= 1;
          // No retry loop here: the next client refills again, so a down forwarder costs one attempt per client.
          if (!this.closed) this.log.debug({ err: String(err) }, 'warm connection failed to open');
        },
      );
    }
  }

  private add(connection: WarmConnection): void {
    const { ws } = connection;
    if (this.closed || this.ready.length >= this.target() || ws.readyState !== WebSocket.OPEN) {
      this.discard(ws, 'not needed');
      return;
    }
    const timer = setTimeout(() => this.recycle(ws), this.settings.maxIdleMs);
    timer.unref();
    alive.set(ws, true);
    ws.on('pong', markAlive);
    ws.on('close', this.onClose);
    this.ready.push({ ...connection, timer });
  }

  private readonly onClose = (): void => {
    // A member the relay or the forwarder closed: drop it and replace it while there is demand.
    this.prune();
    this.refill();
  };

  private recycle(ws: WebSocket): void {
    const index = this.ready.findIndex((w) => w.ws === ws);
    if (index < 0) return;
    const [warm] = this.ready.splice(index, 1);
    ws.off('close', this.onClose);
    this.discard(warm.ws, 'recycled');
    this.refill();
  }

  private remove(warm: Warm, why: string): void {
    this.ready.splice(this.ready.indexOf(warm), 1);
    clearTimeout(warm.timer);
    warm.ws.off('close', this.onClose);
    this.discard(warm.ws, why);
  }

  private prune(): void {
    for (let i = this.ready.length - 1; i >= 0; i--) {
      const warm = this.ready[i];
      if (warm.ws.readyState === WebSocket.OPEN) continue;
      this.ready.splice(i, 1);
      clearTimeout(warm.timer);
      this.discarded += 1;
    }
  }

  private tick(): void {
    for (const warm of [...this.ready]) {
      if (alive.get(warm.ws) === false) {
        // No pong since the last ping: a silently dead path; replace it before a client gets it.
        warm.ws.terminate();
        continue;
      }
      alive.set(warm.ws, false);
      warm.ws.ping();
    }
    // Shrink to the target (0 once the route has been quiet for long).
    while (this.ready.length > this.target()) {
      const warm = this.ready.shift()!;
      clearTimeout(warm.timer);
      warm.ws.off('close', this.onClose);
      this.discard(warm.ws, 'pool shrunk');
    }
  }

  private discard(ws: WebSocket, why: string): void {
    this.discarded += 1;
    ws.off('pong', markAlive);
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, `warm connection ${why}`);
    else ws.terminate();
  }
}

const alive = new WeakMap<WebSocket, boolean>();
function markAlive(this: WebSocket): void {
  alive.set(this, true);
}
