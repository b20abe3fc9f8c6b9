import { EventEmitter } from 'node:events';
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from '../../../modules/common/src/log';
import type { RelayMetrics } from '../../../modules/common/src/telemetry/metrics';
import { traceReconcile } from '../../../modules/common/src/telemetry/tracing';
import type { FleetTwins } from '../adapters/fleet-twins';
import type { RelayAdmin } from '../adapters/relay-admin';
import type { RelayNamespaces } from '../adapters/relay-namespaces';
import { ControllerError, isControllerError } from '../errors';
import type { LeaderLease } from '../lease/leader-lease';
import { relayModuleIds } from '../model/gateway-modules';
import type { Action } from '../plan/actions';
import type { TokenHealth } from '../model/token-health';
import type { ControllerSettings } from '../settings';
import { stoppedError } from './executor';
import { KeyCache } from './key-cache';
import type { GrowthView, NamespaceGrowth } from './namespace-growth';
import { reconcileOnce, type ReconcileResult } from './reconcile';

/** Timing and limits of the loop. */
export interface LoopOptions {
  /** Full reconcile period. Default 60 s. */
  readonly intervalMs?: number;
  /** Change poll period (a cheap query of relay tags and modules); 0 turns polling off. Default 15 s. */
  readonly pollIntervalMs?: number;
  /** ARM / IoT Hub calls in flight at once. Default 8. */
  readonly concurrency?: number;
  /** Planning passes per reconcile. Default 8. */
  readonly maxPasses?: number;
  /** How long a key read with listKeys is reused. Default 10 min. */
  readonly keyCacheMaxAgeMs?: number;
  /** Delay before retrying a reconcile that threw (doubles up to intervalMs). Default 2 s. */
  readonly retryDelayMs?: number;
}

/** Everything a FleetController runs on. */
export interface FleetControllerOptions extends LoopOptions {
  readonly twins: FleetTwins;
  readonly relay: RelayAdmin;
  /** Several Relay namespaces by name, in settings.namespaces order (`relay` is then the first). */
  readonly namespaces?: RelayNamespaces;
  readonly settings: ControllerSettings;
  readonly logger: Logger;
  readonly metrics?: RelayMetrics;
  readonly tracer?: Tracer;
  readonly nowMs?: () => number;
  /** Called before every action (tests crash a reconcile midway by throwing). */
  readonly beforeAction?: (action: Action) => void;
  /**
   * Several replicas: reconcile only while holding this lease, check it before every action and stamp its
   * generation into every twin written. Absent: this replica always reconciles (one replica, `--once`, tests).
   */
  readonly lease?: LeaderLease;
  /** Namespaces created through ARM when every one is full (settings.namespaceGrowth); none when absent. */
  readonly growth?: NamespaceGrowth;
}

/** Events of FleetController. */
export interface FleetControllerEvents {
  reconciled: [result: ReconcileResult];
  reconcileFailed: [error: Error];
}

/**
 * The reconcile loop: a full reconcile at start, every `intervalMs`, when a token falls due, and whenever the
 * change poll sees relay tags or relay modules change. Reconciles never overlap; a request during one runs
 * once more after it. Stateless apart from an in-memory key cache: any replica may restart at any time.
 */
export class FleetController extends EventEmitter<FleetControllerEvents> {
  private readonly keyCache: KeyCache;
  private readonly abort = new AbortController();
  private running: Promise<ReconcileResult> | undefined;
  private queued: Promise<ReconcileResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private fingerprint: string | undefined;
  private namespaceHost: Promise<string> | undefined;
  private readonly namespaceHosts = new Map<string, Promise<string>>();
  private failuresInARow = 0;
  private started = false;
  private lastResultValue: ReconcileResult | undefined;
  private tokenGauges = new Set<string>();

  constructor(private readonly options: FleetControllerOptions) {
    super();
    this.keyCache = new KeyCache(options.keyCacheMaxAgeMs ?? 10 * 60_000);
  }

  /** The last finished reconcile. */
  get lastResult(): ReconcileResult | undefined {
    return this.lastResultValue;
  }

  /** Starts the loop (first reconcile at once, then on schedule and on changes). */
  start(): void {
    if (this.started || this.abort.signal.aborted) return;
    this.started = true;
    const pollMs = this.options.pollIntervalMs ?? 15_000;
    // The first poll only takes the baseline; the reconcile started right after reads the world after it.
    if (pollMs > 0) this.pollNow(pollMs);
    const lease = this.options.lease;
    if (lease) {
      // A standby only watches the lease; the new leader reconciles at once (it knows nothing the old one did).
      lease.on('elected', () => {
        this.failuresInARow = 0;
        this.kick();
      });
      lease.start();
    } else {
      this.kick();
    }
  }

  /** True while this replica may write: always without a lease, else while it holds it. */
  get isLeader(): boolean {
    return this.options.lease === undefined || this.options.lease.generation() !== undefined;
  }

  /** Runs a reconcile now (after the one in progress, if any); resolves with its result. */
  reconcileNow(): Promise<ReconcileResult> {
    if (this.abort.signal.aborted)
      return Promise.reject(new ControllerError('CONTROLLER_STOPPED', 'controller stopped', false));
    if (this.queued) return this.queued;
    const previous = this.running ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        this.running = this.runOnce();
        return this.running;
      });
    this.queued = next;
    return next;
  }

  /** Stops the loop: no new action starts, the one in flight finishes, timers are cleared. Idempotent. */
  async stop(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.timer);
    clearTimeout(this.pollTimer);
    await Promise.allSettled([this.running, this.queued, this.polling]);
    // Released only once nothing of ours is in flight, so the next leader starts on a quiet fleet.
    await this.options.lease?.stop();
  }

  private async runOnce(): Promise<ReconcileResult> {
    const o = this.options;
    const startedMs = performance.now();
    const lease = o.lease;
    const generation = lease?.generation();
    if (lease && generation === undefined)
      throw new ControllerError('CONTROLLER_NOT_LEADER', 'this replica does not hold the lease', false);
    const shouldStop = (): Error | undefined => {
      if (this.abort.signal.aborted) return stoppedError('controller stopping');
      if (lease && generation !== undefined && lease.generation() !== generation)
        return new ControllerError('CONTROLLER_NOT_LEADER', `lease generation ${generation} lost`, false);
      return undefined;
    };
    const once = (view?: GrowthView) =>
      reconcileOnce({
        twins: o.twins,
        relay: o.relay,
        ...((view?.namespaces ?? o.namespaces) && {
          namespaces: view?.namespaces ?? o.namespaces,
          namespaceHostOf: (name: string, admin: RelayAdmin) => this.cachedHostOf(name, admin),
        }),
        settings: view?.settings ?? o.settings,
        keyCache: this.keyCache,
        logger: o.logger,
        ...(o.metrics && { metrics: o.metrics }),
        namespaceHost: () => this.cachedNamespaceHost(),
        nowMs: o.nowMs ?? Date.now,
        concurrency: o.concurrency ?? 8,
        maxPasses: o.maxPasses ?? 8,
        shouldStop,
        ...(o.beforeAction && { beforeAction: o.beforeAction }),
        ...(generation !== undefined && { fenceGeneration: generation }),
      });
    // With growth: the created namespaces are read before each reconcile, and one that a refused location made
    // ready is used by a reconcile at once (at most growth.maxCount creations, so this ends).
    const run = async (): Promise<ReconcileResult> => {
      const growth = o.growth;
      if (!growth) return once();
      for (;;) {
        const view = await growth.view();
        const result = await once(view);
        if (shouldStop() || !(await growth.grow(result, view, this.abort.signal))) return result;
      }
    };
    try {
      const result = o.tracer
        ? await traceReconcile(o.tracer, 'fleet-controller', async (span) => {
            const r = await run();
            span.setAttributes({
              'reconcile.passes': r.passes,
              'reconcile.actions': r.actionsDone,
              'reconcile.outcome': r.outcome,
            });
            return r;
          })
        : await run();
      o.metrics?.reconcileCompleted(
        result.durationMs,
        result.outcome === 'converged' ? 'success' : 'failure',
      );
      o.logger.info(
        {
          outcome: result.outcome,
          passes: result.passes,
          actions: result.actionsDone,
          failed: result.actionsFailed,
          durationMs: Math.round(result.durationMs),
          locations: result.outcomes.size,
          // Each namespace's use: hybrid connections (anyone's), this fleet's locations, connection budget drawn.
          ...(o.namespaces && {
            namespaces: result.namespaces.map((n) => ({
              name: n.name,
              hybridConnections: `${n.hybridConnections}/${n.maxHybridConnections}`,
              locations: n.locations,
              connectionBudget: `${n.connectionBudget}/${n.maxConnections}`,
            })),
          }),
        },
        'reconcile finished',
      );
      this.reportTokens(result.tokens);
      if (o.namespaces) o.metrics?.setNamespaceUse?.(result.namespaces);
      this.failuresInARow = 0;
      this.lastResultValue = result;
      this.emit('reconciled', result);
      this.scheduleNext(result.nextRenewalAtMs);
      return result;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (
        isControllerError(error, 'CONTROLLER_NOT_LEADER') ||
        isControllerError(error, 'CONTROLLER_FENCED')
      ) {
        // Not a failure to retry: another replica leads. Nothing more is written; the lease says when to resume.
        o.logger.warn({ code: error.code, err: error.message }, 'reconcile stopped: not the leader');
        if (isControllerError(error, 'CONTROLLER_FENCED')) lease?.fenced(error.message);
        throw error;
      }
      o.metrics?.reconcileCompleted(performance.now() - startedMs, 'failure');
      this.failuresInARow++;
      if (!this.abort.signal.aborted) {
        o.logger.error({ err: error.message, code: (error as { code?: unknown }).code }, 'reconcile failed');
        this.emit('reconcileFailed', error);
        const retryMs = Math.min(
          (o.retryDelayMs ?? 2000) * 2 ** (this.failuresInARow - 1),
          o.intervalMs ?? 60_000,
        );
        this.scheduleAt(retryMs);
      }
      throw error;
    }
  }

  // The fuse made visible: the `relay.token.expiry` gauge per hybrid connection (the modules report the same
  // gauge for the tokens they hold, so one alert rule covers both) and a warning while any token is within the
  // renewal margin after a reconcile, i.e. could not be renewed.
  private reportTokens(tokens: TokenHealth): void {
    const metrics = this.options.metrics;
    if (metrics) {
      for (const hybridConnection of this.tokenGauges)
        if (!tokens.byHybridConnection.has(hybridConnection)) metrics.forgetListener({ hybridConnection });
      for (const [hybridConnection, expiresAtMs] of tokens.byHybridConnection)
        metrics.setTokenExpiry({ hybridConnection }, expiresAtMs);
      this.tokenGauges = new Set(tokens.byHybridConnection.keys());
    }
    if (tokens.withinMargin.length === 0) return;
    const now = (this.options.nowMs ?? Date.now)();
    this.options.logger.warn(
      {
        count: tokens.withinMargin.length,
        renewMarginMs: this.options.settings.tokenRenewMarginMs,
        earliestExpiresInMs: Math.min(...tokens.withinMargin.map((t) => t.expiresAtMs)) - now,
        tokens: tokens.withinMargin.slice(0, 20).map((t) => ({
          deviceId: t.deviceId,
          moduleId: t.moduleId,
          hybridConnection: t.hybridConnection,
          expiresAt: new Date(t.expiresAtMs).toISOString(),
        })),
      },
      'tokens within the renewal margin could not be renewed',
    );
  }

  private cachedNamespaceHost(): Promise<string> {
    this.namespaceHost ??= this.options.relay.namespaceHost().catch((err: unknown) => {
      this.namespaceHost = undefined;
      throw err;
    });
    return this.namespaceHost;
  }

  private cachedHostOf(name: string, admin: RelayAdmin): Promise<string> {
    const cached = this.namespaceHosts.get(name);
    if (cached) return cached;
    const host = admin.namespaceHost().catch((err: unknown) => {
      this.namespaceHosts.delete(name);
      throw err;
    });
    this.namespaceHosts.set(name, host);
    return host;
  }

  // Next full reconcile: after the interval, or when the earliest token falls due if that is sooner.
  private scheduleNext(nextRenewalAtMs: number | undefined): void {
    const intervalMs = this.options.intervalMs ?? 60_000;
    const now = (this.options.nowMs ?? Date.now)();
    const untilRenewal = nextRenewalAtMs === undefined ? intervalMs : Math.max(nextRenewalAtMs - now, 1000);
    this.scheduleAt(Math.min(intervalMs, untilRenewal));
  }

  private scheduleAt(delayMs: number): void {
    if (!this.started || this.abort.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), delayMs);
  }

  private kick(): void {
    if (!this.isLeader) return;
    this.reconcileNow().catch(() => undefined);
  }

  private pollNow(pollMs: number): void {
    this.polling = this.poll()
      .catch((err: unknown) =>
        this.options.logger.warn({ err: (err as Error).message }, 'change poll failed'),
      )
      .finally(() => {
        this.polling = undefined;
        if (!this.abort.signal.aborted) this.pollTimer = setTimeout(() => this.pollNow(pollMs), pollMs);
      });
  }

  private async poll(): Promise<void> {
    const s = this.options.settings;
    const fingerprint = await this.options.twins.changeFingerprint(relayModuleIds(s));
    if (this.fingerprint !== undefined && fingerprint !== this.fingerprint) {
      this.options.logger.info('relay tags or modules changed; reconciling');
      this.kick();
    }
    this.fingerprint = fingerprint;
  }
}
