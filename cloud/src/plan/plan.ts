import { isJsonObject, objectAt } from '../model/json';
import { hybridConnectionName, isManagedName } from '../model/names';
import type { Observed } from '../model/observed';
import type { LocationOutcome } from '../model/status';
import type { ControllerSettings } from '../settings';
import { actionKey, type Action, type DeleteHybridConnection } from './actions';
import { planArm } from './arm';
import { planForwarders } from './forwarders';
import { planGateways } from './gateways';
import { hcKey, type NamespaceUse } from './namespace-placement';
import { decidePool, type PoolDecision } from './pools';
import { ProblemBook } from './problems';
import { locationOutcomes, planStatuses } from './statuses';
import { buildFleetView, type FleetView } from './view';

/**
 * Which kind of work a pass does. Each stage only starts once the one before has nothing left: hybrid
 * connections, rules and keys exist before any twin names them; twins stop naming a hybrid connection before it
 * is deleted. An interrupted reconcile therefore leaves nothing a later one cannot finish.
 */
export type ReconcileStage = 'arm' | 'twins' | 'cleanup' | 'done';

/** What one planning pass decided. */
export interface ReconcilePlan {
  readonly stage: ReconcileStage;
  /** The work of this stage, in order (the executor may run independent locations in parallel). */
  readonly actions: readonly Action[];
  /** Every location device's ports, hybrid connection and problems, by device id. */
  readonly outcomes: ReadonlyMap<string, LocationOutcome>;
  /** Earliest time a token written or kept now falls due for renewal: schedule the next reconcile by it. */
  readonly nextRenewalAtMs?: number;
  /** Findings that belong to no location (a gateway in an unknown pool), for the log. */
  readonly notes: readonly string[];
  /** Each Relay namespace's use: hybrid connections, locations, connection budget drawn. */
  readonly namespaces: readonly NamespaceUse[];
}

/**
 * The pure core of the controller: from what IoT Hub and the Relay namespace hold (and what this reconcile
 * has learnt), decide the next idempotent actions. Running the actions and planning again converges; planning
 * a converged fleet yields stage `done` and no actions.
 */
export function planReconcile(observed: Observed, settings: ControllerSettings): ReconcilePlan {
  const view = buildFleetView(observed, settings);
  const pools = new Map<string, PoolDecision>();
  const host = longestHost(view);
  for (const pool of settings.pools.values()) pools.set(pool.name, decidePool(view, settings, pool, host));
  const problems = new ProblemBook();
  problems.addAll(view.placement.problems);
  for (const decision of pools.values()) problems.addAll(decision.problems);

  const arm = planArm(view, observed, settings, pools);
  problems.addAll(arm.problems);
  // While ARM work is pending, tokens cannot be minted yet: that is not a problem to report.
  const renderProblems = arm.actions.length > 0 ? new ProblemBook() : problems;
  const forwarders = planForwarders(view, observed, settings, renderProblems);
  const gateways = planGateways(view, observed, settings, pools, renderProblems);
  const outcomes = locationOutcomes(view, settings, pools, problems);
  const due = [...forwarders.renewalDueAtMs, ...gateways.renewalDueAtMs];
  const common = {
    outcomes,
    namespaces: view.placement.use,
    notes: gateways.notes,
    ...(due.length > 0 && { nextRenewalAtMs: Math.min(...due) }),
  };
  if (arm.actions.length > 0) return { stage: 'arm', actions: arm.actions, ...common };
  const twins: Action[] = [
    ...forwarders.actions,
    ...gateways.actions,
    ...planStatuses(view, observed, outcomes),
  ];
  if (twins.length > 0) return { stage: 'twins', actions: twins, ...common };
  const deletes = planDeletes(view, observed, settings);
  if (deletes.length > 0) return { stage: 'cleanup', actions: deletes, ...common };
  return { stage: 'done', actions: [], ...common };
}

// Owned hybrid connections no location wants (in that namespace) and no module twin names any more.
function planDeletes(
  view: FleetView,
  observed: Observed,
  settings: ControllerSettings,
): DeleteHybridConnection[] {
  const wanted = new Set<string>();
  for (const [id, place] of view.placement.places)
    wanted.add(hcKey(place.namespace, hybridConnectionName(settings, id)));
  // Twin entries name their namespace by host; a route without an entry could point anywhere ('*').
  const nsOfHost = new Map(view.placement.namespaces.map((n) => [n.host.toLowerCase(), n.name]));
  const named = new Set<string>();
  const gateways = [...view.gatewayInstances.values()].flatMap((instances) => [...instances.values()]);
  for (const m of [...view.forwarders.values(), ...gateways]) {
    const entries = objectAt(m.desired, 'hybridConnections');
    const nameIn = (name: string) => {
      const entry = entries[name];
      const host = isJsonObject(entry) && typeof entry.namespace === 'string' ? entry.namespace : undefined;
      const ns = host === undefined ? undefined : nsOfHost.get(host.toLowerCase());
      named.add(hcKey(ns ?? '*', name));
    };
    for (const name of Object.keys(entries)) if (isManagedName(settings, name)) nameIn(name);
    for (const route of Object.values(objectAt(m.desired, 'routes'))) {
      if (isJsonObject(route) && typeof route.hybridConnection === 'string') nameIn(route.hybridConnection);
    }
  }
  const first = view.placement.namespaces[0]!.name;
  const deletes: DeleteHybridConnection[] = [];
  for (const [key, hc] of [...view.owned].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (wanted.has(key) || named.has(key) || named.has(hcKey('*', hc.name))) continue;
    const ns = hc.namespace ?? first;
    const action: DeleteHybridConnection = {
      kind: 'deleteHybridConnection',
      ...(ns !== '' && { namespace: ns }),
      location: locationOfMetadata(hc.userMetadata) ?? hc.name.slice(settings.hybridConnectionPrefix.length),
      hybridConnection: hc.name,
    };
    if (!observed.failures.has(actionKey(action))) deletes.push(action);
  }
  return deletes;
}

// The longest namespace host: the gateway twin's size bound must hold wherever a location is placed.
function longestHost(view: FleetView): string {
  return view.placement.namespaces.reduce((a, n) => (n.host.length > a.length ? n.host : a), '');
}

function locationOfMetadata(userMetadata: string | undefined): string | undefined {
  try {
    const meta = JSON.parse(userMetadata ?? '') as { location?: unknown };
    return typeof meta.location === 'string' ? meta.location : undefined;
  } catch {
    return undefined;
  }
}
