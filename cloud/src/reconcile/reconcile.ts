import type { Logger } from '../../../modules/common/src/log';
import type { RelayMetrics } from '../../../modules/common/src/telemetry/metrics';
import type { FleetTwins } from '../adapters/fleet-twins';
import type { RelayAdmin } from '../adapters/relay-admin';
import { relayModuleIds } from '../model/gateway-modules';
import { readNamespaces, type RelayNamespaces } from '../adapters/relay-namespaces';
import type { ActionFailure } from '../model/observed';
import type { LocationOutcome } from '../model/status';
import { tokenHealth, type TokenHealth } from '../model/token-health';
import type { Action } from '../plan/actions';
import type { NamespaceUse } from '../plan/namespace-placement';
import { planReconcile, type ReconcileStage } from '../plan/plan';
import type { ControllerSettings } from '../settings';
import { executePlan } from './executor';
import type { KeyCache } from './key-cache';
import { ObservedState } from './observed-state';

/** What one reconcile needs. */
export interface ReconcileContext {
  readonly twins: FleetTwins;
  readonly relay: RelayAdmin;
  /** Several namespaces by name (settings.namespaces order); `relay` is then the first. */
  readonly namespaces?: RelayNamespaces;
  /** A namespace's host (cached by the caller: it does not change); needed with `namespaces`. */
  readonly namespaceHostOf?: (name: string, admin: RelayAdmin) => Promise<string>;
  readonly settings: ControllerSettings;
  readonly keyCache: KeyCache;
  readonly logger: Logger;
  readonly metrics?: RelayMetrics;
  /** The namespace host (read once per controller: it does not change). */
  readonly namespaceHost: () => Promise<string>;
  readonly nowMs: () => number;
  readonly concurrency: number;
  /** Planning passes before giving up on converging (each pass is one stage of work). */
  readonly maxPasses: number;
  readonly shouldStop: () => Error | undefined;
  readonly beforeAction?: (action: Action) => void;
  /** The lease generation this reconcile writes under (see ExecutorContext). */
  readonly fenceGeneration?: number;
}

/** How a reconcile went. */
export interface ReconcileResult {
  /** `converged`: the last plan had nothing to do; `incomplete`: passes ran out or actions failed. */
  readonly outcome: 'converged' | 'incomplete';
  readonly passes: number;
  readonly stages: readonly ReconcileStage[];
  readonly actionsDone: number;
  readonly actionsFailed: number;
  readonly etagConflicts: number;
  readonly failures: ReadonlyMap<string, ActionFailure>;
  /** Location outcomes of the last plan, by device id. */
  readonly outcomes: ReadonlyMap<string, LocationOutcome>;
  readonly nextRenewalAtMs?: number;
  /** The tokens in the module twins as this reconcile left them, and those within the renewal margin. */
  readonly tokens: TokenHealth;
  readonly durationMs: number;
  /** Time spent reading IoT Hub and ARM before the first plan. */
  readonly observeMs: number;
  /** Time spent in planReconcile (the pure core), over all passes. */
  readonly planMs: number;
  readonly observed: { devices: number; modules: number; hybridConnections: number };
  /** Each Relay namespace's use as the last plan left it. */
  readonly namespaces: readonly NamespaceUse[];
}

/**
 * One full reconcile: read everything once, then plan → execute → plan again until a plan has nothing to do.
 * Every action is idempotent and the plan is derived only from what IoT Hub and ARM hold, so a reconcile cut
 * short anywhere is finished by the next one.
 */
export async function reconcileOnce(ctx: ReconcileContext): Promise<ReconcileResult> {
  const started = performance.now();
  const nowMs = ctx.nowMs();
  const moduleIds = relayModuleIds(ctx.settings);
  const namespaces = ctx.namespaces;
  const relayRead = namespaces
    ? readNamespaces(namespaces, ctx.namespaceHostOf ?? ((_, admin) => admin.namespaceHost()))
    : Promise.all([ctx.namespaceHost(), ctx.relay.listHybridConnections()]).then(
        ([host, hybridConnections]) => ({ hosts: new Map([['', host]]), hybridConnections }),
      );
  const [relay, devices, modules] = await Promise.all([
    relayRead,
    ctx.twins.queryDevices(),
    ctx.twins.queryModules(moduleIds),
  ]);
  const state = new ObservedState(
    nowMs,
    [...relay.hosts.values()][0]!,
    devices,
    modules,
    relay.hybridConnections,
    ctx.keyCache.fresh(nowMs),
    ...(namespaces ? [relay.hosts] : []),
  );
  const observeMs = performance.now() - started;
  let planMs = 0;
  const stages: ReconcileStage[] = [];
  let actionsDone = 0;
  let actionsFailed = 0;
  let etagConflicts = 0;
  const notesLogged = new Set<string>();
  for (let pass = 1; ; pass++) {
    const stop = ctx.shouldStop();
    if (stop) throw stop;
    const t0 = performance.now();
    const plan = planReconcile(state.snapshot(), ctx.settings);
    planMs += performance.now() - t0;
    stages.push(plan.stage);
    for (const note of plan.notes) {
      if (!notesLogged.has(note)) ctx.logger.warn({ note }, 'fleet configuration problem');
      notesLogged.add(note);
    }
    const finished = plan.stage === 'done' || pass > ctx.maxPasses;
    if (finished) {
      if (plan.stage !== 'done')
        ctx.logger.warn(
          { passes: pass - 1, stage: plan.stage },
          'reconcile did not converge; the next one continues',
        );
      return {
        outcome: plan.stage === 'done' && state.failures.size === 0 ? 'converged' : 'incomplete',
        passes: pass,
        stages,
        actionsDone,
        actionsFailed,
        etagConflicts,
        failures: new Map(state.failures),
        outcomes: plan.outcomes,
        ...(plan.nextRenewalAtMs !== undefined && { nextRenewalAtMs: plan.nextRenewalAtMs }),
        tokens: tokenHealth(state.snapshot().modules, ctx.settings.tokenRenewMarginMs, ctx.nowMs()),
        durationMs: performance.now() - started,
        observeMs,
        planMs,
        observed: state.size(),
        namespaces: plan.namespaces,
      };
    }
    const stats = await executePlan(plan, state, {
      twins: ctx.twins,
      relay: ctx.relay,
      ...(namespaces && { namespaces }),
      keyCache: ctx.keyCache,
      logger: ctx.logger,
      ...(ctx.metrics && { metrics: ctx.metrics }),
      concurrency: ctx.concurrency,
      shouldStop: ctx.shouldStop,
      ...(ctx.beforeAction && { beforeAction: ctx.beforeAction }),
      ...(ctx.fenceGeneration !== undefined && { fenceGeneration: ctx.fenceGeneration }),
    });
    actionsDone += stats.done;
    actionsFailed += stats.failed;
    etagConflicts += stats.etagConflicts;
  }
}
