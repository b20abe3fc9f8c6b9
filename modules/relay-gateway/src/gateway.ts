import { EventEmitter } from 'node:events';
import type { ConfigProblem } from '../../common/src/config/schema-validator';
import type { Logger } from '../../common/src/log';
import { RepeatLog } from '../../common/src/repeat-log';
import { ConnectionBudget } from './admission';
import { diffGatewayConfig, EMPTY_GATEWAY_CONFIG, type GatewayConfigDiff } from './config/diff';
import { normalizeGatewayConfig } from './config/normalize';
import type { GatewayConfig, GatewayHybridConnection } from './config/types';
import type { GatewayEvents } from './events';
import type { TunnelFailureReason } from './reasons';
import {
  RouteRuntime,
  type RouteContext,
  type RouteRelayFault,
  type RouteState,
  type RouteStatus,
} from './route';
import type { MuxPoolStats } from './mux-pools';
import type { TunnelOpener, TunnelRequest } from './tunnel-opener';
import { UdpRoutes } from './udp/udp-routes';
import type { UdpRouteState } from './udp/udp-route';

/** Headers for one connection's relay connect request, by connection id (the `sb-hc-id`). */
export type ConnectHeaderSource = (connectionId: string) => Readonly<Record<string, string>> | undefined;

/** Options for Gateway. */
export interface GatewayOptions {
  readonly opener: TunnelOpener;
  readonly logger: Logger;
  /** Interval of the refused-client log summary (default 10 s). */
  readonly refusalLogIntervalMs?: number;
}

/** Outcome of applying a configuration. */
export interface ApplyResult {
  readonly ok: true;
  readonly diff: GatewayConfigDiff;
  /** Routes whose port could not be opened (their `state().error` says why); every other route runs. */
  readonly refusedRoutes: readonly string[];
}

/** Outcome of applying a document: applied, or refused with every problem (the last good configuration keeps running). */
export type ApplyDocumentResult =
  ApplyResult | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** Everything the gateway can tell about itself, for twin reporting, health and metrics. */
export interface GatewayState {
  /** False until a first good configuration was applied. */
  readonly configured: boolean;
  readonly stopping: boolean;
  readonly routes: Readonly<Record<string, RouteState>>;
  /** Removed routes whose connections are still draining. */
  readonly draining: readonly RouteState[];
  /** TCP connections and UDP flows open now (both count toward `maxConnections`). */
  readonly activeConnections: number;
  readonly maxConnections: number;
  /** UDP routes (absent when none is configured). */
  readonly udpRoutes?: Readonly<Record<string, UdpRouteState>>;
  /** Multiplexed relay connections per hybrid connection, for those a client used (absent when none). */
  readonly mux?: Readonly<Record<string, MuxPoolStats>>;
  /** The problems of the last refused document, until a good one is applied. */
  readonly lastRejection?: { readonly atMs: number; readonly problems: readonly ConfigProblem[] };
}

/**
 * The gateway: applies configurations by their difference and owns the routes. Applies run one at a time in
 * arrival order. Unchanged routes are not touched; removed routes drain (bounded by `drainTimeoutMs`); a route
 * whose port cannot be opened is refused alone and retried on the next apply.
 */
export class Gateway extends EventEmitter<GatewayEvents> {
  private config: GatewayConfig = EMPTY_GATEWAY_CONFIG;
  private configured = false;
  private stopping = false;
  private lastRejection: GatewayState['lastRejection'];
  private readonly routes = new Map<string, RouteRuntime>();
  private readonly draining = new Set<RouteRuntime>();
  private readonly globalBudget = new ConnectionBudget(0);
  private readonly routeContext: RouteContext;
  private readonly initialLogLevel: string;
  private queue: Promise<unknown> = Promise.resolve();
  private connectHeaders: ConnectHeaderSource | undefined;
  /** Per route, the latest relay-side tunnel failure until a tunnel opens (reported, never a readiness reason). */
  private readonly relayFaults = new Map<string, RouteRelayFault>();
  private readonly udp: UdpRoutes;

  constructor(private readonly options: GatewayOptions) {
    super();
    this.initialLogLevel = options.logger.level;
    this.routeContext = {
      opener: Object.assign(
        (request: TunnelRequest) => {
          const headers = this.connectHeaders?.(request.connectionId);
          return options.opener(
            headers ? { ...request, headers: { ...request.headers, ...headers } } : request,
          );
        },
        { releaseRoute: (routeId: string) => options.opener.releaseRoute?.(routeId) },
      ),
      globalBudget: this.globalBudget,
      logger: options.logger,
      refusalLog: new RepeatLog(options.logger, {
        ...(options.refusalLogIntervalMs !== undefined && { intervalMs: options.refusalLogIntervalMs }),
      }),
      events: this,
      hybridConnection: (name) => this.config.hybridConnections.get(name),
    };
    this.udp = new UdpRoutes({
      opener: this.routeContext.opener,
      globalBudget: this.globalBudget,
      logger: options.logger,
      dropLog: this.routeContext.refusalLog,
      hybridConnection: (name) => this.config.hybridConnections.get(name),
    });
    this.on('tunnel-failed', (event) => {
      if (!RELAY_FAULTS.has(event.reason)) return;
      const code = (event.error as { code?: unknown } | null)?.code;
      this.relayFaults.set(event.routeId, {
        reason: event.reason,
        ...(typeof code === 'string' && { code }),
        atMs: Date.now(),
      });
    });
    this.on('tunnel-open', (event) => this.relayFaults.delete(event.routeId));
  }

  /**
   * Adds headers to each tunnel's relay connect request (telemetry: W3C trace context of the connection's span).
   * Called with the connection id after the 'connection' event; `undefined` removes the source.
   */
  setConnectHeaderSource(source: ConnectHeaderSource | undefined): void {
    this.connectHeaders = source;
  }

  /** The configuration running now (the empty one before the first good document). */
  get currentConfig(): GatewayConfig {
    return this.config;
  }

  /** Validates a document and applies it, or refuses it with every problem and keeps the running configuration. */
  applyDocument(document: unknown, options: { readonly nowMs?: number } = {}): Promise<ApplyDocumentResult> {
    const normalized = normalizeGatewayConfig(document, options);
    if (!normalized.ok) {
      this.refuseDocument(normalized.problems);
      return Promise.resolve({ ok: false, problems: normalized.problems });
    }
    return this.apply(normalized.config);
  }

  /**
   * Records a document that could not be used (invalid, or a file that does not parse): logged, kept in
   * `state().lastRejection` until a good one is applied, and emitted as 'rejected'. Nothing else changes.
   */
  refuseDocument(problems: readonly ConfigProblem[]): void {
    this.lastRejection = { atMs: Date.now(), problems };
    this.options.logger.error(
      { problems, keeping: this.configured ? 'last good configuration' : 'nothing' },
      'configuration refused',
    );
    this.emit('rejected', { problems });
  }

  /** Applies a normalized configuration: only what differs from the running one changes. */
  apply(config: GatewayConfig): Promise<ApplyResult> {
    const run = this.queue.then(() => this.applyNow(config));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Stops every route: ports close at once, live connections get `drainTimeoutMs` (default: the configured drain
   * time) to finish, then are closed. Later applies are ignored.
   */
  stop(drainTimeoutMs?: number): Promise<void> {
    this.stopping = true;
    const run = this.queue.then(async () => {
      const timeoutMs = drainTimeoutMs ?? this.config.drainTimeoutMs;
      // Retiring routes join the draining set so closeAllConnections() still reaches them.
      // Until its turn comes a route stays in `routes`, where closeAllConnections() reaches it too.
      for (const [i, route] of [...this.routes.values()].entries()) {
        this.routes.delete(route.id);
        this.retire(route, timeoutMs);
        if ((i + 1) % ROUTES_PER_TURN === 0) await nextTurn();
      }
      // Routes removed by earlier applies may have a longer drain left: the shutdown bound covers them too.
      const deadline = setTimeout(() => this.closeAllConnections(), timeoutMs);
      // UDP flows have nothing to drain: they end at once.
      await Promise.all([...[...this.draining].map((route) => route.whenIdle()), this.udp.close()]);
      clearTimeout(deadline);
      this.routeContext.refusalLog.close();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Closes every live connection now (a second shutdown signal, or after a stop that takes too long). */
  closeAllConnections(): void {
    for (const route of [...this.routes.values(), ...this.draining]) route.closeAll('stopped');
  }

  /** Routes, counters and the last refusal now. */
  state(): GatewayState {
    const routes: Record<string, RouteState> = {};
    let activeConnections = 0;
    for (const [id, route] of this.routes) {
      const fault = this.relayFaults.get(id);
      routes[id] = fault ? { ...route.state(), relayFault: fault } : route.state();
      activeConnections += route.activeConnections;
    }
    const draining = [...this.draining].map((route) => {
      activeConnections += route.activeConnections;
      return route.state();
    });
    const udpRoutes = this.udp.state();
    const mux: Record<string, MuxPoolStats> = {};
    for (const [name, hc] of this.config.hybridConnections) {
      const stats = this.options.opener.muxStats?.(hc);
      if (stats) mux[name] = stats;
    }
    return {
      configured: this.configured,
      stopping: this.stopping,
      routes,
      draining,
      activeConnections: activeConnections + this.udp.activeFlows,
      maxConnections: this.globalBudget.limit,
      ...(Object.keys(udpRoutes).length > 0 && { udpRoutes }),
      ...(Object.keys(mux).length > 0 && { mux }),
      ...(this.lastRejection && { lastRejection: this.lastRejection }),
    };
  }

  /** Each route's status (without counters): what readiness and status reports need, in O(routes). */
  routeStatuses(): ReadonlyMap<string, RouteStatus> {
    const out = new Map<string, RouteStatus>();
    for (const [id, route] of this.routes) out.set(id, route.currentStatus);
    return out;
  }

  /** Live connections of route `id` (0 when there is no such route). */
  activeConnectionsOf(id: string): number {
    return this.routes.get(id)?.activeConnections ?? 0;
  }

  /** True once a good configuration was applied. */
  get isConfigured(): boolean {
    return this.configured;
  }

  /** Removed routes still draining their connections. */
  get drainingRoutes(): number {
    return this.draining.size;
  }

  private async applyNow(incoming: GatewayConfig): Promise<ApplyResult> {
    const diff = diffGatewayConfig(this.config, incoming);
    if (this.stopping) return { ok: true, diff, refusedRoutes: [] };
    const next = this.keepUnchangedHybridConnections(incoming, diff);
    const drainTimeoutMs = next.drainTimeoutMs;
    this.config = next;
    this.configured = true;
    this.lastRejection = undefined;
    this.globalBudget.setLimit(next.maxConnections);
    if (diff.logLevelChanged) this.options.logger.level = next.logLevel ?? this.initialLogLevel;

    // A new credential or endpoint deserves a fresh start.
    const renewed = new Set(diff.credentialsChanged);
    for (const id of this.relayFaults.keys())
      if (renewed.has(next.routes.get(id)?.hybridConnection ?? '')) this.relayFaults.delete(id);
    for (const [i, id] of diff.routesRemoved.entries()) {
      const route = this.routes.get(id)!;
      this.routes.delete(id);
      this.relayFaults.delete(id);
      this.retire(route, drainTimeoutMs);
      if ((i + 1) % ROUTES_PER_TURN === 0) await nextTurn();
    }
    // Release every port that moves before binding any, so two routes can swap ports in one apply.
    for (const change of diff.routesChanged) {
      if (change.rebind || change.fields.includes('enabled')) this.routes.get(change.id)!.releasePort();
    }
    const work: Array<Promise<void>> = [];
    for (const change of diff.routesChanged)
      work.push(this.routes.get(change.id)!.update(next.routes.get(change.id)!, change, drainTimeoutMs));
    let started = 0;
    for (const id of diff.routesAdded) {
      const route = new RouteRuntime(next.routes.get(id)!, this.routeContext);
      this.routes.set(id, route);
      work.push(route.start());
      // Opening thousands of ports in one turn would stall every live tunnel: let I/O run between batches.
      if (++started % ROUTES_PER_TURN === 0) await nextTurn();
    }
    for (const id of diff.routesUnchanged) work.push(this.routes.get(id)!.retryIfRefused());
    const [udp] = await Promise.all([this.udp.apply(next.udpRoutes), ...work]);

    const refusedRoutes = [...this.routes.values()]
      .filter((route) => route.currentStatus === 'refused')
      .map((route) => route.id)
      .sort();
    this.options.logger.info(
      {
        added: diff.routesAdded,
        removed: diff.routesRemoved,
        changed: diff.routesChanged.map((c) => c.id),
        credentialsChanged: diff.credentialsChanged,
        refusedRoutes,
        ...(udp.added.length + udp.removed.length + udp.changed.length + udp.refused.length > 0 && {
          udpRoutes: udp,
        }),
      },
      'configuration applied',
    );
    this.emit('applied', { diff, refusedRoutes });
    return { ok: true, diff, refusedRoutes };
  }

  private retire(route: RouteRuntime, drainTimeoutMs: number): void {
    this.draining.add(route);
    void route.retire(drainTimeoutMs).finally(() => this.draining.delete(route));
  }

  // The tunnel opener caches an endpoint per hybrid connection object: keep the old object while nothing changed.
  private keepUnchangedHybridConnections(next: GatewayConfig, diff: GatewayConfigDiff): GatewayConfig {
    const hybridConnections = new Map<string, GatewayHybridConnection>();
    const changed = new Set([...diff.credentialsChanged, ...diff.hybridConnectionsAdded]);
    for (const [name, hc] of next.hybridConnections)
      hybridConnections.set(name, changed.has(name) ? hc : (this.config.hybridConnections.get(name) ?? hc));
    return { ...next, hybridConnections };
  }
}

/** Routes opened or closed per event-loop turn when an apply or a stop touches many. */
const ROUTES_PER_TURN = 250;

/** Lets pending I/O (live tunnels) run before the next batch. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Tunnel failures that say something about the relay or the hybrid connection (not the client, not the target). */
const RELAY_FAULTS: ReadonlySet<TunnelFailureReason> = new Set<TunnelFailureReason>([
  'no-listener',
  'unauthorized',
  'forbidden',
  'relay-not-found',
  'relay-rejected',
  'relay-unavailable',
  'relay-timeout',
]);
