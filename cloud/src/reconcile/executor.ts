import type { Logger } from '../../../modules/common/src/log';
import type { RelayMetrics } from '../../../modules/common/src/telemetry/metrics';
import type { FleetTwins } from '../adapters/fleet-twins';
import type { RelayAdmin } from '../adapters/relay-admin';
import { relayAdminFor, type RelayNamespaces } from '../adapters/relay-namespaces';
import { ControllerError, isControllerError } from '../errors';
import type { JsonObject } from '../model/json';
import { keyRef } from '../model/observed';
import { FENCE_TAG, fenceGenerationOf } from '../lease/record';
import { actionKey, actionLocation, actionMetricName, type Action } from '../plan/actions';
import type { ReconcilePlan } from '../plan/plan';
import type { KeyCache } from './key-cache';
import type { ObservedState } from './observed-state';
import { runLimited } from './run-limited';

/** What the executor needs besides the plan. */
export interface ExecutorContext {
  readonly twins: FleetTwins;
  readonly relay: RelayAdmin;
  /** Several namespaces: the admin of each by name (actions name theirs); `relay` is then the first. */
  readonly namespaces?: RelayNamespaces;
  readonly keyCache: KeyCache;
  readonly logger: Logger;
  readonly metrics?: RelayMetrics;
  /** Actions in flight at once (different locations / twins). */
  readonly concurrency: number;
  /** Checked before each action: a reason to stop (abort, shutdown), or undefined. */
  readonly shouldStop: () => Error | undefined;
  /** Called before each action; a throw stops the reconcile there (tests use it to crash one midway). */
  readonly beforeAction?: (action: Action) => void;
  /**
   * The lease generation this reconcile runs under (several replicas): stamped into every twin written, and a
   * twin already carrying a newer one stops the reconcile with CONTROLLER_FENCED instead of being written.
   */
  readonly fenceGeneration?: number;
}

/** Where a reconcile stops because a newer leader wrote a twin it was about to write. */
export function fencedError(action: Action, seen: number, mine: number): ControllerError {
  const target = 'moduleId' in action ? `${action.deviceId}/${action.moduleId}` : actionKey(action);
  return new ControllerError(
    'CONTROLLER_FENCED',
    `${target} was written under lease generation ${seen}, newer than ours (${mine})`,
    false,
  );
}

// The generation stamped in the twin an action writes (0: none, or not a twin write).
function targetGeneration(action: Action, state: ObservedState): number {
  if (action.kind === 'writeForwarderTwin' || action.kind === 'writeGatewayTwin')
    return state.module(action.deviceId, action.moduleId)?.fenceGeneration ?? 0;
  if (action.kind === 'writeLocationStatus') return fenceGenerationOf(state.device(action.deviceId)?.tags);
  return 0;
}

/** Counts of one pass. */
export interface PassStats {
  done: number;
  failed: number;
  etagConflicts: number;
}

/**
 * Runs one plan's actions against ARM and IoT Hub and records each effect in `state`. ARM actions of one
 * location run in order (hybrid connection, rules, keys) and stop at its first failure; everything else is
 * independent. A failed action is remembered in `state.failures` so the next pass plans around it; an etag
 * conflict re-reads the twin instead, so the next pass plans against the fresh one.
 */
export async function executePlan(
  plan: ReconcilePlan,
  state: ObservedState,
  ctx: ExecutorContext,
): Promise<PassStats> {
  const stats: PassStats = { done: 0, failed: 0, etagConflicts: 0 };
  const groups = plan.stage === 'arm' ? groupByLocation(plan.actions) : plan.actions.map((a) => [a]);
  await runLimited(
    groups,
    ctx.concurrency,
    async (group) => {
      for (const action of group) {
        const stop = ctx.shouldStop();
        if (stop) throw stop;
        if (ctx.fenceGeneration !== undefined) {
          const seen = targetGeneration(action, state);
          if (seen > ctx.fenceGeneration) throw fencedError(action, seen, ctx.fenceGeneration);
        }
        ctx.beforeAction?.(action);
        if (!(await runOne(action, state, ctx, stats))) break;
      }
    },
    ctx.shouldStop,
  );
  return stats;
}

// True when the action succeeded (so the rest of its group may go on).
async function runOne(
  action: Action,
  state: ObservedState,
  ctx: ExecutorContext,
  stats: PassStats,
): Promise<boolean> {
  try {
    await apply(action, state, ctx);
    stats.done++;
    logDone(action, ctx);
    return true;
  } catch (err) {
    if (isControllerError(err, 'CONTROLLER_ETAG_MISMATCH') && 'etag' in action) {
      stats.etagConflicts++;
      ctx.logger.info(
        { location: actionLocation(action), action: action.kind, deviceId: action.deviceId },
        'twin changed meanwhile; re-reading',
      );
      await reread(action, state, ctx);
      return false;
    }
    if (isControllerError(err, 'CONTROLLER_TWIN_NOT_FOUND') && 'etag' in action) {
      if ('moduleId' in action) state.removeModule(action.deviceId, action.moduleId);
      else state.removeDevice(action.deviceId);
      return false;
    }
    const code = isControllerError(err) ? err.code : 'CONTROLLER_FAILED';
    const message = err instanceof Error ? err.message : String(err);
    state.failures.set(actionKey(action), { code, message });
    stats.failed++;
    ctx.logger.warn(
      { location: actionLocation(action), action: action.kind, code, err: message },
      'reconcile action failed',
    );
    return false;
  }
}

async function apply(action: Action, state: ObservedState, ctx: ExecutorContext): Promise<void> {
  const relayOf = (a: { readonly namespace?: string }) =>
    relayAdminFor(ctx.relay, ctx.namespaces, a.namespace);
  switch (action.kind) {
    case 'createHybridConnection':
      await relayOf(action).createHybridConnection(action.hybridConnection, action.userMetadata);
      state.putHybridConnection({
        name: action.hybridConnection,
        userMetadata: action.userMetadata,
        ...(action.namespace !== undefined && { namespace: action.namespace }),
      });
      return;
    case 'createAuthorizationRule': {
      await relayOf(action).createAuthorizationRule(action.hybridConnection, action.rule, action.rights);
      const ref = keyRef(action.hybridConnection, action.rule, action.namespace);
      state.missingRules.delete(ref);
      state.createdRules.add(ref);
      return;
    }
    case 'fetchKeys': {
      const ref = keyRef(action.hybridConnection, action.rule, action.namespace);
      try {
        const key = await relayOf(action).primaryKey(action.hybridConnection, action.rule);
        state.keys.set(ref, key);
        ctx.keyCache.set(ref, key, state.nowMs);
      } catch (err) {
        // A missing rule is repaired by the next pass, unless this reconcile just created it.
        if (!isControllerError(err, 'CONTROLLER_RULE_NOT_FOUND') || state.createdRules.has(ref)) throw err;
        state.missingRules.add(ref);
      }
      return;
    }
    case 'writeForwarderTwin':
    case 'writeGatewayTwin':
      state.putModule(
        ctx.fenceGeneration === undefined
          ? await ctx.twins.patchModuleDesired(action.deviceId, action.moduleId, action.patch, action.etag)
          : await ctx.twins.patchModuleDesired(
              action.deviceId,
              action.moduleId,
              action.patch,
              action.etag,
              fenceStamp(ctx.fenceGeneration),
            ),
      );
      return;
    case 'writeLocationStatus': {
      const patch =
        ctx.fenceGeneration === undefined
          ? action.patch
          : { ...action.patch, ...fenceStamp(ctx.fenceGeneration) };
      state.putDevice(await ctx.twins.patchDeviceTags(action.deviceId, patch, action.etag));
      return;
    }
    case 'deleteHybridConnection':
      await relayOf(action).deleteHybridConnection(action.hybridConnection);
      state.removeHybridConnection(action.hybridConnection, action.namespace);
      ctx.keyCache.forgetHybridConnection(action.hybridConnection);
      return;
  }
}

async function reread(action: Action, state: ObservedState, ctx: ExecutorContext): Promise<void> {
  try {
    if (action.kind === 'writeForwarderTwin' || action.kind === 'writeGatewayTwin') {
      const fresh = await ctx.twins.getModule(action.deviceId, action.moduleId);
      if (fresh) state.putModule(fresh);
      else state.removeModule(action.deviceId, action.moduleId);
    } else if (action.kind === 'writeLocationStatus') {
      const fresh = await ctx.twins.getDevice(action.deviceId);
      if (fresh) state.putDevice(fresh);
      else state.removeDevice(action.deviceId);
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    state.failures.set(actionKey(action), { code: 'CONTROLLER_HUB_FAILED', message });
  }
}

// One log line and one metric point per action, with the location it serves.
function logDone(action: Action, ctx: ExecutorContext): void {
  const name = actionMetricName(action);
  const { kind, ...fields } = action;
  const line: Record<string, unknown> = { location: actionLocation(action), action: kind, ...fields };
  // Patches hold tokens: the log names what changed instead (the logger would redact them anyway).
  delete line.patch;
  delete line.etag;
  delete line.userMetadata;
  ctx.logger.info(line, 'reconcile action');
  if (action.kind === 'writeGatewayTwin') {
    for (const location of action.locations) ctx.metrics?.reconcileAction(name, location);
    if (action.locations.length === 0) ctx.metrics?.reconcileAction(name);
  } else {
    ctx.metrics?.reconcileAction(name, action.location);
  }
}

// Tags written with every twin write of a leader: a deposed leader reading this twin sees it was overtaken.
function fenceStamp(generation: number): JsonObject {
  return { [FENCE_TAG]: { generation } };
}

function groupByLocation(actions: readonly Action[]): Action[][] {
  const groups = new Map<string, Action[]>();
  for (const a of actions) {
    const key = actionLocation(a) ?? '';
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  return [...groups.values()];
}

/** The error a stopped or aborted reconcile ends with. */
export function stoppedError(reason: string): ControllerError {
  return new ControllerError('CONTROLLER_ABORTED', `reconcile stopped: ${reason}`, true);
}
